// CSV (RFC 4180: quotes, doubled quotes, newlines inside quotes, CRLF) and JSON Lines readers with
// declared or inferred column types. Errors name the file, the line and the column.
import { readFileSync } from "node:fs";
import { ValueError } from "../tensor/index.js";
import { inferType, isNumericType, makeColumn, Table, type ColumnType } from "./table.js";

/** Unquoted CSV fields (and JSONL strings in numeric columns) that mean "no value". */
export const DEFAULT_MISSING: readonly string[] = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "?"];

export interface CsvOptions {
  /** Types of some or all columns; the others are inferred (int, float, bool, else category). */
  columns?: Record<string, ColumnType>;
  /** Whether the first record holds the column names (default true). */
  header?: boolean;
  /** Column names when there is no header (default c0, c1, …). */
  names?: readonly string[];
  /** Field separator, one character (default ','). */
  delimiter?: string;
  /** Unquoted values read as missing (default DEFAULT_MISSING). A quoted value is always literal text. */
  missing?: readonly string[];
}

interface Field {
  text: string;
  quoted: boolean;
}
interface Rec {
  fields: Field[];
  /** 1-based line where the record starts. */
  line: number;
}

/** Splits CSV text into records of fields; throws naming the line on a malformed quote. */
function tokenize(text: string, delim: string, source: string): Rec[] {
  const recs: Rec[] = [];
  let fields: Field[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  let recLine = 1;
  let atFieldStart = true;
  const endField = () => {
    fields.push({ text: field, quoted });
    field = "";
    quoted = false;
    atFieldStart = true;
  };
  const endRecord = () => {
    endField();
    // NOTE: a blank line is one empty unquoted field: skip it rather than read a row of missing values.
    if (!(fields.length === 1 && !fields[0].quoted && fields[0].text === "")) recs.push({ fields, line: recLine });
    fields = [];
  };
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (i < text.length) {
    const ch = text[i];
    if (atFieldStart && ch === '"') {
      quoted = true;
      atFieldStart = false;
      const openLine = line;
      i++;
      for (;;) {
        if (i >= text.length) throw new ValueError(`readCsv: ${source} line ${openLine}: a quoted field opened here is never closed; close it with " (write "" for a quote inside)`);
        const c = text[i];
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === "\n") line++;
        field += c;
        i++;
      }
      const next = text[i];
      if (i < text.length && next !== delim && next !== "\n" && next !== "\r")
        throw new ValueError(`readCsv: ${source} line ${line}: unexpected ${JSON.stringify(next)} after a closing quote; quote the whole field and write "" for a quote inside`);
      continue;
    }
    atFieldStart = false;
    if (ch === delim) {
      endField();
      i++;
    } else if (ch === "\n" || ch === "\r") {
      endRecord();
      i += ch === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
      recLine = line;
    } else {
      field += ch;
      i++;
    }
  }
  if (!atFieldStart || fields.length > 0 || quoted) endRecord();
  return recs;
}

/** Parses CSV text into a Table. `source` names the text in errors. */
export function parseCsv(text: string, opts: CsvOptions = {}, source = "CSV text"): Table {
  const delim = opts.delimiter ?? ",";
  if (delim.length !== 1 || delim === '"' || delim === "\n" || delim === "\r")
    throw new ValueError(`readCsv: delimiter must be one character other than a quote or newline, got ${JSON.stringify(delim)}`);
  const missing = new Set(opts.missing ?? DEFAULT_MISSING);
  const recs = tokenize(text, delim, source);
  const header = opts.header ?? true;
  let names: string[];
  if (header) {
    if (recs.length === 0) throw new ValueError(`readCsv: ${source} is empty; expected a header line with the column names`);
    names = recs.shift()!.fields.map((f) => f.text.trim());
    if (opts.names) names = [...opts.names];
  } else names = opts.names ? [...opts.names] : Array.from({ length: recs[0]?.fields.length ?? 0 }, (_, j) => `c${j}`);
  const dup = names.find((n, j) => names.indexOf(n) !== j);
  if (dup !== undefined) throw new ValueError(`readCsv: ${source} has two columns named '${dup}'; rename one (or pass names)`);
  for (const r of recs)
    if (r.fields.length !== names.length)
      throw new ValueError(
        `readCsv: ${source} line ${r.line} has ${r.fields.length} fields but there are ${names.length} columns (${names.join(", ")}); quote fields that contain '${delim}' or fix the row`,
      );
  checkDeclared("readCsv", source, opts.columns, names);
  const cols = names.map((name, j) => {
    const raw = recs.map((r) => {
      const f = r.fields[j];
      return !f.quoted && missing.has(f.text.trim()) ? null : f.text;
    });
    return makeColumn(name, opts.columns?.[name] ?? inferType(raw), raw, (i) => `${source} line ${recs[i].line}`, "readCsv");
  });
  return new Table(cols);
}

/**
 * Reads a CSV file into a Table with typed columns.
 * @example const t = readCsv("people.csv", { columns: { age: "float", city: "category" } });
 */
export function readCsv(path: string, opts: CsvOptions = {}): Table {
  return parseCsv(readFileSync(path, "utf8"), opts, path);
}

export interface JsonlOptions {
  /** Types of some or all keys; the others are inferred from the values. */
  columns?: Record<string, ColumnType>;
  /** Strings read as missing in numeric and bool columns (default DEFAULT_MISSING); null and absent keys always are. */
  missing?: readonly string[];
}

/** Parses JSON Lines (one object per line; blank lines skipped) into a Table. Keys missing from a line are missing values. */
export function parseJsonl(text: string, opts: JsonlOptions = {}, source = "JSONL text"): Table {
  const missing = new Set(opts.missing ?? DEFAULT_MISSING);
  const objs: Record<string, unknown>[] = [];
  const lines: number[] = [];
  text.split(/\r?\n/).forEach((s, k) => {
    if (s.trim() === "") return;
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch (e) {
      throw new ValueError(`readJsonl: ${source} line ${k + 1} is not valid JSON (${(e as Error).message}); each line must hold one JSON object`);
    }
    if (v === null || typeof v !== "object" || Array.isArray(v))
      throw new ValueError(`readJsonl: ${source} line ${k + 1} holds ${Array.isArray(v) ? "an array" : JSON.stringify(v)}; each line must hold one JSON object`);
    objs.push(v as Record<string, unknown>);
    lines.push(k + 1);
  });
  const names: string[] = [];
  const seen = new Set<string>();
  for (const o of objs) for (const key of Object.keys(o)) if (!seen.has(key)) (seen.add(key), names.push(key));
  checkDeclared("readJsonl", source, opts.columns, names);
  return new Table(
    names.map((name) => {
      const raw = objs.map((o) => o[name]);
      // Text such as "NA" means missing only where a number or boolean is expected.
      const cleared = raw.map((v) => (typeof v === "string" && missing.has(v.trim()) ? null : v));
      const type = opts.columns?.[name] ?? inferType(cleared);
      return makeColumn(name, type, isNumericType(type) ? cleared : raw, (i) => `${source} line ${lines[i]}`, "readJsonl");
    }),
  );
}

/** Reads a JSON Lines file into a Table. */
export function readJsonl(path: string, opts: JsonlOptions = {}): Table {
  return parseJsonl(readFileSync(path, "utf8"), opts, path);
}

function checkDeclared(op: string, source: string, declared: Record<string, ColumnType> | undefined, names: readonly string[]): void {
  for (const k of Object.keys(declared ?? {}))
    if (!names.includes(k)) throw new ValueError(`${op}: column '${k}' was declared but ${source} has no such column; its columns are ${names.join(", ")}`);
}
