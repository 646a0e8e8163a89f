// Weight regularizers (Keras' L1, L2, L1L2): penalties on a layer's weights added to the training
// loss (and to the reported loss, as Keras does).
import { type Tensor, ValueError } from "../tensor/index.js";
import { abs, add, mul, square, sum } from "../ops/index.js";

/** l1·Σ|w| + l2·Σw². */
export class Regularizer {
  constructor(
    readonly l1Factor: number,
    readonly l2Factor: number,
  ) {
    for (const [k, v] of [["l1", l1Factor], ["l2", l2Factor]] as const)
      if (typeof v !== "number" || !(v >= 0)) throw new ValueError(`regularizer: ${k} must be a number ≥ 0, got ${JSON.stringify(v)}`);
  }

  /** The penalty of w as a 0-d tensor in w's dtype. */
  apply(w: Tensor): Tensor {
    let out: Tensor | null = null;
    if (this.l1Factor) out = mul(sum(abs(w)), this.l1Factor);
    if (this.l2Factor) {
      const l2 = mul(sum(square(w)), this.l2Factor);
      out = out ? add(out, l2) : l2;
    }
    return out ?? mul(sum(w), 0);
  }

  get className(): string {
    return this.l1Factor && this.l2Factor ? "L1L2" : this.l1Factor ? "L1" : "L2";
  }

  /** `{className, config}` as written in config.json. */
  toJSON(): { className: string; config: Record<string, number> } {
    return { className: "L1L2", config: { l1: this.l1Factor, l2: this.l2Factor } };
  }
}

type Factor<K extends string> = number | { [k in K]?: number };

function factor<K extends string>(v: Factor<K> | undefined, key: K, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v === "number") return v;
  return v[key] ?? dflt;
}

/** L1 penalty l1·Σ|w| (default l1 0.01). @example dense({units: 8, kernelRegularizer: l1({l1: 1e-4})}) */
export function l1(opts?: Factor<"l1">): Regularizer {
  return new Regularizer(factor(opts, "l1", 0.01), 0);
}

/** L2 penalty l2·Σw² (default l2 0.01); note Keras' l2 has no ½. */
export function l2(opts?: Factor<"l2">): Regularizer {
  return new Regularizer(0, factor(opts, "l2", 0.01));
}

/** Both penalties (defaults l1 0.01, l2 0.01). */
export function l1l2(opts: { l1?: number; l2?: number } = {}): Regularizer {
  return new Regularizer(opts.l1 ?? 0.01, opts.l2 ?? 0.01);
}

export type RegularizerId = Regularizer | "l1" | "l2" | "l1l2" | { className: string; config?: { l1?: number; l2?: number } } | null | undefined;

/** A regularizer from an instance, a name or its config.json form. */
export function getRegularizer(id: RegularizerId, where = "regularizer"): Regularizer | null {
  if (id === null || id === undefined) return null;
  if (id instanceof Regularizer) return id;
  if (typeof id === "string") {
    const key = id.toLowerCase().replace(/_/g, "");
    if (key === "l1") return l1();
    if (key === "l2") return l2();
    if (key === "l1l2") return l1l2();
  } else if (typeof id === "object" && ["L1", "L2", "L1L2"].includes(id.className)) {
    const c = id.config ?? {};
    return new Regularizer(c.l1 ?? 0, c.l2 ?? 0);
  }
  throw new ValueError(`${where}: unknown regularizer ${JSON.stringify(id)}; use l1(), l2(), l1l2() or 'l1' | 'l2' | 'l1l2'`);
}
