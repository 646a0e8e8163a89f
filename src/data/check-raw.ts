// Tables as written: every cell as its text (CSV) or JSON value (JSONL), before any type inference,
// so that checks can see a "12" among numbers and cleaning can write back exactly what it read.
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { ValueError } from "../tensor/index.js";
import { DEFAULT_MISSING, parseCsv, parseJsonl } from "./csv.js";

/** A cell as written: CSV text, or a JSONL string/number/boolean; null = missing. */
export type RawCell = string | number | boolean | null;

export interface RawTable {
  format: "csv" | "jsonl";
  columns: string[];
  /** rows[i][j] is row i, column j. */
  rows: RawCell[][];
}

/** The file's format from its extension (.csv, .tsv → csv; .jsonl, .ndjson → jsonl). */
export function tableFormat(path: string): "csv" | "jsonl" {
  const ext = extname(path).toLowerCase();
  if (ext === ".csv" || ext === ".tsv" || ext === ".txt") return "csv";
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  throw new ValueError(`${path}: cannot tell the format from the extension '${ext}'; name the file .csv or .jsonl`);
}

/** True when a cell holds no value: null (CSV: an unquoted '', NA, NaN, … as readCsv reads them; JSONL: null or an absent key) or blank text. */
export function isMissingCell(v: RawCell): boolean {
  return v === null || (typeof v === "string" && v.trim() === "") || (typeof v === "number" && Number.isNaN(v));
}
const MISSING = new Set(DEFAULT_MISSING);

/** Parses CSV or JSONL text into a RawTable (CSV: unquoted missing tokens become null; JSONL: absent keys become null). */
export function parseRawTable(text: string, format: "csv" | "jsonl", source: string): RawTable {
  if (format === "csv") {
    const delimiter = source.toLowerCase().endsWith(".tsv") ? "\t" : ",";
    const names = parseCsv(text.split(/\r?\n/, 1)[0] + "\n", { delimiter }, source).columnNames;
    const t = parseCsv(text, { delimiter, columns: Object.fromEntries(names.map((n) => [n, "string" as const])) }, source);
    const cols = t.columns.map((c) => c.values as (string | null)[]);
    return { format, columns: names, rows: Array.from({ length: t.numRows }, (_, i) => cols.map((c) => c[i])) };
  }
  const names = parseJsonl(text, {}, source).columnNames;
  const rows: RawCell[][] = [];
  text.split(/\r?\n/).forEach((line, k) => {
    if (line.trim() === "") return;
    const o = JSON.parse(line) as Record<string, unknown>;
    rows.push(
      names.map((n) => {
        const v = o[n];
        if (v === undefined || v === null) return null;
        if (typeof v === "object") throw new ValueError(`${source} line ${k + 1}: key '${n}' holds ${Array.isArray(v) ? "an array" : "an object"}; the checks need one value per cell`);
        return v as RawCell;
      }),
    );
  });
  return { format, columns: names, rows };
}

/** Reads a .csv or .jsonl file as a RawTable. */
export function readRawTable(path: string): RawTable {
  return parseRawTable(readFileSync(path, "utf8"), tableFormat(path), path);
}

/** A CSV field: quoted when it holds the delimiter, a quote, a line break, edge spaces, or text a reader would take as missing. */
function csvField(v: RawCell, delim: string): string {
  if (v === null) return "";
  const s = String(v);
  if (s.includes(delim) || s.includes('"') || s.includes("\n") || s.includes("\r") || s !== s.trim() || MISSING.has(s)) return `"${s.replace(/"/g, '""')}"`;
  return s;
}

/** The table as CSV (LF line ends, header first) or JSONL (keys in column order, missing cells left out). */
export function formatRawTable(t: RawTable, format: "csv" | "jsonl" = t.format, delim = ","): string {
  if (format === "csv") return [t.columns, ...t.rows].map((r) => r.map((v) => csvField(v, delim)).join(delim)).join("\n") + "\n";
  return t.rows.map((r) => JSON.stringify(Object.fromEntries(t.columns.map((c, j) => [c, r[j]]).filter(([, v]) => v !== null)))).join("\n") + (t.rows.length ? "\n" : "");
}
