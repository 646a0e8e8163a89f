// `ingot data check`: the problems in a table (CSV/JSONL), an IDX dataset folder or a text corpus —
// missing values, mixed types and date formats, duplicate rows, outliers (IQR and z-score), label
// imbalance, drift against a reference file (PSI, Kolmogorov–Smirnov) and PII — as one list of
// issues {kind, column, count, …}. docs/data-governance.md gives every rule and threshold.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { ValueError } from "../tensor/index.js";
import { quantile } from "./clean.js";
import { isMissingCell, type RawCell, type RawTable, readRawTable } from "./check-raw.js";
import { ksTwoSample, PSI_MAJOR, PSI_MODERATE, psiCategorical, psiNumeric } from "./check-stats.js";
import { parseIdx } from "./idx.js";
import { countPii, type PiiType } from "./pii.js";
import { parseNumber } from "./table.js";

export type IssueKind =
  | "missing"
  | "mixed_types"
  | "mixed_date_formats"
  | "duplicate_rows"
  | "outliers_iqr"
  | "outliers_zscore"
  | "label_imbalance"
  | "drift"
  | "schema_mismatch"
  | "pii"
  | "length_mismatch";

/** One finding. `count` is what the kind counts (cells, rows, values; see docs/data-governance.md). */
export interface Issue {
  kind: IssueKind;
  /** The column (or IDX file prefix); null for whole-row findings and corpus files. */
  column: string | null;
  count: number;
  /** pii: the PII type. */
  type?: PiiType;
  /** Corpus checks: the file, relative to the folder. */
  file?: string;
  /** 1-based data rows (first 20) where it was found. */
  rows?: number[];
  /** Other details: expected type, examples, formats, bounds, ratio, psi… */
  [detail: string]: unknown;
}

export type ValueKind = "number" | "bool" | "date" | "text" | "empty";

export interface ColumnSummary {
  name: string;
  /** What most present values are. */
  kind: ValueKind;
  count: number;
  missing: number;
  unique: number;
  min?: number;
  max?: number;
  mean?: number;
  std?: number;
  /** Text columns: PII found, per type. */
  pii?: Partial<Record<PiiType, number>>;
}

export interface DriftResult {
  column: string;
  kind: "number" | "category";
  psi: number;
  /** Numeric columns: the two-sample KS statistic and its asymptotic p-value. */
  ks?: number;
  pValue?: number;
  severity: "none" | "moderate" | "major";
}

export interface CheckReport {
  source: string;
  format: "csv" | "jsonl" | "idx" | "corpus";
  rows: number;
  columns: ColumnSummary[];
  /** --target: class counts, most frequent first. */
  classes?: { value: string; count: number }[];
  /** --against: one result per shared column. */
  drift?: DriftResult[];
  against?: string;
  issues: Issue[];
}

export interface CheckOptions {
  /** The label column: its class balance is checked, and it is left out of the outlier checks. */
  target?: string;
  /** A reference table (or file) to measure drift against. */
  against?: RawTable | string;
  /** Flag label imbalance when the largest class has more than this many times the rows of the smallest (default 3). */
  imbalanceRatio?: number;
  /** Quantile bins of the PSI for numeric columns (default 10). */
  psiBins?: number;
  /** Scan text columns for PII (default true). */
  pii?: boolean;
}

const MAX_ROWS_LISTED = 20;
const listRows = (rows: number[]) => rows.slice(0, MAX_ROWS_LISTED).map((i) => i + 1);

/** Date shapes recognized, each with the name it is reported under. */
const DATE_FORMATS: [string, RegExp][] = [
  ["YYYY-MM-DD", /^\d{4}-(0?[1-9]|1[0-2])-(0?[1-9]|[12]\d|3[01])([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/],
  ["YYYY/MM/DD", /^\d{4}\/(0?[1-9]|1[0-2])\/(0?[1-9]|[12]\d|3[01])$/],
  ["NN/NN/YYYY", /^(0?[1-9]|[12]\d|3[01])\/(0?[1-9]|[12]\d|3[01])\/\d{4}$/],
  ["NN-NN-YYYY", /^(0?[1-9]|[12]\d|3[01])-(0?[1-9]|[12]\d|3[01])-\d{4}$/],
  ["DD.MM.YYYY", /^(0?[1-9]|[12]\d|3[01])\.(0?[1-9]|1[0-2])\.\d{4}$/],
  ["Mon D, YYYY", /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2},? \d{4}$/i],
  ["D Mon YYYY", /^\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{4}$/i],
];

/** The date format a value is written in, or null. */
export function dateFormatOf(s: string): string | null {
  const t = s.trim();
  for (const [name, re] of DATE_FORMATS) if (re.test(t)) return name;
  return null;
}

/** What one present cell is: a number, a boolean, a date (with its format) or text. */
function classify(v: RawCell): { kind: Exclude<ValueKind, "empty">; num?: number; format?: string } {
  if (typeof v === "number") return { kind: "number", num: v };
  if (typeof v === "boolean") return { kind: "bool" };
  const s = String(v);
  const n = parseNumber(s);
  if (n !== undefined) return { kind: "number", num: n };
  if (/^(true|false)$/i.test(s.trim())) return { kind: "bool" };
  const f = dateFormatOf(s);
  if (f) return { kind: "date", format: f };
  return { kind: "text" };
}

interface Analyzed {
  summary: ColumnSummary;
  /** Present numbers and their row indices (number columns). */
  nums: number[];
  numRows: number[];
  /** Present values as text (for categorical drift and PII). */
  texts: string[];
  issues: Issue[];
}

function analyzeColumn(t: RawTable, j: number, pii: boolean): Analyzed {
  const name = t.columns[j];
  const missingRows: number[] = [];
  const kinds = { number: [] as number[], bool: [] as number[], date: [] as number[], text: [] as number[] };
  const nums: number[] = [];
  const numRows: number[] = [];
  const formats = new Map<string, number[]>();
  const texts: string[] = [];
  t.rows.forEach((r, i) => {
    const v = r[j];
    if (isMissingCell(v)) return void missingRows.push(i);
    const c = classify(v);
    kinds[c.kind].push(i);
    texts.push(String(v));
    if (c.kind === "number") (nums.push(c.num!), numRows.push(i));
    if (c.format) {
      if (!formats.has(c.format)) formats.set(c.format, []);
      formats.get(c.format)!.push(i);
    }
  });
  const present = t.rows.length - missingRows.length;
  const issues: Issue[] = [];
  if (missingRows.length) issues.push({ kind: "missing", column: name, count: missingRows.length, rows: listRows(missingRows) });
  // The column's kind is what more than half of its present values are; the others are reported.
  const major = (Object.entries(kinds) as [Exclude<ValueKind, "empty">, number[]][]).sort((a, b) => b[1].length - a[1].length)[0];
  const kind: ValueKind = present === 0 ? "empty" : major[1].length * 2 > present ? major[0] : "text";
  if (kind !== "text" && kind !== "empty" && major[1].length < present) {
    const inMajor = new Set(major[1]);
    const odd = t.rows.map((_, i) => i).filter((i) => !isMissingCell(t.rows[i][j]) && !inMajor.has(i));
    const examples = [...new Set(odd.map((i) => String(t.rows[i][j])))].slice(0, 5);
    issues.push({ kind: "mixed_types", column: name, count: odd.length, expected: kind, examples, rows: listRows(odd) });
  }
  if (kind === "date" && formats.size > 1) {
    const byCount = [...formats.entries()].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
    const others = byCount.slice(1).flatMap(([, rows]) => rows).sort((a, b) => a - b);
    issues.push({ kind: "mixed_date_formats", column: name, count: others.length, dominant: byCount[0][0], formats: Object.fromEntries(byCount.map(([f, rows]) => [f, rows.length])), rows: listRows(others) });
  }
  const summary: ColumnSummary = { name, kind, count: present, missing: missingRows.length, unique: new Set(texts).size };
  if (kind === "number" && nums.length) {
    const mean = nums.reduce((a, b) => a + b, 0) / nums.length;
    Object.assign(summary, {
      min: nums.reduce((a, b) => Math.min(a, b), Infinity),
      max: nums.reduce((a, b) => Math.max(a, b), -Infinity),
      mean,
      std: nums.length > 1 ? Math.sqrt(nums.reduce((a, b) => a + (b - mean) ** 2, 0) / (nums.length - 1)) : 0,
    });
  }
  if (kind === "text" && pii) {
    const total: Partial<Record<PiiType, number>> = {};
    for (const s of texts) for (const [type, n] of Object.entries(countPii(s))) total[type as PiiType] = (total[type as PiiType] ?? 0) + n;
    summary.pii = total;
    for (const [type, n] of Object.entries(total).sort()) issues.push({ kind: "pii", column: name, type: type as PiiType, count: n });
  }
  return { summary, nums, numRows, texts, issues };
}

/** IQR (1.5 × IQR beyond the quartiles) and z-score (|z| > 3, sample std) outliers, reported apart. */
function outlierIssues(name: string, nums: number[], rows: number[]): Issue[] {
  const issues: Issue[] = [];
  if (new Set(nums).size <= 2) return issues; // binary codes: every minority value would be "outlying"
  const sorted = [...nums].sort((a, b) => a - b);
  const q1 = quantile(sorted, 0.25);
  const q3 = quantile(sorted, 0.75);
  const lo = q1 - 1.5 * (q3 - q1);
  const hi = q3 + 1.5 * (q3 - q1);
  const iqr = rows.filter((_, k) => nums[k] < lo || nums[k] > hi);
  if (iqr.length) issues.push({ kind: "outliers_iqr", column: name, count: iqr.length, bounds: [lo, hi], rows: listRows(iqr) });
  const mean = nums.reduce((a, b) => a + b, 0) / nums.length;
  const std = Math.sqrt(nums.reduce((a, b) => a + (b - mean) ** 2, 0) / (nums.length - 1));
  if (std > 0) {
    const z = rows.filter((_, k) => Math.abs((nums[k] - mean) / std) > 3);
    if (z.length) issues.push({ kind: "outliers_zscore", column: name, count: z.length, mean, std, rows: listRows(z) });
  }
  return issues;
}

/** Class counts of a label column, most frequent first (ties by value). */
function classCounts(values: readonly string[]): { value: string; count: number }[] {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m.entries()].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
}

function imbalanceIssue(column: string, classes: { value: string; count: number }[], threshold: number): Issue | null {
  if (classes.length < 2) return null;
  const top = classes[0];
  const least = classes[classes.length - 1];
  const ratio = top.count / least.count;
  if (ratio <= threshold) return null;
  return { kind: "label_imbalance", column, count: least.count, ratio, threshold, majority: top.value, minority: least.value, classes: Object.fromEntries(classes.map((c) => [c.value, c.count])) };
}

/** Checks a table; `source` names it in the report. */
export function checkTable(t: RawTable, opts: CheckOptions = {}, source = "table"): CheckReport {
  const ratio = opts.imbalanceRatio ?? 3;
  if (!(ratio >= 1)) throw new ValueError(`checkTable: imbalanceRatio must be ≥ 1, got ${ratio}`);
  if (opts.target !== undefined && !t.columns.includes(opts.target))
    throw new ValueError(`ingot data check: --target '${opts.target}' is not a column of ${source}; its columns are ${t.columns.join(", ")}`);
  const analyzed = t.columns.map((_, j) => analyzeColumn(t, j, opts.pii ?? true));
  const issues: Issue[] = [];
  for (const a of analyzed) {
    issues.push(...a.issues);
    if (a.summary.kind === "number" && a.summary.name !== opts.target) issues.push(...outlierIssues(a.summary.name, a.nums, a.numRows));
  }
  // Exact duplicates: rows equal (cell for cell, missing equal to missing) to an earlier row.
  const seen = new Set<string>();
  const dups: number[] = [];
  t.rows.forEach((r, i) => {
    const k = JSON.stringify(r.map((v) => (isMissingCell(v) ? null : v)));
    if (seen.has(k)) dups.push(i);
    else seen.add(k);
  });
  if (dups.length) issues.push({ kind: "duplicate_rows", column: null, count: dups.length, rows: listRows(dups) });
  const report: CheckReport = { source, format: t.format, rows: t.rows.length, columns: analyzed.map((a) => a.summary), issues };
  if (opts.target !== undefined) {
    const a = analyzed[t.columns.indexOf(opts.target)];
    report.classes = classCounts(a.texts);
    const imb = imbalanceIssue(opts.target, report.classes, ratio);
    if (imb) issues.push(imb);
  }
  if (opts.against !== undefined) {
    const ref = typeof opts.against === "string" ? readRawTable(opts.against) : opts.against;
    report.against = typeof opts.against === "string" ? opts.against : "reference table";
    report.drift = [];
    for (const c of t.columns.filter((c) => !ref.columns.includes(c))) issues.push({ kind: "schema_mismatch", column: c, count: 1, detail: `only in ${source}` });
    for (const c of ref.columns.filter((c) => !t.columns.includes(c))) issues.push({ kind: "schema_mismatch", column: c, count: 1, detail: `only in ${report.against}` });
    for (const c of t.columns.filter((c) => ref.columns.includes(c))) {
      const cur = analyzed[t.columns.indexOf(c)];
      const base = analyzeColumn(ref, ref.columns.indexOf(c), false);
      let d: DriftResult;
      if (cur.summary.kind === "number" && base.summary.kind === "number") {
        const ks = ksTwoSample(base.nums, cur.nums);
        d = { column: c, kind: "number", psi: psiNumeric(base.nums, cur.nums, opts.psiBins ?? 10), ks: ks.statistic, pValue: ks.pValue, severity: "none" };
      } else {
        // Free text (almost every value distinct) has no distribution worth comparing.
        if (cur.summary.unique > 0.5 * cur.summary.count || base.summary.unique > 0.5 * base.summary.count) continue;
        d = { column: c, kind: "category", psi: psiCategorical(base.texts, cur.texts), severity: "none" };
      }
      d.severity = d.psi >= PSI_MAJOR ? "major" : d.psi >= PSI_MODERATE ? "moderate" : "none";
      report.drift.push(d);
      if (d.severity !== "none") issues.push({ kind: "drift", column: c, count: cur.summary.count, psi: d.psi, severity: d.severity, ...(d.ks !== undefined ? { ks: d.ks, pValue: d.pValue } : {}) });
    }
  }
  return report;
}

const IDX_IMAGES = /^(.*)-images-idx\d-ubyte(\.gz)?$/;

/** An IDX folder: for every <prefix>-images / <prefix>-labels pair, length agreement, duplicate images and label balance. */
export function checkIdxDir(dir: string, opts: CheckOptions = {}): CheckReport {
  const files = readdirSync(dir).sort();
  const prefixes = files.map((f) => IDX_IMAGES.exec(f)?.[1]).filter((p): p is string => p !== undefined);
  if (!prefixes.length) throw new ValueError(`ingot data check: ${dir} holds no IDX image files (<prefix>-images-idx3-ubyte[.gz]); pass a folder such as $INGOT_DATA/mnist`);
  const issues: Issue[] = [];
  const columns: ColumnSummary[] = [];
  let rows = 0;
  const classes: { value: string; count: number }[] = [];
  for (const prefix of prefixes) {
    const imgFile = files.find((f) => IDX_IMAGES.exec(f)?.[1] === prefix)!;
    const images = parseIdx(readFileSync(join(dir, imgFile)), imgFile);
    const n = images.shape[0];
    const per = images.shape.slice(1).reduce((a, b) => a * b, 1);
    const data = images.dataSync() as Uint8Array;
    const seen = new Set<string>();
    const dups: number[] = [];
    for (let i = 0; i < n; i++) {
      const h = createHash("sha1").update(data.subarray(i * per, (i + 1) * per)).digest("hex");
      if (seen.has(h)) dups.push(i);
      else seen.add(h);
    }
    if (dups.length) issues.push({ kind: "duplicate_rows", column: prefix, count: dups.length, rows: listRows(dups) });
    rows += n;
    const labelFile = files.find((f) => f.startsWith(`${prefix}-labels-idx1-ubyte`));
    columns.push({ name: prefix, kind: "number", count: n, missing: 0, unique: seen.size });
    if (!labelFile) continue;
    const labels = Array.from(parseIdx(readFileSync(join(dir, labelFile)), labelFile).dataSync() as Uint8Array, String);
    if (labels.length !== n) issues.push({ kind: "length_mismatch", column: prefix, count: Math.abs(labels.length - n), images: n, labels: labels.length });
    const cc = classCounts(labels);
    classes.push(...cc.map((c) => ({ value: `${prefix}:${c.value}`, count: c.count })));
    const imb = imbalanceIssue(`${prefix}-labels`, cc, opts.imbalanceRatio ?? 3);
    if (imb) issues.push(imb);
  }
  return { source: dir, format: "idx", rows, columns, classes, issues };
}

const TEXT_FILE = /\.(txt|md|text|jsonl|json|csv|tsv|html?|xml|log)$/i;

/** A folder of text files: PII counts per file and type (one issue per file and type). */
export function checkCorpus(dir: string): CheckReport {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && TEXT_FILE.test(e.name)) files.push(p);
    }
  };
  walk(dir);
  if (!files.length) throw new ValueError(`ingot data check: ${dir} holds no text files (.txt, .md, .jsonl, …) to scan`);
  const issues: Issue[] = [];
  const total: Partial<Record<PiiType, number>> = {};
  for (const f of files) {
    const counts = countPii(readFileSync(f, "utf8"));
    for (const [type, n] of Object.entries(counts).sort()) {
      issues.push({ kind: "pii", column: null, file: relative(dir, f), type: type as PiiType, count: n });
      total[type as PiiType] = (total[type as PiiType] ?? 0) + n;
    }
  }
  return { source: dir, format: "corpus", rows: files.length, columns: [{ name: "(all files)", kind: "text", count: files.length, missing: 0, unique: files.length, pii: total }], issues };
}

/**
 * Checks a .csv/.jsonl file, an IDX folder (MNIST layout) or a folder of text files (PII only).
 * @example const r = checkData("train.csv", { target: "label", against: "prod.csv" }); r.issues
 */
export function checkData(path: string, opts: CheckOptions = {}): CheckReport {
  if (!existsSync(path)) throw new ValueError(`ingot data check: ${path} does not exist`);
  if (statSync(path).isDirectory()) {
    const idx = readdirSync(path).some((f) => IDX_IMAGES.test(f));
    if (idx) return checkIdxDir(path, opts);
    return checkCorpus(path);
  }
  return checkTable(readRawTable(path), opts, path);
}
