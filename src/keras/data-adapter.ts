// What fit, evaluate and predict accept, made uniform: tensors (or lists of tensors for several
// inputs/outputs) cut into batches, or a source of ready batches (a DataLoader, any iterable or
// async iterable of [x, y] / [x, y, sampleWeight] / {xs, ys}).
import { isFloatDType, shapeStr, Tensor, ValueError } from "../tensor/index.js";
import { argmax, reshape, slice, tensor, to } from "../ops/index.js";
import { takeRows } from "../data/util.js";

export type TensorOrList = Tensor | Tensor[];

/** One batch: the model's inputs, its targets (one per output) and per-sample weights. */
export interface Batch {
  xs: Tensor[];
  ys: Tensor[];
  sw: Tensor | null;
}

/** A source of batches: a DataLoader or any (async) iterable. */
export type BatchSource = Iterable<unknown> | AsyncIterable<unknown>;

export function isBatchSource(x: unknown): x is BatchSource {
  if (x instanceof Tensor || Array.isArray(x) || x === null || typeof x !== "object") return false;
  return Symbol.iterator in x || Symbol.asyncIterator in x;
}

/** The number of batches of a source, when it says (DataLoader's length). */
export function sourceLength(s: BatchSource): number | null {
  const n = (s as { length?: unknown }).length;
  return typeof n === "number" && Number.isInteger(n) ? n : null;
}

/** A tensor or list of tensors as a list, with a clear error for anything else. */
export function toList(where: string, what: string, v: unknown): Tensor[] {
  const list = v instanceof Tensor ? [v] : Array.isArray(v) ? v : null;
  if (!list || list.length === 0 || !list.every((t) => t instanceof Tensor))
    throw new ValueError(`${where}: ${what} must be a Tensor or a list of Tensors (one per model ${what === "x" ? "input" : "output"}), got ${describe(v)}`);
  return list as Tensor[];
}

function describe(v: unknown): string {
  if (v === undefined || v === null) return String(v);
  if (Array.isArray(v)) return `an array of ${v.length} ${v.length && typeof v[0] === "number" ? "numbers (wrap it with tensor(...))" : "items"}`;
  return typeof v === "object" ? (v.constructor?.name ?? "an object") : typeof v;
}

/** The common number of samples (dim 0) of all tensors. */
export function numSamples(where: string, groups: [string, Tensor[]][]): number {
  let n: number | null = null;
  let first = "";
  for (const [name, ts] of groups)
    for (const [i, t] of ts.entries()) {
      if (t.ndim === 0) throw new ValueError(`${where}: ${name}${ts.length > 1 ? `[${i}]` : ""} is a 0-d tensor; it needs a batch dim`);
      const label = `${name}${ts.length > 1 ? `[${i}]` : ""}`;
      if (n === null) {
        n = t.shape[0];
        first = label;
      } else if (t.shape[0] !== n)
        throw new ValueError(`${where}: ${first} has ${n} samples but ${label} has ${t.shape[0]} (shape ${shapeStr(t.shape)}); they must match`);
    }
  return n ?? 0;
}

/** Float inputs in the model's float dtype (Keras casts inputs to the layer dtype); ints stay. */
export function castInputs(xs: Tensor[], dtype: Tensor["dtype"]): Tensor[] {
  return xs.map((x) => (isFloatDType(x.dtype) && x.dtype !== dtype ? to(x, dtype) : x));
}

/** Rows start..end of every tensor (views). */
export function sliceBatch(b: Batch, start: number, end: number): Batch {
  const f = (t: Tensor) => slice(t, 0, start, end);
  return { xs: b.xs.map(f), ys: b.ys.map(f), sw: b.sw && f(b.sw) };
}

/** The rows listed in idx of every tensor (copied row by row: data needs no gradient, and this is far cheaper than a gather). */
export function takeBatch(b: Batch, idx: ArrayLike<number>): Batch {
  const f = (t: Tensor) => takeRows(t, idx);
  return { xs: b.xs.map(f), ys: b.ys.map(f), sw: b.sw && f(b.sw) };
}

/** A batch from what a source yields: [x, y], [x, y, sampleWeight], {xs, ys, sampleWeight} or, for predict, x alone. */
export function normalizeBatch(where: string, item: unknown, needTargets: boolean): Batch {
  let x: unknown;
  let y: unknown;
  let w: unknown = null;
  if (item instanceof Tensor) x = item;
  else if (Array.isArray(item) && (item.length === 2 || item.length === 3)) [x, y, w = null] = item;
  else if (item && typeof item === "object" && "xs" in item) ({ xs: x, ys: y, sampleWeight: w = null } = item as { xs: unknown; ys: unknown; sampleWeight?: unknown });
  else throw new ValueError(`${where}: a data source must yield [x, y], [x, y, sampleWeight] or {xs, ys}; got ${describe(item)}`);
  const xs = toList(where, "x", x);
  const ys = needTargets || y !== undefined ? toList(where, "y", y) : [];
  if (w !== null && !(w instanceof Tensor)) throw new ValueError(`${where}: sampleWeight in a batch must be a Tensor, got ${describe(w)}`);
  return { xs, ys, sw: (w as Tensor | null) ?? null };
}

/**
 * Per-sample weights from classWeight ({class: weight}) and the targets: the class is the label
 * for integer or [N, 1] targets, the argmax for one-hot rows.
 */
export function classWeights(where: string, y: Tensor, classWeight: Record<number, number>): Tensor {
  const cls = y.ndim >= 2 && y.shape[y.ndim - 1] > 1 ? argmax(y, -1) : y;
  const v = cls.dataSync();
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const c = Math.round(v[i]);
    const w = classWeight[c];
    if (w === undefined)
      throw new ValueError(`${where}: classWeight has no weight for class ${c}; give one for every class, e.g. {${[...new Set(Array.from(v, Math.round))].sort((a, b) => a - b).map((k) => `${k}: 1`).join(", ")}}`);
    out[i] = w;
  }
  return tensor(out, { shape: [v.length] });
}

/** Combines sample weights and class weights into one [N] tensor (or null when neither is given). */
export function combineWeights(where: string, sw: Tensor | null, ys: Tensor[], classWeight: Record<number, number> | undefined): Tensor | null {
  if (!classWeight) return sw ? reshape(sw, [sw.size]) : null;
  if (ys.length !== 1) throw new ValueError(`${where}: classWeight works with one output only; use sampleWeight for models with several outputs`);
  const cw = classWeights(where, ys[0], classWeight);
  if (!sw) return cw;
  const a = sw.dataSync();
  const b = cw.dataSync();
  return tensor(Float32Array.from(b, (v, i) => v * a[i]), { shape: [b.length] });
}
