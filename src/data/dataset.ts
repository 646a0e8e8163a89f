// Datasets (PyTorch's torch.utils.data names): the abstract Dataset, TensorDataset, Subset,
// ConcatDataset, and randomSplit. DataLoader lives in loader.ts.
import { type Generator, IndexError, shapeStr, ShapeError, Tensor, ValueError } from "../tensor/index.js";
import { select, stack, tensor } from "../ops/index.js";
import { permutation, pickGenerator, takeRows } from "./util.js";

/** What the default collate makes of a list of items: tensors, numbers and booleans stack into one tensor; arrays and objects collate per entry. */
export type Collated<T> = T extends Tensor | number | boolean
  ? Tensor
  : T extends readonly unknown[]
    ? { -readonly [K in keyof T]: Collated<T[K]> }
    : T extends object
      ? { [K in keyof T]: Collated<T[K]> }
      : T[];

/** A map-style dataset: `length` items, item i from `get(i)`. Subclass it and implement both. */
export abstract class Dataset<T = unknown> implements Iterable<T> {
  abstract get length(): number;
  abstract get(index: number): T;

  /** Items at these indices collated into one batch; subclasses may do it faster (TensorDataset copies rows at once). */
  getBatch(indices: readonly number[]): Collated<T> {
    return defaultCollate(indices.map((i) => this.get(i)));
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
}

/** Throws an IndexError unless 0 <= i < n (negative indices are not accepted). */
export function checkIndex(op: string, i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new IndexError(`${op}: index ${i} is out of range for a dataset of ${n} items (expected 0 to ${n - 1})`);
}

/**
 * Samples along dim 0 of equally long tensors: item i is `[t0[i], t1[i], …]`, like torch's TensorDataset.
 * @example const ds = new TensorDataset(images, labels); const [x0, y0] = ds.get(0);
 */
export class TensorDataset extends Dataset<Tensor[]> {
  readonly tensors: readonly Tensor[];

  constructor(...tensors: Tensor[]) {
    super();
    if (tensors.length === 0) throw new ValueError("TensorDataset: give at least one tensor");
    tensors.forEach((t, k) => {
      if (!(t instanceof Tensor)) throw new ValueError(`TensorDataset: argument ${k} is not a tensor`);
      if (t.ndim === 0) throw new ShapeError(`TensorDataset: tensor ${k} is 0-d; every tensor needs the samples along dim 0`);
      if (t.shape[0] !== tensors[0].shape[0])
        throw new ShapeError(`TensorDataset: tensor ${k} has shape ${shapeStr(t.shape)} but tensor 0 has shape ${shapeStr(tensors[0].shape)}; all need the same size in dim 0`);
    });
    this.tensors = tensors;
  }

  get length(): number {
    return this.tensors[0].shape[0];
  }

  get(index: number): Tensor[] {
    checkIndex("TensorDataset", index, this.length);
    return this.tensors.map((t) => select(t, 0, index));
  }

  override getBatch(indices: readonly number[]): Tensor[] {
    for (const i of indices) checkIndex("TensorDataset", i, this.length);
    return this.tensors.map((t) => takeRows(t, indices));
  }
}

/** The items of a dataset at the given indices, in that order, like torch's Subset. */
export class Subset<T> extends Dataset<T> {
  constructor(
    readonly dataset: Dataset<T>,
    readonly indices: readonly number[],
  ) {
    super();
    for (const i of indices) checkIndex("Subset", i, dataset.length);
  }

  get length(): number {
    return this.indices.length;
  }

  get(index: number): T {
    checkIndex("Subset", index, this.indices.length);
    return this.dataset.get(this.indices[index]);
  }

  override getBatch(indices: readonly number[]): Collated<T> {
    for (const i of indices) checkIndex("Subset", i, this.indices.length);
    return this.dataset.getBatch(indices.map((i) => this.indices[i]));
  }
}

/** Datasets one after another, like torch's ConcatDataset. */
export class ConcatDataset<T> extends Dataset<T> {
  private readonly ends: number[] = [];

  constructor(readonly datasets: readonly Dataset<T>[]) {
    super();
    let total = 0;
    for (const d of datasets) this.ends.push((total += d.length));
  }

  get length(): number {
    return this.ends.length ? this.ends[this.ends.length - 1] : 0;
  }

  get(index: number): T {
    checkIndex("ConcatDataset", index, this.length);
    const k = this.ends.findIndex((e) => index < e);
    return this.datasets[k].get(index - (k === 0 ? 0 : this.ends[k - 1]));
  }
}

/**
 * Splits a dataset at random into non-overlapping Subsets of the given lengths, or of the given
 * fractions (summing to 1; the remainder after flooring goes one by one to the first subsets), like
 * torch.utils.data.random_split.
 * @example const [train, val] = randomSplit(ds, [0.8, 0.2], new Generator(42));
 */
export function randomSplit<T>(dataset: Dataset<T>, lengths: readonly number[], generator?: Generator): Subset<T>[] {
  const n = dataset.length;
  let sizes = [...lengths];
  if (sizes.some((l) => !(l >= 0))) throw new ValueError(`randomSplit: lengths must be non-negative, got ${JSON.stringify(lengths)}`);
  const total = sizes.reduce((a, b) => a + b, 0);
  // As in PyTorch: lengths that sum to 1 (and not more than n) are fractions.
  if (Math.abs(total - 1) < 1e-9 && total <= n) {
    sizes = sizes.map((f) => Math.floor(n * f));
    const rest = n - sizes.reduce((a, b) => a + b, 0);
    for (let k = 0; k < rest; k++) sizes[k % sizes.length]++;
  } else {
    if (sizes.some((l) => !Number.isInteger(l)))
      throw new ValueError(`randomSplit: lengths ${JSON.stringify(lengths)} are neither whole numbers nor fractions that sum to 1`);
    if (total !== n) throw new ValueError(`randomSplit: lengths ${JSON.stringify(lengths)} sum to ${total} but the dataset has ${n} items; give lengths that sum to ${n} or fractions that sum to 1`);
  }
  const perm = permutation(n, pickGenerator({ generator }));
  let start = 0;
  return sizes.map((len) => new Subset(dataset, perm.slice(start, (start += len))));
}

/**
 * The default collate: stacks tensors (a new dim 0), turns numbers into a tensor (int32 when all
 * are integers, else float32) and booleans into a bool tensor, and recurses into arrays and objects.
 */
export function defaultCollate<T>(items: readonly T[]): Collated<T> {
  if (items.length === 0) throw new ValueError("collate: cannot collate an empty batch");
  const first = items[0] as unknown;
  if (first instanceof Tensor) return stack(items as unknown as Tensor[]) as Collated<T>;
  if (typeof first === "number") {
    const xs = items as unknown as number[];
    return tensor(xs, { dtype: xs.every(Number.isInteger) ? "int32" : "float32" }) as Collated<T>;
  }
  if (typeof first === "boolean") return tensor(items as unknown as boolean[], { dtype: "bool" }) as Collated<T>;
  if (Array.isArray(first)) {
    for (const it of items)
      if (!Array.isArray(it) || it.length !== first.length) throw new ValueError(`collate: items have different lengths (${first.length} and ${Array.isArray(it) ? it.length : "not an array"})`);
    return first.map((_, k) => defaultCollate(items.map((it) => (it as unknown[])[k]))) as Collated<T>;
  }
  if (first !== null && typeof first === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(first)) out[key] = defaultCollate(items.map((it) => (it as Record<string, unknown>)[key]));
    return out as Collated<T>;
  }
  throw new ValueError(`collate: cannot collate items of type ${first === null ? "null" : typeof first}; pass a collate function`);
}
