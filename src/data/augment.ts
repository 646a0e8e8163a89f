// An ImageDataGenerator in the style of Keras: random rotation, shifts, shear, zoom and flips
// composed into one affine warp per image, then rescale and feature-wise normalization; flow()
// yields augmented batches, one epoch per iteration.
import { type Generator, IngotError, shapeStr, ShapeError, Storage, Tensor, ValueError } from "../tensor/index.js";
import { contiguous, div, mul, sub } from "../ops/index.js";
import { TensorDataset } from "./dataset.js";
import { DataLoader } from "./loader.js";
import { affineTransform, composeAffine, type DataFormat, type FillMode, flipMatrix, imageLayout, type Interpolation, rotationMatrix, translationMatrix, zoomMatrix } from "./transforms.js";
import { pickGenerator } from "./util.js";

export interface ImageDataGeneratorOptions {
  /** Degrees: a random rotation in [−r, r]. */
  rotationRange?: number;
  /** Below 1: a fraction of the width, shifts in [−f·W, f·W]; 1 or more: pixels; an array: one of its values (pixels). */
  widthShiftRange?: number | readonly number[];
  heightShiftRange?: number | readonly number[];
  /** Degrees of shear, counter-clockwise, in [−s, s]. */
  shearRange?: number;
  /** z gives zoom factors in [1 − z, 1 + z] (a pair gives the range); width and height drawn independently, as Keras. Above 1 zooms out. */
  zoomRange?: number | readonly [number, number];
  horizontalFlip?: boolean;
  verticalFlip?: boolean;
  /** Default 'nearest', as Keras' ImageDataGenerator. */
  fillMode?: FillMode;
  /** The value for fillMode 'constant' (default 0). */
  cval?: number;
  /** Default 'bilinear'. */
  interpolation?: Interpolation;
  /** Multiplies the images after the random transform (e.g. 1/255). */
  rescale?: number;
  /** Subtract the per-channel mean learned by fit(x). */
  featurewiseCenter?: boolean;
  /** Divide by the per-channel std learned by fit(x). */
  featurewiseStdNormalization?: boolean;
  /** Default 'channelsLast' [N, H, W, C]. */
  dataFormat?: DataFormat;
}

export interface FlowOptions {
  /** Default 32. */
  batchSize?: number;
  /** Default true. */
  shuffle?: boolean;
  /** Seeds a private generator for the order and the transforms, so a flow repeats exactly. */
  seed?: number;
  generator?: Generator;
}

/** Augmented batches of (x, y), one epoch per `for … of`; `length` batches per epoch (as a Keras Sequence). */
export class ImageFlow<B extends Tensor[]> implements Iterable<B> {
  constructor(
    private readonly loader: DataLoader<Tensor[], Tensor[]>,
    private readonly apply: (x: Tensor) => Tensor,
  ) {}

  get length(): number {
    return this.loader.length;
  }

  *[Symbol.iterator](): Iterator<B> {
    for (const [x, ...rest] of this.loader) yield [this.apply(x), ...rest] as B;
  }
}

export class ImageDataGenerator {
  readonly opts: Readonly<ImageDataGeneratorOptions>;
  /** Per-channel statistics from fit(). */
  mean: number[] | null = null;
  std: number[] | null = null;

  constructor(opts: ImageDataGeneratorOptions = {}) {
    for (const k of ["rotationRange", "shearRange"] as const) {
      const v = opts[k];
      if (v !== undefined && !(v >= 0)) throw new ValueError(`imageDataGenerator: ${k} must be a non-negative number of degrees, got ${v}`);
    }
    if (typeof opts.zoomRange === "number" && !(opts.zoomRange >= 0 && opts.zoomRange < 1)) throw new ValueError(`imageDataGenerator: zoomRange must be in [0, 1) or a pair [lower, upper], got ${opts.zoomRange}`);
    if (Array.isArray(opts.zoomRange) && !(opts.zoomRange[0] > 0 && opts.zoomRange[0] <= opts.zoomRange[1]))
      throw new ValueError(`imageDataGenerator: zoomRange ${JSON.stringify(opts.zoomRange)} must be an increasing pair of positive factors`);
    this.opts = { ...opts };
  }

  /** Learns the per-channel mean and std of x (needed by featurewiseCenter / featurewiseStdNormalization; otherwise a no-op). */
  fit(x: Tensor): this {
    const L = imageLayout("ImageDataGenerator.fit", x, this.opts.dataFormat);
    const v = contiguous(x).dataSync();
    const sum = new Array<number>(L.c).fill(0);
    const sq = new Array<number>(L.c).fill(0);
    const hw = L.h * L.w;
    const chan = (i: number) => (L.last ? i % L.c : Math.floor(i / hw) % L.c);
    for (let i = 0; i < v.length; i++) sum[chan(i)] += v[i];
    const count = L.n * hw;
    const mean = sum.map((s) => s / count);
    for (let i = 0; i < v.length; i++) sq[chan(i)] += (v[i] - mean[chan(i)]) ** 2;
    this.mean = mean;
    this.std = sq.map((s) => Math.sqrt(s / count));
    return this;
  }

  /** The random output→input matrix of one image. */
  private randomMatrix(g: Generator, h: number, w: number): number[] {
    const o = this.opts;
    const deg = Math.PI / 180;
    const u = (lo: number, hi: number) => lo + (hi - lo) * g.random();
    const shift = (r: number | readonly number[] | undefined, size: number): number => {
      if (r === undefined || r === 0) return 0;
      if (typeof r !== "number") return r[g.int(0, r.length)];
      return r < 1 ? u(-r, r) * size : u(-r, r);
    };
    const theta = o.rotationRange ? u(-o.rotationRange, o.rotationRange) * deg : 0;
    const dx = shift(o.widthShiftRange, w);
    const dy = shift(o.heightShiftRange, h);
    const shear = o.shearRange ? u(-o.shearRange, o.shearRange) * deg : 0;
    const [zlo, zhi] = typeof o.zoomRange === "number" ? [1 - o.zoomRange, 1 + o.zoomRange] : o.zoomRange ?? [1, 1];
    const [zx, zy] = zlo === 1 && zhi === 1 ? [1, 1] : [u(zlo, zhi), u(zlo, zhi)];
    const flipH = !!o.horizontalFlip && g.random() < 0.5;
    const flipV = !!o.verticalFlip && g.random() < 0.5;
    const [cx, cy] = [(w - 1) / 2, (h - 1) / 2];
    const shearM = composeAffine(translationMatrix(cx, cy), [1, -Math.sin(shear), 0, 0, Math.cos(shear), 0], translationMatrix(-cx, -cy));
    // Output pixel → flip → shift → zoom → shear → rotation → input pixel.
    return composeAffine(rotationMatrix(theta, h, w), shearM, zoomMatrix(zx, zy, h, w), translationMatrix(dx, dy), flipMatrix(flipH, flipV, h, w));
  }

  /** Random transforms of a batch (or one image), before rescale/normalization. */
  randomTransform(x: Tensor, opts: { generator?: Generator; seed?: number } = {}): Tensor {
    const L = imageLayout("ImageDataGenerator.randomTransform", x, this.opts.dataFormat);
    const g = pickGenerator(opts);
    const mats = Array.from({ length: L.n }, () => this.randomMatrix(g, L.h, L.w));
    if (mats.every((m) => m.every((v, k) => v === [1, 0, 0, 0, 1, 0][k]))) return x; // nothing to do
    return affineTransform(x, mats, { fillMode: this.opts.fillMode ?? "nearest", fillValue: this.opts.cval ?? 0, interpolation: this.opts.interpolation, dataFormat: this.opts.dataFormat });
  }

  /** Rescale, then feature-wise centring and normalization (as Keras' standardize). */
  standardize(x: Tensor): Tensor {
    const o = this.opts;
    let y = x;
    if (o.rescale !== undefined && o.rescale !== 1) y = mul(y, o.rescale);
    if (o.featurewiseCenter || o.featurewiseStdNormalization) {
      if (!this.mean || !this.std) throw new IngotError("ImageDataGenerator: featurewiseCenter/featurewiseStdNormalization need statistics; call fit(xTrain) first");
      const L = imageLayout("ImageDataGenerator.standardize", x, o.dataFormat);
      const shape = L.last ? [L.c] : [L.c, 1, 1];
      const make = (v: number[]) => new Tensor(new Storage(y.dtype, y.dtype === "float64" ? Float64Array.from(v) : Float32Array.from(v)), shape);
      if (o.featurewiseCenter) y = sub(y, make(this.mean));
      // NOTE: +1e-6 as Keras does, so a constant channel does not divide by zero.
      if (o.featurewiseStdNormalization) y = div(y, make(this.std.map((s) => s + 1e-6)));
    }
    return y;
  }

  /** Random transforms, then standardize: what flow() yields for each batch. */
  augment(x: Tensor, opts: { generator?: Generator; seed?: number } = {}): Tensor {
    return this.standardize(this.randomTransform(x, opts));
  }

  /**
   * Batches of augmented images (and their labels), reshuffled and re-augmented every epoch, like
   * Keras' `datagen.flow(x, y, batch_size)`. Iterate it once per epoch.
   * @example for (const [xb, yb] of datagen.flow(xTrain, yTrain, { batchSize: 32 })) { … }
   */
  flow(x: Tensor, y: Tensor, opts?: FlowOptions): ImageFlow<[Tensor, Tensor]>;
  flow(x: Tensor, y?: null, opts?: FlowOptions): ImageFlow<[Tensor]>;
  flow(x: Tensor, y?: Tensor | null, opts: FlowOptions = {}): ImageFlow<[Tensor, Tensor]> | ImageFlow<[Tensor]> {
    const L = imageLayout("ImageDataGenerator.flow", x, this.opts.dataFormat);
    if (!L.batched) throw new ShapeError(`ImageDataGenerator.flow: expected a batch of images [N, H, W, C] or [N, C, H, W], got shape ${shapeStr(x.shape)}`);
    if (y && (y.ndim === 0 || y.shape[0] !== L.n)) throw new ShapeError(`ImageDataGenerator.flow: x has ${L.n} images but y has shape ${shapeStr(y.shape)}; y needs one row per image`);
    const g = opts.generator ?? (opts.seed !== undefined ? pickGenerator({ seed: opts.seed }) : undefined);
    const ds = y ? new TensorDataset(x, y) : new TensorDataset(x);
    const loader = new DataLoader<Tensor[], Tensor[]>(ds, { batchSize: opts.batchSize ?? 32, shuffle: opts.shuffle ?? true, generator: g });
    return new ImageFlow<[Tensor, Tensor]>(loader, (xb) => this.augment(xb, { generator: g }));
  }
}

/** An ImageDataGenerator (Keras' name in camelCase, as TensorFlow.js would spell it). */
export function imageDataGenerator(opts: ImageDataGeneratorOptions = {}): ImageDataGenerator {
  return new ImageDataGenerator(opts);
}
