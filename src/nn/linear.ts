// Linear (fully connected), Identity and Flatten/Unflatten layers.
import { DType, Tensor, ValueError } from "../tensor/index.js";
import { empty } from "./util.js";
import { flatten, reshape } from "../ops/index.js";
import { linear } from "../ops/matmul.js";
import { Module } from "./module.js";
import { Parameter } from "./parameter.js";
import { kaimingUniform_, uniform_ } from "./init.js";

/** Returns its input unchanged (a placeholder that keeps a model's structure). */
export class Identity extends Module {
  override forward(x: Tensor): Tensor {
    return x;
  }
}

export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  dtype?: DType;
}

/**
 * y = x·Wᵀ + b over the last dim: x [..., inFeatures] → y [..., outFeatures]. Weight [out, in] and
 * bias [out] start in U(−1/√in, 1/√in) as in PyTorch.
 * @example const fc = new Linear(784, 128); const y = fc.call(x); // (B, 784) → (B, 128)
 */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    checkSize("Linear", "inFeatures", inFeatures);
    checkSize("Linear", "outFeatures", outFeatures);
    this.weight = new Parameter(empty([outFeatures, inFeatures], opts.dtype));
    this.bias = opts.bias === false ? null : new Parameter(empty([outFeatures], opts.dtype));
    this.resetParameters();
  }

  /** PyTorch's default: kaiming_uniform_(a=√5) on the weight (bound 1/√in), U(−1/√in, 1/√in) on the bias. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const bound = this.inFeatures > 0 ? 1 / Math.sqrt(this.inFeatures) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }

  override forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/** Flattens dims startDim..endDim (default 1..-1: everything but the batch dim). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  override forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}

/** Splits dim into the given sizes: Unflatten(1, [C, H, W]) turns [B, C·H·W] into [B, C, H, W]. */
export class Unflatten extends Module {
  readonly unflattenedSize: number[];
  constructor(
    readonly dim: number,
    unflattenedSize: readonly number[],
  ) {
    super();
    this.unflattenedSize = [...unflattenedSize];
  }

  override forward(x: Tensor): Tensor {
    const d = this.dim < 0 ? this.dim + x.ndim : this.dim;
    if (d < 0 || d >= x.ndim) throw new ValueError(`Unflatten: dim ${this.dim} is out of range for an input with ${x.ndim} dim(s)`);
    return reshape(x, [...x.shape.slice(0, d), ...this.unflattenedSize, ...x.shape.slice(d + 1)]);
  }

  override extraRepr(): string {
    return `dim=${this.dim}, unflattenedSize=[${this.unflattenedSize.join(", ")}]`;
  }
}

/** Throws unless v is a non-negative integer (layer sizes). */
export function checkSize(layer: string, what: string, v: number, min = 0): void {
  if (!Number.isInteger(v) || v < min) throw new ValueError(`${layer}: ${what} must be an integer ≥ ${min}, got ${v}`);
}
