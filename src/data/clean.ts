// Data cleaning on Tables (and outlier clipping on tensors): drop or impute missing values, drop
// duplicate rows, clip outliers to bounds learned from the data (IQR, z-score or quantiles).
import { contiguous } from "../ops/index.js";
import { shapeStr, ShapeError, Storage, Tensor, ValueError } from "../tensor/index.js";
import { type Cell, type Column, isMissing, isNumericType, Table } from "./table.js";

function pickColumns(op: string, t: Table, names?: readonly string[]): Column[] {
  if (!(t instanceof Table)) throw new ValueError(`${op}: expected a Table (from readCsv, readJsonl or Table.fromRecords)`);
  return (names ?? t.columnNames).map((n) => t.column(n));
}

/** Rows with a missing value in any (how 'any', default) or all (how 'all') of the columns removed. */
export function dropMissing(t: Table, opts: { columns?: readonly string[]; how?: "any" | "all" } = {}): Table {
  const cols = pickColumns("dropMissing", t, opts.columns);
  const how = opts.how ?? "any";
  const keep: number[] = [];
  for (let i = 0; i < t.numRows; i++) {
    const miss = cols.filter((c) => isMissing(c, i)).length;
    if (how === "any" ? miss === 0 : miss < cols.length || cols.length === 0) keep.push(i);
  }
  return t.take(keep);
}

export type ImputeStrategy = "mean" | "median" | "mostFrequent" | "constant";

/** The sorted non-missing numbers of a numeric column. */
function presentNumbers(c: Column): number[] {
  return Array.from(c.values as Float64Array).filter((v) => !Number.isNaN(v));
}

/** Linear-interpolation quantile of sorted values (NumPy's default), q in [0, 1]. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function mostFrequent(c: Column): Cell {
  const counts = new Map<Cell, number>();
  for (let i = 0; i < c.values.length; i++) if (!isMissing(c, i)) counts.set(c.values[i], (counts.get(c.values[i]) ?? 0) + 1);
  let best: Cell = null;
  let bestN = 0;
  // Ties go to the smallest value, as scikit-learn's SimpleImputer does.
  for (const [v, n] of counts) if (n > bestN || (n === bestN && best !== null && v !== null && v < best)) (best = v), (bestN = n);
  return best;
}

/**
 * Missing values filled per column: 'mean' or 'median' for numeric columns ('mostFrequent' is used
 * for text columns), 'mostFrequent', or 'constant' with fillValue (one value, or one per column).
 * An int column filled with a non-integer mean becomes a float column.
 */
export function imputeMissing(t: Table, opts: { strategy?: ImputeStrategy; fillValue?: number | string | Record<string, number | string>; columns?: readonly string[] } = {}): Table {
  const strategy = opts.strategy ?? "mean";
  if (!["mean", "median", "mostFrequent", "constant"].includes(strategy))
    throw new ValueError(`imputeMissing: strategy must be 'mean', 'median', 'mostFrequent' or 'constant', got ${JSON.stringify(strategy)}`);
  let out = t;
  for (const c of pickColumns("imputeMissing", t, opts.columns)) {
    const numeric = isNumericType(c.type);
    let fill: Cell;
    if (strategy === "constant") {
      const f = opts.fillValue;
      const perColumn = f !== null && typeof f === "object";
      const given = perColumn ? f[c.name] : f;
      if (given === undefined || given === null) {
        // A per-column record fills only the columns it names (unless columns were listed).
        if (perColumn && !opts.columns) continue;
        throw new ValueError(`imputeMissing: strategy 'constant' needs a fillValue for column '${c.name}'`);
      }
      fill = given;
      if (numeric && typeof fill !== "number") throw new ValueError(`imputeMissing: column '${c.name}' is ${c.type}; its fillValue must be a number, got ${JSON.stringify(fill)}`);
      if (!numeric) fill = String(fill);
    } else if (numeric && strategy !== "mostFrequent") {
      const xs = presentNumbers(c).sort((a, b) => a - b);
      fill = strategy === "mean" ? xs.reduce((a, b) => a + b, 0) / xs.length : quantile(xs, 0.5);
    } else fill = mostFrequent(c);
    if (fill === null || (typeof fill === "number" && Number.isNaN(fill))) continue; // nothing to learn from: all missing
    const values = numeric ? Float64Array.from(c.values as Float64Array, (v) => (Number.isNaN(v) ? (fill as number) : v)) : (c.values as (string | null)[]).map((v) => v ?? (fill as string));
    const type = c.type === "int" && !Number.isInteger(fill) ? "float" : c.type === "bool" && fill !== 0 && fill !== 1 ? "float" : c.type;
    out = out.withColumn({ name: c.name, type, values });
  }
  return out;
}

/** Rows that repeat an earlier row (over the given columns, default all) removed; keep 'first' (default) or 'last'. */
export function dropDuplicates(t: Table, opts: { columns?: readonly string[]; keep?: "first" | "last" } = {}): Table {
  const keys = rowKeys(t, pickColumns("dropDuplicates", t, opts.columns));
  const seen = new Set<string>();
  const keep: number[] = [];
  const order = opts.keep === "last" ? keys.map((_, i) => keys.length - 1 - i) : keys.map((_, i) => i);
  for (const i of order) if (!seen.has(keys[i])) (seen.add(keys[i]), keep.push(i));
  return t.take(keep.sort((a, b) => a - b));
}

/** One string per row that is equal exactly when the rows are (missing equals missing). */
export function rowKeys(t: Table, cols: readonly Column[] = t.columns): string[] {
  return Array.from({ length: t.numRows }, (_, i) => JSON.stringify(cols.map((c) => (isMissing(c, i) ? null : c.values[i]))));
}

export interface OutlierOptions {
  /** 'iqr' (default): [q1 − factor·IQR, q3 + factor·IQR]; 'zscore': mean ± threshold·std; 'quantile': the given quantiles. */
  method?: "iqr" | "zscore" | "quantile";
  /** IQR multiplier (default 1.5). */
  factor?: number;
  /** z-score threshold (default 3). */
  threshold?: number;
  /** Lower and upper quantile (default [0.01, 0.99]). */
  quantiles?: [number, number];
  /** Table columns to clip (default every numeric column). */
  columns?: readonly string[];
}

function bounds(values: number[], o: OutlierOptions): [number, number] {
  const xs = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  const method = o.method ?? "iqr";
  if (method === "iqr") {
    const q1 = quantile(xs, 0.25);
    const q3 = quantile(xs, 0.75);
    const f = o.factor ?? 1.5;
    return [q1 - f * (q3 - q1), q3 + f * (q3 - q1)];
  }
  if (method === "zscore") {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    const t = o.threshold ?? 3;
    return [mean - t * std, mean + t * std];
  }
  if (method === "quantile") {
    const [lo, hi] = o.quantiles ?? [0.01, 0.99];
    if (!(lo >= 0 && lo <= hi && hi <= 1)) throw new ValueError(`clipOutliers: quantiles ${JSON.stringify(o.quantiles)} must satisfy 0 <= lo <= hi <= 1`);
    return [quantile(xs, lo), quantile(xs, hi)];
  }
  throw new ValueError(`clipOutliers: method must be 'iqr', 'zscore' or 'quantile', got ${JSON.stringify(method)}`);
}

/** Columns of a 2-D tensor as arrays of numbers. */
function tensorColumns(op: string, x: Tensor): number[][] {
  if (x.ndim !== 2) throw new ShapeError(`${op}: expected a 2-D tensor [samples, features], got shape ${shapeStr(x.shape)}`);
  const [n, f] = x.shape;
  const v = contiguous(x).dataSync();
  return Array.from({ length: f }, (_, j) => Array.from({ length: n }, (_, i) => v[i * f + j]));
}

/**
 * The clipping bounds per column learned from data: by column name for a Table, by feature index
 * for a 2-D tensor. Learn them on the training set and pass them to clipOutliers for the others.
 */
export function outlierBounds(x: Table | Tensor, opts: OutlierOptions = {}): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  if (x instanceof Tensor) tensorColumns("outlierBounds", x).forEach((col, j) => (out[j] = bounds(col, opts)));
  else
    for (const c of pickColumns("outlierBounds", x, opts.columns ?? x.columns.filter((c) => c.type === "float" || c.type === "int").map((c) => c.name))) {
      if (!isNumericType(c.type)) throw new ValueError(`outlierBounds: column '${c.name}' is ${c.type}; only numeric columns have outliers`);
      out[c.name] = bounds(Array.from(c.values as Float64Array), opts);
    }
  return out;
}

/**
 * Values outside the bounds clipped to them (NaN stays NaN). Bounds are learned from x itself unless
 * given (from outlierBounds on the training data). Returns the same kind as x.
 */
export function clipOutliers<X extends Table | Tensor>(x: X, opts: OutlierOptions & { bounds?: Record<string, [number, number]> } = {}): X {
  const b = opts.bounds ?? outlierBounds(x, opts);
  const clip = (v: number, [lo, hi]: [number, number]) => (v < lo ? lo : v > hi ? hi : v);
  if (x instanceof Tensor) {
    const [n, f] = x.shape;
    const cols = tensorColumns("clipOutliers", x);
    const out = x.dtype === "float64" ? new Float64Array(n * f) : new Float32Array(n * f);
    cols.forEach((col, j) => {
      const bj = b[j];
      if (!bj) throw new ValueError(`clipOutliers: no bounds for feature ${j}`);
      col.forEach((v, i) => (out[i * f + j] = clip(v, bj)));
    });
    return new Tensor(new Storage(x.dtype === "float64" ? "float64" : "float32", out), [n, f]) as X;
  }
  let t = x as Table;
  for (const [name, bn] of Object.entries(b)) {
    const c = t.column(name);
    const values = Float64Array.from(c.values as Float64Array, (v) => clip(v, bn));
    t = t.withColumn({ name, type: c.type === "int" && !values.every((v) => Number.isNaN(v) || Number.isInteger(v)) ? "float" : c.type, values });
  }
  return t as X;
}
