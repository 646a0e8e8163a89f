// Activations and clamping: relu, leakyRelu, elu, gelu, silu, softplus, clamp/clip. Primitive ops
// with ref kernels (a backend may fuse them); each gradient is written with other ops.
import { broadcastShapes, type DType, promoteTypes, Tensor, ValueError, isFloatDType } from "../tensor/index.js";
import { binaryOp, unaryOp } from "./elementwise.js";
import { runOp } from "./op.js";
import type { OpCase } from "./cases.js";
import { add, mul } from "./binary.js";
import { gt, ge, le, lt, logicalAnd, where } from "./compare.js";
import { erf, exp, sigmoid, square, tanh } from "./unary.js";
import { to } from "./view.js";
import { asTensor, checkDType, method, FLOATS, NUMERIC, type TensorLike } from "./util.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    relu(): Tensor;
    leakyRelu(negativeSlope?: number): Tensor;
    elu(alpha?: number): Tensor;
    gelu(approximate?: "none" | "tanh"): Tensor;
    silu(): Tensor;
    softplus(beta?: number, threshold?: number): Tensor;
    clamp(min?: TensorLike | null, max?: TensorLike | null): Tensor;
    clip(min?: TensorLike | null, max?: TensorLike | null): Tensor;
  }
}

const x1 = (shape: number[], range?: [number, number]) => [{ shape, range }];

/** 2-d, a permuted 3-d view, a strided slice and 0-d: the cases every activation gets. */
function actCases(f: (x: Tensor) => Tensor, range: [number, number] = [-3, 3]): OpCase[] {
  return [
    { name: "2-d", inputs: x1([3, 5], range), call: (x) => f(x) },
    { name: "permuted view", inputs: x1([2, 3, 4], range), call: (x) => f(x.permute(2, 0, 1)) },
    { name: "strided slice", inputs: x1([4, 6], range), call: (x) => f(x.slice(1, 1, 6, 2)) },
    { name: "0-d", inputs: [{ shape: [], values: [0.7] }], call: (x) => f(x) },
  ];
}

function intRejected(name: string, f: (x: Tensor) => Tensor): OpCase {
  const message = new RegExp(`^${name}: input has dtype int32; expected float32 or float64`);
  return { name: "int rejected", inputs: [{ shape: [3], dtype: "int32" }], call: (x) => f(x), throws: { error: Error, message } };
}

function checkNumber(op: string, what: string, v: unknown): number {
  if (typeof v !== "number" || Number.isNaN(v)) throw new ValueError(`${op}: ${what} must be a number, got ${String(v)}`);
  return v;
}

const reluOp = unaryOp({
  name: "relu",
  dtypes: NUMERIC,
  // The saved output is positive exactly where the input is; the gradient at 0 is 0 and NaN passes g (PyTorch).
  grad: (g, { outputs: [y] }) => [where(le(y, 0), 0, g)],
  cases: [
    ...actCases((x) => relu(x)),
    { name: "int32", inputs: [{ shape: [2, 4], dtype: "int32", range: [-5, 5] }], call: (x) => relu(x) },
    { name: "bool rejected", inputs: [{ shape: [3], dtype: "bool" }], call: (x) => relu(x), throws: { error: Error, message: /^relu: input has dtype bool; expected float32 or float64 or int32/ } },
  ],
});

/** max(x, 0). */
export function relu(x: Tensor): Tensor {
  return runOp(reluOp, [x], {});
}

const leakyReluOp = unaryOp<{ negativeSlope: number }>({
  name: "leakyRelu",
  dtypes: FLOATS,
  grad: (g, { inputs: [x], attrs: { negativeSlope } }) => [where(gt(x, 0), g, mul(g, negativeSlope))],
  cases: [
    ...actCases((x) => leakyRelu(x)),
    { name: "slope 0.2", inputs: x1([3, 4]), call: (x) => leakyRelu(x, 0.2) },
    { name: "slope above 1", inputs: x1([5]), call: (x) => x.leakyRelu(1.5) },
    intRejected("leakyRelu", (x) => leakyRelu(x)),
  ],
});

/** x for x > 0, negativeSlope·x otherwise. */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return runOp(leakyReluOp, [x], { negativeSlope: checkNumber("leakyRelu", "negativeSlope", negativeSlope) });
}

const eluOp = unaryOp<{ alpha: number }>({
  name: "elu",
  dtypes: FLOATS,
  // For x ≤ 0, d/dx α(eˣ − 1) = αeˣ = y + α (the saved output).
  // The exponential branch only where x ≤ 0, so a NaN input passes g (PyTorch).
  grad: (g, { inputs: [x], outputs: [y], attrs: { alpha } }) => [where(le(x, 0), mul(g, add(y, alpha)), g)],
  cases: [
    ...actCases((x) => elu(x)),
    { name: "alpha 0.5", inputs: x1([3, 4]), call: (x) => elu(x, 0.5) },
    { name: "near zero", inputs: [{ shape: [4], values: [-1e-9, -1e-4, 1e-4, 2e-3] }], call: (x) => elu(x), rtol: 1e-3 },
    intRejected("elu", (x) => elu(x)),
  ],
});

/** x for x > 0, alpha·(eˣ − 1) otherwise. */
export function elu(x: Tensor, alpha = 1): Tensor {
  return runOp(eluOp, [x], { alpha: checkNumber("elu", "alpha", alpha) });
}

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** g · d gelu/dx with the exact normal CDF: g·(Φ(x) + x·φ(x)), composed of other ops. */
function geluGradExact(g: Tensor, x: Tensor): Tensor {
  const cdf = erf(mul(x, INV_SQRT2)).add(1).mul(0.5);
  const pdf = exp(square(x).mul(-0.5)).mul(INV_SQRT_2PI);
  return mul(g, add(cdf, mul(x, pdf)));
}

/** g · d gelu/dx of the tanh form, as PyTorch's gelu_backward writes it, composed of other ops. */
function geluGradTanh(g: Tensor, x: Tensor): Tensor {
  const x2 = square(x);
  const t = tanh(mul(x, x2.mul(GELU_C).add(1)).mul(SQRT_2_OVER_PI));
  const left = t.add(1).mul(0.5);
  const right = mul(x, t.square().neg().add(1)).mul(x2.mul(3 * GELU_C).add(1)).mul(0.5 * SQRT_2_OVER_PI);
  return mul(g, add(left, right));
}

/**
 * d² gelu/dx², composed of other ops (the gradient of geluBackward with respect to x). Exact:
 * φ(x)·(2 − x²). Tanh form, with u = √(2/π)(x + c·x³), t = tanh u: (1 − t²)·(u′ + ½x·(u″ − 2t·u′²)).
 */
function geluSecond(x: Tensor, approximate: "none" | "tanh"): Tensor {
  const x2 = square(x);
  if (approximate !== "tanh") return exp(x2.mul(-0.5)).mul(INV_SQRT_2PI).mul(x2.neg().add(2));
  const t = tanh(mul(x, x2.mul(GELU_C).add(1)).mul(SQRT_2_OVER_PI));
  const u1 = x2.mul(3 * GELU_C * SQRT_2_OVER_PI).add(SQRT_2_OVER_PI);
  const u2 = x.mul(6 * GELU_C * SQRT_2_OVER_PI);
  return t.square().neg().add(1).mul(add(u1, mul(x, u2.sub(mul(t, square(u1)).mul(2))).mul(0.5)));
}

const geluBackwardOp = binaryOp<{ approximate: "none" | "tanh" }>({
  name: "geluBackward",
  dtypes: FLOATS,
  // d/dg = gelu′(x) (geluBackward of gg); d/dx = gg·g·gelu″(x).
  grad: (gg, { inputs: [g, x], attrs: { approximate } }) => [geluBackward(gg, x, approximate), mul(mul(gg, g), geluSecond(x, approximate))],
  // A backend without a fused kernel composes it (the same formulas as before the fused op).
  decompose: ([g, x], { approximate }) => (approximate === "tanh" ? geluGradTanh(g, x) : geluGradExact(g, x)),
  cases: [
    { name: "exact", inputs: [{ shape: [3, 5] }, { shape: [3, 5], range: [-4, 4] }], call: (g, x) => geluBackward(g, x) },
    { name: "tanh", inputs: [{ shape: [3, 5] }, { shape: [3, 5], range: [-4, 4] }], call: (g, x) => geluBackward(g, x, "tanh") },
    { name: "tanh transposed x", inputs: [{ shape: [4, 3] }, { shape: [3, 4] }], call: (g, x) => geluBackward(g, x.t(), "tanh") },
    { name: "far tails", inputs: [{ shape: [4] }, { shape: [4], values: [-12, -6, 6, 12] }], call: (g, x) => geluBackward(g, x) },
    { name: "unknown approximation", inputs: [{ shape: [2] }, { shape: [2] }], call: (g, x) => geluBackward(g, x, "erf" as "none"), throws: { error: Error, message: /^geluBackward: approximate must be "none" or "tanh", got "erf"/ } },
  ],
});

/**
 * g · d gelu(x)/dx in one pass (torch.ops.aten.gelu_backward): the gradient of gelu, fused so a
 * training step does not run the dozen elementwise ops of the composed formula.
 */
export function geluBackward(g: Tensor, x: Tensor, approximate: "none" | "tanh" = "none"): Tensor {
  if (approximate !== "none" && approximate !== "tanh")
    throw new ValueError(`geluBackward: approximate must be "none" or "tanh", got ${JSON.stringify(approximate)}`);
  return runOp(geluBackwardOp, [g, x], { approximate });
}

const geluOp = unaryOp<{ approximate: "none" | "tanh" }>({
  name: "gelu",
  dtypes: FLOATS,
  grad: (g, { inputs: [x], attrs }) => [geluBackward(g, x, attrs.approximate)],
  cases: [
    ...actCases((x) => gelu(x)),
    { name: "tanh 2-d", inputs: x1([3, 5]), call: (x) => gelu(x, "tanh") },
    { name: "tanh transposed", inputs: x1([4, 3]), call: (x) => x.t().gelu("tanh") },
    { name: "far tails", inputs: [{ shape: [4], values: [-12, -6, 6, 12] }], call: (x) => gelu(x) },
    intRejected("gelu", (x) => gelu(x)),
    { name: "unknown approximation", inputs: x1([2]), call: (x) => gelu(x, "erf" as "none"), throws: { error: Error, message: /^gelu: approximate must be "none" or "tanh", got "erf"/ } },
  ],
});

/**
 * Gaussian error linear unit x·Φ(x) (Φ the standard normal CDF); `approximate: "tanh"` uses
 * 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))), as torch.nn.functional.gelu.
 */
export function gelu(x: Tensor, approximate: "none" | "tanh" = "none"): Tensor {
  if (approximate !== "none" && approximate !== "tanh")
    throw new ValueError(`gelu: approximate must be "none" or "tanh", got ${JSON.stringify(approximate)}`);
  return runOp(geluOp, [x], { approximate });
}

const siluOp = unaryOp({
  name: "silu",
  dtypes: FLOATS,
  // d(x·s)/dx = s·(1 + x·(1 − s)) with s = sigmoid(x)
  grad: (g, { inputs: [x] }) => {
    const s = sigmoid(x);
    return [mul(g, s).mul(mul(x, s.neg().add(1)).add(1))];
  },
  cases: [...actCases((x) => silu(x), [-5, 5]), intRejected("silu", (x) => silu(x))],
});

/** x·sigmoid(x) (also called swish). */
export function silu(x: Tensor): Tensor {
  return runOp(siluOp, [x], {});
}

const softplusOp = unaryOp<{ beta: number; threshold: number }>({
  name: "softplus",
  dtypes: FLOATS,
  // Below the threshold d/dx log(1 + e^(βx))/β = sigmoid(βx); above it the op is the identity.
  grad: (g, { inputs: [x], attrs: { beta, threshold } }) => {
    const bx = mul(x, beta);
    return [where(gt(bx, threshold), g, mul(g, sigmoid(bx)))];
  },
  cases: [
    ...actCases((x) => softplus(x), [-4, 4]),
    { name: "beta 2 threshold 3 (both branches)", inputs: x1([3, 4], [-3, 3]), call: (x) => softplus(x, 2, 3) },
    { name: "beta 0.5", inputs: x1([6], [-6, 6]), call: (x) => x.softplus(0.5) },
    { name: "large inputs stay linear", inputs: [{ shape: [3], values: [25, 100, 1000] }], call: (x) => softplus(x) },
    intRejected("softplus", (x) => softplus(x)),
  ],
});

/** log(1 + e^(βx))/β, and x itself where βx > threshold (for numerical stability), as in PyTorch. */
export function softplus(x: Tensor, beta = 1, threshold = 20): Tensor {
  return runOp(softplusOp, [x], { beta: checkNumber("softplus", "beta", beta), threshold: checkNumber("softplus", "threshold", threshold) });
}

interface ClampAttrs {
  min: number | null;
  max: number | null;
}

const clampOp = unaryOp<ClampAttrs>({
  name: "clamp",
  dtypes: NUMERIC,
  // The gradient passes where min ≤ x ≤ max (bounds included), as torch.clamp's.
  grad: (g, { inputs: [x], attrs: { min, max } }) => {
    const lo = min === null ? null : ge(x, min);
    const hi = max === null ? null : le(x, max);
    const keep = lo && hi ? logicalAnd(lo, hi) : (lo ?? hi)!;
    return [where(keep, g, 0)];
  },
  cases: [
    { name: "min and max", inputs: x1([3, 4]), call: (x) => clamp(x, -0.5, 0.8) },
    { name: "min only", inputs: x1([3, 4]), call: (x) => clamp(x, -0.3) },
    { name: "max only (null min)", inputs: x1([3, 4]), call: (x) => clamp(x, null, 0.4) },
    { name: "transposed view", inputs: x1([4, 3]), call: (x) => x.t().clamp(-1, 1) },
    { name: "min above max gives max", inputs: x1([5]), call: (x) => clamp(x, 1, -1) },
    { name: "tensor bounds broadcast", inputs: [{ shape: [3, 4] }, { shape: [4], range: [-1.5, -0.2] }, { shape: [3, 1], range: [0.2, 1.5] }], call: (x, lo, hi) => clamp(x, lo, hi) },
    { name: "tensor min, scalar max", inputs: [{ shape: [2, 3] }, { shape: [2, 3], range: [-1, 0] }], call: (x, lo) => clamp(x, lo, 1) },
    { name: "tensor max broadcasts x", inputs: [{ shape: [3] }, { shape: [2, 3], range: [-1, 1] }], call: (x, hi) => clamp(x, undefined, hi) },
    { name: "clip alias", inputs: x1([2, 3]), call: (x) => x.clip(-0.5, 0.5) },
    { name: "int32", inputs: [{ shape: [6], dtype: "int32", range: [-6, 6] }], call: (x) => clamp(x, -2, 3) },
    { name: "int32 with a float bound gives float32", inputs: [{ shape: [4], dtype: "int32", range: [-3, 3] }], call: (x) => clamp(x, 0.5) },
    { name: "no bounds", inputs: x1([2]), call: (x) => clamp(x), throws: { error: ValueError, message: /^clamp: at least one of min and max must be given/ } },
    { name: "bool rejected", inputs: [{ shape: [2], dtype: "bool" }], call: (x) => clamp(x, 0, 1), throws: { error: Error, message: /^clamp: input has dtype bool; expected float32 or float64 or int32/ } },
    { name: "bad broadcast of a bound", inputs: [{ shape: [3, 4] }, { shape: [3] }], call: (x, lo) => clamp(x, lo), throws: { error: Error, message: /^clamp: shapes \[3,4\] and \[3\] cannot be broadcast/ } },
  ],
});

/**
 * Limits x to [min, max] (either may be omitted, or null); bounds may be numbers or tensors that
 * broadcast with x. With min > max every element becomes max, as in PyTorch.
 * @example clamp(x, 0, 1); clamp(x, null, 6); x.clamp(lo, hi)
 */
export function clamp(x: Tensor, min?: TensorLike | null, max?: TensorLike | null): Tensor {
  const lo = min ?? null;
  const hi = max ?? null;
  if (lo === null && hi === null) throw new ValueError("clamp: at least one of min and max must be given (pass null for the one you omit)");
  if (lo instanceof Tensor || hi instanceof Tensor) return clampTensor(x, lo, hi);
  const bounds = [lo, hi].filter((b) => b !== null).map((b) => +b!);
  // Like PyTorch's type promotion: a fractional bound turns an integer tensor into float32.
  const xx = !isFloatDType(x.dtype) && x.dtype !== "bool" && bounds.some((b) => !Number.isInteger(b)) ? to(x, "float32") : x;
  return runOp(clampOp, [xx], { min: lo === null ? null : +lo, max: hi === null ? null : +hi });
}

/** Tensor bounds, written with where so the gradient reaches x and the bounds; at a tie x keeps it (as PyTorch). */
function clampTensor(x: Tensor, min: TensorLike | null, max: TensorLike | null): Tensor {
  checkDType("clamp", "input", x.dtype, NUMERIC);
  const lo = min === null ? null : asTensor(min, x);
  const hi = max === null ? null : asTensor(max, x);
  const present = [x, lo, hi].filter((t): t is Tensor => t !== null);
  broadcastShapes("clamp", ...present.map((t) => t.shape));
  const dtype = present.map((t) => t.dtype).reduce((a: DType, b) => promoteTypes(a, b));
  let r = to(x, dtype);
  if (lo) r = where(lt(r, lo), to(lo, dtype), r);
  if (hi) r = where(gt(r, hi), to(hi, dtype), r);
  return r;
}

/** Alias of clamp (NumPy's name). */
export const clip = clamp;

method("relu", relu);
method("leakyRelu", leakyRelu);
method("elu", elu);
method("gelu", gelu);
method("silu", silu);
method("softplus", softplus);
method("clamp", clamp);
method("clip", clamp);
