// Helpers shared by the data modules: taking rows of tensors/tables/arrays, reading labels, and
// picking the random generator (an explicit one, a seed, or the default one).
import { allocArray, defaultGenerator, Generator, IngotError, shapeStr, Storage, Tensor, ValueError } from "../tensor/index.js";
import { contiguous } from "../ops/index.js";
import { Table } from "./table.js";

/** Something with rows that the splitters and samplers can take: a tensor (dim 0), a Table or an array. */
export type Rows = Tensor | Table | readonly unknown[];

/** The generator to use: `generator` if given, else a fresh one seeded with `seed`, else the default one. */
export function pickGenerator(opts: { generator?: Generator; seed?: number } = {}): Generator {
  if (opts.generator) return opts.generator;
  if (opts.seed !== undefined) return new Generator(opts.seed);
  return defaultGenerator;
}

/** A random permutation of 0..n-1 (Fisher–Yates, the same draws as `randperm`). */
export function permutation(n: number, g: Generator): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = g.int(0, i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Shuffles an array in place with the generator. */
export function shuffleInPlace<T>(a: T[], g: Generator): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = g.int(0, i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Number of rows (dim 0 of a tensor). */
export function numRows(op: string, a: Rows): number {
  if (a instanceof Tensor) {
    if (a.ndim === 0) throw new ValueError(`${op}: a 0-d tensor has no rows; give tensors with the samples along dim 0`);
    return a.shape[0];
  }
  if (a instanceof Table) return a.numRows;
  if (Array.isArray(a)) return a.length;
  throw new ValueError(`${op}: expected a Tensor, a Table or an array, got ${typeof a}`);
}

/**
 * The rows of a tensor at `indices` (dim 0), copied into a new contiguous tensor of the same dtype.
 * NOTE: a plain copy, not an op: data pipelines never need gradients, and indexSelect would build a
 * full-size index tensor (too large for 60 000 MNIST rows).
 */
export function takeRows(t: Tensor, indices: ArrayLike<number>): Tensor {
  if (t.ndim === 0) throw new ValueError("takeRows: a 0-d tensor has no rows");
  if (t.dtype === "int4") throw new ValueError("takeRows: int4 tensors are packed two values per byte; dequantize them first");
  const src = contiguous(t).dataSync();
  const n = t.shape[0];
  const row = n === 0 ? 0 : t.size / n;
  const out = allocArray(t.dtype, indices.length * row);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new IngotError(`takeRows: index ${i} is out of range for ${n} rows`);
    out.set(src.subarray(i * row, (i + 1) * row), k * row);
  }
  return new Tensor(new Storage(t.dtype, out), [indices.length, ...t.shape.slice(1)]);
}

/** Rows of any Rows value, keeping its kind. */
export function take<T extends Rows>(a: T, indices: readonly number[]): T {
  if (a instanceof Tensor) return takeRows(a, indices) as T;
  if (a instanceof Table) return a.take(indices) as T;
  return indices.map((i) => (a as readonly unknown[])[i]) as unknown as T;
}

/**
 * Class labels as one key per sample: a 1-D tensor or array, a [N, 1] tensor, or one-hot rows
 * [N, K] (their argmax). Keys are numbers or strings.
 */
export function labelKeys(op: string, y: Tensor | readonly (number | string | null)[]): (number | string)[] {
  if (!(y instanceof Tensor)) {
    if (!Array.isArray(y)) throw new ValueError(`${op}: labels must be a tensor or an array, got ${typeof y}`);
    return y.map((v, i) => {
      if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v)))
        throw new ValueError(`${op}: label ${i} is missing; drop or impute missing labels first`);
      return v;
    });
  }
  const v = y.dataSync();
  if (y.ndim === 1) return Array.from(v as ArrayLike<number>);
  if (y.ndim === 2 && y.shape[1] === 1) return Array.from(v as ArrayLike<number>);
  if (y.ndim === 2) {
    const [n, k] = y.shape;
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (v[i * k + j] > v[i * k + best]) best = j;
      out.push(best);
    }
    return out;
  }
  throw new ValueError(`${op}: labels must be 1-D [N], [N,1] or one-hot [N,K], got shape ${shapeStr(y.shape)}`);
}

/** Sample indices grouped by class, classes in sorted order (numbers numerically, then strings). */
export function groupByClass(keys: readonly (number | string)[]): { classes: (number | string)[]; groups: number[][] } {
  const map = new Map<number | string, number[]>();
  keys.forEach((k, i) => {
    const g = map.get(k);
    if (g) g.push(i);
    else map.set(k, [i]);
  });
  const classes = [...map.keys()].sort(compareKeys);
  return { classes, groups: classes.map((c) => map.get(c)!) };
}

/** Orders numbers before strings, numbers numerically, strings by code unit. */
export function compareKeys(a: number | string, b: number | string): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "number") return -1;
  if (typeof b === "number") return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
