// Central finite differences in float64: the independent check of every gradient rule.
import { type Tensor } from "../tensor/index.js";
import { noGrad } from "./grad-mode.js";

export interface GradcheckResult {
  /** Analytic gradient (from backward) per input, flattened. */
  analytic: Float64Array[];
  /** Numeric gradient per input, flattened. */
  numeric: Float64Array[];
  /** Largest |analytic − numeric| / (atol + rtol·|numeric|) over all elements; ≤ 1 passes. */
  worst: number;
  ok: boolean;
}

/**
 * Compares backward of `f` with central differences. Inputs must be float64 leaves with storage of
 * their own (the checker perturbs them in place). `f` returns any tensor; the scalar compared is
 * sum(f(x) · w) with a fixed random weight w, so every output element matters.
 */
export function gradcheck(
  f: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: { eps?: number; atol?: number; rtol?: number; wrt?: number[] } = {},
): GradcheckResult {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-4;
  const wrt = opts.wrt ?? inputs.map((_, i) => i).filter((i) => inputs[i].requiresGrad);
  for (const i of wrt) {
    if (inputs[i].dtype !== "float64") throw new Error(`gradcheck: input ${i} must be float64, got ${inputs[i].dtype}`);
    if (!inputs[i].isContiguous() || inputs[i].offset !== 0) throw new Error(`gradcheck: input ${i} must be a contiguous tensor with its own storage`);
  }
  for (const x of inputs) x.grad = null;
  const out0 = f(...inputs);
  const w = new Float64Array(out0.size);
  for (let i = 0; i < w.length; i++) w[i] = 0.5 + ((i * 7919) % 13) / 13; // fixed, non-uniform, no random state used
  const scalarOf = (o: Tensor): number => {
    const v = o.dataSync();
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i] * w[i];
    return s;
  };
  const wt = out0.mul(weightsLike(out0, w));
  wt.sum().backward();
  const analytic = wrt.map((i) => {
    const g = inputs[i].grad;
    return g ? Float64Array.from(g.dataSync() as ArrayLike<number>) : new Float64Array(inputs[i].size);
  });
  const numeric = wrt.map((i) => {
    const x = inputs[i];
    const data = x.storage.data as Float64Array;
    const num = new Float64Array(x.size);
    noGrad(() => {
      for (let k = 0; k < x.size; k++) {
        const orig = data[k];
        data[k] = orig + eps;
        const fp = scalarOf(f(...inputs));
        data[k] = orig - eps;
        const fm = scalarOf(f(...inputs));
        data[k] = orig;
        num[k] = (fp - fm) / (2 * eps);
      }
    });
    return num;
  });
  let worst = 0;
  analytic.forEach((a, j) => {
    for (let k = 0; k < a.length; k++) {
      const n = numeric[j][k];
      worst = Math.max(worst, Math.abs(a[k] - n) / (atol + rtol * Math.abs(n)));
    }
  });
  return { analytic, numeric, worst, ok: worst <= 1 };
}

function weightsLike(o: Tensor, w: Float64Array): Tensor {
  const Ctor = o.storage.data.constructor as new (a: ArrayLike<number>) => Float64Array;
  const data = new Ctor(w);
  // Build through the same Tensor class without importing creation (keeps this file at the autograd layer).
  const T = o.constructor as new (s: unknown, shape: readonly number[]) => Tensor;
  const S = o.storage.constructor as new (dtype: string, data: unknown) => unknown;
  return new T(new S(o.dtype, data), o.shape);
}
