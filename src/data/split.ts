// Train/test and train/validation/test splits of tensors, Tables or arrays (rows along dim 0),
// shuffled with a seeded generator and optionally stratified so each split keeps the class proportions.
import { type Generator, Tensor, ValueError } from "../tensor/index.js";
import { groupByClass, labelKeys, numRows, permutation, pickGenerator, shuffleInPlace, take, type Rows } from "./util.js";

export interface SplitOptions {
  /** Shuffle before splitting (default true; stratified splits always shuffle). */
  shuffle?: boolean;
  /** Labels to stratify by: each split keeps the class proportions. A tensor [N], [N,1] or one-hot [N,K], or an array. */
  stratify?: Tensor | readonly (number | string)[];
  generator?: Generator;
  seed?: number;
}

/** A size given as a fraction of n (0 < f < 1) or a count. */
function count(op: string, what: string, size: number, n: number, round: (v: number) => number): number {
  if (!(size >= 0)) throw new ValueError(`${op}: ${what} must be a fraction in (0, 1) or a non-negative count, got ${size}`);
  if (size < 1 && !Number.isInteger(size)) return round(size * n);
  if (!Number.isInteger(size)) throw new ValueError(`${op}: ${what} ${size} is neither a fraction below 1 nor a whole count`);
  return size;
}

/**
 * Largest-remainder allocation of `total` among groups proportionally to their sizes, never more
 * than a group has: the per-class test (or validation) counts of a stratified split.
 */
function allocate(sizes: readonly number[], total: number): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  const quota = sizes.map((s) => (n ? (s * total) / n : 0));
  const out = quota.map(Math.floor);
  let rest = total - out.reduce((a, b) => a + b, 0);
  const order = sizes.map((_, k) => k).sort((a, b) => quota[b] - out[b] - (quota[a] - out[a]) || sizes[b] - sizes[a] || a - b);
  for (const k of order) {
    if (rest <= 0) break;
    if (out[k] < sizes[k]) (out[k]++, rest--);
  }
  return out;
}

/** Index lists for splits of the given sizes (the last split takes the rest). */
export function splitIndices(op: string, n: number, sizes: readonly number[], opts: SplitOptions): number[][] {
  const g = pickGenerator(opts);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total > n) throw new ValueError(`${op}: the splits need ${total} samples but there are only ${n}; give smaller sizes`);
  if (opts.stratify === undefined) {
    const order = opts.shuffle === false ? Array.from({ length: n }, (_, i) => i) : permutation(n, g);
    // Unshuffled splits keep the order: train first (as scikit-learn), then the others.
    const rest = n - total;
    const out: number[][] = [order.slice(0, rest)];
    let start = rest;
    for (const s of sizes) out.push(order.slice(start, (start += s)));
    return out;
  }
  if (opts.shuffle === false) throw new ValueError(`${op}: a stratified split must shuffle; leave shuffle at true or drop stratify`);
  const keys = labelKeys(op, opts.stratify);
  if (keys.length !== n) throw new ValueError(`${op}: stratify has ${keys.length} labels but the data has ${n} samples`);
  const { classes, groups } = groupByClass(keys);
  const small = groups.findIndex((gr) => gr.length < 2);
  if (small >= 0 && sizes.some((s) => s > 0))
    throw new ValueError(`${op}: class ${JSON.stringify(classes[small])} has only ${groups[small].length} sample; stratifying needs at least 2 per class (drop or merge rare classes)`);
  const pools = groups.map((gr) => shuffleInPlace([...gr], g));
  const parts: number[][] = sizes.map(() => []);
  const left = pools.map((p) => p.length);
  sizes.forEach((s, k) => {
    const per = allocate(left, s);
    per.forEach((m, c) => {
      parts[k].push(...pools[c].splice(0, m));
      left[c] -= m;
    });
  });
  const train = pools.flat();
  return [train, ...parts].map((p) => shuffleInPlace(p, g));
}

function checkRows(op: string, arrays: readonly Rows[]): number {
  if (!Array.isArray(arrays) || arrays.length === 0) throw new ValueError(`${op}: pass a list of arrays to split, e.g. ${op}([x, y], {...})`);
  const n = numRows(op, arrays[0]);
  arrays.forEach((a, k) => {
    if (numRows(op, a) !== n) throw new ValueError(`${op}: array ${k} has ${numRows(op, a)} samples but array 0 has ${n}; all need the same number of rows`);
  });
  return n;
}

/**
 * Splits each array into train and test rows (the same rows for every array), like scikit-learn's
 * train_test_split. testSize is a fraction (rounded up) or a count, default 0.25.
 * @example const { train: [xTr, yTr], test: [xTe, yTe] } = trainTestSplit([x, y], { testSize: 0.2, stratify: y, seed: 0 });
 */
export function trainTestSplit<T extends Rows[]>(arrays: [...T], opts: SplitOptions & { testSize?: number; trainSize?: number } = {}): { train: T; test: T } {
  const op = "trainTestSplit";
  const n = checkRows(op, arrays);
  let nTest = opts.testSize !== undefined ? count(op, "testSize", opts.testSize, n, Math.ceil) : undefined;
  const nTrain = opts.trainSize !== undefined ? count(op, "trainSize", opts.trainSize, n, Math.floor) : undefined;
  nTest ??= nTrain !== undefined ? n - nTrain : Math.ceil(0.25 * n);
  if (nTrain !== undefined && nTrain + nTest > n) throw new ValueError(`${op}: trainSize ${nTrain} + testSize ${nTest} is more than the ${n} samples`);
  const [trainIdx, testIdx] = splitIndices(op, n, [nTest], opts);
  // A trainSize smaller than the rest leaves samples out, as in scikit-learn.
  const tr = nTrain !== undefined ? trainIdx.slice(0, nTrain) : trainIdx;
  return { train: arrays.map((a) => take(a, tr)) as T, test: arrays.map((a) => take(a, testIdx)) as T };
}

/**
 * Splits each array into train, validation and test rows; valSize and testSize are fractions of
 * the whole (rounded up) or counts (defaults 0.1 and 0.2). With stratify every split keeps the class proportions.
 */
export function trainValTestSplit<T extends Rows[]>(arrays: [...T], opts: SplitOptions & { valSize?: number; testSize?: number } = {}): { train: T; val: T; test: T } {
  const op = "trainValTestSplit";
  const n = checkRows(op, arrays);
  const nVal = count(op, "valSize", opts.valSize ?? 0.1, n, Math.ceil);
  const nTest = count(op, "testSize", opts.testSize ?? 0.2, n, Math.ceil);
  const [tr, va, te] = splitIndices(op, n, [nVal, nTest], opts);
  const pick = (idx: number[]) => arrays.map((a) => take(a, idx)) as T;
  return { train: pick(tr), val: pick(va), test: pick(te) };
}
