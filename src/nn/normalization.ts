// Normalization layers: BatchNorm1d, BatchNorm2d (running statistics kept as buffers), LayerNorm and GroupNorm.
import { DType, shapeStr, ShapeError, Tensor, ValueError } from "../tensor/index.js";
import { add, copy_, ones, zeros } from "../ops/index.js";
import { batchNorm, layerNorm } from "../ops/norm.js";
import { noGrad } from "../autograd/index.js";
import { Module } from "./module.js";
import { Parameter } from "./parameter.js";
import { ones_, zeros_ } from "./init.js";
import { checkSize } from "./linear.js";

export interface BatchNormOptions {
  eps?: number;
  /**
   * Weight of the batch statistics in the running ones: running ← (1 − m)·running + m·batch
   * (default 0.1). null: a cumulative average over all batches seen.
   */
  momentum?: number | null;
  /** Learn a per-channel scale and shift (default true). */
  affine?: boolean;
  /** Keep running statistics for eval mode (default true); without them eval uses batch statistics. */
  trackRunningStats?: boolean;
  dtype?: DType;
}

abstract class BatchNormBase extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  runningMean!: Tensor | null;
  runningVar!: Tensor | null;
  numBatchesTracked!: Tensor | null;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(
    readonly numFeatures: number,
    opts: BatchNormOptions,
  ) {
    super();
    checkSize(this.constructor.name, "numFeatures", numFeatures, 1);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    const dtype = opts.dtype ?? "float32";
    this.weight = this.affine ? new Parameter(ones([numFeatures], { dtype })) : null;
    this.bias = this.affine ? new Parameter(zeros([numFeatures], { dtype })) : null;
    this.registerBuffer("runningMean", this.trackRunningStats ? zeros([numFeatures], { dtype }) : null);
    this.registerBuffer("runningVar", this.trackRunningStats ? ones([numFeatures], { dtype }) : null);
    this.registerBuffer("numBatchesTracked", this.trackRunningStats ? zeros([], { dtype: "int32" }) : null);
  }

  /** Running statistics back to mean 0, variance 1, count 0. */
  resetRunningStats(): void {
    if (this.runningMean) zeros_(this.runningMean);
    if (this.runningVar) ones_(this.runningVar);
    if (this.numBatchesTracked) zeros_(this.numBatchesTracked);
  }

  /** PyTorch's default: running stats reset, weight 1, bias 0. */
  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  /** Throws a ShapeError unless x has an allowed number of dims and numFeatures channels. */
  protected abstract checkInput(x: Tensor): void;

  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    const name = this.constructor.name;
    if (x.shape[1] !== this.numFeatures)
      throw new ShapeError(`${name}: input ${shapeStr(x.shape)} has ${x.shape[1]} channels (dim 1), expected numFeatures = ${this.numFeatures}`);
    let factor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.numBatchesTracked) {
      noGrad(() => copy_(this.numBatchesTracked!, add(this.numBatchesTracked!, 1)));
      factor = this.momentum ?? 1 / this.numBatchesTracked.item();
    }
    // Batch statistics in training, and in eval when no running statistics are kept.
    const useBatch = this.training || (!this.runningMean && !this.runningVar);
    if (useBatch && x.size / x.shape[1] <= 1)
      throw new ValueError(`${name}: expected more than 1 value per channel when training, got input ${shapeStr(x.shape)}; use a batch larger than 1 or call eval()`);
    const track = !this.training || this.trackRunningStats;
    return batchNorm(x, track ? this.runningMean : null, track ? this.runningVar : null, this.weight, this.bias, useBatch, factor, this.eps);
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/** Batch normalization of [N, C] or [N, C, L] inputs over everything but the channel dim C. */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super(numFeatures, opts);
  }
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) throw new ShapeError(`BatchNorm1d: expected a 2-d [N, C] or 3-d [N, C, L] input, got ${shapeStr(x.shape)}`);
  }
}

/** Batch normalization of [N, C, H, W] inputs over N, H and W for each channel C. */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super(numFeatures, opts);
  }
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 4) throw new ShapeError(`BatchNorm2d: expected a 4-d [N, C, H, W] input, got ${shapeStr(x.shape)}`);
  }
}

export interface LayerNormOptions {
  eps?: number;
  /** Learn a scale (and bias) of normalizedShape (default true). */
  elementwiseAffine?: boolean;
  /** Learn the bias too (default true; only with elementwiseAffine). */
  bias?: boolean;
  dtype?: DType;
}

/** Normalizes over the last dims (normalizedShape) of each sample, e.g. LayerNorm(C) on (B, T, C). */
export class LayerNorm extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;

  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    for (const d of this.normalizedShape) checkSize("LayerNorm", "normalizedShape", d, 1);
    this.eps = opts.eps ?? 1e-5;
    this.elementwiseAffine = opts.elementwiseAffine ?? true;
    const dtype = opts.dtype ?? "float32";
    this.weight = this.elementwiseAffine ? new Parameter(ones(this.normalizedShape, { dtype })) : null;
    this.bias = this.elementwiseAffine && opts.bias !== false ? new Parameter(zeros(this.normalizedShape, { dtype })) : null;
  }

  /** PyTorch's default: weight 1, bias 0. */
  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  override forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `[${this.normalizedShape.join(", ")}], eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine}`;
  }
}

export interface GroupNormOptions {
  eps?: number;
  /** Learn a per-channel scale and shift (default true). */
  affine?: boolean;
  dtype?: DType;
}

/**
 * Normalizes each sample over groups of channels: x [N, C, *] is split into numGroups groups of
 * C/numGroups channels, each normalized to mean 0 and variance 1 over its channels and positions
 * (biased variance, as in PyTorch), then scaled and shifted per channel. No batch statistics, so
 * it is the replacement for BatchNorm under differential privacy (Wu & He 2018, "Group Normalization").
 * @example new GroupNorm(4, 32) // (N, 32, H, W) → (N, 32, H, W)
 */
export class GroupNorm extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly eps: number;
  readonly affine: boolean;

  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    opts: GroupNormOptions = {},
  ) {
    super();
    checkSize("GroupNorm", "numGroups", numGroups, 1);
    checkSize("GroupNorm", "numChannels", numChannels, 1);
    if (numChannels % numGroups) throw new ValueError(`GroupNorm: numChannels (${numChannels}) must be divisible by numGroups (${numGroups})`);
    this.eps = opts.eps ?? 1e-5;
    this.affine = opts.affine ?? true;
    const dtype = opts.dtype ?? "float32";
    this.weight = this.affine ? new Parameter(ones([numChannels], { dtype })) : null;
    this.bias = this.affine ? new Parameter(zeros([numChannels], { dtype })) : null;
  }

  /** PyTorch's default: weight 1, bias 0. */
  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels)
      throw new ShapeError(`GroupNorm: expected an input [N, ${this.numChannels}, *], got ${shapeStr(x.shape)}`);
    const [n] = x.shape;
    const grouped = x.reshape([n, this.numGroups, -1]);
    const normed = layerNorm(grouped, [grouped.shape[2]], null, null, this.eps).reshape([...x.shape]);
    if (!this.weight) return normed;
    const bshape = [1, this.numChannels, ...x.shape.slice(2).map(() => 1)];
    const y = normed.mul(this.weight.reshape(bshape));
    return this.bias ? add(y, this.bias.reshape(bshape)) : y;
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.affine}`;
  }
}
