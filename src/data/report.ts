// The data quality report: per column count, missing, unique, min/max/mean/std and class balance,
// duplicate rows, and warnings; printable as a text table and serializable as JSON.
import { Tensor, ValueError } from "../tensor/index.js";
import { rowKeys } from "./clean.js";
import { type Column, type ColumnType, isMissing, isNumericType, Table } from "./table.js";

export interface ClassCount {
  value: string;
  count: number;
  fraction: number;
}

export interface ColumnReport {
  name: string;
  type: ColumnType;
  /** Non-missing values. */
  count: number;
  missing: number;
  /** Distinct non-missing values. */
  unique: number;
  /** Numeric columns only (null otherwise, or when every value is missing); std is the sample std (n − 1), as pandas' describe. */
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  /** Value counts, most frequent first, for category/bool columns and int columns with few distinct values (at most maxClasses and half the count); else null. */
  classBalance: ClassCount[] | null;
  warnings: string[];
}

export interface QualityReportOptions {
  /** An int column with at most this many distinct values (and at most half as many as values) gets a class balance (default 20). */
  maxClasses?: number;
}

export class QualityReport {
  constructor(
    readonly rows: number,
    readonly columns: ColumnReport[],
    /** Rows equal to an earlier row. */
    readonly duplicateRows: number,
  ) {}

  /** Every column's warnings plus the duplicate count, one line each. */
  get warnings(): string[] {
    const w = this.columns.flatMap((c) => c.warnings.map((s) => `${c.name}: ${s}`));
    if (this.duplicateRows) w.push(`${this.duplicateRows} duplicate row${this.duplicateRows > 1 ? "s" : ""} (dropDuplicates removes them)`);
    return w;
  }

  toJSON(): { rows: number; duplicateRows: number; columns: ColumnReport[]; warnings: string[] } {
    return { rows: this.rows, duplicateRows: this.duplicateRows, columns: this.columns, warnings: this.warnings };
  }

  /** The report as an aligned text table, then class balances and warnings. */
  toString(): string {
    const num = (v: number | null) => (v === null ? "" : String(Number(v.toPrecision(4))));
    const pct = (a: number) => (this.rows ? `${((100 * a) / this.rows).toFixed(1)}%` : "0%");
    const head = ["column", "type", "count", "missing", "unique", "min", "max", "mean", "std"];
    const body = this.columns.map((c) => [c.name, c.type, String(c.count), `${c.missing} (${pct(c.missing)})`, String(c.unique), num(c.min), num(c.max), num(c.mean), num(c.std)]);
    const widths = head.map((_, j) => Math.max(...[head, ...body].map((r) => r[j].length)));
    const line = (r: string[]) => r.map((s, j) => (j < 2 ? s.padEnd(widths[j]) : s.padStart(widths[j]))).join("  ").trimEnd();
    const out = [`${this.rows} rows, ${this.columns.length} columns, ${this.duplicateRows} duplicate rows`, line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)];
    const balanced = this.columns.filter((c) => c.classBalance);
    if (balanced.length) {
      out.push("", "class balance");
      for (const c of balanced) out.push(`  ${c.name}: ${c.classBalance!.map((b) => `${b.value} ${b.count} (${(100 * b.fraction).toFixed(1)}%)`).join(", ")}`);
    }
    const w = this.warnings;
    if (w.length) out.push("", "warnings", ...w.map((s) => `  ${s}`));
    return out.join("\n");
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

function columnReport(c: Column, rows: number, maxClasses: number): ColumnReport {
  const present: (number | string)[] = [];
  for (let i = 0; i < rows; i++) if (!isMissing(c, i)) present.push(c.values[i] as number | string);
  const counts = new Map<number | string, number>();
  for (const v of present) counts.set(v, (counts.get(v) ?? 0) + 1);
  const r: ColumnReport = { name: c.name, type: c.type, count: present.length, missing: rows - present.length, unique: counts.size, min: null, max: null, mean: null, std: null, classBalance: null, warnings: [] };
  if (isNumericType(c.type) && present.length) {
    const xs = present as number[];
    // NOTE: two-pass mean and variance; a one-pass sum of squares loses precision on large offsets.
    r.mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    r.min = xs.reduce((a, b) => (b < a ? b : a), Infinity);
    r.max = xs.reduce((a, b) => (b > a ? b : a), -Infinity);
    r.std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - r.mean!) ** 2, 0) / (xs.length - 1)) : null;
  }
  // An int column is a label column when it has few distinct values, each repeated on average.
  const categorical = c.type === "category" || c.type === "bool" || (c.type === "int" && counts.size <= maxClasses && 2 * counts.size <= present.length);
  if (categorical && present.length) {
    r.classBalance = [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([v, n]) => ({ value: c.type === "bool" ? (v ? "true" : "false") : String(v), count: n, fraction: n / present.length }));
    const top = r.classBalance[0];
    const least = r.classBalance[r.classBalance.length - 1];
    if (r.classBalance.length > 1 && top.count >= 10 * least.count)
      r.warnings.push(`imbalanced: '${top.value}' has ${top.count} rows, '${least.value}' only ${least.count} (see computeClassWeight, oversample, undersample)`);
  }
  if (rows && r.missing / rows >= 0.2) r.warnings.push(`${((100 * r.missing) / rows).toFixed(1)}% missing (see dropMissing, imputeMissing)`);
  if (present.length && counts.size === 1) r.warnings.push("constant: every value is the same; it carries no information");
  if (present.length === 0 && rows) r.warnings.push("every value is missing");
  if (c.type === "category" && counts.size > 0.9 * rows && rows > 20) r.warnings.push("almost every value is distinct: an identifier or free text, not a category?");
  return r;
}

/**
 * A data quality report of a Table (or of a 2-D tensor, one column per feature): per column the
 * count, missing values, distinct values, min/max/mean/std, class balance; duplicate rows; warnings.
 * @example console.log(qualityReport(readCsv("data.csv")).toString());
 */
export function qualityReport(data: Table | Tensor, opts: QualityReportOptions = {}): QualityReport {
  const t = data instanceof Tensor ? Table.fromTensor(data) : data;
  if (!(t instanceof Table)) throw new ValueError("qualityReport: expected a Table (from readCsv, readJsonl or Table.fromRecords) or a 2-D tensor");
  const seen = new Set<string>();
  let dups = 0;
  for (const k of rowKeys(t)) if (seen.has(k)) dups++;
  else seen.add(k);
  return new QualityReport(t.numRows, t.columns.map((c) => columnReport(c, t.numRows, opts.maxClasses ?? 20)), dups);
}
