// Reductions over any axes with keepDim: sum, mean (and, in reduce-more.ts, the others).
import { isFloatDType, normAxes, type Shape, shapesEqual, type Tensor, type DType } from "../tensor/index.js";
import { defineOp, runOp, type OutputSpec } from "./op.js";
import { checkDType, method, ALL_PLAIN } from "./util.js";
import { reshape, expand } from "./view.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    sum(dim?: number | number[] | null, keepDim?: boolean): Tensor;
    mean(dim?: number | number[] | null, keepDim?: boolean): Tensor;
  }
}

export interface ReduceAttrs {
  /** Sorted, normalized axes to reduce. */
  axes: number[];
  keepDim: boolean;
}

/** Output shape of reducing `axes` of `shape`. */
export function reducedShape(shape: Shape, axes: readonly number[], keepDim: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDim) out.push(1);
  });
  return out;
}

/** The meta of a reduction whose output dtype is given by `dtypeOf`. */
export function reduceMeta(op: string, allowed: readonly DType[], dtypeOf: (d: DType) => DType) {
  return ([x]: Tensor[], a: ReduceAttrs): OutputSpec[] => {
    checkDType(op, "input", x.dtype, allowed);
    return [{ shape: reducedShape(x.shape, a.axes, a.keepDim), dtype: dtypeOf(x.dtype) }];
  };
}

/** Brings a reduced gradient back to the input's shape (re-inserting the reduced dims, then broadcasting). */
export function unreduce(g: Tensor, inShape: Shape, axes: readonly number[], keepDim: boolean): Tensor {
  const kept = keepDim ? g : reshape(g, reducedShape(inShape, axes, true));
  return expand(kept, [...inShape]);
}

export function reduceAttrs(op: string, x: Tensor, dim: number | readonly number[] | null | undefined, keepDim = false): ReduceAttrs {
  return { axes: normAxes(op, dim, x.ndim), keepDim };
}

const sumOp = defineOp<ReduceAttrs>({
  name: "sum",
  meta: reduceMeta("sum", ALL_PLAIN, (d) => (isFloatDType(d) ? d : "int32")),
  kernelDType: ([x]) => x.dtype,
  grad: (g, { inputs: [x], attrs }) => [unreduce(g, x.shape, attrs.axes, attrs.keepDim)],
  cases: [
    { name: "all", inputs: [{ shape: [3, 4] }], call: (x) => sum(x) },
    { name: "dim1", inputs: [{ shape: [3, 4] }], call: (x) => sum(x, 1) },
    { name: "dim0 keepDim", inputs: [{ shape: [3, 4] }], call: (x) => sum(x, 0, true) },
    { name: "dims [0,2] of 3-d", inputs: [{ shape: [2, 3, 4] }], call: (x) => sum(x, [0, 2]) },
    { name: "negative dim", inputs: [{ shape: [2, 3, 4] }], call: (x) => sum(x, -1, true) },
    { name: "of a transposed view", inputs: [{ shape: [3, 4] }], call: (x) => sum(x.t(), 1) },
    { name: "int32", inputs: [{ shape: [3, 4], dtype: "int32", range: [-5, 5] }], call: (x) => sum(x, 1) },
    { name: "bool counts", inputs: [{ shape: [5], dtype: "bool" }], call: (x) => sum(x) },
    { name: "scalar input", inputs: [{ shape: [] }], call: (x) => sum(x) },
    { name: "empty dim", inputs: [{ shape: [0, 3] }], call: (x) => sum(x, 0) },
    { name: "dim out of range", inputs: [{ shape: [2, 3] }], call: (x) => sum(x, 2), throws: { error: Error, message: /sum: dim 2 is out of range/ } },
  ],
});

/** Sum over dims (all when dim is omitted), like torch.sum. */
export function sum(x: Tensor, dim?: number | readonly number[] | null, keepDim = false): Tensor {
  return runOp(sumOp, [x], reduceAttrs("sum", x, dim, keepDim));
}

const meanOp = defineOp<ReduceAttrs>({
  name: "mean",
  meta: reduceMeta("mean", ["float32", "float64"], (d) => d),
  decompose([x], a) {
    let n = 1;
    for (const i of a.axes) n *= x.shape[i];
    return sum(x, a.axes, a.keepDim).div(n);
  },
  cases: [
    { name: "all", inputs: [{ shape: [3, 4] }], call: (x) => mean(x) },
    { name: "dim1 keepDim", inputs: [{ shape: [3, 4] }], call: (x) => mean(x, 1, true) },
    { name: "dims [0,2]", inputs: [{ shape: [2, 3, 4] }], call: (x) => mean(x, [0, 2]) },
    { name: "int input rejected", inputs: [{ shape: [3], dtype: "int32" }], call: (x) => mean(x), throws: { error: Error, message: /mean: input has dtype int32/ } },
  ],
});

/** Mean over dims (all when omitted); float inputs only, like torch.mean. */
export function mean(x: Tensor, dim?: number | readonly number[] | null, keepDim = false): Tensor {
  return runOp(meanOp, [x], reduceAttrs("mean", x, dim, keepDim));
}

/** Sums a broadcast gradient back down to `shape` (the adjoint of broadcasting). */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const off = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < off || (shape[i - off] === 1 && g.shape[i] !== 1)) axes.push(i);
  const s = axes.length ? sum(g, axes, true) : g;
  return reshape(s, [...shape]);
}

method("sum", sum);
method("mean", mean);
