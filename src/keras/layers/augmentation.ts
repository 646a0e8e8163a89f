// Augmentation layers (Keras' RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
// RandomCrop): random per-image transforms of [B, H, W, C] (or one [H, W, C]) in training only;
// in inference they pass images through (RandomCrop takes the centre). Each layer draws from its
// own generator, seeded by `seed` or else from the global one, so manualSeed makes runs repeat.
// The transforms themselves are ingot.data's (src/data/transforms.ts), shared with ImageDataGenerator.
import { defaultGenerator, Generator, isFloatDType, type Tensor, ValueError } from "../../tensor/index.js";
import { to } from "../../ops/index.js";
import { crop, type FillMode, type Interpolation, randomCrop, randomFlip, randomRotation, randomTranslation, randomZoom } from "../../data/transforms.js";
import { checkInt, Layer, type LayerArgs, type Shape, single, singleTensor } from "./base.js";

interface AugmentArgs extends LayerArgs {
  seed?: number | null;
}

abstract class Augmentation extends Layer {
  readonly seed: number | null;
  protected readonly gen: Generator;
  constructor(args: AugmentArgs) {
    super(args);
    this.seed = args.seed ?? null;
    this.gen = new Generator(this.seed ?? defaultGenerator.nextU32());
    this.inputSpec = { minNdim: 3, layout: "[batch, height, width, channels]" };
  }
  computeOutputShape(s: Shape | Shape[]): Shape {
    return [...single(this, s)];
  }
  protected compute(inputs: Tensor | Tensor[]): Tensor {
    const x = singleTensor(this, inputs);
    if (x.ndim !== 3 && x.ndim !== 4)
      throw new ValueError(`${this.name}: expected images [batch, height, width, channels] or one [height, width, channels], got ${x.ndim} dims`);
    if (!this.training) return this.inference(x);
    return this.transform(isFloatDType(x.dtype) ? x : to(x, this.dtype));
  }
  /** Random transforms of [N, H, W, C] (or [H, W, C]) images, in training. */
  protected abstract transform(x: Tensor): Tensor;
  /** What inference does: pass the images through. */
  protected inference(x: Tensor): Tensor {
    return x;
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), seed: this.seed };
  }
}

/** A factor f as the range [−f, f], or a range [lo, hi] as given (checked here so errors name the layer). */
function range(layer: string, what: string, f: number | number[] | undefined): [number, number] {
  const r = typeof f === "number" ? [-Math.abs(f), Math.abs(f)] : Array.isArray(f) ? [...f] : [];
  if (r.length !== 2 || r.some((v) => typeof v !== "number" || !Number.isFinite(v)) || r[0] > r[1])
    throw new ValueError(`${layer}: ${what} must be a number f (the range [−f, f]) or a range [lo, hi], got ${JSON.stringify(f)}`);
  return [r[0], r[1]];
}

export type FlipMode = "horizontal" | "vertical" | "horizontal_and_vertical" | "horizontalAndVertical";

/** Mirrors each image left-right and/or top-bottom with probability ½ each. */
export class RandomFlip extends Augmentation {
  static override className = "RandomFlip";
  readonly mode: FlipMode;
  constructor(args: AugmentArgs & { mode?: FlipMode } = {}) {
    super(args);
    this.mode = args.mode ?? "horizontal_and_vertical";
    if (!["horizontal", "vertical", "horizontal_and_vertical", "horizontalAndVertical"].includes(this.mode))
      throw new ValueError(`${this.name}: mode must be 'horizontal', 'vertical' or 'horizontal_and_vertical', got ${JSON.stringify(args.mode)}`);
  }
  protected transform(x: Tensor): Tensor {
    const mode = this.mode === "horizontalAndVertical" ? "horizontal_and_vertical" : this.mode;
    return randomFlip(x, { mode, generator: this.gen });
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), mode: this.mode };
  }
}

interface WarpArgs extends AugmentArgs {
  fillMode?: FillMode;
  interpolation?: Interpolation;
  fillValue?: number;
}

/** The warping layers: per-image inverse maps applied with a fill mode and interpolation. */
abstract class Warp extends Augmentation {
  readonly fillMode: FillMode;
  readonly interpolation: Interpolation;
  readonly fillValue: number;
  constructor(args: WarpArgs) {
    super(args);
    this.fillMode = args.fillMode ?? "reflect";
    this.interpolation = args.interpolation ?? "bilinear";
    this.fillValue = args.fillValue ?? 0;
    if (!["reflect", "wrap", "constant", "nearest"].includes(this.fillMode))
      throw new ValueError(`${this.name}: fillMode must be 'reflect', 'wrap', 'constant' or 'nearest', got ${JSON.stringify(args.fillMode)}`);
    if (!["bilinear", "nearest"].includes(this.interpolation))
      throw new ValueError(`${this.name}: interpolation must be 'bilinear' or 'nearest', got ${JSON.stringify(args.interpolation)}`);
  }
  /** The options every random warp takes. */
  protected get warp(): { fillMode: FillMode; interpolation: Interpolation; fillValue: number; generator: Generator } {
    return { fillMode: this.fillMode, interpolation: this.interpolation, fillValue: this.fillValue, generator: this.gen };
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), fillMode: this.fillMode, interpolation: this.interpolation, fillValue: this.fillValue };
  }
}

/** Rotates each image by a random angle in factor·[−2π, 2π] (factor 0.1: up to ±36°), counter-clockwise for positive angles. */
export class RandomRotation extends Warp {
  static override className = "RandomRotation";
  readonly factor: [number, number];
  constructor(args: WarpArgs & { factor: number | number[] }) {
    super(args);
    this.factor = range(this.name, "factor", args?.factor);
  }
  protected transform(x: Tensor): Tensor {
    return randomRotation(x, this.factor, this.warp);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: [...this.factor] };
  }
}

/** Shifts each image by random fractions of its height and width (heightFactor 0.2: up to ±20%). */
export class RandomTranslation extends Warp {
  static override className = "RandomTranslation";
  readonly heightFactor: [number, number];
  readonly widthFactor: [number, number];
  constructor(args: WarpArgs & { heightFactor: number | number[]; widthFactor: number | number[] }) {
    super(args);
    this.heightFactor = range(this.name, "heightFactor", args?.heightFactor);
    this.widthFactor = range(this.name, "widthFactor", args.widthFactor);
  }
  protected transform(x: Tensor): Tensor {
    return randomTranslation(x, this.heightFactor, this.widthFactor, this.warp);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), heightFactor: [...this.heightFactor], widthFactor: [...this.widthFactor] };
  }
}

/**
 * Zooms each image by 1 + a random value of heightFactor (and widthFactor, else the same value, which
 * keeps the aspect ratio): positive values zoom out, negative values zoom in, as in Keras.
 */
export class RandomZoom extends Warp {
  static override className = "RandomZoom";
  readonly heightFactor: [number, number];
  readonly widthFactor: [number, number] | null;
  constructor(args: WarpArgs & { heightFactor: number | number[]; widthFactor?: number | number[] | null }) {
    super(args);
    this.heightFactor = range(this.name, "heightFactor", args?.heightFactor);
    this.widthFactor = args.widthFactor === undefined || args.widthFactor === null ? null : range(this.name, "widthFactor", args.widthFactor);
    if (this.heightFactor[0] <= -1 || (this.widthFactor && this.widthFactor[0] <= -1))
      throw new ValueError(`${this.name}: zoom factors must be above -1 (a zoom of 1 + factor must stay positive)`);
  }
  protected transform(x: Tensor): Tensor {
    return randomZoom(x, this.heightFactor, this.widthFactor, this.warp);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), heightFactor: [...this.heightFactor], widthFactor: this.widthFactor ? [...this.widthFactor] : null };
  }
}

/** Crops a random height×width window from each image in training, the centre window in inference. */
export class RandomCrop extends Augmentation {
  static override className = "RandomCrop";
  readonly height: number;
  readonly width: number;
  constructor(args: AugmentArgs & { height: number; width: number }) {
    super(args);
    this.height = checkInt(this.name, "height", args?.height);
    this.width = checkInt(this.name, "width", args.width);
  }
  override computeOutputShape(shape: Shape | Shape[]): Shape {
    const s = single(this, shape);
    this.checkFits(s);
    return [s[0], this.height, this.width, ...s.slice(3)];
  }
  /** Throws unless the images ([batch, height, width, …]) are at least the crop size. */
  private checkFits(s: Shape): void {
    const [h, w] = [s[1], s[2]];
    if ((h !== null && h < this.height) || (w !== null && w < this.width))
      throw new ValueError(`${this.name}: cannot crop ${this.height}×${this.width} from images of ${h}×${w}; lower height/width`);
  }
  protected transform(x: Tensor): Tensor {
    this.checkFits(x.ndim === 4 ? [...x.shape] : [null, ...x.shape]);
    return randomCrop(x, this.height, this.width, { generator: this.gen });
  }
  protected override inference(x: Tensor): Tensor {
    const [h, w] = x.ndim === 4 ? [x.shape[1], x.shape[2]] : [x.shape[0], x.shape[1]];
    this.checkFits([null, h, w]);
    return crop(x, Math.floor((h - this.height) / 2), Math.floor((w - this.width) / 2), this.height, this.width);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), height: this.height, width: this.width };
  }
}
