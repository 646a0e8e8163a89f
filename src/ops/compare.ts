// Comparisons and logic returning bool (eq, ne, lt, le, gt, ge, logicalAnd/Or/Xor/Not), and the
// selections where(cond, a, b) and maskedFill(x, mask, value), which carry gradients to the values.
import { broadcastShapes, DTypeError, shapeStr, ShapeError, Tensor, ValueError } from "../tensor/index.js";
import { binaryOp, callBinary, promotePair, unaryOp } from "./elementwise.js";
import { defineOp, runOp, type OpDef } from "./op.js";
import type { InputSpec, OpCase } from "./cases.js";
import { sumToShape } from "./reduce.js";
import { checkDType, method, ALL_PLAIN, type TensorLike } from "./util.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    eq(other: TensorLike): Tensor;
    ne(other: TensorLike): Tensor;
    lt(other: TensorLike): Tensor;
    le(other: TensorLike): Tensor;
    gt(other: TensorLike): Tensor;
    ge(other: TensorLike): Tensor;
    logicalAnd(other: TensorLike): Tensor;
    logicalOr(other: TensorLike): Tensor;
    logicalXor(other: TensorLike): Tensor;
    logicalNot(): Tensor;
    /** `x.where(cond, other)` is `where(cond, x, other)`, as in PyTorch. */
    where(condition: Tensor, other: TensorLike): Tensor;
    maskedFill(mask: Tensor, value: TensorLike): Tensor;
  }
}

const toBool = () => "bool" as const;
const f = (shape: number[], values?: number[]): InputSpec => ({ shape, values });
const int = (shape: number[], range: [number, number] = [0, 3]): InputSpec => ({ shape, dtype: "int32", range });
const bool = (shape: number[]): InputSpec => ({ shape, dtype: "bool" });

/** The cases of a comparison (no gradients: the output is bool). Small int ranges make ties likely. */
function comparisonCases(name: string, fn: (a: Tensor, b: TensorLike) => Tensor): OpCase[] {
  const cases: OpCase[] = [
    { name: "floats with ties", inputs: [f([2, 3], [1, -2, 0.5, 3, 0, -1]), f([2, 3], [1, 2, 0.5, -3, -0, 4])], call: (a, b) => fn(a, b) },
    { name: "broadcast", inputs: [f([3, 1]), f([4])], call: (a, b) => fn(a, b) },
    { name: "scalar other", inputs: [f([2, 3], [0, 1, -1, 0.5, 2, 0])], call: (a) => fn(a, 0) },
    { name: "transposed view", inputs: [int([3, 4]), int([4, 3])], call: (a, b) => fn(a.t(), b) },
    { name: "int32 with ties", inputs: [int([8]), int([8])], call: (a, b) => fn(a, b) },
    { name: "int32 against a fractional scalar", inputs: [int([6])], call: (a) => fn(a, 1.5) },
    { name: "int32 and float promote", inputs: [int([5]), f([5], [0, 1.5, 2, 2.5, -1])], call: (a, b) => fn(a, b) },
    { name: "bool", inputs: [bool([6]), bool([6])], call: (a, b) => fn(a, b) },
    { name: "bad broadcast", inputs: [f([2, 3]), f([4])], call: (a, b) => fn(a, b), throws: { error: ShapeError, message: new RegExp(`^${name}: shapes \\[2,3\\] and \\[4\\] cannot be broadcast`) } },
  ];
  return cases.map((c) => ({ ...c, grad: false }));
}

function comparison(name: string, fn: (a: Tensor, b: TensorLike) => Tensor): OpDef {
  return binaryOp({ name, dtypes: ALL_PLAIN, outDType: toBool, cases: comparisonCases(name, fn) });
}

const eqOp = comparison("eq", (a, b) => eq(a, b));
const neOp = comparison("ne", (a, b) => ne(a, b));
const ltOp = comparison("lt", (a, b) => lt(a, b));
const leOp = comparison("le", (a, b) => le(a, b));
const gtOp = comparison("gt", (a, b) => a.gt(b));
const geOp = comparison("ge", (a, b) => a.ge(b));

/** a == b elementwise (bool), with broadcasting and type promotion. */
export function eq(a: Tensor, b: TensorLike): Tensor {
  return callBinary(eqOp, a, b);
}
/** a != b elementwise (bool); NaN != NaN is true. */
export function ne(a: Tensor, b: TensorLike): Tensor {
  return callBinary(neOp, a, b);
}
/** a < b elementwise (bool). */
export function lt(a: Tensor, b: TensorLike): Tensor {
  return callBinary(ltOp, a, b);
}
/** a <= b elementwise (bool). */
export function le(a: Tensor, b: TensorLike): Tensor {
  return callBinary(leOp, a, b);
}
/** a > b elementwise (bool). */
export function gt(a: Tensor, b: TensorLike): Tensor {
  return callBinary(gtOp, a, b);
}
/** a >= b elementwise (bool). */
export function ge(a: Tensor, b: TensorLike): Tensor {
  return callBinary(geOp, a, b);
}

/** Cases of logicalAnd/Or/Xor: any dtype, non-zero is true. */
function logicalCases(name: string, fn: (a: Tensor, b: TensorLike) => Tensor): OpCase[] {
  const cases: OpCase[] = [
    { name: "bool", inputs: [bool([2, 4]), bool([2, 4])], call: (a, b) => fn(a, b) },
    { name: "broadcast", inputs: [bool([3, 1]), bool([4])], call: (a, b) => fn(a, b) },
    { name: "floats and ints (non-zero is true)", inputs: [f([6], [0, 1.5, 0, -2, NaN, 0]), int([6], [-1, 2])], call: (a, b) => fn(a, b) },
    { name: "scalar", inputs: [bool([5])], call: (a) => fn(a, true) },
    { name: "transposed view", inputs: [int([3, 2]), bool([2, 3])], call: (a, b) => fn(a.t(), b) },
    { name: "bad broadcast", inputs: [bool([2, 3]), bool([2])], call: (a, b) => fn(a, b), throws: { error: ShapeError, message: new RegExp(`^${name}: shapes \\[2,3\\] and \\[2\\] cannot be broadcast`) } },
  ];
  return cases.map((c) => ({ ...c, grad: false }));
}

function logical(name: string, fn: (a: Tensor, b: TensorLike) => Tensor): OpDef {
  return binaryOp({ name, dtypes: ALL_PLAIN, outDType: toBool, cases: logicalCases(name, fn) });
}

const andOp = logical("logicalAnd", (a, b) => logicalAnd(a, b));
const orOp = logical("logicalOr", (a, b) => logicalOr(a, b));
const xorOp = logical("logicalXor", (a, b) => a.logicalXor(b));

/** Elementwise a AND b (bool); inputs of any dtype, non-zero is true. */
export function logicalAnd(a: Tensor, b: TensorLike): Tensor {
  return callBinary(andOp, a, b);
}
/** Elementwise a OR b (bool); inputs of any dtype, non-zero is true. */
export function logicalOr(a: Tensor, b: TensorLike): Tensor {
  return callBinary(orOp, a, b);
}
/** Elementwise a XOR b (bool); inputs of any dtype, non-zero is true. */
export function logicalXor(a: Tensor, b: TensorLike): Tensor {
  return callBinary(xorOp, a, b);
}

const notOp = unaryOp({
  name: "logicalNot",
  dtypes: ALL_PLAIN,
  outDType: toBool,
  cases: [
    { name: "bool", inputs: [bool([2, 3])], call: (x) => logicalNot(x) },
    { name: "floats with zeros", inputs: [f([5], [0, -0, 2, NaN, -1])], call: (x) => logicalNot(x), grad: false },
    { name: "int32 view", inputs: [int([3, 4], [-1, 2])], call: (x) => x.t().logicalNot() },
    { name: "0-d", inputs: [bool([])], call: (x) => logicalNot(x) },
  ],
});

/** Elementwise NOT (bool); non-zero is true. */
export function logicalNot(x: Tensor): Tensor {
  return runOp(notOp, [x], {});
}

const whereOp = defineOp<{}>({
  name: "where",
  meta([c, a, b]) {
    if (c.dtype !== "bool")
      throw new DTypeError(`where: condition has dtype ${c.dtype}; expected bool (build it with a comparison such as gt, or call .bool())`);
    checkDType("where", "input", a.dtype, ALL_PLAIN);
    return [{ shape: broadcastShapes("where", c.shape, a.shape, b.shape), dtype: a.dtype }];
  },
  // Inputs are [condition, a, b]; the kernel is chosen by the values' dtype.
  kernelDType: ([, a]) => a.dtype,
  grad: (g, { inputs: [c, a, b] }) => [
    null,
    a.requiresGrad ? sumToShape(where(c, g, 0), a.shape) : null,
    b.requiresGrad ? sumToShape(where(c, 0, g), b.shape) : null,
  ],
  cases: [
    { name: "same shape", inputs: [bool([3, 4]), f([3, 4]), f([3, 4])], call: (c, a, b) => where(c, a, b) },
    { name: "broadcast all three", inputs: [bool([3, 1]), f([4]), f([2, 1, 1])], call: (c, a, b) => where(c, a, b) },
    { name: "scalar other", inputs: [bool([2, 3]), f([2, 3])], call: (c, a) => where(c, a, 0) },
    { name: "scalar input", inputs: [bool([2, 3]), f([3])], call: (c, b) => where(c, -1.5, b) },
    { name: "transposed views", inputs: [bool([4, 3]), f([3, 4]), f([4, 3])], call: (c, a, b) => where(c.t(), a, b.t()) },
    { name: "method form", inputs: [bool([5]), f([5]), f([5])], call: (c, a, b) => a.where(c, b) },
    { name: "int32", inputs: [bool([6]), int([6], [-5, 5]), int([6], [-5, 5])], call: (c, a, b) => where(c, a, b) },
    { name: "int32 and float promote", inputs: [bool([2, 3]), int([2, 3]), f([3])], call: (c, a, b) => where(c, a, b) },
    { name: "condition not bool", inputs: [f([3]), f([3]), f([3])], call: (c, a, b) => where(c, a, b), throws: { error: DTypeError, message: /^where: condition has dtype float32; expected bool/ } },
    { name: "bad broadcast", inputs: [bool([2, 3]), f([3]), f([4])], call: (c, a, b) => where(c, a, b), throws: { error: ShapeError, message: /^where: shapes \[2,3\] and \[3\] and \[4\] cannot be broadcast/ } },
  ],
});

/**
 * a where condition is true, b elsewhere; all three broadcast together, a and b may be numbers.
 * Gradients flow to a and b (not to the condition).
 * @example where(gt(x, 0), x, 0) // relu
 */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = promotePair(a, b);
  return runOp(whereOp, [condition, x, y], {});
}

/** maskedFill's checks: x of a plain dtype, a bool mask that broadcasts to x's shape. */
function checkMask(x: Tensor, mask: Tensor): void {
  checkDType("maskedFill", "input", x.dtype, ALL_PLAIN);
  if (mask.dtype !== "bool") throw new DTypeError(`maskedFill: mask has dtype ${mask.dtype}; expected bool (build it with a comparison, or call .bool())`);
  const s = broadcastShapes("maskedFill", x.shape, mask.shape);
  if (shapeStr(s) !== shapeStr(x.shape))
    throw new ShapeError(`maskedFill: a mask of shape ${shapeStr(mask.shape)} cannot be broadcast to the input's shape ${shapeStr(x.shape)}`);
}

const maskedFillOp = defineOp<{ value: number }>({
  name: "maskedFill",
  meta([x, mask]) {
    checkMask(x, mask);
    return [{ shape: [...x.shape], dtype: x.dtype }];
  },
  grad: (g, { inputs: [, mask] }) => [where(mask, 0, g), null],
  cases: [
    { name: "same shape", inputs: [f([3, 4]), bool([3, 4])], call: (x, m) => maskedFill(x, m, -1) },
    { name: "mask broadcast over rows", inputs: [f([3, 4]), bool([4])], call: (x, m) => x.maskedFill(m, 2.5) },
    { name: "mask broadcast over columns of a 3-d input", inputs: [f([2, 3, 4]), bool([3, 1])], call: (x, m) => maskedFill(x, m, 0) },
    { name: "large negative (attention masking)", inputs: [f([2, 4]), bool([2, 4])], call: (x, m) => maskedFill(x, m, -1e4) },
    { name: "minus infinity", inputs: [f([2, 4]), bool([1, 4])], call: (x, m) => maskedFill(x, m, -Infinity), grad: false },
    { name: "transposed views", inputs: [f([4, 3]), bool([4, 3])], call: (x, m) => maskedFill(x.t(), m.t(), 7) },
    { name: "0-d tensor value gets a gradient", inputs: [f([3, 4]), bool([3, 4]), f([])], call: (x, m, v) => maskedFill(x, m, v) },
    { name: "int32", inputs: [int([2, 3], [-5, 5]), bool([2, 3])], call: (x, m) => maskedFill(x, m, 9) },
    { name: "bool", inputs: [bool([6]), bool([6])], call: (x, m) => maskedFill(x, m, true) },
    { name: "mask not bool", inputs: [f([3]), f([3])], call: (x, m) => maskedFill(x, m, 0), throws: { error: DTypeError, message: /^maskedFill: mask has dtype float32; expected bool/ } },
    { name: "mask does not broadcast", inputs: [f([2, 4]), bool([3])], call: (x, m) => maskedFill(x, m, 0), throws: { error: ShapeError, message: /^maskedFill: shapes \[2,4\] and \[3\] cannot be broadcast/ } },
    { name: "mask larger than input", inputs: [f([4]), bool([3, 4])], call: (x, m) => maskedFill(x, m, 0), throws: { error: ShapeError, message: /^maskedFill: a mask of shape \[3,4\] cannot be broadcast to the input's shape \[4\]/ } },
    { name: "value tensor not 0-d", inputs: [f([3]), bool([3]), f([3])], call: (x, m, v) => maskedFill(x, m, v), throws: { error: ValueError, message: /^maskedFill: value must be a number or a 0-d tensor, got shape \[3\]/ } },
  ],
});

/**
 * x with `value` written where mask is true; mask is bool and broadcasts to x's shape. The value
 * may be a number or a 0-d tensor (which then receives a gradient too).
 * @example maskedFill(scores, causalMask, -Infinity)
 */
export function maskedFill(x: Tensor, mask: Tensor, value: TensorLike): Tensor {
  if (value instanceof Tensor) {
    if (value.ndim !== 0) throw new ValueError(`maskedFill: value must be a number or a 0-d tensor, got shape ${shapeStr(value.shape)}`);
    checkMask(x, mask);
    return where(mask, value.to(x.dtype), x);
  }
  // Stored in x's dtype: bool keeps truthiness, int32 truncates (as PyTorch converts the scalar).
  const v = x.dtype === "bool" ? (value ? 1 : 0) : +value;
  return runOp(maskedFillOp, [x, mask], { value: v });
}

method("eq", eq);
method("ne", ne);
method("lt", lt);
method("le", le);
method("gt", gt);
method("ge", ge);
method("logicalAnd", logicalAnd);
method("logicalOr", logicalOr);
method("logicalXor", logicalXor);
method("logicalNot", logicalNot);
method("where", (x: Tensor, condition: Tensor, other: TensorLike) => where(condition, x, other));
method("maskedFill", maskedFill);
