// Convolution and pooling on images laid out channels-last like Keras ([B, H, W, C]); inside, the
// input is permuted to the NCHW ops and back. Kernels are kept in Keras' layout [kH, kW, in, out].
import { ShapeError, type Tensor, ValueError } from "../../tensor/index.js";
import { avgPool2d, conv2d, div, max, maxPool2d, mean, ones, pad, permute } from "../../ops/index.js";
import { noGrad } from "../../autograd/index.js";
import type { Parameter } from "../../nn/parameter.js";
import type { Activation as ActivationFn } from "../activations.js";
import type { Initializer } from "../initializers.js";
import type { Regularizer } from "../regularizers.js";
import { castFloat, initWeight, kernelConfig, type KernelLayerArgs, kernelOptions, type KernelOptions } from "./core.js";
import { checkInt, fmtShape, knownDim, Layer, type LayerArgs, pair, type Shape, single, singleTensor } from "./base.js";

export type Padding = "valid" | "same";
export type DataFormat = "channelsLast" | "channelsFirst";

function checkPadding(layer: string, p: unknown): Padding {
  if (p === undefined) return "valid";
  if (p !== "valid" && p !== "same") throw new ValueError(`${layer}: padding must be 'valid' or 'same', got ${JSON.stringify(p)}`);
  return p;
}

function checkFormat(layer: string, f: unknown): DataFormat {
  if (f === undefined) return "channelsLast";
  if (f !== "channelsLast" && f !== "channelsFirst") throw new ValueError(`${layer}: dataFormat must be 'channelsLast' or 'channelsFirst', got ${JSON.stringify(f)}`);
  return f;
}

/** Output length along one dim: ceil(in/s) for 'same', floor((in − span)/s) + 1 for 'valid' (span = dilated window). */
function outSize(size: number | null, span: number, stride: number, padding: Padding): number | null {
  if (size === null) return null;
  return padding === "same" ? Math.ceil(size / stride) : Math.floor((size - span) / stride) + 1;
}

/** TensorFlow's 'same' padding of one dim: [before, after], the odd element after. */
export function samePad(size: number, span: number, stride: number): [number, number] {
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + span - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Shared by Conv2D and the pooling layers: the 4-d channels-last (or -first) input check and spatial sizes. */
abstract class Spatial2D extends Layer {
  readonly dataFormat: DataFormat;
  constructor(args: LayerArgs & { dataFormat?: DataFormat }) {
    super(args);
    this.dataFormat = checkFormat(this.name, args.dataFormat);
    this.inputSpec = { ndim: 4, layout: this.layout };
  }
  protected get layout(): string {
    return this.dataFormat === "channelsLast" ? "[batch, height, width, channels]" : "[batch, channels, height, width]";
  }
  protected override rankHint(shape: Shape): string {
    return shape.length === 3
      ? `; add a channels dim (reshape({targetShape: [${shape.slice(1).join(", ")}, 1]})) or fix inputShape`
      : "; fix inputShape or the layer before";
  }
  protected override axisHint(): string {
    return "; fix inputShape or the number of filters of the layer before";
  }
  /** [H, W] axes and the channel axis of the input. */
  protected get axes(): { h: number; w: number; c: number } {
    return this.dataFormat === "channelsLast" ? { h: 1, w: 2, c: 3 } : { h: 2, w: 3, c: 1 };
  }
  /** The output shape given spatial outputs and channels. */
  protected outShape(n: number | null, h: number | null, w: number | null, c: number | null): Shape {
    return this.dataFormat === "channelsLast" ? [n, h, w, c] : [n, c, h, w];
  }
  protected toNCHW(x: Tensor): Tensor {
    return this.dataFormat === "channelsLast" ? permute(x, [0, 3, 1, 2]) : x;
  }
  protected fromNCHW(y: Tensor): Tensor {
    return this.dataFormat === "channelsLast" ? permute(y, [0, 2, 3, 1]) : y;
  }
  /** Spatial output sizes, with an error naming the layer when the window does not fit. */
  protected spatialOut(s: Shape, span: [number, number], strides: [number, number], padding: Padding): [number | null, number | null] {
    const { h, w } = this.axes;
    const oh = outSize(s[h], span[0], strides[0], padding);
    const ow = outSize(s[w], span[1], strides[1], padding);
    if ((oh !== null && oh < 1) || (ow !== null && ow < 1))
      throw new ShapeError(
        `${this.name}: the input ${fmtShape(s)} is smaller than the window [${span.join(",")}] with padding 'valid'; use padding 'same', a smaller window or fewer downsampling layers`,
      );
    return [oh, ow];
  }
  /** NCHW x padded TensorFlow-style for 'same' ([left, right, top, bottom] as F.pad lists them). */
  protected padSame(x: Tensor, span: [number, number], strides: [number, number], value = 0): Tensor {
    const [pt, pb] = samePad(x.shape[2], span[0], strides[0]);
    const [pl, pr] = samePad(x.shape[3], span[1], strides[1]);
    return pt || pb || pl || pr ? pad(x, [pl, pr, pt, pb], "constant", value) : x;
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dataFormat: this.dataFormat };
  }
}

export interface Conv2DArgs extends KernelLayerArgs {
  filters: number;
  kernelSize: number | number[];
  strides?: number | number[];
  padding?: Padding;
  dilationRate?: number | number[];
  dataFormat?: DataFormat;
}

/** 2-D convolution of [B, H, W, C] images with `filters` kernels of kernelSize: → [B, H', W', filters]. */
export class Conv2D extends Spatial2D implements KernelOptions {
  static override className = "Conv2D";
  kernel: Parameter | null = null;
  bias: Parameter | null = null;
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  readonly dilationRate: [number, number];
  readonly activation: ActivationFn;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;

  constructor(args: Conv2DArgs) {
    super(args);
    const n = this.name;
    this.filters = checkInt(n, "filters", args?.filters);
    this.kernelSize = pair(n, "kernelSize", args.kernelSize, NaN);
    this.strides = pair(n, "strides", args.strides, 1);
    this.padding = checkPadding(n, args.padding);
    this.dilationRate = pair(n, "dilationRate", args.dilationRate, 1);
    if (this.dilationRate.some((d) => d > 1) && this.strides.some((s) => s > 1))
      throw new ValueError(`${n}: dilationRate > 1 together with strides > 1 is not supported (as in Keras); use one of them`);
    ({
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: this.kernelInitializer,
      biasInitializer: this.biasInitializer,
      kernelRegularizer: this.kernelRegularizer,
      biasRegularizer: this.biasRegularizer,
    } = kernelOptions(n, args));
  }

  private get span(): [number, number] {
    return [(this.kernelSize[0] - 1) * this.dilationRate[0] + 1, (this.kernelSize[1] - 1) * this.dilationRate[1] + 1];
  }

  override build(shape: Shape | Shape[]): void {
    const s = single(this, shape);
    this.checkInputShape(s);
    const c = knownDim(this, s, this.axes.c, "channels dim");
    this.inputSpec = { ndim: 4, axes: { [this.axes.c]: c }, layout: this.layout };
    this.addWeight("kernel", initWeight([...this.kernelSize, c, this.filters], this.dtype, this.kernelInitializer), this.kernelRegularizer);
    if (this.useBias) this.addWeight("bias", initWeight([this.filters], this.dtype, this.biasInitializer), this.biasRegularizer);
    super.build(shape);
  }

  computeOutputShape(shape: Shape | Shape[]): Shape {
    const s = single(this, shape);
    const [oh, ow] = this.spatialOut(s, this.span, this.strides, this.padding);
    return this.outShape(s[0], oh, ow, this.filters);
  }

  protected compute(inputs: Tensor | Tensor[]): Tensor {
    const x = castFloat(singleTensor(this, inputs), this.kernel!.dtype);
    this.computeOutputShape([...x.shape]); // the window must fit: a clear error before the op's
    let xn = this.toNCHW(x); // (B, C, H, W)
    if (this.padding === "same") xn = this.padSame(xn, this.span, this.strides);
    const w = permute(this.kernel!, [3, 2, 0, 1]); // [kH, kW, in, out] → [out, in, kH, kW]
    const y = conv2d(xn, w, this.bias, { stride: this.strides, dilation: this.dilationRate });
    return this.activation.fn(this.fromNCHW(y));
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: [...this.kernelSize],
      strides: [...this.strides],
      padding: this.padding,
      dilationRate: [...this.dilationRate],
      ...kernelConfig(this),
    };
  }
}

export interface Pooling2DArgs extends LayerArgs {
  /** Window size (default 2). */
  poolSize?: number | number[];
  /** Default: the pool size. */
  strides?: number | number[] | null;
  padding?: Padding;
  dataFormat?: DataFormat;
}

abstract class Pooling2D extends Spatial2D {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  constructor(args: Pooling2DArgs = {}) {
    super(args);
    this.poolSize = pair(this.name, "poolSize", args.poolSize, 2);
    this.strides = pair(this.name, "strides", args.strides ?? undefined, this.poolSize);
    this.padding = checkPadding(this.name, args.padding);
  }
  computeOutputShape(shape: Shape | Shape[]): Shape {
    const s = single(this, shape);
    const [oh, ow] = this.spatialOut(s, this.poolSize, this.strides, this.padding);
    return this.outShape(s[0], oh, ow, s[this.axes.c]);
  }
  protected compute(inputs: Tensor | Tensor[]): Tensor {
    const x = singleTensor(this, inputs);
    this.computeOutputShape([...x.shape]);
    return this.fromNCHW(this.pool(this.toNCHW(x)));
  }
  protected abstract pool(x: Tensor): Tensor;
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), poolSize: [...this.poolSize], strides: [...this.strides], padding: this.padding };
  }
}

/** The maximum over poolSize windows (default 2×2, stride = pool size). */
export class MaxPooling2D extends Pooling2D {
  static override className = "MaxPooling2D";
  protected pool(x: Tensor): Tensor {
    // NOTE: 'same' pads with −∞, so padding never wins the max.
    const xp = this.padding === "same" ? this.padSame(x, this.poolSize, this.strides, -Infinity) : x;
    return maxPool2d(xp, this.poolSize, { stride: this.strides });
  }
}

/** The mean over poolSize windows; with 'same', padded positions are left out of the mean (as TensorFlow does). */
export class AveragePooling2D extends Pooling2D {
  static override className = "AveragePooling2D";
  protected pool(x: Tensor): Tensor {
    const opts = { stride: this.strides };
    if (this.padding === "valid") return avgPool2d(x, this.poolSize, opts);
    const xp = this.padSame(x, this.poolSize, this.strides);
    if (xp === x) return avgPool2d(x, this.poolSize, opts);
    // The fraction of each window that is real input, to divide the zero-padded mean by.
    const frac = noGrad(() => avgPool2d(this.padSame(ones([1, 1, x.shape[2], x.shape[3]], { dtype: x.dtype }), this.poolSize, this.strides), this.poolSize, opts));
    return div(avgPool2d(xp, this.poolSize, opts), frac);
  }
}

/** Global pooling over height and width: [B, H, W, C] → [B, C]. */
abstract class GlobalPooling2D extends Spatial2D {
  constructor(args: LayerArgs & { dataFormat?: DataFormat } = {}) {
    super(args);
  }
  computeOutputShape(shape: Shape | Shape[]): Shape {
    const s = single(this, shape);
    return [s[0], s[this.axes.c]];
  }
}

/** The mean over height and width: [B, H, W, C] → [B, C]. */
export class GlobalAveragePooling2D extends GlobalPooling2D {
  static override className = "GlobalAveragePooling2D";
  protected compute(inputs: Tensor | Tensor[]): Tensor {
    const { h, w } = this.axes;
    return mean(singleTensor(this, inputs), [h, w]);
  }
}

/** The maximum over height and width: [B, H, W, C] → [B, C]. */
export class GlobalMaxPooling2D extends GlobalPooling2D {
  static override className = "GlobalMaxPooling2D";
  protected compute(inputs: Tensor | Tensor[]): Tensor {
    const { h, w } = this.axes;
    return max(singleTensor(this, inputs), [h, w]);
  }
}
