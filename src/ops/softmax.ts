// softmax, logSoftmax and logSumExp: exponentials normalized along dims, all computed stably
// (NOTE: kernels subtract the max before exp). Gradients reuse the saved output.
import { normAxis, type Tensor, ValueError } from "../tensor/index.js";
import { defineOp, runOp } from "./op.js";
import type { OpCase } from "./cases.js";
import { checkDType, method, FLOATS } from "./util.js";
import { reduceAttrs, reduceMeta, sum, unreduce, type ReduceAttrs } from "./reduce.js";
import { exp } from "./unary.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    softmax(dim: number): Tensor;
    logSoftmax(dim: number): Tensor;
    logSumExp(dim: number | number[], keepDim?: boolean): Tensor;
  }
}

interface DimAttrs {
  /** The normalized dim (0 for a 0-d input). */
  dim: number;
}

function dimMeta(op: string) {
  return ([x]: Tensor[]) => {
    checkDType(op, "input", x.dtype, FLOATS);
    return [{ shape: [...x.shape], dtype: x.dtype }];
  };
}

function dimAttrs(op: string, x: Tensor, dim: number): DimAttrs {
  if (typeof dim !== "number")
    throw new ValueError(`${op}: dim is required and must be a single dim, got ${JSON.stringify(dim)}; pass e.g. -1 for the last dim`);
  return { dim: normAxis(op, dim, x.ndim) };
}

// The same cases for both; the large-logits one overflows exp() unless the kernel shifts by the max.
function normCases(f: (x: Tensor, dim: number) => Tensor, name: string): OpCase[] {
  return [
    { name: "last dim", inputs: [{ shape: [3, 5] }], call: (x) => f(x, -1) },
    { name: "dim0", inputs: [{ shape: [3, 5] }], call: (x) => f(x, 0) },
    { name: "middle dim of 3-d", inputs: [{ shape: [2, 3, 4] }], call: (x) => f(x, 1) },
    { name: "of a transposed view", inputs: [{ shape: [4, 3] }], call: (x) => f(x.t(), 1) },
    { name: "of a permuted view", inputs: [{ shape: [2, 3, 4] }], call: (x) => f(x.permute(2, 0, 1), -1) },
    { name: "of a sliced view", inputs: [{ shape: [3, 8] }], call: (x) => f(x.slice(1, 1, 8, 2), 1) },
    { name: "large logits (stable)", inputs: [{ shape: [2, 4], range: [500, 1000] }], call: (x) => f(x, 1) },
    { name: "very negative logits (stable)", inputs: [{ shape: [2, 4], range: [-1000, -900] }], call: (x) => f(x, 1) },
    { name: "one element per row", inputs: [{ shape: [3, 1] }], call: (x) => f(x, 1) },
    { name: "scalar input", inputs: [{ shape: [] }], call: (x) => f(x, 0) },
    { name: "empty", inputs: [{ shape: [0, 4] }], call: (x) => f(x, 1) },
    { name: "int rejected", inputs: [{ shape: [3], dtype: "int32" }], call: (x) => f(x, 0), throws: { error: Error, message: new RegExp(`^${name}: input has dtype int32; expected float32 or float64`) } },
    { name: "dim out of range", inputs: [{ shape: [2, 3] }], call: (x) => f(x, 2), throws: { error: ValueError, message: new RegExp(`^${name}: dim 2 is out of range`) } },
  ];
}

const softmaxOp = defineOp<DimAttrs>({
  name: "softmax",
  meta: dimMeta("softmax"),
  // dx = y ⊙ (g − Σ g⊙y) along dim.
  grad: (g, { outputs: [y], attrs: { dim } }) => [y.mul(g.sub(sum(g.mul(y), dim, true)))],
  cases: normCases((x, d) => softmax(x, d), "softmax"),
});

/** exp(x) / Σ exp(x) along dim, like torch.softmax (stable for any logits). */
export function softmax(x: Tensor, dim: number): Tensor {
  return runOp(softmaxOp, [x], dimAttrs("softmax", x, dim));
}

const logSoftmaxOp = defineOp<DimAttrs>({
  name: "logSoftmax",
  meta: dimMeta("logSoftmax"),
  // dx = g − softmax ⊙ Σ g along dim, with softmax = exp(y).
  grad: (g, { outputs: [y], attrs: { dim } }) => [g.sub(exp(y).mul(sum(g, dim, true)))],
  cases: normCases((x, d) => logSoftmax(x, d), "logSoftmax"),
});

/** x − log Σ exp(x) along dim, like torch.log_softmax (stable; prefer it to log(softmax(x))). */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return runOp(logSoftmaxOp, [x], dimAttrs("logSoftmax", x, dim));
}

const logSumExpOp = defineOp<ReduceAttrs>({
  name: "logSumExp",
  meta: reduceMeta("logSumExp", FLOATS, (d) => d),
  // d/dx log Σ exp(x) = exp(x − y): the softmax, rebuilt from the saved output.
  grad: (g, { inputs: [x], outputs: [y], attrs: a }) => {
    const yFull = unreduce(y, x.shape, a.axes, a.keepDim);
    return [unreduce(g, x.shape, a.axes, a.keepDim).mul(exp(x.sub(yFull)))];
  },
  cases: [
    { name: "dim1", inputs: [{ shape: [3, 4] }], call: (x) => logSumExp(x, 1) },
    { name: "dim0 keepDim", inputs: [{ shape: [3, 4] }], call: (x) => logSumExp(x, 0, true) },
    { name: "dims [0,2] of 3-d", inputs: [{ shape: [2, 3, 4] }], call: (x) => logSumExp(x, [0, 2]) },
    { name: "negative dim", inputs: [{ shape: [2, 3, 4] }], call: (x) => logSumExp(x, -1) },
    { name: "of a transposed view", inputs: [{ shape: [3, 4] }], call: (x) => logSumExp(x.t(), 1) },
    { name: "large values (stable)", inputs: [{ shape: [2, 3], range: [700, 1000] }], call: (x) => logSumExp(x, 1) },
    { name: "very negative values (stable)", inputs: [{ shape: [2, 3], range: [-1000, -800] }], call: (x) => logSumExp(x, 1) },
    { name: "scalar input", inputs: [{ shape: [] }], call: (x) => logSumExp(x, 0) },
    { name: "empty dim gives -inf", inputs: [{ shape: [2, 0] }], call: (x) => logSumExp(x, 1) },
    { name: "int rejected", inputs: [{ shape: [3], dtype: "int32" }], call: (x) => logSumExp(x, 0), throws: { error: Error, message: /^logSumExp: input has dtype int32; expected float32 or float64/ } },
    { name: "dim out of range", inputs: [{ shape: [2, 3] }], call: (x) => logSumExp(x, -3), throws: { error: ValueError, message: /^logSumExp: dim -3 is out of range/ } },
  ],
});

/** log Σ exp(x) over dims, like torch.logsumexp (NOTE: shifted by the max, so it never overflows). */
export function logSumExp(x: Tensor, dim: number | readonly number[], keepDim = false): Tensor {
  if (dim === undefined || dim === null)
    throw new ValueError("logSumExp: dim is required (a dim or a list of dims), as in torch.logsumexp");
  return runOp(logSumExpOp, [x], reduceAttrs("logSumExp", x, dim, keepDim));
}

method("softmax", softmax);
method("logSoftmax", logSoftmax);
method("logSumExp", logSumExp);
