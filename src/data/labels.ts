// Label utilities: one-hot encoding (Keras' to_categorical), balanced class weights (scikit-learn's
// compute_class_weight) and random over/under-sampling of imbalanced classes (imbalanced-learn).
import { type Generator, shapeStr, Storage, Tensor, ValueError } from "../tensor/index.js";
import { groupByClass, labelKeys, numRows, pickGenerator, shuffleInPlace, take, type Rows } from "./util.js";

/**
 * One-hot rows for integer class labels, float32 by default: labels [N] (or [N, 1]) → [N, numClasses],
 * like Keras' `to_categorical`. numClasses defaults to the largest label + 1.
 * @example oneHot([0, 2, 1], 3) // [[1,0,0],[0,0,1],[0,1,0]]
 */
export function oneHot(labels: Tensor | readonly number[], numClasses?: number, opts: { dtype?: "float32" | "float64" | "int32" } = {}): Tensor {
  let values: ArrayLike<number>;
  let shape: number[];
  if (labels instanceof Tensor) {
    values = labels.dataSync();
    shape = [...labels.shape];
    if (shape.length > 1 && shape[shape.length - 1] === 1) shape.pop();
  } else {
    values = labels;
    shape = [labels.length];
  }
  for (let i = 0; i < values.length; i++)
    if (!Number.isInteger(values[i]) || values[i] < 0) throw new ValueError(`oneHot: label ${values[i]} at position ${i} is not a class index (a non-negative integer)`);
  let k = numClasses;
  if (k === undefined) {
    if (values.length === 0) throw new ValueError("oneHot: cannot infer numClasses from no labels; pass numClasses");
    k = Math.max(...Array.from(values)) + 1;
  }
  if (!Number.isInteger(k) || k < 1) throw new ValueError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  const dtype = opts.dtype ?? "float32";
  const out = dtype === "float64" ? new Float64Array(values.length * k) : dtype === "int32" ? new Int32Array(values.length * k) : new Float32Array(values.length * k);
  for (let i = 0; i < values.length; i++) {
    const c = values[i];
    if (c >= k)
      throw new ValueError(`oneHot: label ${c} at position ${i} is not a class index for ${k} classes (expected an integer 0 to ${k - 1})`);
    out[i * k + c] = 1;
  }
  return new Tensor(new Storage(dtype, out), [...shape, k]);
}

/** Keras' name for oneHot. */
export const toCategorical = oneHot;

/**
 * Class weights keyed by class, for `fit(…, {classWeight})`: 'balanced' gives
 * n_samples / (n_classes · count(class)), as scikit-learn; null gives 1 for every class.
 * `y` is a label tensor [N], [N,1] or one-hot [N,K], or an array of labels.
 */
export function computeClassWeight(mode: "balanced" | null, y: Tensor | readonly (number | string)[]): Record<string, number> {
  if (mode !== "balanced" && mode !== null) throw new ValueError(`computeClassWeight: mode must be 'balanced' or null, got ${JSON.stringify(mode)}`);
  const { classes, groups } = groupByClass(labelKeys("computeClassWeight", y));
  const n = groups.reduce((a, g) => a + g.length, 0);
  const out: Record<string, number> = {};
  classes.forEach((c, k) => (out[String(c)] = mode === "balanced" ? n / (classes.length * groups[k].length) : 1));
  return out;
}

export interface ResampleOptions {
  /** Target per class: 'auto' (default) = the largest class for oversample, the smallest for undersample; or a count per class. */
  samplingStrategy?: "auto" | Record<string, number>;
  generator?: Generator;
  seed?: number;
}

function targets(op: string, classes: (number | string)[], groups: number[][], strategy: ResampleOptions["samplingStrategy"], auto: number): number[] {
  if (strategy === undefined || strategy === "auto") return classes.map(() => auto);
  return classes.map((c, k) => {
    const t = strategy[String(c)];
    if (t === undefined) return groups[k].length;
    if (!Number.isInteger(t) || t < 0) throw new ValueError(`${op}: the target for class ${c} must be a non-negative integer, got ${t}`);
    return t;
  });
}

function resample<X extends Rows, Y extends Tensor | readonly (number | string)[]>(op: string, x: X, y: Y, opts: ResampleOptions, over: boolean): { x: X; y: Y; indices: number[] } {
  const keys = labelKeys(op, y);
  if (numRows(op, x) !== keys.length) throw new ValueError(`${op}: x has ${numRows(op, x)} samples but y has ${keys.length} labels${y instanceof Tensor ? ` (shape ${shapeStr(y.shape)})` : ""}`);
  const g = pickGenerator(opts);
  const { classes, groups } = groupByClass(keys);
  const sizes = groups.map((gr) => gr.length);
  const want = targets(op, classes, groups, opts.samplingStrategy, over ? Math.max(...sizes) : Math.min(...sizes));
  const indices: number[] = [];
  if (over) {
    // imbalanced-learn's RandomOverSampler: every original sample, then random repeats of each short class.
    indices.push(...keys.map((_, i) => i));
    groups.forEach((gr, k) => {
      if (want[k] < gr.length) throw new ValueError(`${op}: class ${classes[k]} has ${gr.length} samples, more than its target ${want[k]}; oversampling only adds samples`);
      for (let r = gr.length; r < want[k]; r++) indices.push(gr[g.int(0, gr.length)]);
    });
  } else {
    // RandomUnderSampler: a random subset of each long class, without repeats, kept in the original order.
    const keep: number[] = [];
    groups.forEach((gr, k) => {
      if (want[k] > gr.length) throw new ValueError(`${op}: class ${classes[k]} has ${gr.length} samples, fewer than its target ${want[k]}; undersampling only removes samples`);
      keep.push(...shuffleInPlace([...gr], g).slice(0, want[k]));
    });
    indices.push(...keep.sort((a, b) => a - b));
  }
  return { x: take(x, indices), y: take(y as Rows, indices) as Y, indices };
}

/**
 * Random oversampling: repeats random samples of the smaller classes until every class has as many
 * as the largest (or the counts in samplingStrategy). Returns the original samples first, then the repeats.
 */
export function oversample<X extends Rows, Y extends Tensor | readonly (number | string)[]>(x: X, y: Y, opts: ResampleOptions = {}): { x: X; y: Y; indices: number[] } {
  return resample("oversample", x, y, opts, true);
}

/** Random undersampling: keeps a random subset of each class as large as the smallest class (or the counts in samplingStrategy), in the original order. */
export function undersample<X extends Rows, Y extends Tensor | readonly (number | string)[]>(x: X, y: Y, opts: ResampleOptions = {}): { x: X; y: Y; indices: number[] } {
  return resample("undersample", x, y, opts, false);
}
