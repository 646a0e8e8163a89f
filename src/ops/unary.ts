// Unary elementwise math: neg, exp, abs, log, sqrt, trig, sigmoid, erf, rounding … Each gradient is
// written with other ops; the activations (relu, gelu, clamp, …) are in activation.ts.
import { type Tensor, ValueError } from "../tensor/index.js";
import { unaryOp } from "./elementwise.js";
import { runOp } from "./op.js";
import type { OpCase } from "./cases.js";
import { add, div, mul, sub } from "./binary.js";
import { zerosLike } from "./creation.js";
import { method, NUMERIC, FLOATS } from "./util.js";

export * from "./activation.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    neg(): Tensor;
    exp(): Tensor;
    abs(): Tensor;
    log(): Tensor;
    log1p(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    square(): Tensor;
    reciprocal(): Tensor;
    sign(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    erf(): Tensor;
    floor(): Tensor;
    ceil(): Tensor;
    round(decimals?: number): Tensor;
  }
}

const x1 = (shape: number[], range?: [number, number]) => [{ shape, range }];
const i1 = (shape: number[], range: [number, number] = [-5, 5]) => [{ shape, dtype: "int32" as const, range }];

/** The cases every float unary op gets: 2-d, a transposed view, a strided slice, 0-d and empty. */
function floatCases(f: (x: Tensor) => Tensor, range?: [number, number]): OpCase[] {
  return [
    { name: "2-d", inputs: x1([3, 4], range), call: (x) => f(x) },
    { name: "transposed view", inputs: x1([4, 3], range), call: (x) => f(x.t()) },
    { name: "strided slice", inputs: x1([4, 6], range), call: (x) => f(x.slice(1, 1, 6, 2)) },
    { name: "0-d", inputs: x1([], range), call: (x) => f(x) },
    { name: "empty", inputs: x1([0, 3], range), call: (x) => f(x) },
  ];
}

/** The error case of a float-only op given an int32 tensor. */
function intRejected(name: string, f: (x: Tensor) => Tensor): OpCase {
  const msg = new RegExp(`^${name}: input has dtype int32; expected float32 or float64`);
  return { name: "int rejected", inputs: i1([2]), call: (x) => f(x), throws: { error: Error, message: msg } };
}

/** The error case of a numeric op given a bool tensor. */
function boolRejected(name: string, f: (x: Tensor) => Tensor): OpCase {
  const msg = new RegExp(`^${name}: input has dtype bool; expected float32 or float64 or int32`);
  return { name: "bool rejected", inputs: [{ shape: [2], dtype: "bool" }], call: (x) => f(x), throws: { error: Error, message: msg } };
}

const negOp = unaryOp({
  name: "neg",
  dtypes: NUMERIC,
  grad: (g) => [neg(g)],
  cases: [
    { name: "2-d", inputs: x1([3, 4]), call: (x) => neg(x) },
    { name: "int32", inputs: [{ shape: [4], dtype: "int32", range: [-5, 5] }], call: (x) => neg(x) },
    { name: "permuted view", inputs: x1([2, 3, 4]), call: (x) => neg(x.permute(2, 0, 1)) },
  ],
});

/** −x. */
export function neg(x: Tensor): Tensor {
  return runOp(negOp, [x], {});
}

const expOp = unaryOp({
  name: "exp",
  dtypes: FLOATS,
  grad: (g, { outputs: [y] }) => [mul(g, y)],
  cases: [
    { name: "2-d", inputs: x1([3, 4]), call: (x) => exp(x) },
    { name: "sliced view", inputs: x1([4, 6]), call: (x) => exp(x.slice(1, 1, 6, 2)) },
    { name: "int rejected", inputs: [{ shape: [2], dtype: "int32" }], call: (x) => exp(x), throws: { error: Error, message: /exp: input has dtype int32; expected float32 or float64/ } },
  ],
});

/** eˣ. */
export function exp(x: Tensor): Tensor {
  return runOp(expOp, [x], {});
}

const absOp = unaryOp({
  name: "abs",
  dtypes: NUMERIC,
  grad: (g, { inputs: [x] }) => [mul(g, sign(x))],
  cases: [
    ...floatCases((x) => abs(x)),
    { name: "int32", inputs: i1([6]), call: (x) => abs(x) },
    boolRejected("abs", (x) => abs(x)),
  ],
});

/** |x|; the gradient at 0 is 0, as in PyTorch. */
export function abs(x: Tensor): Tensor {
  return runOp(absOp, [x], {});
}

const logOp = unaryOp({
  name: "log",
  dtypes: FLOATS,
  grad: (g, { inputs: [x] }) => [div(g, x)],
  cases: [...floatCases((x) => log(x), [0.5, 3]), intRejected("log", (x) => log(x))],
});

/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  return runOp(logOp, [x], {});
}

const log1pOp = unaryOp({
  name: "log1p",
  dtypes: FLOATS,
  grad: (g, { inputs: [x] }) => [div(g, add(x, 1))],
  cases: [
    ...floatCases((x) => log1p(x), [-0.5, 2]),
    { name: "tiny inputs keep precision", inputs: [{ shape: [3], values: [1e-10, -3e-12, 2e-8] }], call: (x) => log1p(x), rtol: 1e-6 },
    intRejected("log1p", (x) => log1p(x)),
  ],
});

/** log(1 + x), accurate for small x. */
export function log1p(x: Tensor): Tensor {
  return runOp(log1pOp, [x], {});
}

const sqrtOp = unaryOp({
  name: "sqrt",
  dtypes: FLOATS,
  // d√x = 1/(2√x): the saved output avoids a second square root.
  grad: (g, { outputs: [y] }) => [div(g, mul(y, 2))],
  cases: [...floatCases((x) => sqrt(x), [0.25, 4]), intRejected("sqrt", (x) => sqrt(x))],
});

/** √x. */
export function sqrt(x: Tensor): Tensor {
  return runOp(sqrtOp, [x], {});
}

const rsqrtOp = unaryOp({
  name: "rsqrt",
  dtypes: FLOATS,
  // d(x^−½) = −½·x^−3/2 = −½·y³
  grad: (g, { outputs: [y] }) => [mul(g, mul(y, y).mul(y)).mul(-0.5)],
  cases: [...floatCases((x) => rsqrt(x), [0.25, 4]), intRejected("rsqrt", (x) => rsqrt(x))],
});

/** 1/√x. */
export function rsqrt(x: Tensor): Tensor {
  return runOp(rsqrtOp, [x], {});
}

const squareOp = unaryOp({
  name: "square",
  dtypes: NUMERIC,
  grad: (g, { inputs: [x] }) => [mul(g, x).mul(2)],
  cases: [...floatCases((x) => square(x)), { name: "int32", inputs: i1([5]), call: (x) => square(x) }, boolRejected("square", (x) => square(x))],
});

/** x². */
export function square(x: Tensor): Tensor {
  return runOp(squareOp, [x], {});
}

const reciprocalOp = unaryOp({
  name: "reciprocal",
  dtypes: FLOATS,
  grad: (g, { outputs: [y] }) => [mul(g, mul(y, y)).neg()],
  cases: [
    ...floatCases((x) => reciprocal(x), [0.5, 2]),
    { name: "negative inputs", inputs: x1([2, 3], [-2, -0.5]), call: (x) => reciprocal(x) },
    intRejected("reciprocal", (x) => reciprocal(x)),
  ],
});

/** 1/x. */
export function reciprocal(x: Tensor): Tensor {
  return runOp(reciprocalOp, [x], {});
}

/** A gradient rule for piecewise-constant ops (sign, floor, ceil, round): zero everywhere. */
const zeroGrad = (g: Tensor) => [zerosLike(g)];

const signOp = unaryOp({
  name: "sign",
  dtypes: NUMERIC,
  grad: zeroGrad,
  cases: [
    ...floatCases((x) => sign(x)),
    { name: "zeros", inputs: [{ shape: [4], values: [0, -0, 3, -2] }], call: (x) => sign(x), grad: false },
    { name: "int32", inputs: i1([6]), call: (x) => sign(x) },
    boolRejected("sign", (x) => sign(x)),
  ],
});

/** −1, 0 or 1 by the sign of x (0 for NaN, as in PyTorch); its gradient is 0. */
export function sign(x: Tensor): Tensor {
  return runOp(signOp, [x], {});
}

const sinOp = unaryOp({
  name: "sin",
  dtypes: FLOATS,
  grad: (g, { inputs: [x] }) => [mul(g, cos(x))],
  cases: [...floatCases((x) => sin(x), [-4, 4]), intRejected("sin", (x) => sin(x))],
});

/** sin x (radians). */
export function sin(x: Tensor): Tensor {
  return runOp(sinOp, [x], {});
}

const cosOp = unaryOp({
  name: "cos",
  dtypes: FLOATS,
  grad: (g, { inputs: [x] }) => [mul(g, sin(x)).neg()],
  cases: [...floatCases((x) => cos(x), [-4, 4]), intRejected("cos", (x) => cos(x))],
});

/** cos x (radians). */
export function cos(x: Tensor): Tensor {
  return runOp(cosOp, [x], {});
}

const tanhOp = unaryOp({
  name: "tanh",
  dtypes: FLOATS,
  grad: (g, { outputs: [y] }) => [mul(g, sub(1, mul(y, y)))],
  cases: [
    ...floatCases((x) => tanh(x), [-3, 3]),
    { name: "saturated", inputs: [{ shape: [4], values: [-30, -12, 12, 30] }], call: (x) => tanh(x) },
    intRejected("tanh", (x) => tanh(x)),
  ],
});

/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  return runOp(tanhOp, [x], {});
}

const sigmoidOp = unaryOp({
  name: "sigmoid",
  dtypes: FLOATS,
  grad: (g, { outputs: [y] }) => [mul(g, mul(y, sub(1, y)))],
  cases: [
    ...floatCases((x) => sigmoid(x), [-4, 4]),
    { name: "large magnitudes", inputs: [{ shape: [4], values: [-800, -40, 40, 800] }], call: (x) => sigmoid(x) },
    intRejected("sigmoid", (x) => sigmoid(x)),
  ],
});

/** The logistic function 1/(1 + e⁻ˣ), without overflow for large |x|. */
export function sigmoid(x: Tensor): Tensor {
  return runOp(sigmoidOp, [x], {});
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

const erfOp = unaryOp({
  name: "erf",
  dtypes: FLOATS,
  grad: (g, { inputs: [x] }) => [mul(g, exp(square(x).neg())).mul(TWO_OVER_SQRT_PI)],
  cases: [
    ...floatCases((x) => erf(x), [-3, 3]),
    { name: "every branch", inputs: [{ shape: [6], values: [-5, -1, -0.3, 0.2, 2.5, 7] }], call: (x) => erf(x) },
    intRejected("erf", (x) => erf(x)),
  ],
});

/** The error function 2/√π ∫₀ˣ e^(−t²) dt (W. J. Cody's approximation in ref, ~1e-16 relative). */
export function erf(x: Tensor): Tensor {
  return runOp(erfOp, [x], {});
}

/** Cases for floor/ceil/round: random floats, exact ties and whole numbers, a view, int32 (a copy). */
function roundingCases(f: (x: Tensor) => Tensor): OpCase[] {
  const ties = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -2, 3];
  return [
    { name: "2-d", inputs: x1([3, 4], [-3, 3]), call: (x) => f(x) },
    { name: "halves and whole numbers", inputs: [{ shape: [8], values: ties }], call: (x) => f(x), grad: false },
    { name: "transposed view", inputs: x1([4, 3], [-3, 3]), call: (x) => f(x.t()) },
    { name: "int32 is a copy", inputs: i1([2, 3]), call: (x) => f(x.t()) },
  ];
}

const floorOp = unaryOp({ name: "floor", dtypes: NUMERIC, grad: zeroGrad, cases: [...roundingCases((x) => floor(x)), boolRejected("floor", (x) => floor(x))] });

/** The largest integer ≤ x (elementwise); int32 inputs are returned as a copy. Gradient 0. */
export function floor(x: Tensor): Tensor {
  return runOp(floorOp, [x], {});
}

const ceilOp = unaryOp({ name: "ceil", dtypes: NUMERIC, grad: zeroGrad, cases: [...roundingCases((x) => ceil(x)), boolRejected("ceil", (x) => ceil(x))] });

/** The smallest integer ≥ x (elementwise); int32 inputs are returned as a copy. Gradient 0. */
export function ceil(x: Tensor): Tensor {
  return runOp(ceilOp, [x], {});
}

const roundOp = unaryOp<{ decimals: number }>({
  name: "round",
  dtypes: NUMERIC,
  grad: zeroGrad,
  cases: [
    ...roundingCases((x) => round(x)),
    { name: "decimals 2", inputs: [{ shape: [5], values: [1.234, -0.125, 2.5, 0.375, 9.999] }], call: (x) => round(x, 2), grad: false },
    { name: "decimals -1", inputs: x1([2, 3], [-100, 100]), call: (x) => round(x, -1) },
    boolRejected("round", (x) => round(x)),
    { name: "decimals not an integer", inputs: x1([2]), call: (x) => round(x, 0.5), throws: { error: Error, message: /^round: decimals must be an integer, got 0.5/ } },
  ],
});

/**
 * Rounds to the nearest integer with ties to even (2.5 → 2, 3.5 → 4), like torch.round; with
 * `decimals`, to that many decimal places (negative: to tens, hundreds, …). Gradient 0.
 */
export function round(x: Tensor, decimals = 0): Tensor {
  if (!Number.isInteger(decimals)) throw new ValueError(`round: decimals must be an integer, got ${decimals}`);
  return runOp(roundOp, [x], { decimals });
}

method("neg", neg);
method("exp", exp);
method("abs", abs);
method("log", log);
method("log1p", log1p);
method("sqrt", sqrt);
method("rsqrt", rsqrt);
method("square", square);
method("reciprocal", reciprocal);
method("sign", sign);
method("sin", sin);
method("cos", cos);
method("tanh", tanh);
method("sigmoid", sigmoid);
method("erf", erf);
method("floor", floor);
method("ceil", ceil);
method("round", round);
