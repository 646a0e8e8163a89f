// Reductions over any axes with keepDim: sum, mean, max, min, argmax, argmin, prod, variance, std.
// (logSumExp lives with softmax in softmax.ts.)
import {
  isFloatDType,
  normAxes,
  normAxis,
  type Shape,
  shapesEqual,
  shapeStr,
  ShapeError,
  type Tensor,
  type DType,
  ValueError,
} from "../tensor/index.js";
import { defineOp, runOp, type OutputSpec } from "./op.js";
import type { OpCase } from "./cases.js";
import { checkDType, method, ALL_PLAIN, FLOATS, NUMERIC } from "./util.js";
import { reshape, expand } from "./view.js";
import { ne, where } from "./compare.js";

type Dims = number | number[] | null;

declare module "../tensor/tensor.js" {
  interface Tensor {
    sum(dim?: number | number[] | null, keepDim?: boolean): Tensor;
    mean(dim?: number | number[] | null, keepDim?: boolean): Tensor;
    max(dim?: Dims, keepDim?: boolean): Tensor;
    min(dim?: Dims, keepDim?: boolean): Tensor;
    argmax(dim?: number | null, keepDim?: boolean): Tensor;
    argmin(dim?: number | null, keepDim?: boolean): Tensor;
    prod(dim?: Dims, keepDim?: boolean): Tensor;
    /** Variance over dims (torch's `x.var`); see `variance`. */
    var(dim?: Dims, opts?: VarianceOptions): Tensor;
    std(dim?: Dims, opts?: VarianceOptions): Tensor;
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

/** Rejects reducing over an empty dim: max, min, argmax, argmin of an empty set are undefined. */
function checkNonEmpty(op: string, x: Tensor, axes: readonly number[]): void {
  for (const a of axes)
    if (x.shape[a] === 0)
      throw new ShapeError(`${op}: cannot reduce over dim ${a} of size 0 (input is ${shapeStr(x.shape)}); the ${op} of no elements is undefined, so reduce over a non-empty dim`);
}

/** inputs [g, x, y]: the gradient of max/min, g split evenly among the elements of x equal to y. */
const extremumBackwardOp = defineOp<ReduceAttrs>({
  name: "extremumBackward",
  meta: ([, x]) => [{ shape: [...x.shape], dtype: x.dtype }],
});

// Two-way ties are where the finite-difference check agrees with the even split: +eps moves the
// max by eps, −eps leaves it on the other tied element, so the numeric slope is exactly 1/2.
function extremumCases(f: (x: Tensor, dim?: Dims, keepDim?: boolean) => Tensor, name: string): OpCase[] {
  return [
    { name: "all", inputs: [{ shape: [3, 4] }], call: (x) => f(x) },
    { name: "dim1", inputs: [{ shape: [3, 4] }], call: (x) => f(x, 1) },
    { name: "dim0 keepDim", inputs: [{ shape: [3, 4] }], call: (x) => f(x, 0, true) },
    { name: "dims [0,2] of 3-d", inputs: [{ shape: [2, 3, 4] }], call: (x) => f(x, [0, 2]) },
    { name: "negative dim keepDim", inputs: [{ shape: [2, 3, 4] }], call: (x) => f(x, -1, true) },
    { name: "of a transposed view", inputs: [{ shape: [3, 4] }], call: (x) => f(x.t(), 1) },
    { name: "of a permuted view, dims [0,1]", inputs: [{ shape: [2, 3, 4] }], call: (x) => f(x.permute(2, 0, 1), [0, 1]) },
    { name: "two-way ties split the gradient", inputs: [{ shape: [2, 3], values: [1, -3, 1, 0.5, -0.25, -0.25] }], call: (x) => f(x, 1) },
    { name: "tie in a full reduction", inputs: [{ shape: [4], values: [-1.5, 1.5, 1.5, -1.5] }], call: (x) => f(x) },
    { name: "int32", inputs: [{ shape: [3, 4], dtype: "int32", range: [-9, 9] }], call: (x) => f(x, 0) },
    { name: "bool", inputs: [{ shape: [2, 3], dtype: "bool" }], call: (x) => f(x, 1) },
    { name: "scalar input", inputs: [{ shape: [] }], call: (x) => f(x) },
    { name: "empty kept dim", inputs: [{ shape: [0, 3] }], call: (x) => f(x, 1) },
    { name: "empty reduced dim", inputs: [{ shape: [0, 3] }], call: (x) => f(x, 0), throws: { error: ShapeError, message: new RegExp(`^${name}: cannot reduce over dim 0 of size 0 \\(input is \\[0,3\\]\\)`) } },
    { name: "dim out of range", inputs: [{ shape: [2, 3] }], call: (x) => f(x, 2), throws: { error: ValueError, message: new RegExp(`^${name}: dim 2 is out of range`) } },
  ];
}

function extremumOp(name: "max" | "min", f: (x: Tensor, dim?: Dims, keepDim?: boolean) => Tensor) {
  const base = reduceMeta(name, ALL_PLAIN, (d) => d);
  return defineOp<ReduceAttrs>({
    name,
    meta(inputs, a) {
      checkNonEmpty(name, inputs[0], a.axes);
      return base(inputs, a);
    },
    grad: (g, { inputs: [x], outputs: [y], attrs }) => [runOp(extremumBackwardOp, [g, x, y], attrs)],
    cases: extremumCases(f, name),
  });
}

const maxOp = extremumOp("max", (x, d, k) => max(x, d, k));
const minOp = extremumOp("min", (x, d, k) => min(x, d, k));

/** Largest value over dims (all when omitted), like torch.amax; NaN propagates. Values only. */
export function max(x: Tensor, dim?: number | readonly number[] | null, keepDim = false): Tensor {
  return runOp(maxOp, [x], reduceAttrs("max", x, dim, keepDim));
}

/** Smallest value over dims (all when omitted), like torch.amin; NaN propagates. Values only. */
export function min(x: Tensor, dim?: number | readonly number[] | null, keepDim = false): Tensor {
  return runOp(minOp, [x], reduceAttrs("min", x, dim, keepDim));
}

interface ArgAttrs {
  /** The normalized dim, or null for the index into the flattened (row-major) tensor. */
  dim: number | null;
  keepDim: boolean;
}

/** An index has no gradient: these cases check forward values and errors only. */
const withoutGrad = (cases: OpCase[]): OpCase[] => cases.map((c) => ({ ...c, grad: false }));

function argOp(name: "argmax" | "argmin", f: (x: Tensor, dim?: number | null, keepDim?: boolean) => Tensor) {
  return defineOp<ArgAttrs>({
    name,
    meta([x], a) {
      checkDType(name, "input", x.dtype, NUMERIC);
      const axes = a.dim === null ? x.shape.map((_, i) => i) : [a.dim];
      checkNonEmpty(name, x, axes);
      return [{ shape: reducedShape(x.shape, axes, a.keepDim), dtype: "int32" }];
    },
    cases: withoutGrad([
      { name: "all (flattened)", inputs: [{ shape: [3, 4] }], call: (x) => f(x) },
      { name: "all keepDim", inputs: [{ shape: [3, 4] }], call: (x) => f(x, null, true) },
      { name: "dim1", inputs: [{ shape: [3, 4] }], call: (x) => f(x, 1) },
      { name: "dim0 keepDim", inputs: [{ shape: [3, 4] }], call: (x) => f(x, 0, true) },
      { name: "negative dim of 3-d", inputs: [{ shape: [2, 3, 4] }], call: (x) => f(x, -2) },
      { name: "flattened index of a transposed view", inputs: [{ shape: [3, 4] }], call: (x) => f(x.t()) },
      { name: "of a sliced view", inputs: [{ shape: [4, 6] }], call: (x) => f(x.slice(1, 1, 6, 2), 1) },
      { name: "ties: first occurrence", inputs: [{ shape: [2, 4], values: [1, 3, 3, 1, -2, -2, 0, -2] }], call: (x) => f(x, 1) },
      { name: "int32 with ties", inputs: [{ shape: [3, 5], dtype: "int32", range: [0, 3] }], call: (x) => f(x, 1) },
      { name: "scalar input", inputs: [{ shape: [] }], call: (x) => f(x, 0) },
      { name: "empty kept dim", inputs: [{ shape: [0, 3] }], call: (x) => f(x, 1) },
      { name: "empty input", inputs: [{ shape: [0, 3] }], call: (x) => f(x), throws: { error: ShapeError, message: new RegExp(`^${name}: cannot reduce over dim 0 of size 0`) } },
      { name: "several dims rejected", inputs: [{ shape: [2, 3] }], call: (x) => f(x, [0, 1] as unknown as number), throws: { error: ValueError, message: new RegExp(`^${name}: dim must be a single dim`) } },
      { name: "bool rejected", inputs: [{ shape: [3], dtype: "bool" }], call: (x) => f(x), throws: { error: Error, message: new RegExp(`^${name}: input has dtype bool`) } },
    ]),
  });
}

const argmaxOp = argOp("argmax", (x, d, k) => argmax(x, d, k));
const argminOp = argOp("argmin", (x, d, k) => argmin(x, d, k));

function argAttrs(op: string, x: Tensor, dim: number | null | undefined, keepDim: boolean): ArgAttrs {
  if (dim !== undefined && dim !== null && typeof dim !== "number")
    throw new ValueError(`${op}: dim must be a single dim or omitted (for the flattened tensor), got ${JSON.stringify(dim)}`);
  const d = dim === undefined || dim === null ? null : normAxis(op, dim, x.ndim);
  return { dim: x.ndim === 0 ? null : d, keepDim };
}

/** Index (int32) of the first maximum along dim, or into the flattened tensor when dim is omitted. */
export function argmax(x: Tensor, dim?: number | null, keepDim = false): Tensor {
  return runOp(argmaxOp, [x], argAttrs("argmax", x, dim, keepDim));
}

/** Index (int32) of the first minimum along dim, or into the flattened tensor when dim is omitted. */
export function argmin(x: Tensor, dim?: number | null, keepDim = false): Tensor {
  return runOp(argminOp, [x], argAttrs("argmin", x, dim, keepDim));
}

/** inputs [g, x]: g times the product of the other elements of each group (exact with zeros). */
const prodBackwardOp = defineOp<ReduceAttrs>({
  name: "prodBackward",
  meta: ([, x]) => [{ shape: [...x.shape], dtype: x.dtype }],
});

const prodOp = defineOp<ReduceAttrs>({
  name: "prod",
  meta: reduceMeta("prod", NUMERIC, (d) => d),
  grad: (g, { inputs: [x], attrs }) => [runOp(prodBackwardOp, [g, x], attrs)],
  cases: [
    { name: "all", inputs: [{ shape: [2, 3], range: [0.5, 2] }], call: (x) => prod(x) },
    { name: "dim1", inputs: [{ shape: [3, 4] }], call: (x) => prod(x, 1) },
    { name: "dim0 keepDim", inputs: [{ shape: [3, 4] }], call: (x) => prod(x, 0, true) },
    { name: "dims [0,2] of 3-d", inputs: [{ shape: [2, 3, 2] }], call: (x) => prod(x, [0, 2]) },
    { name: "of a transposed view", inputs: [{ shape: [3, 4] }], call: (x) => prod(x.t(), -1) },
    { name: "one zero and two zeros in a group", inputs: [{ shape: [3, 3], values: [1.5, 0, -2, 0, 0, 3, 0.5, -1.25, 2] }], call: (x) => prod(x, 1) },
    { name: "zeros along dim 0", inputs: [{ shape: [3, 2], values: [0, 2, 1.5, 0, -0.5, 0] }], call: (x) => prod(x, 0) },
    { name: "int32", inputs: [{ shape: [3, 4], dtype: "int32", range: [-3, 4] }], call: (x) => prod(x, 1) },
    { name: "scalar input", inputs: [{ shape: [] }], call: (x) => prod(x) },
    { name: "empty dim gives 1", inputs: [{ shape: [2, 0] }], call: (x) => prod(x, 1) },
    { name: "bool rejected", inputs: [{ shape: [3], dtype: "bool" }], call: (x) => prod(x), throws: { error: Error, message: /^prod: input has dtype bool; expected float32 or float64 or int32/ } },
  ],
});

/** Product over dims (all when omitted), like torch.prod; the gradient is exact when inputs hold zeros. */
export function prod(x: Tensor, dim?: number | readonly number[] | null, keepDim = false): Tensor {
  return runOp(prodOp, [x], reduceAttrs("prod", x, dim, keepDim));
}

export interface VarianceOptions {
  /** Subtracted from the count in the divisor: 1 is the unbiased (Bessel) estimate, 0 the population one. */
  correction?: number;
  keepDim?: boolean;
}

interface VarAttrs extends ReduceAttrs {
  correction: number;
}

function varAttrs(op: string, x: Tensor, dim: number | readonly number[] | null | undefined, opts: VarianceOptions): VarAttrs {
  if (typeof opts !== "object" || opts === null)
    throw new ValueError(`${op}: options must be an object {correction, keepDim}, got ${JSON.stringify(opts)}; for torch's unbiased=False pass {correction: 0}`);
  const correction = opts.correction ?? 1;
  if (typeof correction !== "number" || !Number.isFinite(correction))
    throw new ValueError(`${op}: correction must be a finite number (1 for the unbiased estimate, 0 for the population), got ${String(correction)}`);
  return { ...reduceAttrs(op, x, dim, opts.keepDim ?? false), correction };
}

/** The reduced count N and x − mean (keepDim), shared by the variance and std gradients. */
function deviation(x: Tensor, a: VarAttrs): { divisor: number; dev: Tensor } {
  let n = 1;
  for (const i of a.axes) n *= x.shape[i];
  return { divisor: Math.max(0, n - a.correction), dev: x.sub(mean(x, a.axes, true)) };
}

const varCases = (f: (x: Tensor, dim?: Dims, o?: VarianceOptions) => Tensor, name: string): OpCase[] => [
  { name: "all", inputs: [{ shape: [3, 4] }], call: (x) => f(x) },
  { name: "dim1", inputs: [{ shape: [3, 4] }], call: (x) => f(x, 1) },
  { name: "dim0 keepDim", inputs: [{ shape: [3, 4] }], call: (x) => f(x, 0, { keepDim: true }) },
  { name: "dims [0,2] of 3-d", inputs: [{ shape: [2, 3, 4] }], call: (x) => f(x, [0, 2]) },
  { name: "correction 0", inputs: [{ shape: [3, 5] }], call: (x) => f(x, -1, { correction: 0 }) },
  { name: "correction 2 keepDim", inputs: [{ shape: [2, 6] }], call: (x) => f(x, 1, { correction: 2, keepDim: true }) },
  { name: "of a transposed view", inputs: [{ shape: [3, 4] }], call: (x) => f(x.t(), 1) },
  { name: "of a sliced view", inputs: [{ shape: [4, 6] }], call: (x) => f(x.slice(1, 0, 6, 2), 0) },
  { name: "large offset (two-pass is stable)", inputs: [{ shape: [2, 5], range: [1000, 1001] }], call: (x) => f(x, 1), atol: 1e-3, rtol: 1e-3 },
  { name: "int rejected", inputs: [{ shape: [3], dtype: "int32" }], call: (x) => f(x), throws: { error: Error, message: new RegExp(`^${name}: input has dtype int32; expected float32 or float64`) } },
  { name: "bad correction", inputs: [{ shape: [3] }], call: (x) => f(x, 0, { correction: NaN }), throws: { error: ValueError, message: new RegExp(`^${name}: correction must be a finite number`) } },
  { name: "boolean unbiased rejected", inputs: [{ shape: [3] }], call: (x) => f(x, 0, false as unknown as VarianceOptions), throws: { error: ValueError, message: new RegExp(`^${name}: options must be an object`) } },
];

const varianceOp = defineOp<VarAttrs>({
  name: "variance",
  meta: reduceMeta("variance", FLOATS, (d) => d),
  grad(g, { inputs: [x], attrs: a }) {
    const { divisor, dev } = deviation(x, a);
    return [unreduce(g, x.shape, a.axes, a.keepDim).mul(dev).mul(2 / divisor)];
  },
  cases: varCases((x, d, o) => variance(x, d, o), "variance"),
});

/**
 * Variance over dims (all when omitted) with `correction` (default 1, unbiased), like torch.var;
 * also `x.var(dim, {correction, keepDim})`.
 */
export function variance(x: Tensor, dim?: number | readonly number[] | null, opts: VarianceOptions = {}): Tensor {
  return runOp(varianceOp, [x], varAttrs("variance", x, dim, opts));
}

const stdOp = defineOp<VarAttrs>({
  name: "std",
  meta: reduceMeta("std", FLOATS, (d) => d),
  // d std = d var / (2 std). NOTE: a constant group has std 0; its gradient is 0 (PyTorch masks g/std there), not NaN.
  grad(g, { inputs: [x], outputs: [y], attrs: a }) {
    const { divisor, dev } = deviation(x, a);
    return [unreduce(where(ne(y, 0), g.div(y), 0), x.shape, a.axes, a.keepDim).mul(dev).mul(1 / divisor)];
  },
  cases: varCases((x, d, o) => std(x, d, o), "std"),
});

/** Standard deviation over dims (all when omitted) with `correction` (default 1), like torch.std. */
export function std(x: Tensor, dim?: number | readonly number[] | null, opts: VarianceOptions = {}): Tensor {
  return runOp(stdOp, [x], varAttrs("std", x, dim, opts));
}

method("max", max);
method("min", min);
method("argmax", argmax);
method("argmin", argmin);
method("prod", prod);
method("var", variance);
method("std", std);
