// Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d (thin modules over the functional ops).
import type { Tensor } from "../tensor/index.js";
import { adaptiveAvgPool2d, avgPool2d, maxPool2d, type AvgPool2dOptions, type MaxPool2dOptions } from "../ops/pool.js";
import { Module } from "./module.js";

const fmt = (v: number | readonly (number | null)[] | null | undefined): string => (Array.isArray(v) ? `[${v.join(", ")}]` : String(v));

/** Max over kH×kW windows of [N, C, H, W] (or [C, H, W]); stride defaults to the kernel size. */
export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: number | number[],
    readonly opts: MaxPool2dOptions = {},
  ) {
    super();
  }

  override forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.opts);
  }

  override extraRepr(): string {
    const o = this.opts;
    return `kernelSize=${fmt(this.kernelSize)}, stride=${fmt(o.stride ?? this.kernelSize)}, padding=${fmt(o.padding ?? 0)}, dilation=${fmt(o.dilation ?? 1)}, ceilMode=${!!o.ceilMode}`;
  }
}

/** Mean over kH×kW windows of [N, C, H, W] (or [C, H, W]); stride defaults to the kernel size. */
export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: number | number[],
    readonly opts: AvgPool2dOptions = {},
  ) {
    super();
  }

  override forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.opts);
  }

  override extraRepr(): string {
    const o = this.opts;
    return `kernelSize=${fmt(this.kernelSize)}, stride=${fmt(o.stride ?? this.kernelSize)}, padding=${fmt(o.padding ?? 0)}`;
  }
}

/** Averages [N, C, H, W] down to a fixed outputSize (null keeps that dim), whatever the input size. */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | (number | null)[]) {
    super();
  }

  override forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  override extraRepr(): string {
    return `outputSize=${fmt(this.outputSize)}`;
  }
}
