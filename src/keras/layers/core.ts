// Core layers: InputLayer, Dense, Activation, Flatten, Reshape, Dropout, Rescaling.
import { isFloatDType, ShapeError, type Tensor, ValueError } from "../../tensor/index.js";
import { add, dropout, matmul, mul, reshape, to, zeros } from "../../ops/index.js";
import type { Parameter } from "../../nn/parameter.js";
import { type ActivationId, getActivation, type Activation as ActivationFn } from "../activations.js";
import { getInitializer, type Initializer, type InitializerId, serializeInitializer } from "../initializers.js";
import { getRegularizer, type Regularizer, type RegularizerId } from "../regularizers.js";
import { checkInt, fmtShape, knownDim, Layer, type LayerArgs, type Shape, single, singleTensor } from "./base.js";

/** x as the float dtype of the weights it meets (Keras casts inputs to the layer's dtype). */
export function castFloat(x: Tensor, dtype: Tensor["dtype"]): Tensor {
  return x.dtype === dtype ? x : to(x, dtype);
}

/** The config.json form of an activation; a user function has none. */
export function activationConfig(layer: Layer, a: ActivationFn): string {
  if (a.name === null)
    throw new ValueError(`${layer.name}: a custom activation function cannot be written to config.json; use a named activation ('relu', 'softmax', …)`);
  return a.name;
}

/** The input of a model: checks the shape of what comes in. Made by `input({shape})`. */
export class InputLayer extends Layer {
  static override className = "InputLayer";
  constructor(args: LayerArgs) {
    super(args);
    if (!this.batchInputShape) throw new ValueError("InputLayer: needs inputShape (or batchInputShape), e.g. input({shape: [784]})");
    this.built = true;
    this.inputShapeSeen = this.outputShapeSeen = [...this.batchInputShape];
  }
  override get name(): string {
    return this.assignedName ?? "input";
  }
  computeOutputShape(s: Shape | Shape[]): Shape {
    return [...single(this, s)];
  }
  protected compute(x: Tensor | Tensor[]): Tensor {
    return singleTensor(this, x);
  }
}

/** The activation and the kernel/bias options of Dense and Conv2D. */
export interface KernelLayerArgs extends LayerArgs {
  activation?: ActivationId;
  useBias?: boolean;
  kernelInitializer?: InitializerId;
  biasInitializer?: InitializerId;
  kernelRegularizer?: RegularizerId;
  biasRegularizer?: RegularizerId;
}

/** KernelLayerArgs resolved with Keras' defaults (bias on, glorotUniform kernel, zero bias). */
export interface KernelOptions {
  readonly activation: ActivationFn;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
}

/** Resolves KernelLayerArgs for the layer named `layer` (errors name it). */
export function kernelOptions(layer: string, args: KernelLayerArgs): KernelOptions {
  return {
    activation: getActivation(args.activation, layer),
    useBias: args.useBias ?? true,
    kernelInitializer: getInitializer(args.kernelInitializer ?? "glorotUniform", layer),
    biasInitializer: getInitializer(args.biasInitializer ?? "zeros", layer),
    kernelRegularizer: getRegularizer(args.kernelRegularizer, layer),
    biasRegularizer: getRegularizer(args.biasRegularizer, layer),
  };
}

/** The config.json entries of KernelOptions. */
export function kernelConfig(layer: Layer & KernelOptions): Record<string, unknown> {
  return {
    activation: activationConfig(layer, layer.activation),
    useBias: layer.useBias,
    kernelInitializer: serializeInitializer(layer.kernelInitializer),
    biasInitializer: serializeInitializer(layer.biasInitializer),
    kernelRegularizer: layer.kernelRegularizer?.toJSON() ?? null,
    biasRegularizer: layer.biasRegularizer?.toJSON() ?? null,
  };
}

/** A new weight of the given shape and dtype, filled by an initializer. */
export function initWeight(shape: number[], dtype: Tensor["dtype"], init: Initializer): Tensor {
  const t = zeros(shape, { dtype });
  init.init(t);
  return t;
}

export interface DenseArgs extends KernelLayerArgs {
  units: number;
}

/** y = activation(x·kernel + bias) over the last dim; kernel [in, units] (Keras layout). */
export class Dense extends Layer implements KernelOptions {
  static override className = "Dense";
  kernel: Parameter | null = null;
  bias: Parameter | null = null;
  readonly units: number;
  readonly activation: ActivationFn;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;

  constructor(args: DenseArgs) {
    super(args);
    this.units = checkInt(this.name, "units", args?.units);
    ({
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: this.kernelInitializer,
      biasInitializer: this.biasInitializer,
      kernelRegularizer: this.kernelRegularizer,
      biasRegularizer: this.biasRegularizer,
    } = kernelOptions(this.name, args));
  }

  override build(shape: Shape | Shape[]): void {
    const s = single(this, shape);
    const inDim = knownDim(this, s, -1, "last dimension");
    this.inputSpec = { minNdim: 2, axes: { [-1]: inDim } };
    this.addWeight("kernel", initWeight([inDim, this.units], this.dtype, this.kernelInitializer), this.kernelRegularizer);
    if (this.useBias) this.addWeight("bias", initWeight([this.units], this.dtype, this.biasInitializer), this.biasRegularizer);
    super.build(shape);
  }

  computeOutputShape(s: Shape | Shape[]): Shape {
    return [...single(this, s).slice(0, -1), this.units];
  }

  protected compute(inputs: Tensor | Tensor[]): Tensor {
    const x = castFloat(singleTensor(this, inputs), this.kernel!.dtype);
    let y = matmul(x, this.kernel!); // (B, …, in) · (in, units) → (B, …, units)
    if (this.bias) y = add(y, this.bias);
    return this.activation.fn(y);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      units: this.units,
      ...kernelConfig(this),
    };
  }
}

/** Applies an activation function: `activation({activation: 'relu'})`. */
export class Activation extends Layer {
  static override className = "Activation";
  readonly activation: ActivationFn;
  constructor(args: LayerArgs & { activation: ActivationId }) {
    super(args);
    this.activation = getActivation(args?.activation, this.name);
  }
  computeOutputShape(s: Shape | Shape[]): Shape {
    return [...single(this, s)];
  }
  protected compute(x: Tensor | Tensor[]): Tensor {
    const t = singleTensor(this, x);
    return this.activation.fn(isFloatDType(t.dtype) ? t : to(t, this.dtype));
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), activation: activationConfig(this, this.activation) };
  }
}

/** Flattens every dim but the batch: [B, H, W, C] → [B, H·W·C] (channels-last order, as Keras). */
export class Flatten extends Layer {
  static override className = "Flatten";
  constructor(args: LayerArgs = {}) {
    super(args);
  }
  computeOutputShape(shape: Shape | Shape[]): Shape {
    const s = single(this, shape);
    const rest = s.slice(1);
    return [s[0] ?? null, rest.some((d) => d === null) ? null : rest.reduce((a: number, b) => a * (b as number), 1)];
  }
  protected compute(x: Tensor | Tensor[]): Tensor {
    const t = singleTensor(this, x);
    if (t.ndim === 0) throw new ShapeError(`${this.name}: expected an input with a batch dim, got a 0-d tensor`);
    return reshape(t, [t.shape[0], t.shape.slice(1).reduce((a, b) => a * b, 1)]);
  }
}

/** Reshapes each sample to targetShape (one entry may be -1): [B, 784] → [B, 28, 28, 1]. */
export class Reshape extends Layer {
  static override className = "Reshape";
  readonly targetShape: number[];
  constructor(args: LayerArgs & { targetShape: number[] }) {
    super(args);
    const t = args?.targetShape;
    if (!Array.isArray(t) || t.some((d) => !Number.isInteger(d) || d < -1) || t.filter((d) => d === -1).length > 1)
      throw new ValueError(`${this.name}: targetShape must be a list of sizes (one may be -1) without the batch dim, got ${JSON.stringify(t)}`);
    this.targetShape = [...t];
  }
  computeOutputShape(shape: Shape | Shape[]): Shape {
    const s = single(this, shape);
    const rest = s.slice(1);
    const known = this.targetShape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    if (rest.some((d) => d === null)) return [s[0] ?? null, ...this.targetShape.map((d) => (d === -1 ? null : d))];
    const n = rest.reduce((a: number, b) => a * (b as number), 1);
    const fits = this.targetShape.includes(-1) ? known > 0 && n % known === 0 : n === known;
    if (!fits) throw new ShapeError(`${this.name}: cannot reshape an input of shape ${fmtShape(s)} (${n} values per sample) to ${fmtShape([null, ...this.targetShape])}`);
    return [s[0] ?? null, ...this.targetShape.map((d) => (d === -1 ? n / known : d))];
  }
  protected compute(x: Tensor | Tensor[]): Tensor {
    const t = singleTensor(this, x);
    const out = this.computeOutputShape([...t.shape]);
    return reshape(t, [t.shape[0], ...(out.slice(1) as number[])]);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), targetShape: [...this.targetShape] };
  }
}

/** Zeroes a fraction `rate` of the values during training and scales the rest by 1/(1 − rate). */
export class Dropout extends Layer {
  static override className = "Dropout";
  readonly rate: number;
  constructor(args: LayerArgs & { rate: number }) {
    super(args);
    const r = args?.rate;
    if (typeof r !== "number" || !(r >= 0 && r < 1)) throw new ValueError(`${this.name}: rate must be in [0, 1), got ${JSON.stringify(r)}`);
    this.rate = r;
  }
  computeOutputShape(s: Shape | Shape[]): Shape {
    return [...single(this, s)];
  }
  protected compute(x: Tensor | Tensor[]): Tensor {
    return dropout(singleTensor(this, x), this.rate, this.training);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate };
  }
}

/** x·scale + offset (e.g. scale 1/255 for pixels), in the layer's float dtype. */
export class Rescaling extends Layer {
  static override className = "Rescaling";
  readonly scale: number;
  readonly offset: number;
  constructor(args: LayerArgs & { scale: number; offset?: number }) {
    super(args);
    if (typeof args?.scale !== "number") throw new ValueError(`${this.name}: scale must be a number, got ${JSON.stringify(args?.scale)}`);
    this.scale = args.scale;
    this.offset = args.offset ?? 0;
  }
  computeOutputShape(s: Shape | Shape[]): Shape {
    return [...single(this, s)];
  }
  protected override outputDType(): Tensor["dtype"] {
    return this.dtype;
  }
  protected compute(x: Tensor | Tensor[]): Tensor {
    const t = singleTensor(this, x);
    return add(mul(isFloatDType(t.dtype) ? t : to(t, this.dtype), this.scale), this.offset);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), scale: this.scale, offset: this.offset };
  }
}
