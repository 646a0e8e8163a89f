// BatchNormalization and LayerNormalization with Keras' semantics: any channel axis (default the
// last, channels-last), momentum as the weight of the old moving average, epsilon 1e-3, and the
// moving variance updated with the biased batch variance.
import { type Tensor, ValueError } from "../../tensor/index.js";
import { add, copy_, layerNorm, mean, mul, reshape, rsqrt, sub, variance, zeros } from "../../ops/index.js";
import { noGrad } from "../../autograd/index.js";
import type { Parameter } from "../../nn/parameter.js";
import { getInitializer, type Initializer, type InitializerId, serializeInitializer } from "../initializers.js";
import { getRegularizer, type Regularizer, type RegularizerId } from "../regularizers.js";
import { castFloat, initWeight } from "./core.js";
import { knownDim, Layer, type LayerArgs, type Shape, single, singleTensor } from "./base.js";

export interface BatchNormalizationArgs extends LayerArgs {
  /** The channel axis (default -1). */
  axis?: number;
  /** moving ← moving·momentum + batch·(1 − momentum) (default 0.99). */
  momentum?: number;
  epsilon?: number;
  /** Learn beta (default true). */
  center?: boolean;
  /** Learn gamma (default true). */
  scale?: boolean;
  betaInitializer?: InitializerId;
  gammaInitializer?: InitializerId;
  movingMeanInitializer?: InitializerId;
  movingVarianceInitializer?: InitializerId;
  betaRegularizer?: RegularizerId;
  gammaRegularizer?: RegularizerId;
}

/**
 * Normalizes each channel with the batch statistics in training and with moving averages in
 * inference: y = gamma·(x − mean)/√(var + epsilon) + beta.
 */
export class BatchNormalization extends Layer {
  static override className = "BatchNormalization";
  gamma: Parameter | null = null;
  beta: Parameter | null = null;
  movingMean: Tensor | null = null;
  movingVariance: Tensor | null = null;
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private readonly inits: Record<"beta" | "gamma" | "movingMean" | "movingVariance", Initializer>;
  private readonly regs: Record<"beta" | "gamma", Regularizer | null>;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args);
    this.axis = args.axis ?? -1;
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    if (!Number.isInteger(this.axis)) throw new ValueError(`${this.name}: axis must be an integer, got ${JSON.stringify(args.axis)}`);
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new ValueError(`${this.name}: momentum must be in [0, 1], got ${this.momentum}`);
    if (!(this.epsilon > 0)) throw new ValueError(`${this.name}: epsilon must be > 0, got ${this.epsilon}`);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.inits = {
      beta: getInitializer(args.betaInitializer ?? "zeros", this.name),
      gamma: getInitializer(args.gammaInitializer ?? "ones", this.name),
      movingMean: getInitializer(args.movingMeanInitializer ?? "zeros", this.name),
      movingVariance: getInitializer(args.movingVarianceInitializer ?? "ones", this.name),
    };
    this.regs = { beta: getRegularizer(args.betaRegularizer, this.name), gamma: getRegularizer(args.gammaRegularizer, this.name) };
  }

  private axisOf(ndim: number): number {
    const a = this.axis < 0 ? this.axis + ndim : this.axis;
    if (a < 1 || a >= ndim) throw new ValueError(`${this.name}: axis ${this.axis} is not a feature axis of a ${ndim}-d input (the batch is axis 0)`);
    return a;
  }

  override build(shape: Shape | Shape[]): void {
    const s = single(this, shape);
    const a = this.axisOf(s.length);
    const c = knownDim(this, s, a, `channel axis (${this.axis})`);
    this.inputSpec = { ndim: s.length, axes: { [a]: c } };
    const make = (k: keyof BatchNormalization["inits"]) => initWeight([c], this.dtype, this.inits[k]);
    if (this.scale) this.addWeight("gamma", make("gamma"), this.regs.gamma);
    if (this.center) this.addWeight("beta", make("beta"), this.regs.beta);
    this.registerBuffer("movingMean", make("movingMean"));
    this.registerBuffer("movingVariance", make("movingVariance"));
    super.build(shape);
  }

  computeOutputShape(s: Shape | Shape[]): Shape {
    return [...single(this, s)];
  }

  protected override axisHint(): string {
    return "; the channels must match those the layer was built for";
  }

  protected compute(inputs: Tensor | Tensor[]): Tensor {
    const x = castFloat(singleTensor(this, inputs), this.movingMean!.dtype);
    const a = this.axisOf(x.ndim);
    const c = x.shape[a];
    const bshape = x.shape.map((_, i) => (i === a ? c : 1)); // gamma, beta and the statistics broadcast along the channel axis
    const axes = x.shape.map((_, i) => i).filter((i) => i !== a);
    let y: Tensor;
    if (this.training) {
      const m = mean(x, axes, true);
      const v = variance(x, axes, { correction: 0, keepDim: true });
      noGrad(() => {
        const keep = this.momentum;
        copy_(this.movingMean!, add(mul(this.movingMean!, keep), mul(reshape(m, [c]), 1 - keep)));
        copy_(this.movingVariance!, add(mul(this.movingVariance!, keep), mul(reshape(v, [c]), 1 - keep)));
      });
      y = mul(sub(x, m), rsqrt(add(v, this.epsilon)));
    } else y = mul(sub(x, reshape(this.movingMean!, bshape)), rsqrt(add(reshape(this.movingVariance!, bshape), this.epsilon)));
    if (this.gamma) y = mul(y, reshape(this.gamma, bshape));
    if (this.beta) y = add(y, reshape(this.beta, bshape));
    return y;
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: serializeInitializer(this.inits.beta),
      gammaInitializer: serializeInitializer(this.inits.gamma),
      movingMeanInitializer: serializeInitializer(this.inits.movingMean),
      movingVarianceInitializer: serializeInitializer(this.inits.movingVariance),
      betaRegularizer: this.regs.beta?.toJSON() ?? null,
      gammaRegularizer: this.regs.gamma?.toJSON() ?? null,
    };
  }
}

/** Normalizes each sample over its last axis: y = gamma·(x − mean)/√(var + epsilon) + beta (epsilon 1e-3). */
export class LayerNormalization extends Layer {
  static override className = "LayerNormalization";
  gamma: Parameter | null = null;
  beta: Parameter | null = null;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;

  constructor(args: LayerArgs & { epsilon?: number; center?: boolean; scale?: boolean } = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-3;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
  }

  override build(shape: Shape | Shape[]): void {
    const s = single(this, shape);
    const c = knownDim(this, s, -1, "last dimension");
    this.inputSpec = { minNdim: 2, axes: { [-1]: c } };
    if (this.scale) this.addWeight("gamma", add(zeros([c], { dtype: this.dtype }), 1));
    if (this.center) this.addWeight("beta", zeros([c], { dtype: this.dtype }));
    super.build(shape);
  }

  computeOutputShape(s: Shape | Shape[]): Shape {
    return [...single(this, s)];
  }

  protected compute(inputs: Tensor | Tensor[]): Tensor {
    const x = castFloat(singleTensor(this, inputs), (this.gamma ?? this.beta)?.dtype ?? this.dtype);
    return layerNorm(x, [x.shape[x.ndim - 1]], this.gamma, this.beta, this.epsilon);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), epsilon: this.epsilon, center: this.center, scale: this.scale };
  }
}
