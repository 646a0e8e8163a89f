// Pooling in NCHW layout: maxPool2d (argmax indices saved for backward), avgPool2d and
// adaptiveAvgPool2d, each with a backward primitive. 3-D [C, H, W] inputs are accepted like PyTorch.
import { DTypeError, ShapeError, shapeStr, ValueError, type Tensor } from "../tensor/index.js";
import { defineOp, runOp, runOpMulti, type OpDef, type OutputSpec } from "./op.js";
import { checkDType, FLOATS, NUMERIC } from "./util.js";
import { squeeze, unsqueeze } from "./view.js";
import { checkSpatialInts, convOutputSize, spatialArg } from "./conv.js";

/** Kernel attributes of maxPool2d; indices are flat positions in each input plane (ih·W + iw). */
export interface MaxPool2dAttrs {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  ceilMode: boolean;
}
export interface AvgPool2dAttrs {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  ceilMode: boolean;
  countIncludePad: boolean;
  divisorOverride: number | null;
}
export interface AdaptiveAvgPool2dAttrs {
  outputSize: [number, number];
}

type Pair = number | readonly number[];
export interface MaxPool2dOptions {
  /** Default: the kernel size. */
  stride?: Pair | null;
  padding?: Pair;
  dilation?: Pair;
  /** Round the output size up (windows may start in the right/bottom padding). */
  ceilMode?: boolean;
}
export interface AvgPool2dOptions {
  stride?: Pair | null;
  padding?: Pair;
  ceilMode?: boolean;
  /** Count padded zeros in the divisor (default true). */
  countIncludePad?: boolean;
  /** Divide every window by this instead. */
  divisorOverride?: number | null;
}

/** PyTorch's pooling_output_shape: with ceilMode the last window must start inside the input or left padding. */
function poolOutSize(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  let out = convOutputSize(size + (ceil ? s - 1 : 0), 2 * p, k, s, d);
  if (ceil && (out - 1) * s >= size + p) out--;
  return out;
}

/** Checks a 4-D input and the window geometry, returns the output shape. */
function checkPool(op: string, x: readonly number[], k: number[], s: number[], p: number[], d: number[], ceil: boolean): number[] {
  if (x.length !== 4) throw new ShapeError(`${op}: expected input [N, C, H, W] (4-D or unbatched [C, H, W]), got ${shapeStr(x)}`);
  checkSpatialInts(op, "kernelSize", k, 1);
  checkSpatialInts(op, "stride", s, 1);
  checkSpatialInts(op, "dilation", d, 1);
  checkSpatialInts(op, "padding", p, 0);
  if (p.some((pp, i) => pp > k[i] / 2))
    throw new ValueError(`${op}: padding ${shapeStr(p)} must be at most half the kernel size ${shapeStr(k)}`);
  const [N, C, H, W] = x;
  const out = [N, C, poolOutSize(H, k[0], s[0], p[0], d[0], ceil), poolOutSize(W, k[1], s[1], p[1], d[1], ceil)];
  if (out[2] < 1 || out[3] < 1)
    throw new ShapeError(
      `${op}: the output would be empty: input ${shapeStr(x)} with kernel ${shapeStr(k)}, stride ${shapeStr(s)}, padding ${shapeStr(p)}${d.some((v) => v > 1) ? `, dilation ${shapeStr(d)}` : ""} gives [${out[2]},${out[3]}]; use a smaller kernel or pad the input`,
    );
  return out;
}

/** Runs a pooling op on 4-D input, adding and removing the batch dim for unbatched [C, H, W] input. */
function batched(x: Tensor, f: (xb: Tensor) => Tensor[]): Tensor[] {
  if (x.ndim !== 3) return f(x);
  return f(unsqueeze(x, 0)).map((t) => squeeze(t, 0));
}

const sh = (...shapes: number[][]) => shapes.map((shape) => ({ shape }));

export const maxPool2dOp: OpDef<MaxPool2dAttrs> = defineOp<MaxPool2dAttrs>({
  name: "maxPool2d",
  meta([x], a): OutputSpec[] {
    checkDType("maxPool2d", "input", x.dtype, NUMERIC);
    const shape = checkPool("maxPool2d", x.shape, a.kernel, a.stride, a.padding, a.dilation, a.ceilMode);
    return [{ shape, dtype: x.dtype }, { shape, dtype: "int32" }];
  },
  grad: (g, { inputs: [x], outputs: [, indices] }) => [runOp(maxPool2dBackwardOp, [g, indices], { inputShape: [...x.shape] })],
  cases: [
    { name: "2x2", inputs: sh([2, 2, 6, 6]), call: (x) => maxPool2d(x, 2) },
    { name: "3x3 stride 2 overlapping windows", inputs: sh([2, 2, 7, 7]), call: (x) => maxPool2d(x, 3, { stride: 2 }) },
    { name: "padding 1 (padding never wins)", inputs: [{ shape: [1, 2, 5, 5], range: [-3, -1] }], call: (x) => maxPool2d(x, 3, { stride: 2, padding: 1 }) },
    { name: "kernel [2,3], stride [1,2]", inputs: sh([2, 1, 5, 7]), call: (x) => maxPool2d(x, [2, 3], { stride: [1, 2] }) },
    { name: "dilation 2", inputs: sh([1, 2, 7, 7]), call: (x) => maxPool2d(x, 2, { dilation: 2, stride: 1 }) },
    { name: "ceilMode keeps a partial window", inputs: sh([2, 2, 5, 5]), call: (x) => maxPool2d(x, 2, { ceilMode: true }) },
    { name: "ceilMode with padding drops a window starting in the padding", inputs: sh([1, 2, 5, 5]), call: (x) => maxPool2d(x, 2, { padding: 1, ceilMode: true }) },
    { name: "ceilMode, padding 1, stride 2, kernel 3", inputs: sh([1, 2, 6, 6]), call: (x) => maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }) },
    { name: "unbatched [C, H, W]", inputs: sh([3, 4, 6]), call: (x) => maxPool2d(x, 2) },
    { name: "permuted view", inputs: sh([2, 6, 6, 2]), call: (x) => maxPool2d(x.permute(0, 3, 1, 2), 2) },
    { name: "empty batch", inputs: sh([0, 2, 4, 4]), call: (x) => maxPool2d(x, 2) },
    { name: "int32", inputs: [{ shape: [1, 2, 4, 4], dtype: "int32", range: [-9, 9] }], call: (x) => maxPool2d(x, 2) },
    { name: "indices", inputs: sh([2, 2, 5, 5]), call: (x) => maxPool2dWithIndices(x, 3, { stride: 2, padding: 1 })[1], grad: false },
    { name: "kernel larger than the input", inputs: sh([1, 1, 2, 2]), call: (x) => maxPool2d(x, 3), throws: { error: ShapeError, message: /^maxPool2d: the output would be empty: input \[1,1,2,2\] with kernel \[3,3\]/ } },
    { name: "padding over half the kernel", inputs: sh([1, 1, 6, 6]), call: (x) => maxPool2d(x, 2, { padding: 2 }), throws: { error: ValueError, message: /^maxPool2d: padding \[2,2\] must be at most half the kernel size \[2,2\]/ } },
    { name: "2-D input", inputs: sh([6, 6]), call: (x) => maxPool2d(x, 2), throws: { error: ShapeError, message: /^maxPool2d: expected input \[N, C, H, W\] \(4-D or unbatched \[C, H, W\]\), got \[6,6\]/ } },
    { name: "stride 0", inputs: sh([1, 1, 6, 6]), call: (x) => maxPool2d(x, 2, { stride: 0 }), throws: { error: ValueError, message: /^maxPool2d: stride must be positive integers, got \[0,0\]/ } },
  ],
});

/** Scatters grad [N, C, Ho, Wo] into zeros of inputShape at the saved argmax indices (summing repeats). */
export const maxPool2dBackwardOp: OpDef<{ inputShape: number[] }> = defineOp<{ inputShape: number[] }>({
  name: "maxPool2dBackward",
  meta([g, indices], a) {
    checkDType("maxPool2dBackward", "grad", g.dtype, FLOATS);
    checkDType("maxPool2dBackward", "indices", indices.dtype, ["int32"]);
    if (shapeStr(g.shape) !== shapeStr(indices.shape) || g.ndim !== 4 || a.inputShape.length !== 4 || g.shape[0] !== a.inputShape[0] || g.shape[1] !== a.inputShape[1])
      throw new ShapeError(`maxPool2dBackward: grad ${shapeStr(g.shape)} and indices ${shapeStr(indices.shape)} must be the same [N, C, Ho, Wo] as the pooled input ${shapeStr(a.inputShape)}`);
    return [{ shape: [...a.inputShape], dtype: g.dtype }];
  },
  cases: [
    {
      name: "overlapping windows sum",
      inputs: [{ shape: [2, 2, 3, 3] }, { shape: [2, 2, 7, 7], noGrad: true }],
      call: (g, x) => runOp(maxPool2dBackwardOp, [g, maxPool2dWithIndices(x, 3, { stride: 2 })[1]], { inputShape: [...x.shape] }),
      grad: false,
    },
    {
      name: "indices of another shape",
      inputs: [{ shape: [1, 1, 2, 2] }, { shape: [1, 1, 3, 3], dtype: "int32" }],
      call: (g, i) => runOp(maxPool2dBackwardOp, [g, i], { inputShape: [1, 1, 4, 4] }),
      throws: { error: ShapeError, message: /^maxPool2dBackward: grad \[1,1,2,2\] and indices \[1,1,3,3\] must be the same/ },
    },
  ],
});

function maxAttrs(kernelSize: Pair, o: MaxPool2dOptions): MaxPool2dAttrs {
  const kernel = spatialArg("maxPool2d", "kernelSize", kernelSize, 2) as [number, number];
  return {
    kernel,
    stride: spatialArg("maxPool2d", "stride", o.stride ?? kernel, 2) as [number, number],
    padding: spatialArg("maxPool2d", "padding", o.padding ?? 0, 2) as [number, number],
    dilation: spatialArg("maxPool2d", "dilation", o.dilation ?? 1, 2) as [number, number],
    ceilMode: o.ceilMode ?? false,
  };
}

/**
 * 2-D max pooling of x [N, C, H, W] or [C, H, W] (padding counts as −∞), like F.max_pool2d.
 * @example maxPool2d(x, 2) // halves H and W
 */
export function maxPool2d(x: Tensor, kernelSize: Pair, opts: MaxPool2dOptions = {}): Tensor {
  return maxPool2dWithIndices(x, kernelSize, opts)[0];
}

/** maxPool2d that also returns the int32 argmax of each window as a flat index ih·W + iw into its input plane. */
export function maxPool2dWithIndices(x: Tensor, kernelSize: Pair, opts: MaxPool2dOptions = {}): [Tensor, Tensor] {
  const a = maxAttrs(kernelSize, opts);
  const [y, i] = batched(x, (xb) => runOpMulti(maxPool2dOp, [xb], a));
  return [y, i];
}

export const avgPool2dOp: OpDef<AvgPool2dAttrs> = defineOp<AvgPool2dAttrs>({
  name: "avgPool2d",
  meta([x], a): OutputSpec[] {
    checkDType("avgPool2d", "input", x.dtype, FLOATS);
    if (a.divisorOverride !== null && (!Number.isInteger(a.divisorOverride) || a.divisorOverride === 0))
      throw new ValueError(`avgPool2d: divisorOverride must be a non-zero integer or null, got ${a.divisorOverride}`);
    return [{ shape: checkPool("avgPool2d", x.shape, a.kernel, a.stride, a.padding, [1, 1], a.ceilMode), dtype: x.dtype }];
  },
  grad: (g, { inputs: [x], attrs }) => [runOp(avgPool2dBackwardOp, [g], { ...attrs, inputShape: [...x.shape] })],
  cases: [
    { name: "2x2", inputs: sh([2, 2, 6, 6]), call: (x) => avgPool2d(x, 2) },
    { name: "3x3 stride 2 padding 1 counts the padding", inputs: sh([2, 2, 7, 7]), call: (x) => avgPool2d(x, 3, { stride: 2, padding: 1 }) },
    { name: "padding 1 without counting it", inputs: sh([2, 2, 7, 7]), call: (x) => avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }) },
    { name: "ceilMode partial windows", inputs: sh([1, 2, 5, 5]), call: (x) => avgPool2d(x, 2, { ceilMode: true }) },
    { name: "ceilMode and padding without counting it", inputs: sh([1, 2, 6, 5]), call: (x) => avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }) },
    { name: "kernel [3,2], stride [1,2]", inputs: sh([2, 1, 5, 6]), call: (x) => avgPool2d(x, [3, 2], { stride: [1, 2] }) },
    { name: "divisorOverride", inputs: sh([1, 2, 4, 4]), call: (x) => avgPool2d(x, 2, { divisorOverride: 3 }) },
    { name: "unbatched transposed view", inputs: sh([2, 6, 4]), call: (x) => avgPool2d(x.transpose(1, 2), 2) },
    { name: "empty batch", inputs: sh([0, 2, 4, 4]), call: (x) => avgPool2d(x, 2) },
    { name: "int32 input", inputs: [{ shape: [1, 1, 4, 4], dtype: "int32" }], call: (x) => avgPool2d(x, 2), throws: { error: DTypeError, message: /^avgPool2d: input has dtype int32; expected float32 or float64/ } },
    { name: "kernel larger than the input", inputs: sh([1, 1, 3, 5]), call: (x) => avgPool2d(x, 4), throws: { error: ShapeError, message: /^avgPool2d: the output would be empty: input \[1,1,3,5\] with kernel \[4,4\]/ } },
    { name: "padding over half the kernel", inputs: sh([1, 1, 6, 6]), call: (x) => avgPool2d(x, 3, { padding: [1, 2] }), throws: { error: ValueError, message: /^avgPool2d: padding \[1,2\] must be at most half the kernel size \[3,3\]/ } },
  ],
});

/** Spreads grad [N, C, Ho, Wo] evenly back over each window of an input of inputShape. */
export const avgPool2dBackwardOp: OpDef<AvgPool2dAttrs & { inputShape: number[] }> = defineOp<AvgPool2dAttrs & { inputShape: number[] }>({
  name: "avgPool2dBackward",
  meta([g], a) {
    checkDType("avgPool2dBackward", "grad", g.dtype, FLOATS);
    const want = checkPool("avgPool2dBackward", a.inputShape, a.kernel, a.stride, a.padding, [1, 1], a.ceilMode);
    if (shapeStr(g.shape) !== shapeStr(want))
      throw new ShapeError(`avgPool2dBackward: grad is ${shapeStr(g.shape)} but pooling an input ${shapeStr(a.inputShape)} gives ${shapeStr(want)}`);
    return [{ shape: [...a.inputShape], dtype: g.dtype }];
  },
  // Linear: its adjoint is the forward pooling.
  grad: (u, { attrs: a }) => [
    runOp(avgPool2dOp, [u], { kernel: a.kernel, stride: a.stride, padding: a.padding, ceilMode: a.ceilMode, countIncludePad: a.countIncludePad, divisorOverride: a.divisorOverride }),
  ],
  cases: [
    {
      name: "padding, ceilMode, countIncludePad false",
      inputs: sh([1, 2, 4, 3]),
      call: (g) => runOp(avgPool2dBackwardOp, [g], { ...avgAttrs(3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), inputShape: [1, 2, 6, 5] }),
    },
  ],
});

function avgAttrs(kernelSize: Pair, o: AvgPool2dOptions): AvgPool2dAttrs {
  const kernel = spatialArg("avgPool2d", "kernelSize", kernelSize, 2) as [number, number];
  return {
    kernel,
    stride: spatialArg("avgPool2d", "stride", o.stride ?? kernel, 2) as [number, number],
    padding: spatialArg("avgPool2d", "padding", o.padding ?? 0, 2) as [number, number],
    ceilMode: o.ceilMode ?? false,
    countIncludePad: o.countIncludePad ?? true,
    divisorOverride: o.divisorOverride ?? null,
  };
}

/** 2-D average pooling of x [N, C, H, W] or [C, H, W], like F.avg_pool2d. */
export function avgPool2d(x: Tensor, kernelSize: Pair, opts: AvgPool2dOptions = {}): Tensor {
  const a = avgAttrs(kernelSize, opts);
  return batched(x, (xb) => [runOp(avgPool2dOp, [xb], a)])[0];
}

export const adaptiveAvgPool2dOp: OpDef<AdaptiveAvgPool2dAttrs> = defineOp<AdaptiveAvgPool2dAttrs>({
  name: "adaptiveAvgPool2d",
  meta([x], { outputSize }): OutputSpec[] {
    checkDType("adaptiveAvgPool2d", "input", x.dtype, FLOATS);
    if (x.ndim !== 4) throw new ShapeError(`adaptiveAvgPool2d: expected input [N, C, H, W] (4-D or unbatched [C, H, W]), got ${shapeStr(x.shape)}`);
    checkSpatialInts("adaptiveAvgPool2d", "outputSize", outputSize, 1);
    if (x.shape[2] === 0 || x.shape[3] === 0)
      throw new ShapeError(`adaptiveAvgPool2d: the input ${shapeStr(x.shape)} has an empty spatial dim; H and W must be at least 1`);
    return [{ shape: [x.shape[0], x.shape[1], ...outputSize], dtype: x.dtype }];
  },
  grad: (g, { inputs: [x] }) => [runOp(adaptiveAvgPool2dBackwardOp, [g], { inputShape: [...x.shape] })],
  cases: [
    { name: "global average (1x1)", inputs: sh([2, 3, 5, 4]), call: (x) => adaptiveAvgPool2d(x, 1) },
    { name: "5x7 → 3x4 uneven, overlapping windows", inputs: sh([2, 2, 5, 7]), call: (x) => adaptiveAvgPool2d(x, [3, 4]) },
    { name: "6x6 → 3x3 (even split)", inputs: sh([1, 2, 6, 6]), call: (x) => adaptiveAvgPool2d(x, 3) },
    { name: "upsampling 3x2 → 5x4", inputs: sh([1, 2, 3, 2]), call: (x) => adaptiveAvgPool2d(x, [5, 4]) },
    { name: "null keeps a dim", inputs: sh([1, 2, 4, 5]), call: (x) => adaptiveAvgPool2d(x, [2, null]) },
    { name: "unbatched permuted view", inputs: sh([5, 6, 2]), call: (x) => adaptiveAvgPool2d(x.permute(2, 0, 1), [2, 3]) },
    { name: "outputSize 0", inputs: sh([1, 1, 4, 4]), call: (x) => adaptiveAvgPool2d(x, 0), throws: { error: ValueError, message: /^adaptiveAvgPool2d: outputSize must be positive integers, got \[0,0\]/ } },
    { name: "2-D input", inputs: sh([4, 4]), call: (x) => adaptiveAvgPool2d(x, 2), throws: { error: ShapeError, message: /^adaptiveAvgPool2d: expected input \[N, C, H, W\]/ } },
  ],
});

/** Spreads grad [N, C, oH, oW] back over the adaptive windows of an input of inputShape. */
export const adaptiveAvgPool2dBackwardOp: OpDef<{ inputShape: number[] }> = defineOp<{ inputShape: number[] }>({
  name: "adaptiveAvgPool2dBackward",
  meta([g], { inputShape }) {
    checkDType("adaptiveAvgPool2dBackward", "grad", g.dtype, FLOATS);
    if (g.ndim !== 4 || inputShape.length !== 4 || g.shape[0] !== inputShape[0] || g.shape[1] !== inputShape[1])
      throw new ShapeError(`adaptiveAvgPool2dBackward: grad ${shapeStr(g.shape)} does not match the pooled input ${shapeStr(inputShape)}`);
    return [{ shape: [...inputShape], dtype: g.dtype }];
  },
  // Linear: its adjoint is the forward pooling to grad's size.
  grad: (u, { inputs: [g] }) => [runOp(adaptiveAvgPool2dOp, [u], { outputSize: [g.shape[2], g.shape[3]] })],
  cases: [{ name: "3x4 back to 5x7", inputs: sh([2, 2, 3, 4]), call: (g) => runOp(adaptiveAvgPool2dBackwardOp, [g], { inputShape: [2, 2, 5, 7] }) }],
});

/**
 * Average pooling to a fixed output size (PyTorch's windows: floor(i·H/oH) to ceil((i+1)·H/oH));
 * a null entry keeps that input dim. Like F.adaptive_avg_pool2d.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly (number | null)[]): Tensor {
  const os = typeof outputSize === "number" ? [outputSize, outputSize] : outputSize;
  if (!Array.isArray(os) || os.length !== 2)
    throw new ValueError(`adaptiveAvgPool2d: outputSize must be a number or 2 numbers, got ${String(outputSize)}`);
  return batched(x, (xb) => {
    const size = os.map((v, i) => v ?? xb.shape[2 + i] ?? 1) as [number, number];
    return [runOp(adaptiveAvgPool2dOp, [xb], { outputSize: size })];
  })[0];
}
