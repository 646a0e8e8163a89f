// cpu kernels for conv2d and its two backward passes (im2col + SGEMM) and for 2-D pooling
// (native/cpu/conv.cc, pool2d.cc). Inputs arrive contiguous (a view at an offset is passed as a subarray).
import type { Tensor } from "../../tensor/index.js";
import type { Conv2dAttrs } from "../../ops/conv.js";
import type { AvgPool2dAttrs, MaxPool2dAttrs } from "../../ops/pool.js";
import { registerKernel } from "../registry.js";
import { native, P } from "./native.js";
import { flat as data } from "./util.js";

const F = ["float32"] as const;

/** Writes the conv geometry of x [N,C,H,W] · w [O,Cg,kH,kW] → y [N,O,Ho,Wo]; returns the next index. */
function putConv(x: readonly number[], w: readonly number[], y: readonly number[], a: Conv2dAttrs): number {
  const v = [x[0], x[1], x[2], x[3], w[0], w[1], w[2], w[3], y[2], y[3], a.stride[0], a.stride[1], a.dilation[0], a.dilation[1], a.padding[0], a.padding[2], a.groups];
  for (let i = 0; i < v.length; i++) P[i] = v[i];
  return v.length;
}

registerKernel(
  "conv2d",
  "cpu",
  F,
  (inputs, [y], a: Conv2dAttrs) => {
    const [x, w, b] = inputs;
    P[putConv(x.shape, w.shape, y.shape, a)] = b ? 1 : 0;
    if (b) native.conv2d(data(x), data(w), y.storage.data, data(b));
    else native.conv2d(data(x), data(w), y.storage.data);
  },
  { contiguous: true, overwrites: true },
);

registerKernel(
  "conv2dGradInput",
  "cpu",
  F,
  ([gy, w], [dx], a: Conv2dAttrs & { inputShape: number[] }) => {
    putConv(a.inputShape, w.shape, gy.shape, a);
    native.conv2dGradInput(data(gy), data(w), dx.storage.data);
  },
  { contiguous: true },
);

registerKernel(
  "conv2dGradWeight",
  "cpu",
  F,
  ([x, gy], [dw], a: Conv2dAttrs & { weightShape: number[] }) => {
    putConv(x.shape, a.weightShape, gy.shape, a);
    native.conv2dGradWeight(data(x), data(gy), dw.storage.data);
  },
  { contiguous: true },
);

registerKernel(
  "maxPool2d",
  "cpu",
  F,
  ([x], [out, indices], a: MaxPool2dAttrs) => {
    const [N, C, H, W] = x.shape;
    const v = [N * C, H, W, out.shape[2], out.shape[3], a.kernel[0], a.kernel[1], a.stride[0], a.stride[1], a.padding[0], a.padding[1], a.dilation[0], a.dilation[1]];
    for (let i = 0; i < v.length; i++) P[i] = v[i];
    native.maxPool2d(data(x), out.storage.data, indices.storage.data);
  },
  { contiguous: true, overwrites: true },
);

registerKernel(
  "maxPool2dBackward",
  "cpu",
  F,
  ([g, indices], [dx], a: { inputShape: number[] }) => {
    const [N, C, H, W] = a.inputShape;
    P[0] = N * C;
    P[1] = H * W;
    P[2] = g.shape[2] * g.shape[3];
    native.maxPool2dBackward(data(g), data(indices), dx.storage.data);
  },
  { contiguous: true },
);

/** avgPool / adaptive pooling, forward (src x → dst out) or backward (src g → dst dx). */
function avgPool(backward: boolean, adaptive: boolean, src: Tensor, dst: Tensor, inShape: readonly number[], outShape: readonly number[], a?: AvgPool2dAttrs): void {
  const [N, C, H, W] = inShape;
  const v = [
    backward ? 1 : 0, adaptive ? 1 : 0, N * C, H, W, outShape[2], outShape[3],
    a?.kernel[0] ?? 0, a?.kernel[1] ?? 0, a?.stride[0] ?? 0, a?.stride[1] ?? 0, a?.padding[0] ?? 0, a?.padding[1] ?? 0,
    a?.countIncludePad ? 1 : 0, a?.divisorOverride ?? 0,
  ];
  for (let i = 0; i < v.length; i++) P[i] = v[i];
  native.avgPool(data(src), dst.storage.data);
}

const opts = { contiguous: true };
// The forward poolings write every output element; the backward ones keep zero-filled outputs.
registerKernel("avgPool2d", "cpu", F, ([x], [out], a: AvgPool2dAttrs) => avgPool(false, false, x, out, x.shape, out.shape, a), { ...opts, overwrites: true });
registerKernel("avgPool2dBackward", "cpu", F, ([g], [dx], a: AvgPool2dAttrs & { inputShape: number[] }) => avgPool(true, false, g, dx, a.inputShape, g.shape, a), opts);
registerKernel("adaptiveAvgPool2d", "cpu", F, ([x], [out]) => avgPool(false, true, x, out, x.shape, out.shape), { ...opts, overwrites: true });
registerKernel("adaptiveAvgPool2dBackward", "cpu", F, ([g], [dx]) => avgPool(true, true, g, dx, dx.shape, g.shape), opts);
