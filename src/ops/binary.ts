// Binary arithmetic with broadcasting: add, sub, mul, div, pow, maximum, minimum.
import { isFloatDType, Tensor } from "../tensor/index.js";
import { binaryOp, callBinary } from "./elementwise.js";
import { sumToShape } from "./reduce.js";
import { method, FLOATS, NUMERIC, type TensorLike } from "./util.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    add(other: TensorLike, alpha?: number): Tensor;
    sub(other: TensorLike, alpha?: number): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
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

method("add", add);
method("sub", sub);
method("mul", mul);
method("div", div);
