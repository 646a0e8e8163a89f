// Feature scaling fitted on the training set and applied to the others (scikit-learn's
// StandardScaler and MinMaxScaler), saved and restored with toJSON/fromJSON.
import { DTypeError, shapeStr, ShapeError, Storage, Tensor, ValueError, IngotError } from "../tensor/index.js";
import { add, clamp, contiguous, div, mul, sub } from "../ops/index.js";

/** Per-feature statistics over dim 0 (the samples), ignoring NaN as scikit-learn does. */
function columnStats(op: string, x: Tensor): { featureShape: number[]; n: number[]; mean: number[]; variance: number[]; min: number[]; max: number[] } {
  checkInput(op, x);
  const [rows] = x.shape;
  const featureShape = x.shape.slice(1);
  const f = rows === 0 ? featureShape.reduce((a, b) => a * b, 1) : x.size / rows;
  const v = contiguous(x).dataSync();
  const n = new Array<number>(f).fill(0);
  const sum = new Array<number>(f).fill(0);
  const min = new Array<number>(f).fill(Infinity);
  const max = new Array<number>(f).fill(-Infinity);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < f; j++) {
      const a = v[i * f + j];
      if (Number.isNaN(a)) continue;
      n[j]++;
      sum[j] += a;
      if (a < min[j]) min[j] = a;
      if (a > max[j]) max[j] = a;
    }
  const mean = sum.map((s, j) => (n[j] ? s / n[j] : NaN));
  // NOTE: two passes (mean first, then squared deviations) — the one-pass E[x²]−E[x]² cancels badly.
  const sq = new Array<number>(f).fill(0);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < f; j++) {
      const a = v[i * f + j];
      if (!Number.isNaN(a)) sq[j] += (a - mean[j]) ** 2;
    }
  return { featureShape, n, mean, variance: sq.map((s, j) => (n[j] ? s / n[j] : NaN)), min, max };
}

function checkInput(op: string, x: Tensor): void {
  if (!(x instanceof Tensor)) throw new ValueError(`${op}: expected a tensor [samples, features…], got ${typeof x}`);
  if (x.ndim === 0) throw new ShapeError(`${op}: expected a tensor [samples, features…], got a 0-d tensor`);
  if (!["float32", "float64", "int32", "uint8", "int8", "bool"].includes(x.dtype)) throw new DTypeError(`${op}: cannot scale a ${x.dtype} tensor`);
}

/** A float tensor of per-feature values shaped like one sample, in x's float dtype. */
function featureTensor(values: readonly number[], shape: readonly number[], dtype: "float32" | "float64"): Tensor {
  return new Tensor(new Storage(dtype, dtype === "float32" ? Float32Array.from(values) : Float64Array.from(values)), shape);
}

function floatOf(x: Tensor): Tensor {
  return x.dtype === "float32" || x.dtype === "float64" ? x : x.to("float32");
}

/** Base of the scalers: the fitted feature shape and the checks transform needs. */
abstract class Scaler {
  featureShape: number[] | null = null;

  protected fitted(op: string, x: Tensor): "float32" | "float64" {
    if (!this.featureShape) throw new IngotError(`${op}: the scaler is not fitted; call fit(train) first (or restore it with fromJSON)`);
    checkInput(op, x);
    if (shapeStr(x.shape.slice(1)) !== shapeStr(this.featureShape))
      throw new ShapeError(`${op}: x has shape ${shapeStr(x.shape)} but the scaler was fitted on samples of shape ${shapeStr(this.featureShape)}; give [N, ${this.featureShape.join(", ")}]`);
    return x.dtype === "float64" ? "float64" : "float32";
  }

  abstract fit(x: Tensor): this;
  abstract transform(x: Tensor): Tensor;

  /** fit(x) then transform(x). */
  fitTransform(x: Tensor): Tensor {
    return this.fit(x).transform(x);
  }
}

/**
 * Standardizes each feature to mean 0 and standard deviation 1 (population std, as scikit-learn;
 * a constant feature is only centred). NaN values are ignored when fitting and stay NaN.
 */
export class StandardScaler extends Scaler {
  readonly withMean: boolean;
  readonly withStd: boolean;
  mean: number[] | null = null;
  scale: number[] | null = null;
  variance: number[] | null = null;

  constructor(opts: { withMean?: boolean; withStd?: boolean } = {}) {
    super();
    this.withMean = opts.withMean ?? true;
    this.withStd = opts.withStd ?? true;
  }

  fit(x: Tensor): this {
    const s = columnStats("StandardScaler.fit", x);
    this.featureShape = s.featureShape;
    this.mean = s.mean;
    this.variance = s.variance;
    // NOTE: a zero (or NaN) std would divide by zero: scale such features by 1, as scikit-learn does.
    this.scale = s.variance.map((v) => (v > 1e-300 ? Math.sqrt(v) : 1));
    return this;
  }

  transform(x: Tensor): Tensor {
    const dtype = this.fitted("StandardScaler.transform", x);
    let y = floatOf(x);
    if (this.withMean) y = sub(y, featureTensor(this.mean!, this.featureShape!, dtype));
    if (this.withStd) y = div(y, featureTensor(this.scale!, this.featureShape!, dtype));
    return y;
  }

  inverseTransform(x: Tensor): Tensor {
    const dtype = this.fitted("StandardScaler.inverseTransform", x);
    let y = floatOf(x);
    if (this.withStd) y = mul(y, featureTensor(this.scale!, this.featureShape!, dtype));
    if (this.withMean) y = add(y, featureTensor(this.mean!, this.featureShape!, dtype));
    return y;
  }

  toJSON(): { type: "StandardScaler"; withMean: boolean; withStd: boolean; featureShape: number[] | null; mean: number[] | null; scale: number[] | null; variance: number[] | null } {
    return { type: "StandardScaler", withMean: this.withMean, withStd: this.withStd, featureShape: this.featureShape, mean: this.mean, scale: this.scale, variance: this.variance };
  }

  static fromJSON(j: ReturnType<StandardScaler["toJSON"]>): StandardScaler {
    if (j?.type !== "StandardScaler") throw new ValueError(`StandardScaler.fromJSON: expected {type: 'StandardScaler', …}, got type ${JSON.stringify(j?.type)}`);
    const s = new StandardScaler(j);
    Object.assign(s, { featureShape: j.featureShape, mean: j.mean, scale: j.scale, variance: j.variance });
    return s;
  }
}

/**
 * Scales each feature linearly so that the training minimum and maximum map to featureRange
 * (default [0, 1]); a constant feature maps to the range's lower end. `clip` clamps new data into the range.
 */
export class MinMaxScaler extends Scaler {
  readonly featureRange: [number, number];
  readonly clip: boolean;
  dataMin: number[] | null = null;
  dataMax: number[] | null = null;
  scale: number[] | null = null;
  min: number[] | null = null;

  constructor(opts: { featureRange?: [number, number]; clip?: boolean } = {}) {
    super();
    this.featureRange = opts.featureRange ?? [0, 1];
    if (!(this.featureRange[0] < this.featureRange[1])) throw new ValueError(`MinMaxScaler: featureRange ${JSON.stringify(this.featureRange)} must be increasing`);
    this.clip = opts.clip ?? false;
  }

  fit(x: Tensor): this {
    const s = columnStats("MinMaxScaler.fit", x);
    const [lo, hi] = this.featureRange;
    this.featureShape = s.featureShape;
    this.dataMin = s.min.map((m) => (Number.isFinite(m) ? m : NaN));
    this.dataMax = s.max.map((m) => (Number.isFinite(m) ? m : NaN));
    this.scale = this.dataMin.map((m, j) => {
      const range = this.dataMax![j] - m;
      return (hi - lo) / (range > 0 ? range : 1);
    });
    this.min = this.dataMin.map((m, j) => lo - m * this.scale![j]);
    return this;
  }

  transform(x: Tensor): Tensor {
    const dtype = this.fitted("MinMaxScaler.transform", x);
    const y = add(mul(floatOf(x), featureTensor(this.scale!, this.featureShape!, dtype)), featureTensor(this.min!, this.featureShape!, dtype));
    return this.clip ? clamp(y, this.featureRange[0], this.featureRange[1]) : y;
  }

  inverseTransform(x: Tensor): Tensor {
    const dtype = this.fitted("MinMaxScaler.inverseTransform", x);
    return div(sub(floatOf(x), featureTensor(this.min!, this.featureShape!, dtype)), featureTensor(this.scale!, this.featureShape!, dtype));
  }

  toJSON(): { type: "MinMaxScaler"; featureRange: [number, number]; clip: boolean; featureShape: number[] | null; dataMin: number[] | null; dataMax: number[] | null; scale: number[] | null; min: number[] | null } {
    return { type: "MinMaxScaler", featureRange: this.featureRange, clip: this.clip, featureShape: this.featureShape, dataMin: this.dataMin, dataMax: this.dataMax, scale: this.scale, min: this.min };
  }

  static fromJSON(j: ReturnType<MinMaxScaler["toJSON"]>): MinMaxScaler {
    if (j?.type !== "MinMaxScaler") throw new ValueError(`MinMaxScaler.fromJSON: expected {type: 'MinMaxScaler', …}, got type ${JSON.stringify(j?.type)}`);
    const s = new MinMaxScaler(j);
    Object.assign(s, { featureShape: j.featureShape, dataMin: j.dataMin, dataMax: j.dataMax, scale: j.scale, min: j.min });
    return s;
  }
}

/**
 * Fits a StandardScaler on `train` and applies it to train and the others.
 * @example const { values: [xTrain, xTest], scaler } = standardize(rawTrain, rawTest);
 */
export function standardize(train: Tensor, ...others: Tensor[]): { scaler: StandardScaler; values: Tensor[] } {
  const scaler = new StandardScaler().fit(train);
  return { scaler, values: [train, ...others].map((x) => scaler.transform(x)) };
}

/** Fits a MinMaxScaler (range [0, 1]) on `train` and applies it to train and the others. */
export function minMaxScale(train: Tensor, ...others: Tensor[]): { scaler: MinMaxScaler; values: Tensor[] } {
  const scaler = new MinMaxScaler().fit(train);
  return { scaler, values: [train, ...others].map((x) => scaler.transform(x)) };
}
