// Binary arithmetic with broadcasting and type promotion: add, sub, mul, div, pow, maximum, minimum.
import { isFloatDType, Tensor, ValueError } from "../tensor/index.js";
import { binaryOp, callBinary } from "./elementwise.js";
import { sumToShape } from "./reduce.js";
import { eq, ge, gt, logicalAnd, lt, where } from "./compare.js";
import { log } from "./unary.js";
import { to } from "./view.js";
import type { OpCase } from "./cases.js";
import { method, ALL_PLAIN, FLOATS, NUMERIC, type TensorLike } from "./util.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    add(other: TensorLike, alpha?: number): Tensor;
    sub(other: TensorLike, alpha?: number): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
    pow(exponent: TensorLike): Tensor;
    maximum(other: TensorLike): Tensor;
    minimum(other: TensorLike): Tensor;
  }
}

const bc = (a: number[], b: number[]) => [{ shape: a }, { shape: b }];

const addOp = binaryOp({
  name: "add",
  dtypes: NUMERIC,
  grad: (g, { inputs: [a, b] }) => [sumToShape(g, a.shape), sumToShape(g, b.shape)],
  cases: [
    { name: "same shape", inputs: bc([3, 4], [3, 4]), call: (a, b) => add(a, b) },
    { name: "broadcast row", inputs: bc([3, 4], [4]), call: (a, b) => add(a, b) },
    { name: "broadcast both", inputs: bc([3, 1], [1, 4]), call: (a, b) => add(a, b) },
    { name: "scalar", inputs: [{ shape: [2, 3] }], call: (a) => add(a, 1.5) },
    { name: "transposed view", inputs: bc([4, 3], [3, 4]), call: (a, b) => add(a.t(), b) },
    { name: "int32", inputs: [{ shape: [3], dtype: "int32" }, { shape: [3], dtype: "int32" }], call: (a, b) => add(a, b) },
    { name: "int32 + float promotes", inputs: [{ shape: [3], dtype: "int32" }, { shape: [3] }], call: (a, b) => add(a, b) },
    { name: "bad broadcast", inputs: bc([3, 4], [5]), call: (a, b) => add(a, b), throws: { error: Error, message: /add: shapes \[3,4\] and \[5\] cannot be broadcast/ } },
  ],
});

/** a + alpha·b with broadcasting. */
export function add(a: TensorLike, b: TensorLike, alpha = 1): Tensor {
  return callBinary(addOp, a, alpha === 1 ? b : mul(b, alpha));
}

const subOp = binaryOp({
  name: "sub",
  dtypes: NUMERIC,
  grad: (g, { inputs: [a, b] }) => [sumToShape(g, a.shape), sumToShape(g.neg(), b.shape)],
  cases: [
    { name: "same shape", inputs: bc([3, 4], [3, 4]), call: (a, b) => sub(a, b) },
    { name: "broadcast col", inputs: bc([3, 4], [3, 1]), call: (a, b) => sub(a, b) },
    { name: "scalar first", inputs: [{ shape: [3] }], call: (a) => sub(2, a) },
  ],
});

/** a − alpha·b with broadcasting. */
export function sub(a: TensorLike, b: TensorLike, alpha = 1): Tensor {
  return callBinary(subOp, a, alpha === 1 ? b : mul(b, alpha));
}

const mulOp = binaryOp({
  name: "mul",
  dtypes: NUMERIC,
  grad: (g, { inputs: [a, b] }) => [sumToShape(mul(g, b), a.shape), sumToShape(mul(g, a), b.shape)],
  cases: [
    { name: "same shape", inputs: bc([3, 4], [3, 4]), call: (a, b) => mul(a, b) },
    { name: "broadcast 3-d", inputs: bc([2, 3, 4], [3, 1]), call: (a, b) => mul(a, b) },
    { name: "same tensor twice", inputs: [{ shape: [5] }], call: (a) => mul(a, a) },
    { name: "int32", inputs: [{ shape: [4], dtype: "int32", range: [-4, 4] }, { shape: [4], dtype: "int32", range: [-4, 4] }], call: (a, b) => mul(a, b) },
  ],
});

/** Elementwise product with broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return callBinary(mulOp, a, b);
}

const divOp = binaryOp({
  name: "div",
  dtypes: FLOATS,
  grad: (g, { inputs: [a, b] }) => [sumToShape(div(g, b), a.shape), sumToShape(mul(g, a).div(mul(b, b)).neg(), b.shape)],
  cases: [
    { name: "same shape", inputs: [{ shape: [3, 4] }, { shape: [3, 4], range: [0.5, 2] }], call: (a, b) => div(a, b) },
    { name: "broadcast", inputs: [{ shape: [3, 4] }, { shape: [4], range: [0.5, 2] }], call: (a, b) => div(a, b) },
    { name: "int / int is true division", inputs: [{ shape: [4], dtype: "int32", range: [-9, 9] }, { shape: [4], dtype: "int32", range: [1, 4] }], call: (a, b) => div(a, b), grad: false },
  ],
});

/** True division with broadcasting; integer inputs give float32 (as in PyTorch). */
export function div(a: TensorLike, b: TensorLike): Tensor {
  const asFloat = (v: TensorLike) => (v instanceof Tensor && !isFloatDType(v.dtype) ? v.to("float32") : v);
  return callBinary(divOp, asFloat(a), asFloat(b));
}

const powOp = binaryOp({
  name: "pow",
  dtypes: NUMERIC,
  grad: (g, { inputs: [a, b], outputs: [y] }) => {
    // d/da = b·a^(b−1), set to 0 where b = 0 (else 0·∞ = NaN at a = 0), as PyTorch.
    const da = a.requiresGrad ? where(eq(b, 0), 0, mul(b, pow(a, sub(b, 1)))) : null;
    // d/db = aᵇ·log(a), set to 0 where a = 0 and b ≥ 0 (the limit), as PyTorch.
    const db = b.requiresGrad ? where(logicalAnd(eq(a, 0), ge(b, 0)), 0, mul(y, log(a))) : null;
    return [da && sumToShape(mul(g, da), a.shape), db && sumToShape(mul(g, db), b.shape)];
  },
  cases: [
    { name: "tensor exponent", inputs: [{ shape: [3, 4], range: [0.5, 2] }, { shape: [3, 4], range: [-2, 2] }], call: (a, b) => pow(a, b) },
    { name: "broadcast exponent row", inputs: [{ shape: [3, 4], range: [0.5, 2] }, { shape: [4], range: [-1.5, 2.5] }], call: (a, b) => pow(a, b) },
    { name: "broadcast both", inputs: [{ shape: [3, 1], range: [0.5, 2] }, { shape: [1, 4], range: [-2, 2] }], call: (a, b) => a.pow(b) },
    { name: "scalar exponent 2 (negative base)", inputs: [{ shape: [2, 3] }], call: (a) => a.pow(2) },
    { name: "scalar exponent 3 on a transposed view", inputs: [{ shape: [3, 2] }], call: (a) => pow(a.t(), 3) },
    { name: "fractional scalar exponent", inputs: [{ shape: [5], range: [0.2, 3] }], call: (a) => pow(a, 0.5) },
    { name: "exponent 0 (gradient 0 at 0)", inputs: [{ shape: [4], values: [0, 1, -2, 0.5] }], call: (a) => pow(a, 0) },
    { name: "scalar base", inputs: [{ shape: [2, 3] }], call: (b) => pow(2, b) },
    { name: "sliced and transposed views", inputs: [{ shape: [4, 6], range: [0.5, 2] }, { shape: [3, 4] }], call: (a, b) => pow(a.slice(1, 0, 6, 2), b.t()) },
    { name: "int32", inputs: [{ shape: [6], dtype: "int32", range: [-4, 5] }, { shape: [6], dtype: "int32", range: [0, 4] }], call: (a, b) => pow(a, b) },
    { name: "int32 negative tensor exponent", inputs: [{ shape: [4], dtype: "int32", values: [1, -1, 2, -1] }, { shape: [4], dtype: "int32", values: [-3, -3, -1, -2] }], call: (a, b) => pow(a, b) },
    { name: "int32 ** fractional gives float32", inputs: [{ shape: [4], dtype: "int32", range: [1, 9] }], call: (a) => pow(a, 0.5) },
    { name: "bad broadcast", inputs: [{ shape: [3, 4] }, { shape: [3] }], call: (a, b) => pow(a, b), throws: { error: Error, message: /^pow: shapes \[3,4\] and \[3\] cannot be broadcast/ } },
    { name: "int32 to a negative scalar power", inputs: [{ shape: [2], dtype: "int32" }], call: (a) => pow(a, -1), throws: { error: ValueError, message: /^pow: integers to negative integer powers are not allowed/ } },
    { name: "bool rejected", inputs: [{ shape: [2], dtype: "bool" }, { shape: [2], dtype: "bool" }], call: (a, b) => pow(a, b), throws: { error: Error, message: /^pow: input has dtype bool/ } },
  ],
});

/**
 * a to the power b with broadcasting; either side may be a number (`x.pow(2)`, `pow(2, x)`).
 * The gradient w.r.t. a tensor exponent is aᵇ·log(a), so it needs a > 0.
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  if (typeof b === "number" && Number.isInteger(b) && b < 0 && a instanceof Tensor && !isFloatDType(a.dtype))
    throw new ValueError(`pow: integers to negative integer powers are not allowed (got ${a.dtype} ** ${b}); convert the base with .float()`);
  return callBinary(powOp, a, b);
}

/** Cases shared by maximum and minimum: ties get half the gradient each. */
function extremumCases(f: (a: TensorLike, b: TensorLike) => Tensor, name: string): OpCase[] {
  return [
    { name: "same shape", inputs: bc([3, 4], [3, 4]), call: (a, b) => f(a, b) },
    { name: "broadcast", inputs: bc([3, 1], [4]), call: (a, b) => f(a, b) },
    { name: "ties split the gradient", inputs: [{ shape: [4], values: [1, 2, -3, 0.5] }, { shape: [4], values: [1, 0, -3, 2] }], call: (a, b) => f(a, b), grad: false },
    { name: "tie with itself", inputs: [{ shape: [3] }], call: (a) => f(a, a) },
    { name: "scalar", inputs: [{ shape: [2, 3] }], call: (a) => f(a, 0.25) },
    { name: "permuted view", inputs: bc([2, 3, 4], [4, 2, 3]), call: (a, b) => f(a, b.permute(1, 2, 0)) },
    { name: "int32", inputs: [{ shape: [5], dtype: "int32" }, { shape: [5], dtype: "int32" }], call: (a, b) => f(a, b) },
    { name: "int32 and float promote", inputs: [{ shape: [5], dtype: "int32" }, { shape: [5] }], call: (a, b) => f(a, b) },
    { name: "bad broadcast", inputs: bc([2, 3], [2]), call: (a, b) => f(a, b), throws: { error: Error, message: new RegExp(`^${name}: shapes \\[2,3\\] and \\[2\\] cannot be broadcast`) } },
  ];
}

/** The share of the gradient that goes to a: 1 where it wins, ½ on ties, 0 where it loses. */
function winnerShare(wins: Tensor, ties: Tensor, like: Tensor): Tensor {
  return add(to(wins, like.dtype), mul(to(ties, like.dtype), 0.5));
}

const maximumOp = binaryOp({
  name: "maximum",
  dtypes: ALL_PLAIN,
  grad: (g, { inputs: [a, b] }) => {
    const tie = eq(a, b);
    return [sumToShape(mul(g, winnerShare(gt(a, b), tie, g)), a.shape), sumToShape(mul(g, winnerShare(lt(a, b), tie, g)), b.shape)];
  },
  cases: extremumCases((a, b) => maximum(a, b), "maximum"),
});

/** Elementwise maximum with broadcasting (NaN propagates); on ties each side gets half the gradient. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return callBinary(maximumOp, a, b);
}

const minimumOp = binaryOp({
  name: "minimum",
  dtypes: ALL_PLAIN,
  grad: (g, { inputs: [a, b] }) => {
    const tie = eq(a, b);
    return [sumToShape(mul(g, winnerShare(lt(a, b), tie, g)), a.shape), sumToShape(mul(g, winnerShare(gt(a, b), tie, g)), b.shape)];
  },
  cases: extremumCases((a, b) => minimum(a, b), "minimum"),
});

/** Elementwise minimum with broadcasting (NaN propagates); on ties each side gets half the gradient. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return callBinary(minimumOp, a, b);
}

method("add", add);
method("sub", sub);
method("mul", mul);
method("div", div);
method("pow", pow);
method("maximum", maximum);
method("minimum", minimum);
