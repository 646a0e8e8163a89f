// Convolution layers: Conv1d and Conv2d (weights [out, in/groups, ...kernel], PyTorch's default init).
import { DType, Tensor, ValueError } from "../tensor/index.js";
import { conv1d, conv2d } from "../ops/conv.js";
import { pad, type PadMode } from "../ops/movement.js";
import { Module } from "./module.js";
import { Parameter } from "./parameter.js";
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from "./init.js";
import { empty, ntuple } from "./util.js";
import { checkSize } from "./linear.js";

export interface ConvOptions {
  stride?: number | number[];
  /** Zero-padding per side: a number, one per spatial dim, "valid" (none) or "same" (stride 1 only). */
  padding?: number | number[] | "same" | "valid";
  dilation?: number | number[];
  /** Split channels into groups convolved separately (inChannels and outChannels divisible by it). */
  groups?: number;
  bias?: boolean;
  /** How to pad: "zeros" (default), "reflect", "replicate" or "circular". */
  paddingMode?: "zeros" | "reflect" | "replicate" | "circular";
  dtype?: DType;
}

/** The shared part of Conv1d and Conv2d. */
abstract class ConvNd extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[] | "same" | "valid";
  readonly dilation: number[];
  readonly groups: number;
  readonly paddingMode: NonNullable<ConvOptions["paddingMode"]>;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | number[],
    opts: ConvOptions,
    nd: number,
  ) {
    super();
    const name = this.constructor.name;
    checkSize(name, "inChannels", inChannels, 1);
    checkSize(name, "outChannels", outChannels, 1);
    this.groups = opts.groups ?? 1;
    checkSize(name, "groups", this.groups, 1);
    if (inChannels % this.groups || outChannels % this.groups)
      throw new ValueError(`${name}: inChannels (${inChannels}) and outChannels (${outChannels}) must both be divisible by groups (${this.groups})`);
    const tup = (v: number | number[], what: string, min: number) => {
      const t = ntuple(v, nd);
      if (t.length !== nd || t.some((x) => !Number.isInteger(x) || x < min))
        throw new ValueError(`${name}: ${what} must be an integer ≥ ${min} or ${nd} of them, got ${JSON.stringify(v)}`);
      return t;
    };
    this.kernelSize = tup(kernelSize, "kernelSize", 1);
    this.stride = tup(opts.stride ?? 1, "stride", 1);
    this.dilation = tup(opts.dilation ?? 1, "dilation", 1);
    const p = opts.padding ?? 0;
    if (p === "same" && this.stride.some((s) => s !== 1))
      throw new ValueError(`${name}: padding 'same' needs stride 1, got stride [${this.stride.join(", ")}]; pad explicitly instead`);
    this.padding = p === "same" || p === "valid" ? p : tup(p, "padding", 0);
    this.paddingMode = opts.paddingMode ?? "zeros";
    if (!["zeros", "reflect", "replicate", "circular"].includes(this.paddingMode))
      throw new ValueError(`${name}: paddingMode must be 'zeros', 'reflect', 'replicate' or 'circular', got '${this.paddingMode}'`);
    this.weight = new Parameter(empty([outChannels, inChannels / this.groups, ...this.kernelSize], opts.dtype));
    this.bias = opts.bias === false ? null : new Parameter(empty([outChannels], opts.dtype));
    this.resetParameters();
  }

  /** PyTorch's default: kaiming_uniform_(a=√5) on the weight, U(−1/√fanIn, 1/√fanIn) on the bias. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }

  /** The input padded for a non-zero paddingMode, and the padding left for the convolution. */
  protected prepare(x: Tensor): [Tensor, number | number[] | "same" | "valid"] {
    if (this.paddingMode === "zeros" || this.padding === "valid") return [x, this.padding];
    // Per spatial dim [before, after]; 'same' puts the odd element after, as PyTorch does.
    const per = this.kernelSize.map((k, i) => {
      if (this.padding === "same") {
        const total = this.dilation[i] * (k - 1);
        return [Math.floor(total / 2), total - Math.floor(total / 2)];
      }
      const p = (this.padding as number[])[i];
      return [p, p];
    });
    const list = per.reverse().flat(); // F.pad lists the last dim first
    return [pad(x, list, this.paddingMode as PadMode), 0];
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}`, `kernelSize=[${this.kernelSize.join(", ")}]`, `stride=[${this.stride.join(", ")}]`];
    if (this.padding === "same" || this.padding === "valid") parts.push(`padding='${this.padding}'`);
    else if (this.padding.some((p) => p !== 0)) parts.push(`padding=[${this.padding.join(", ")}]`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=[${this.dilation.join(", ")}]`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push("bias=false");
    if (this.paddingMode !== "zeros") parts.push(`paddingMode='${this.paddingMode}'`);
    return parts.join(", ");
  }
}

/**
 * 1-D convolution over [N, C, L] (or [C, L]) inputs.
 * @example new Conv1d(16, 32, 3, {padding: 1})
 */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | number[], opts: ConvOptions = {}) {
    super(inChannels, outChannels, kernelSize, opts, 1);
  }

  override forward(x: Tensor): Tensor {
    const [xp, padding] = this.prepare(x);
    return conv1d(xp, this.weight, this.bias, { stride: this.stride, padding, dilation: this.dilation, groups: this.groups });
  }
}

/**
 * 2-D convolution over [N, C, H, W] (or [C, H, W]) inputs.
 * @example new Conv2d(3, 32, 3, {padding: 'same'}) // (B, 3, H, W) → (B, 32, H, W)
 */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | number[], opts: ConvOptions = {}) {
    super(inChannels, outChannels, kernelSize, opts, 2);
  }

  override forward(x: Tensor): Tensor {
    const [xp, padding] = this.prepare(x);
    return conv2d(xp, this.weight, this.bias, { stride: this.stride, padding, dilation: this.dilation, groups: this.groups });
  }
}
