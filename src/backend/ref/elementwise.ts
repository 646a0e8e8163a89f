// Reference kernels for elementwise ops. Values are computed as JavaScript numbers (float64) and
// rounded once when written to the output's dtype.
import type { DType } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { erf, erfc } from "./erf.js";
import { mapBinary, mapTernary, mapUnary } from "./iter.js";

const F: DType[] = ["float32", "float64"];
const N: DType[] = ["float32", "float64", "int32"];
const ALL: DType[] = ["float32", "float64", "int32", "bool"];

/** Registers a unary kernel out = f(x). */
export function refUnary(op: string, dtypes: DType[], f: (x: number) => number): void {
  registerKernel(op, "ref", dtypes, ([x], [out]) => mapUnary(x, out, f));
}

/** Registers a binary kernel out = f(a, b) with broadcasting. */
export function refBinary(op: string, dtypes: DType[], f: (a: number, b: number) => number): void {
  registerKernel(op, "ref", dtypes, ([a, b], [out]) => mapBinary(a, b, out, f));
}

/** Registers a unary kernel whose function depends on the op's attributes. */
function refUnaryAttrs<A>(op: string, dtypes: DType[], make: (attrs: A) => (x: number) => number): void {
  registerKernel<A>(op, "ref", dtypes, ([x], [out], attrs) => mapUnary(x, out, make(attrs)));
}

refBinary("add", N, (a, b) => a + b);
refBinary("sub", N, (a, b) => a - b);
refBinary("mul", N, (a, b) => a * b);
refBinary("div", F, (a, b) => a / b);

refUnary("neg", N, (x) => -x);
refUnary("exp", F, Math.exp);

// ── unary math ────────────────────────────────────────────────────────────────────────────────
const SQRT1_2 = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Logistic function without overflow: exp is only taken of −|x|. */
export function sigmoidOf(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Rounds half to even (banker's rounding), like torch.round and numpy.round. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // JS rounds halves toward +∞
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

refUnary("abs", N, Math.abs);
refUnary("log", F, Math.log);
refUnary("log1p", F, Math.log1p);
refUnary("sqrt", F, Math.sqrt);
refUnary("rsqrt", F, (x) => 1 / Math.sqrt(x));
refUnary("square", N, (x) => x * x);
refUnary("reciprocal", F, (x) => 1 / x);
// NOTE: like PyTorch, sign(NaN) is 0 (computed as (x > 0) − (x < 0)).
refUnary("sign", N, (x) => (x > 0 ? 1 : 0) - (x < 0 ? 1 : 0));
refUnary("sin", F, Math.sin);
refUnary("cos", F, Math.cos);
refUnary("tanh", F, Math.tanh);
refUnary("sigmoid", F, sigmoidOf);
refUnary("erf", F, erf);
// On int32 these copy (integers are already whole), as in PyTorch.
refUnary("floor", N, Math.floor);
refUnary("ceil", N, Math.ceil);
refUnaryAttrs<{ decimals: number }>("round", N, ({ decimals }) => {
  if (decimals === 0) return roundHalfEven;
  const s = 10 ** Math.abs(decimals);
  // Same order of operations as PyTorch: scale, round, unscale.
  return decimals > 0 ? (x) => roundHalfEven(x * s) / s : (x) => roundHalfEven(x / s) * s;
});

// ── activations ───────────────────────────────────────────────────────────────────────────────
refUnary("relu", N, (x) => (x > 0 ? x : x === x ? 0 : x));
refUnaryAttrs<{ negativeSlope: number }>("leakyRelu", F, ({ negativeSlope }) => (x) => (x > 0 ? x : x * negativeSlope));
// NOTE: expm1 keeps alpha·(eˣ − 1) accurate for x near 0.
refUnaryAttrs<{ alpha: number }>("elu", F, ({ alpha }) => (x) => (x > 0 ? x : alpha * Math.expm1(x)));
refUnaryAttrs<{ approximate: "none" | "tanh" }>("gelu", F, ({ approximate }) =>
  approximate === "tanh"
    ? (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
    : // NOTE: x·Φ(x) = ½x·erfc(−x/√2); writing 1 + erf(x/√2) would cancel for large negative x.
      (x) => 0.5 * x * erfc(-x * SQRT1_2),
);
registerKernel<{ approximate: "none" | "tanh" }>("geluBackward", "ref", F, ([g, x], [out], { approximate }) =>
  mapBinary(g, x, out, approximate === "tanh"
    ? (gv, xv) => {
        const x2 = xv * xv;
        const t = Math.tanh(SQRT_2_OVER_PI * xv * (1 + 0.044715 * x2));
        return gv * (0.5 * (1 + t) + 0.5 * SQRT_2_OVER_PI * xv * (1 - t * t) * (1 + 3 * 0.044715 * x2));
      }
    : // Φ(x) as ½·erfc(−x/√2), accurate in the left tail; φ(x) = e^(−x²/2)/√(2π).
      (gv, xv) => gv * (0.5 * erfc(-xv * SQRT1_2) + xv * Math.exp(-0.5 * xv * xv) * INV_SQRT_2PI),
  ),
);
refUnary("silu", F, (x) => x * sigmoidOf(x));
// NOTE: log1p(exp(βx))/β is evaluated only below the threshold, where exp cannot overflow.
refUnaryAttrs<{ beta: number; threshold: number }>("softplus", F, ({ beta, threshold }) => (x) =>
  x * beta > threshold ? x : Math.log1p(Math.exp(x * beta)) / beta,
);
refUnaryAttrs<{ min: number | null; max: number | null }>("clamp", N, ({ min, max }) => (x) => {
  // NaN stays NaN; with min > max every element becomes max (PyTorch's min(max(x, lo), hi)).
  let v = x;
  if (min !== null && v < min) v = min;
  if (max !== null && v > max) v = max;
  return v;
});

// ── binary ────────────────────────────────────────────────────────────────────────────────────
/** C's pow (which PyTorch follows) where it differs from Math.pow: 1^y = 1 and (−1)^±∞ = 1. */
function powF(a: number, b: number): number {
  if (a === 1 || (a === -1 && (b === Infinity || b === -Infinity))) return 1;
  return Math.pow(a, b);
}

/** Integer power with int32 wrap-around; negative exponents give 0 except for bases ±1 (as PyTorch). */
function powI(a: number, b: number): number {
  if (b < 0) return a === 1 ? 1 : a === -1 ? (b % 2 === 0 ? 1 : -1) : 0;
  let r = 1;
  let base = a;
  for (let e = b; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) r = Math.imul(r, base);
    base = Math.imul(base, base);
  }
  return r;
}

refBinary("pow", F, powF);
refBinary("pow", ["int32"], powI);
// Math.max/min propagate NaN, as torch.maximum/minimum do.
refBinary("maximum", ALL, Math.max);
refBinary("minimum", ALL, Math.min);

// ── comparisons and logic (bool outputs) ─────────────────────────────────────────────────────
refBinary("eq", ALL, (a, b) => (a === b ? 1 : 0));
refBinary("ne", ALL, (a, b) => (a !== b ? 1 : 0));
refBinary("lt", ALL, (a, b) => (a < b ? 1 : 0));
refBinary("le", ALL, (a, b) => (a <= b ? 1 : 0));
refBinary("gt", ALL, (a, b) => (a > b ? 1 : 0));
refBinary("ge", ALL, (a, b) => (a >= b ? 1 : 0));
// NOTE: NaN counts as true (non-zero), as in PyTorch.
const truthy = (v: number) => v !== 0;
refBinary("logicalAnd", ALL, (a, b) => (truthy(a) && truthy(b) ? 1 : 0));
refBinary("logicalOr", ALL, (a, b) => (truthy(a) || truthy(b) ? 1 : 0));
refBinary("logicalXor", ALL, (a, b) => (truthy(a) !== truthy(b) ? 1 : 0));
refUnary("logicalNot", ALL, (v) => (truthy(v) ? 0 : 1));

// where: inputs [cond, a, b], registered by the dtype of a and b.
registerKernel("where", "ref", ALL, ([c, a, b], [out]) => mapTernary(c, a, b, out, (cv, av, bv) => (cv !== 0 ? av : bv)));
// maskedFill: inputs [x, mask]; the mask is broadcast to x's shape.
registerKernel("maskedFill", "ref", ALL, ([x, mask], [out], { value }: { value: number }) =>
  mapBinary(x, mask, out, (v, m) => (m !== 0 ? value : v)),
);
