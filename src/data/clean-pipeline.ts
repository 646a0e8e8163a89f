// `ingot data clean`: a declared cleaning pipeline (JSON) applied step by step to a CSV/JSONL file,
// deterministically — the same input and pipeline give byte-identical output — with a lineage record
// (input and output SHA-256, the pipeline, rows and cells changed per step, the Ingot version).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { ValueError } from "../tensor/index.js";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.js";
import { VERSION } from "../version.js";
import { quantile } from "./clean.js";
import { formatRawTable, isMissingCell, parseRawTable, type RawCell, type RawTable, tableFormat } from "./check-raw.js";
import { PII_TYPES, type PiiType, pseudonymizePii, redactPii } from "./pii.js";
import { parseBool, parseNumber } from "./table.js";

export type CleanStep =
  | { op: "drop_missing"; axis?: "rows" | "columns"; columns?: string[]; how?: "any" | "all"; threshold?: number }
  | { op: "fill_missing"; columns?: string[]; strategy: "mean" | "median" | "mode" | "constant"; value?: string | number | boolean }
  | { op: "convert_units"; column: string; to: string; from?: string; unit_column?: string }
  | { op: "coerce_type"; columns: string[]; type: "float" | "int" | "bool" | "string"; errors?: "missing" | "raise" }
  | { op: "drop_duplicates"; columns?: string[]; keep?: "first" | "last" }
  | { op: "cap_outliers"; columns?: string[]; method?: "iqr" | "percentile"; factor?: number; percentiles?: [number, number] }
  | { op: "pii"; columns?: string[]; mode: "redact" | "pseudonymize"; types?: PiiType[]; key_env?: string };

export interface CleanPipeline {
  steps: CleanStep[];
}

/** What one step did. */
export interface StepRecord {
  op: CleanStep["op"];
  rows_in: number;
  rows_out: number;
  columns_removed: string[];
  cells_changed: number;
  /** Learned values: fill values, clipping bounds, … */
  details?: Record<string, unknown>;
}

export interface CleanLineage {
  ingot_version: string;
  input: { path: string; sha256: string; rows: number; columns: number };
  pipeline: CleanPipeline;
  steps: StepRecord[];
  output: { path: string; sha256: string; rows: number; columns: number };
}

const STEP_KEYS: Record<CleanStep["op"], string[]> = {
  drop_missing: ["axis", "columns", "how", "threshold"],
  fill_missing: ["columns", "strategy", "value"],
  convert_units: ["column", "to", "from", "unit_column"],
  coerce_type: ["columns", "type", "errors"],
  drop_duplicates: ["columns", "keep"],
  cap_outliers: ["columns", "method", "factor", "percentiles"],
  pii: ["columns", "mode", "types", "key_env"],
};

/** Units by dimension: the factor to the base unit (m, kg, s, l); temperatures are affine (see toBase). */
const UNITS: Record<string, [string, number]> = {
  mm: ["length", 1e-3], cm: ["length", 1e-2], m: ["length", 1], km: ["length", 1e3], in: ["length", 0.0254], ft: ["length", 0.3048], yd: ["length", 0.9144], mi: ["length", 1609.344],
  mg: ["mass", 1e-6], g: ["mass", 1e-3], kg: ["mass", 1], t: ["mass", 1e3], oz: ["mass", 0.028349523125], lb: ["mass", 0.45359237],
  ms: ["time", 1e-3], s: ["time", 1], min: ["time", 60], h: ["time", 3600], d: ["time", 86400],
  ml: ["volume", 1e-3], l: ["volume", 1], gal: ["volume", 3.785411784],
  C: ["temperature", 1], F: ["temperature", 1], K: ["temperature", 1],
}; // prettier-ignore

/** A value converted between two units of one dimension, rounded to 12 significant digits (so 10 in → 25.4 cm, not 25.400000000000002). */
export function convertUnit(x: number, from: string, to: string): number {
  const f = UNITS[from];
  const t = UNITS[to];
  if (!f || !t) throw new ValueError(`convert_units: unknown unit '${!f ? from : to}'; known units: ${Object.keys(UNITS).join(", ")}`);
  if (f[0] !== t[0]) throw new ValueError(`convert_units: cannot convert ${from} (${f[0]}) to ${to} (${t[0]})`);
  let y: number;
  if (f[0] === "temperature") {
    const k = from === "C" ? x + 273.15 : from === "F" ? ((x - 32) * 5) / 9 + 273.15 : x;
    y = to === "C" ? k - 273.15 : to === "F" ? ((k - 273.15) * 9) / 5 + 32 : k;
  } else y = (x * f[1]) / t[1];
  return Number(y.toPrecision(12));
}

function fail(i: number, step: CleanStep | Record<string, unknown>, msg: string): never {
  throw new ValueError(`pipeline step ${i + 1} (${String((step as { op?: unknown }).op)}): ${msg}`);
}

/** Checks a pipeline's shape: known ops, known keys, required fields. */
export function validatePipeline(p: unknown): CleanPipeline {
  if (!p || typeof p !== "object" || !Array.isArray((p as CleanPipeline).steps)) throw new ValueError(`the pipeline must be a JSON object {"steps": [ … ]}`);
  (p as CleanPipeline).steps.forEach((s, i) => {
    if (!s || typeof s !== "object") fail(i, {}, "each step must be an object with an 'op'");
    const keys = STEP_KEYS[s.op];
    if (!keys) fail(i, s, `unknown op; the ops are ${Object.keys(STEP_KEYS).join(", ")}`);
    for (const k of Object.keys(s)) if (k !== "op" && !keys.includes(k)) fail(i, s, `unknown key '${k}'; this op takes ${keys.join(", ")}`);
    if (s.op === "fill_missing" && !["mean", "median", "mode", "constant"].includes(s.strategy)) fail(i, s, `strategy must be mean, median, mode or constant`);
    if (s.op === "fill_missing" && s.strategy === "constant" && s.value === undefined) fail(i, s, `strategy 'constant' needs a 'value'`);
    if (s.op === "convert_units" && (!s.column || !s.to || (!s.from === !s.unit_column))) fail(i, s, `give 'column', 'to', and one of 'from' (a unit for the whole column) or 'unit_column' (a column naming each row's unit)`);
    if (s.op === "coerce_type" && (!Array.isArray(s.columns) || !["float", "int", "bool", "string"].includes(s.type))) fail(i, s, `give 'columns' (a list) and 'type' (float, int, bool or string)`);
    if (s.op === "pii" && !["redact", "pseudonymize"].includes(s.mode)) fail(i, s, `mode must be 'redact' or 'pseudonymize'`);
    if (s.op === "pii") for (const t of s.types ?? []) if (!PII_TYPES.includes(t)) fail(i, s, `unknown PII type '${t}'; the types are ${PII_TYPES.join(", ")}`);
    if (s.op === "cap_outliers" && s.method !== undefined && s.method !== "iqr" && s.method !== "percentile") fail(i, s, `method must be 'iqr' or 'percentile'`);
    if (s.op === "cap_outliers" && s.percentiles && !(s.percentiles[0] >= 0 && s.percentiles[0] < s.percentiles[1] && s.percentiles[1] <= 100)) fail(i, s, `percentiles must be [lo, hi] with 0 ≤ lo < hi ≤ 100`);
    if (s.op === "drop_missing" && s.threshold !== undefined && !(s.threshold >= 0 && s.threshold <= 1)) fail(i, s, `threshold must be a fraction in [0, 1]`);
  });
  return p as CleanPipeline;
}

/** A cell as a number (null when missing or not a number). */
function num(v: RawCell): number | null {
  if (v === null || isMissingCell(v) || typeof v === "boolean") return null;
  if (typeof v === "number") return v;
  return parseNumber(v) ?? null;
}

function colIndex(t: RawTable, i: number, step: CleanStep, name: string): number {
  const j = t.columns.indexOf(name);
  if (j < 0) fail(i, step, `no column '${name}'; the columns are ${t.columns.join(", ")}`);
  return j;
}

/** Cells are the same when they write the same text (so "5" → 5 is no change for a CSV). */
const same = (a: RawCell, b: RawCell) => a === b || (a !== null && b !== null && String(a) === String(b));

/** Applies one step; returns the new table and its record (cells changed counted cell by cell on kept rows). */
function applyStep(t: RawTable, step: CleanStep, i: number, env: NodeJS.ProcessEnv): [RawTable, StepRecord] {
  const rec: StepRecord = { op: step.op, rows_in: t.rows.length, rows_out: t.rows.length, columns_removed: [], cells_changed: 0 };
  const cols = (names: string[] | undefined) => (names ?? t.columns).map((n) => colIndex(t, i, step, n));
  const mapCells = (js: number[], f: (v: RawCell, row: RawCell[], j: number) => RawCell): RawTable => {
    const rows = t.rows.map((r) => {
      const out = [...r];
      for (const j of js) {
        const v = f(r[j], r, j);
        if (!same(v, r[j])) rec.cells_changed++;
        out[j] = v;
      }
      return out;
    });
    return { ...t, rows };
  };
  const keepRows = (keep: (r: RawCell[], k: number) => boolean): RawTable => {
    const rows = t.rows.filter(keep);
    rec.rows_out = rows.length;
    return { ...t, rows };
  };
  const numbersOf = (j: number) => t.rows.map((r) => num(r[j])).filter((x): x is number => x !== null);
  switch (step.op) {
    case "drop_missing": {
      const js = cols(step.columns);
      if ((step.axis ?? "rows") === "rows") {
        const how = step.how ?? "any";
        return [keepRows((r) => (how === "any" ? !js.some((j) => isMissingCell(r[j])) : !js.every((j) => isMissingCell(r[j])))), rec];
      }
      // Columns whose missing fraction is above the threshold (default 0: any missing value) go.
      const limit = step.threshold ?? 0;
      const drop = js.filter((j) => t.rows.filter((r) => isMissingCell(r[j])).length / Math.max(1, t.rows.length) > limit);
      rec.columns_removed = drop.map((j) => t.columns[j]);
      const keep = t.columns.map((_, j) => j).filter((j) => !drop.includes(j));
      return [{ ...t, columns: keep.map((j) => t.columns[j]), rows: t.rows.map((r) => keep.map((j) => r[j])) }, rec];
    }
    case "fill_missing": {
      const js = cols(step.columns);
      const fills: Record<string, RawCell> = {};
      for (const j of js) {
        let fill: RawCell;
        if (step.strategy === "constant") fill = step.value as RawCell;
        else if (step.strategy === "mode") {
          const counts = new Map<string, [number, RawCell]>();
          for (const r of t.rows) if (!isMissingCell(r[j])) counts.set(String(r[j]), [(counts.get(String(r[j]))?.[0] ?? 0) + 1, r[j]]);
          // Ties go to the smallest value as text, as scikit-learn's SimpleImputer does.
          fill = [...counts.entries()].sort((a, b) => b[1][0] - a[1][0] || (a[0] < b[0] ? -1 : 1))[0]?.[1][1] ?? null;
        } else {
          const xs = numbersOf(j).sort((a, b) => a - b);
          const present = t.rows.filter((r) => !isMissingCell(r[j])).length;
          if (xs.length < present) fail(i, step, `column '${t.columns[j]}' holds values that are not numbers; coerce_type it first, or use strategy 'mode' or 'constant'`);
          fill = xs.length ? Number((step.strategy === "mean" ? xs.reduce((a, b) => a + b, 0) / xs.length : quantile(xs, 0.5)).toPrecision(12)) : null;
        }
        fills[t.columns[j]] = fill;
      }
      rec.details = { fill: fills };
      return [mapCells(js, (v, _r, j) => (isMissingCell(v) && fills[t.columns[j]] !== null ? fills[t.columns[j]] : v)), rec];
    }
    case "convert_units": {
      const j = colIndex(t, i, step, step.column);
      const u = step.unit_column === undefined ? -1 : colIndex(t, i, step, step.unit_column);
      convertUnit(0, step.from ?? step.to, step.to); // checks the target unit before any row
      const out = mapCells([j], (v, r) => {
        const x = num(v);
        const from = u >= 0 ? (isMissingCell(r[u]) ? null : String(r[u]).trim()) : step.from!;
        if (x === null || from === null) return v;
        return convertUnit(x, from, step.to);
      });
      if (u >= 0) {
        // Every row is now in the target unit: say so in the unit column.
        for (const r of out.rows) if (!isMissingCell(r[j]) && num(r[j]) !== null && !isMissingCell(r[u]) && r[u] !== step.to) (r[u] = step.to), rec.cells_changed++;
      }
      return [out, rec];
    }
    case "coerce_type": {
      const js = cols(step.columns);
      const bad = (v: RawCell, j: number): RawCell => {
        if (step.errors === "raise") fail(i, step, `column '${t.columns[j]}': ${JSON.stringify(v)} is not ${step.type === "int" ? "an integer" : step.type === "bool" ? "a boolean" : "a number"}; fix the value or use "errors": "missing"`);
        return null;
      };
      return [
        mapCells(js, (v, _r, j) => {
          if (isMissingCell(v)) return v;
          if (step.type === "string") return String(v);
          if (step.type === "bool") {
            const b = parseBool(v);
            return b === undefined ? bad(v, j) : b === 1;
          }
          const x = num(v);
          if (x === null || (step.type === "int" && !Number.isInteger(x))) return bad(v, j);
          return x;
        }),
        rec,
      ];
    }
    case "drop_duplicates": {
      const js = cols(step.columns);
      const keys = t.rows.map((r) => JSON.stringify(js.map((j) => (isMissingCell(r[j]) ? null : r[j]))));
      const seen = new Set<string>();
      const keep = new Set<number>();
      const order = step.keep === "last" ? keys.map((_, k) => keys.length - 1 - k) : keys.map((_, k) => k);
      for (const k of order) if (!seen.has(keys[k])) (seen.add(keys[k]), keep.add(k));
      return [keepRows((_, k) => keep.has(k)), rec];
    }
    case "cap_outliers": {
      const js = step.columns ? cols(step.columns) : t.columns.map((_, j) => j).filter((j) => numbersOf(j).length * 2 > t.rows.filter((r) => !isMissingCell(r[j])).length);
      const bounds: Record<string, [number, number]> = {};
      for (const j of js) {
        const xs = numbersOf(j).sort((a, b) => a - b);
        if (!xs.length) continue;
        if ((step.method ?? "iqr") === "iqr") {
          const [q1, q3] = [quantile(xs, 0.25), quantile(xs, 0.75)];
          const f = step.factor ?? 1.5;
          bounds[t.columns[j]] = [q1 - f * (q3 - q1), q3 + f * (q3 - q1)];
        } else {
          const [lo, hi] = step.percentiles ?? [1, 99];
          bounds[t.columns[j]] = [quantile(xs, lo / 100), quantile(xs, hi / 100)];
        }
      }
      rec.details = { bounds };
      return [
        mapCells(js, (v, _r, j) => {
          const b = bounds[t.columns[j]];
          const x = num(v);
          if (!b || x === null) return v;
          return x < b[0] ? Number(b[0].toPrecision(12)) : x > b[1] ? Number(b[1].toPrecision(12)) : v;
        }),
        rec,
      ];
    }
    case "pii": {
      const js = cols(step.columns);
      let f: (s: string) => string;
      if (step.mode === "redact") f = (s) => redactPii(s, step.types);
      else {
        const envName = step.key_env ?? "INGOT_PII_KEY";
        const key = env[envName];
        if (!key) fail(i, step, `pseudonymize needs a secret key in the environment variable ${envName} (set it, e.g. ${envName}=$(openssl rand -hex 32); keep it to get the same tokens next time)`);
        f = (s) => pseudonymizePii(s, key, step.types);
        rec.details = { key_env: envName };
      }
      return [mapCells(js, (v) => (typeof v === "string" ? f(v) : v)), rec];
    }
  }
}

/** Runs a pipeline over a table; `env` supplies pseudonymization keys (default process.env). */
export function runPipeline(t: RawTable, pipeline: CleanPipeline, env: NodeJS.ProcessEnv = process.env): { table: RawTable; steps: StepRecord[] } {
  validatePipeline(pipeline);
  const steps: StepRecord[] = [];
  pipeline.steps.forEach((s, i) => {
    const [next, rec] = applyStep(t, s, i, env);
    steps.push(rec);
    t = next;
  });
  return { table: t, steps };
}

const sha256 = (b: string | Uint8Array) => createHash("sha256").update(b).digest("hex");

/**
 * Cleans a file with a pipeline: writes `out` (CSV or JSONL by its extension) and `out.lineage.json`,
 * both atomically. The output depends only on the input bytes, the pipeline and the keys.
 * @example cleanFile("raw.csv", { steps: [{ op: "drop_duplicates" }] }, "clean.csv")
 */
export function cleanFile(input: string, pipeline: CleanPipeline | string, out: string, env: NodeJS.ProcessEnv = process.env): CleanLineage {
  let p: CleanPipeline;
  if (typeof pipeline === "string") {
    try {
      p = JSON.parse(readFileSync(pipeline, "utf8")) as CleanPipeline;
    } catch (e) {
      throw new ValueError(`cannot read the pipeline ${pipeline}: ${(e as Error).message}`);
    }
  } else p = pipeline;
  validatePipeline(p);
  const bytes = readFileSync(input);
  const table = parseRawTable(bytes.toString("utf8"), tableFormat(input), input);
  const { table: cleaned, steps } = runPipeline(table, p, env);
  const text = formatRawTable(cleaned, tableFormat(out), out.toLowerCase().endsWith(".tsv") ? "\t" : ",");
  writeFileAtomic(out, text);
  const lineage: CleanLineage = {
    ingot_version: VERSION,
    input: { path: input, sha256: sha256(bytes), rows: table.rows.length, columns: table.columns.length },
    pipeline: p,
    steps,
    output: { path: out, sha256: sha256(text), rows: cleaned.rows.length, columns: cleaned.columns.length },
  };
  writeJsonAtomic(`${out}.lineage.json`, lineage);
  return lineage;
}
