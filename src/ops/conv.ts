// Convolutions in NCHW layout: conv2d and its two gradient primitives (conv2dGradInput,
// conv2dGradWeight), which are the kernel contract backends implement; conv1d is conv2d with H = 1.
import { DTypeError, ShapeError, shapeStr, ValueError, type Shape, type Tensor } from "../tensor/index.js";
import { defineOp, runOp, type OpDef, type OutputSpec } from "./op.js";
import { checkDType, FLOATS } from "./util.js";
import { sum } from "./reduce.js";
import { squeeze, unsqueeze } from "./view.js";

/** Kernel attributes of conv2d (all resolved: no "same", no defaults). */
export interface Conv2dAttrs {
  stride: [number, number];
  /** [top, bottom, left, right]. */
  padding: [number, number, number, number];
  dilation: [number, number];
  groups: number;
}
export interface Conv2dGradInputAttrs extends Conv2dAttrs {
  inputShape: number[];
}
export interface Conv2dGradWeightAttrs extends Conv2dAttrs {
  weightShape: number[];
}

export interface Conv2dOptions {
  stride?: number | readonly number[];
  /** A number, [ph, pw], "valid" (no padding) or "same" (output size = input size; stride 1 only). */
  padding?: number | readonly number[] | "same" | "valid";
  dilation?: number | readonly number[];
  groups?: number;
}
export type Conv1dOptions = Conv2dOptions;

/** A number or an array of `n` numbers, as `n` numbers (PyTorch's `_pair`); shared with pool.ts. */
export function spatialArg(op: string, what: string, v: number | readonly number[], n: number): number[] {
  if (typeof v === "number") return new Array<number>(n).fill(v);
  if (!Array.isArray(v) || v.length !== n)
    throw new ValueError(`${op}: ${what} must be a number or ${n} numbers, got ${Array.isArray(v) ? shapeStr(v) : String(v)}`);
  return [...v];
}

/** Throws a ValueError unless every value is an integer ≥ min (0 or 1); shared with pool.ts. */
export function checkSpatialInts(op: string, what: string, vs: readonly number[], min: number): void {
  if (vs.some((v) => !Number.isInteger(v) || v < min))
    throw new ValueError(`${op}: ${what} must be ${min === 0 ? "non-negative" : "positive"} integers, got ${shapeStr(vs)}`);
}

/** floor((size + padTotal − dilation·(k−1) − 1) / stride) + 1: the output length of a convolution. */
export function convOutputSize(size: number, padTotal: number, k: number, stride: number, dilation: number): number {
  return Math.floor((size + padTotal - dilation * (k - 1) - 1) / stride) + 1;
}

/** Resolves padding to [lo0, hi0, lo1, hi1, …]; "same" pads dilation·(k−1) per dim, the odd one at the end. */
function resolvePadding(op: string, padding: Conv2dOptions["padding"], kernel: readonly number[], stride: number[], dilation: number[]): number[] {
  const n = kernel.length;
  if (padding === "valid") return new Array<number>(2 * n).fill(0);
  if (padding === "same") {
    if (stride.some((s) => s !== 1))
      throw new ValueError(`${op}: padding 'same' is not supported with stride ${shapeStr(stride)}; use stride 1 or explicit padding`);
    // NOTE: like PyTorch, an even total puts the extra element at the bottom/right.
    return kernel.flatMap((k, i) => {
      const total = dilation[i] * (k - 1);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
  }
  if (typeof padding === "string")
    throw new ValueError(`${op}: padding must be a number, ${n === 2 ? "[ph, pw]" : "[p]"}, 'same' or 'valid', got '${padding}'`);
  return spatialArg(op, "padding", padding ?? 0, n).flatMap((p) => [p, p]);
}

/** User options → kernel geometry over `n` spatial dims (kernel sizes from the weight's trailing dims). */
function convGeometry(op: string, w: Shape, opts: Conv2dOptions, n: number): { stride: number[]; padding: number[]; dilation: number[]; groups: number } {
  const stride = spatialArg(op, "stride", opts.stride ?? 1, n);
  const dilation = spatialArg(op, "dilation", opts.dilation ?? 1, n);
  // A weight of the wrong rank is reported by checkConv; here it only must not crash.
  const kernel = w.length === n + 2 ? w.slice(2) : new Array<number>(n).fill(1);
  return { stride, padding: resolvePadding(op, opts.padding, kernel, stride, dilation), dilation, groups: opts.groups ?? 1 };
}

const LAYOUT = ["", "[N, C, L]", "[N, C, H, W]"];
const UNBATCHED = ["", "[C, L]", "[C, H, W]"];
const WLAYOUT = ["", "[O, C/groups, k]", "[O, C/groups, kH, kW]"];

/**
 * Checks a convolution's shapes and geometry over `n` spatial dims and returns the output shape.
 * Shared by conv2d (n = 2), conv1d (n = 1, before it becomes a conv2d) and the gradient primitives.
 */
function checkConv(
  op: string,
  x: Shape,
  w: Shape,
  bias: Shape | null,
  g: { stride: readonly number[]; padding: readonly number[]; dilation: readonly number[]; groups: number },
  unbatchedOk = true,
): number[] {
  const n = g.stride.length;
  checkSpatialInts(op, "stride", g.stride, 1);
  checkSpatialInts(op, "dilation", g.dilation, 1);
  checkSpatialInts(op, "padding", g.padding, 0);
  if (!Number.isInteger(g.groups) || g.groups < 1) throw new ValueError(`${op}: groups must be a positive integer, got ${g.groups}`);
  if (x.length !== n + 2)
    throw new ShapeError(
      `${op}: expected input ${LAYOUT[n]} (${n + 2}-D${unbatchedOk ? ` or unbatched ${UNBATCHED[n]}` : ""}), got ${shapeStr(x)}`,
    );
  if (w.length !== n + 2) throw new ShapeError(`${op}: expected weight ${WLAYOUT[n]} (${n + 2}-D), got ${shapeStr(w)}`);
  const [N, C] = x;
  const [O, Cg] = w;
  if (C % g.groups !== 0 || O % g.groups !== 0)
    throw new ValueError(`${op}: groups ${g.groups} must divide both the input channels (${C}) and the output channels (${O}); weight is ${shapeStr(w)}`);
  if (C !== Cg * g.groups)
    throw new ShapeError(`${op}: input has ${C} channels but weight expects ${Cg * g.groups} (weight ${shapeStr(w)}, groups ${g.groups})`);
  if (bias && (bias.length !== 1 || bias[0] !== O))
    throw new ShapeError(`${op}: bias must have shape [${O}] (one per output channel of weight ${shapeStr(w)}), got ${shapeStr(bias)}`);
  const sp = x.slice(2);
  const k = w.slice(2);
  const padded = sp.map((s, i) => s + g.padding[2 * i] + g.padding[2 * i + 1]);
  const eff = k.map((kk, i) => g.dilation[i] * (kk - 1) + 1);
  if (padded.some((p, i) => p < eff[i]))
    throw new ShapeError(
      `${op}: the kernel ${shapeStr(k)} (spanning ${shapeStr(eff)} with dilation ${shapeStr(g.dilation)}) is larger than the padded input ${shapeStr(padded)} (input ${shapeStr(x)}); use a smaller kernel or dilation, or more padding`,
    );
  return [N, O, ...sp.map((s, i) => convOutputSize(s, g.padding[2 * i] + g.padding[2 * i + 1], k[i], g.stride[i], g.dilation[i]))];
}

function checkDTypes(op: string, names: string[], ts: Tensor[]): void {
  checkDType(op, names[0], ts[0].dtype, FLOATS);
  ts.forEach((t, i) => {
    if (t.dtype !== ts[0].dtype)
      throw new DTypeError(`${op}: ${names[i]} has dtype ${t.dtype} but ${names[0]} has ${ts[0].dtype}; convert one with .to('${ts[0].dtype}')`);
  });
}

// Conformance inputs stay small: gradient checking runs two forwards per input element.
const sh = (...shapes: number[][]) => shapes.map((shape) => ({ shape }));

/** Only the four kernel attributes (drops inputShape/weightShape). */
const baseAttrs = (a: Conv2dAttrs): Conv2dAttrs => ({ stride: a.stride, padding: a.padding, dilation: a.dilation, groups: a.groups });

export const conv2dOp: OpDef<Conv2dAttrs> = defineOp<Conv2dAttrs>({
  name: "conv2d",
  meta(inputs, a): OutputSpec[] {
    const [x, w, b] = inputs;
    checkDTypes("conv2d", ["input", "weight", "bias"], inputs);
    return [{ shape: checkConv("conv2d", x.shape, w.shape, b ? b.shape : null, a), dtype: x.dtype }];
  },
  grad(g, { inputs: [x, w, b], attrs }) {
    return [
      x.requiresGrad ? runOp(conv2dGradInputOp, [g, w], { ...baseAttrs(attrs), inputShape: [...x.shape] }) : null,
      w.requiresGrad ? runOp(conv2dGradWeightOp, [x, g], { ...baseAttrs(attrs), weightShape: [...w.shape] }) : null,
      b?.requiresGrad ? sum(g, [0, 2, 3]) : null,
    ];
  },
  cases: [
    { name: "3x3, no bias", inputs: sh([2, 3, 5, 5], [4, 3, 3, 3]), call: (x, w) => conv2d(x, w) },
    { name: "bias and padding 1", inputs: sh([2, 2, 5, 5], [3, 2, 3, 3], [3]), call: (x, w, b) => conv2d(x, w, b, { padding: 1 }) },
    { name: "stride 2 leaves the last row and column unused", inputs: sh([2, 2, 7, 7], [3, 2, 2, 2]), call: (x, w) => conv2d(x, w, null, { stride: 2 }) },
    { name: "kernel [2,3], stride [1,2], padding [2,1]", inputs: sh([2, 2, 5, 6], [3, 2, 2, 3], [3]), call: (x, w, b) => conv2d(x, w, b, { stride: [1, 2], padding: [2, 1] }) },
    { name: "dilation 2 with padding 1", inputs: sh([1, 2, 7, 7], [2, 2, 3, 3]), call: (x, w) => conv2d(x, w, null, { dilation: 2, padding: 1 }) },
    { name: "dilation [2,1], stride 2", inputs: sh([2, 2, 7, 6], [2, 2, 3, 2]), call: (x, w) => conv2d(x, w, null, { dilation: [2, 1], stride: 2 }) },
    { name: "groups 2 with bias", inputs: sh([2, 4, 5, 5], [4, 2, 3, 3], [4]), call: (x, w, b) => conv2d(x, w, b, { groups: 2, padding: 1 }) },
    { name: "depthwise, 2 filters per channel", inputs: sh([2, 3, 5, 5], [6, 1, 3, 3]), call: (x, w) => conv2d(x, w, null, { groups: 3 }) },
    { name: "padding same, odd kernel", inputs: sh([2, 2, 5, 5], [3, 2, 3, 3]), call: (x, w) => conv2d(x, w, null, { padding: "same" }) },
    { name: "padding same, even kernel [2,4]", inputs: sh([1, 2, 5, 6], [2, 2, 2, 4], [2]), call: (x, w, b) => conv2d(x, w, b, { padding: "same" }) },
    { name: "padding same with dilation 2", inputs: sh([1, 2, 6, 6], [2, 2, 2, 3]), call: (x, w) => conv2d(x, w, null, { padding: "same", dilation: 2 }) },
    { name: "padding valid", inputs: sh([2, 2, 6, 5], [2, 2, 3, 2]), call: (x, w) => conv2d(x, w, null, { padding: "valid" }) },
    { name: "1x1 kernel", inputs: sh([2, 3, 4, 4], [5, 3, 1, 1], [5]), call: (x, w, b) => conv2d(x, w, b) },
    { name: "kernel covers the whole input", inputs: sh([2, 2, 3, 3], [3, 2, 3, 3], [3]), call: (x, w, b) => conv2d(x, w, b) },
    { name: "NHWC input permuted to NCHW", inputs: sh([2, 5, 5, 3], [2, 3, 3, 3]), call: (x, w) => conv2d(x.permute(0, 3, 1, 2), w, null, { padding: 1 }) },
    { name: "strided weight and bias views", inputs: sh([2, 2, 5, 5], [3, 2, 3, 6], [6]), call: (x, w, b) => conv2d(x, w.slice(3, 0, 6, 2), b.slice(0, 1, 6, 2)) },
    { name: "unbatched [C, H, W]", inputs: sh([2, 5, 5], [3, 2, 3, 3], [3]), call: (x, w, b) => conv2d(x, w, b, { padding: 1 }) },
    { name: "empty batch", inputs: sh([0, 2, 5, 5], [3, 2, 3, 3], [3]), call: (x, w, b) => conv2d(x, w, b) },
    { name: "conv1d with bias", inputs: sh([2, 3, 8], [4, 3, 3], [4]), call: (x, w, b) => conv1d(x, w, b) },
    { name: "conv1d stride 2, padding 1, dilation 2", inputs: sh([2, 2, 9], [3, 2, 3]), call: (x, w) => conv1d(x, w, null, { stride: 2, padding: 1, dilation: 2 }) },
    { name: "conv1d padding same, even kernel", inputs: sh([2, 2, 7], [2, 2, 4], [2]), call: (x, w, b) => conv1d(x, w, b, { padding: "same" }) },
    { name: "conv1d groups 2, padding valid", inputs: sh([1, 4, 6], [4, 2, 2]), call: (x, w) => conv1d(x, w, null, { groups: 2, padding: "valid" }) },
    { name: "conv1d unbatched transposed input", inputs: sh([7, 2], [3, 2, 3]), call: (x, w) => conv1d(x.t(), w) },
    { name: "channel mismatch", inputs: sh([1, 3, 5, 5], [8, 4, 3, 3]), call: (x, w) => conv2d(x, w), throws: { error: ShapeError, message: /^conv2d: input has 3 channels but weight expects 4 \(weight \[8,4,3,3\], groups 1\)$/ } },
    { name: "kernel larger than the padded input", inputs: sh([1, 2, 2, 2], [3, 2, 3, 3]), call: (x, w) => conv2d(x, w), throws: { error: ShapeError, message: /^conv2d: the kernel \[3,3\] .*larger than the padded input \[2,2\]/ } },
    { name: "dilated kernel larger than the padded input", inputs: sh([1, 2, 4, 4], [3, 2, 3, 3]), call: (x, w) => conv2d(x, w, null, { dilation: 2 }), throws: { error: ShapeError, message: /conv2d: the kernel \[3,3\] \(spanning \[5,5\] with dilation \[2,2\]\) is larger/ } },
    { name: "groups must divide the channels", inputs: sh([1, 4, 5, 5], [6, 2, 3, 3]), call: (x, w) => conv2d(x, w, null, { groups: 3 }), throws: { error: ValueError, message: /^conv2d: groups 3 must divide both the input channels \(4\) and the output channels \(6\)/ } },
    { name: "groups 0", inputs: sh([1, 4, 5, 5], [6, 2, 3, 3]), call: (x, w) => conv2d(x, w, null, { groups: 0 }), throws: { error: ValueError, message: /^conv2d: groups must be a positive integer, got 0/ } },
    { name: "bad padding string", inputs: sh([1, 2, 5, 5], [3, 2, 3, 3]), call: (x, w) => conv2d(x, w, null, { padding: "full" as "same" }), throws: { error: ValueError, message: /^conv2d: padding must be a number, \[ph, pw\], 'same' or 'valid', got 'full'/ } },
    { name: "padding same with stride 2", inputs: sh([1, 2, 5, 5], [3, 2, 3, 3]), call: (x, w) => conv2d(x, w, null, { padding: "same", stride: 2 }), throws: { error: ValueError, message: /^conv2d: padding 'same' is not supported with stride \[2,2\]/ } },
    { name: "negative padding", inputs: sh([1, 2, 5, 5], [3, 2, 3, 3]), call: (x, w) => conv2d(x, w, null, { padding: -1 }), throws: { error: ValueError, message: /^conv2d: padding must be non-negative integers/ } },
    { name: "stride of three numbers", inputs: sh([1, 2, 5, 5], [3, 2, 3, 3]), call: (x, w) => conv2d(x, w, null, { stride: [1, 1, 1] }), throws: { error: ValueError, message: /^conv2d: stride must be a number or 2 numbers, got \[1,1,1\]/ } },
    { name: "bias of the wrong length", inputs: sh([1, 2, 5, 5], [3, 2, 3, 3], [4]), call: (x, w, b) => conv2d(x, w, b), throws: { error: ShapeError, message: /^conv2d: bias must have shape \[3\]/ } },
    { name: "2-D input", inputs: sh([5, 5], [3, 2, 3, 3]), call: (x, w) => conv2d(x, w), throws: { error: ShapeError, message: /^conv2d: expected input \[N, C, H, W\] \(4-D or unbatched \[C, H, W\]\), got \[5,5\]/ } },
    { name: "3-D weight", inputs: sh([1, 2, 5, 5], [3, 2, 3]), call: (x, w) => conv2d(x, w), throws: { error: ShapeError, message: /^conv2d: expected weight \[O, C\/groups, kH, kW\] \(4-D\), got \[3,2,3\]/ } },
    { name: "int32 input", inputs: [{ shape: [1, 2, 5, 5], dtype: "int32" }, { shape: [3, 2, 3, 3] }], call: (x, w) => conv2d(x, w), throws: { error: DTypeError, message: /^conv2d: input has dtype int32; expected float32 or float64/ } },
    { name: "weight of another float dtype", inputs: sh([1, 2, 5, 5], [3, 2, 3, 3]), call: (x, w) => conv2d(x, w.to("float64")), throws: { error: DTypeError, message: /^conv2d: weight has dtype float64 but input has float32/ } },
    { name: "conv1d channel mismatch", inputs: sh([2, 2, 8], [4, 3, 3]), call: (x, w) => conv1d(x, w), throws: { error: ShapeError, message: /^conv1d: input has 2 channels but weight expects 3 \(weight \[4,3,3\], groups 1\)$/ } },
    { name: "conv1d kernel longer than the input", inputs: sh([2, 2, 3], [4, 2, 5]), call: (x, w) => conv1d(x, w), throws: { error: ShapeError, message: /^conv1d: the kernel \[5\] .*larger than the padded input \[3\]/ } },
    { name: "conv1d 4-D input", inputs: sh([2, 2, 3, 3], [4, 2, 3]), call: (x, w) => conv1d(x, w), throws: { error: ShapeError, message: /^conv1d: expected input \[N, C, L\] \(3-D or unbatched \[C, L\]\), got \[2,2,3,3\]/ } },
  ],
});

/** The adjoint of conv2d in its input: scatters grad [N, O, Ho, Wo] through weight into [N, C, H, W]. */
export const conv2dGradInputOp: OpDef<Conv2dGradInputAttrs> = defineOp<Conv2dGradInputAttrs>({
  name: "conv2dGradInput",
  meta([g, w], a) {
    checkDTypes("conv2dGradInput", ["grad", "weight"], [g, w]);
    const want = checkConv("conv2dGradInput", a.inputShape, w.shape, null, a, false);
    if (shapeStr(g.shape) !== shapeStr(want))
      throw new ShapeError(`conv2dGradInput: grad is ${shapeStr(g.shape)} but conv2d of an input ${shapeStr(a.inputShape)} with weight ${shapeStr(w.shape)} gives ${shapeStr(want)}`);
    return [{ shape: [...a.inputShape], dtype: g.dtype }];
  },
  // Linear in both inputs: <gradInput(g, w), u> = <g, conv2d(u, w)>.
  grad: (u, { inputs: [g, w], attrs }) => [
    runOp(conv2dOp, [u, w], baseAttrs(attrs)),
    runOp(conv2dGradWeightOp, [u, g], { ...baseAttrs(attrs), weightShape: [...w.shape] }),
  ],
  cases: [
    { name: "stride 2 with unused input rows", inputs: sh([2, 3, 3, 3], [3, 2, 2, 2]), call: (g, w) => conv2dGradInput(g, w, [2, 2, 7, 7], { stride: 2 }) },
    { name: "groups 2, padding 2, dilation 2", inputs: sh([1, 4, 5, 5], [4, 1, 3, 3]), call: (g, w) => conv2dGradInput(g, w, [1, 2, 5, 5], { groups: 2, padding: 2, dilation: 2 }) },
    { name: "transposed grad view", inputs: sh([2, 3, 4, 4], [3, 2, 2, 2]), call: (g, w) => conv2dGradInput(g.transpose(2, 3), w, [2, 2, 5, 5]) },
    { name: "grad of the wrong shape", inputs: sh([2, 3, 4, 4], [3, 2, 2, 2]), call: (g, w) => conv2dGradInput(g, w, [2, 2, 6, 6]), throws: { error: ShapeError, message: /^conv2dGradInput: grad is \[2,3,4,4\] but conv2d of an input \[2,2,6,6\] with weight \[3,2,2,2\] gives \[2,3,5,5\]/ } },
  ],
});

/** conv2d's weight gradient: correlates x [N, C, H, W] with grad [N, O, Ho, Wo] into the weight's shape. */
export const conv2dGradWeightOp: OpDef<Conv2dGradWeightAttrs> = defineOp<Conv2dGradWeightAttrs>({
  name: "conv2dGradWeight",
  meta([x, g], a) {
    checkDTypes("conv2dGradWeight", ["input", "grad"], [x, g]);
    const want = checkConv("conv2dGradWeight", x.shape, a.weightShape, null, a, false);
    if (shapeStr(g.shape) !== shapeStr(want))
      throw new ShapeError(`conv2dGradWeight: grad is ${shapeStr(g.shape)} but conv2d of input ${shapeStr(x.shape)} with a weight ${shapeStr(a.weightShape)} gives ${shapeStr(want)}`);
    return [{ shape: [...a.weightShape], dtype: x.dtype }];
  },
  // Linear in both inputs: <gradWeight(x, g), v> = <g, conv2d(x, v)>.
  grad: (v, { inputs: [x, g], attrs }) => [
    runOp(conv2dGradInputOp, [g, v], { ...baseAttrs(attrs), inputShape: [...x.shape] }),
    runOp(conv2dOp, [x, v], baseAttrs(attrs)),
  ],
  cases: [
    { name: "stride [2,1], padding 1", inputs: sh([2, 2, 6, 5], [2, 3, 3, 5]), call: (x, g) => conv2dGradWeight(x, g, [3, 2, 3, 3], { stride: [2, 1], padding: 1 }) },
    { name: "groups 2", inputs: sh([1, 4, 5, 5], [1, 2, 3, 3]), call: (x, g) => conv2dGradWeight(x, g, [2, 2, 3, 3], { groups: 2 }) },
    { name: "permuted input view, dilation 2", inputs: sh([2, 6, 6, 2], [2, 2, 2, 2]), call: (x, g) => conv2dGradWeight(x.permute(0, 3, 1, 2), g, [2, 2, 3, 3], { dilation: 2 }) },
    { name: "weight shape not matching grad", inputs: sh([1, 4, 5, 5], [1, 2, 3, 3]), call: (x, g) => conv2dGradWeight(x, g, [2, 4, 2, 2]), throws: { error: ShapeError, message: /^conv2dGradWeight: grad is \[1,2,3,3\] but conv2d of input \[1,4,5,5\] with a weight \[2,4,2,2\] gives \[1,2,4,4\]/ } },
  ],
});

function attrs2d(op: string, w: Shape, opts: Conv2dOptions): Conv2dAttrs {
  const g = convGeometry(op, w, opts, 2);
  return { stride: g.stride as [number, number], padding: g.padding as Conv2dAttrs["padding"], dilation: g.dilation as [number, number], groups: g.groups };
}

/**
 * 2-D convolution (cross-correlation, like torch.nn.functional.conv2d) of x [N, C, H, W] (or [C, H, W])
 * with weight [O, C/groups, kH, kW] and optional bias [O].
 * @example conv2d(x, w, b, { stride: 2, padding: 1 })
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const a = attrs2d("conv2d", weight.shape, opts);
  const unbatched = x.ndim === 3;
  const xb = unbatched ? unsqueeze(x, 0) : x;
  const y = runOp(conv2dOp, bias ? [xb, weight, bias] : [xb, weight], a);
  return unbatched ? squeeze(y, 0) : y;
}

/** The gradient of conv2d w.r.t. its input of shape inputShape (torch.nn.grad.conv2d_input). */
export function conv2dGradInput(grad: Tensor, weight: Tensor, inputShape: readonly number[], opts: Conv2dOptions = {}): Tensor {
  return runOp(conv2dGradInputOp, [grad, weight], { ...attrs2d("conv2dGradInput", weight.shape, opts), inputShape: [...inputShape] });
}

/** The gradient of conv2d w.r.t. a weight of shape weightShape (torch.nn.grad.conv2d_weight). */
export function conv2dGradWeight(x: Tensor, grad: Tensor, weightShape: readonly number[], opts: Conv2dOptions = {}): Tensor {
  return runOp(conv2dGradWeightOp, [x, grad], { ...attrs2d("conv2dGradWeight", weightShape, opts), weightShape: [...weightShape] });
}

/**
 * 1-D convolution of x [N, C, L] (or [C, L]) with weight [O, C/groups, k] and optional bias [O],
 * like torch.nn.functional.conv1d; runs as conv2d on views with H = 1.
 */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv1dOptions = {}): Tensor {
  const g = convGeometry("conv1d", weight.shape, opts, 1);
  const unbatched = x.ndim === 2;
  const xb = unbatched ? unsqueeze(x, 0) : x;
  checkDTypes("conv1d", ["input", "weight", "bias"], bias ? [xb, weight, bias] : [xb, weight]);
  checkConv("conv1d", xb.shape, weight.shape, bias ? bias.shape : null, g);
  const a: Conv2dAttrs = { stride: [1, g.stride[0]], padding: [0, 0, g.padding[0], g.padding[1]], dilation: [1, g.dilation[0]], groups: g.groups };
  const w4 = unsqueeze(weight, 2);
  const y = squeeze(runOp(conv2dOp, bias ? [unsqueeze(xb, 2), w4, bias] : [unsqueeze(xb, 2), w4], a), 2);
  return unbatched ? squeeze(y, 0) : y;
}
