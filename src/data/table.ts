// Table: typed columns read from CSV/JSONL (numbers with NaN for missing, strings with null), the
// input of cleaning and quality reports, turned into tensors with toTensor()/labels().
import { IngotError, shapeStr, Storage, Tensor, ValueError, type DType } from "../tensor/index.js";

/** Column types: numbers (float, int, bool as 0/1; NaN = missing) or text (category, string; null = missing). */
export type ColumnType = "float" | "int" | "bool" | "category" | "string";

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  /** Float64Array for float/int/bool columns, strings (null = missing) for category/string columns. */
  readonly values: Float64Array | readonly (string | null)[];
}

/** A cell value as rows() returns it: a number (NaN = missing), a string, or null (missing text). */
export type Cell = number | string | null;

export function isNumericType(t: ColumnType): boolean {
  return t === "float" || t === "int" || t === "bool";
}

/** True when row i of the column holds no value. */
export function isMissing(c: Column, i: number): boolean {
  const v = c.values[i];
  return v === null || (typeof v === "number" && Number.isNaN(v));
}

export class Table {
  readonly columns: readonly Column[];
  readonly numRows: number;

  constructor(columns: readonly Column[]) {
    const seen = new Set<string>();
    for (const c of columns) {
      if (seen.has(c.name)) throw new ValueError(`Table: column '${c.name}' appears twice; column names must be unique`);
      seen.add(c.name);
      const numeric = isNumericType(c.type);
      if (numeric !== c.values instanceof Float64Array)
        throw new ValueError(`Table: column '${c.name}' of type ${c.type} needs ${numeric ? "a Float64Array" : "an array of strings"} of values`);
    }
    this.numRows = columns.length ? columns[0].values.length : 0;
    for (const c of columns)
      if (c.values.length !== this.numRows)
        throw new ValueError(`Table: column '${c.name}' has ${c.values.length} values but '${columns[0].name}' has ${this.numRows}; columns need equal lengths`);
    this.columns = Object.freeze([...columns]);
  }

  /** A table from row objects; column types are inferred as the readers do (int, float, bool, else category) unless given. */
  static fromRecords(records: readonly Record<string, unknown>[], types: Record<string, ColumnType> = {}): Table {
    const names: string[] = [];
    const seen = new Set<string>();
    for (const r of records) for (const k of Object.keys(r)) if (!seen.has(k)) (seen.add(k), names.push(k));
    return new Table(
      names.map((name) => {
        const raw = records.map((r) => r[name]);
        return makeColumn(name, types[name] ?? inferType(raw), raw);
      }),
    );
  }

  /** A table from a 2-D tensor [N, C], one column per tensor column (int for integer dtypes, else float; names default to c0, c1, …). */
  static fromTensor(x: Tensor, names?: readonly string[]): Table {
    if (x.ndim !== 2) throw new ValueError(`Table.fromTensor: expected a 2-D tensor [rows, columns], got shape ${shapeStr(x.shape)}`);
    const [n, c] = x.shape;
    const cols = names ?? Array.from({ length: c }, (_, j) => `c${j}`);
    if (cols.length !== c) throw new ValueError(`Table.fromTensor: ${cols.length} names for ${c} columns`);
    const v = x.dataSync();
    const type = x.dtype === "float32" || x.dtype === "float64" ? "float" : "int";
    return new Table(cols.map((name, j) => ({ name, type, values: Float64Array.from({ length: n }, (_, i) => v[i * c + j]) })));
  }

  get numColumns(): number {
    return this.columns.length;
  }
  get columnNames(): string[] {
    return this.columns.map((c) => c.name);
  }

  /** The column called `name`; throws naming the columns there are. */
  column(name: string): Column {
    const c = this.columns.find((c) => c.name === name);
    if (!c) throw new ValueError(`Table: no column '${name}'; the columns are ${this.columnNames.map((n) => `'${n}'`).join(", ")}`);
    return c;
  }

  /** A table of only these columns, in this order. */
  select(names: readonly string[]): Table {
    return new Table(names.map((n) => this.column(n)));
  }

  /** A table without these columns. */
  drop(names: readonly string[]): Table {
    names.forEach((n) => this.column(n));
    return new Table(this.columns.filter((c) => !names.includes(c.name)));
  }

  /** The rows at these indices (repeats allowed), in this order. */
  take(indices: readonly number[]): Table {
    for (const i of indices)
      if (!Number.isInteger(i) || i < 0 || i >= this.numRows) throw new IngotError(`Table.take: row ${i} is out of range for ${this.numRows} rows`);
    return new Table(
      this.columns.map((c) => ({
        ...c,
        values: c.values instanceof Float64Array ? Float64Array.from(indices, (i) => (c.values as Float64Array)[i]) : indices.map((i) => (c.values as (string | null)[])[i]),
      })),
    );
  }

  /** The first n rows. */
  head(n = 5): Table {
    return this.take(Array.from({ length: Math.min(n, this.numRows) }, (_, i) => i));
  }

  /** A table with this column added, or replacing the column of the same name. */
  withColumn(col: Column): Table {
    const i = this.columns.findIndex((c) => c.name === col.name);
    const cols = [...this.columns];
    if (i >= 0) cols[i] = col;
    else cols.push(col);
    return new Table(cols);
  }

  /** Row i as an object. */
  row(i: number): Record<string, Cell> {
    const out: Record<string, Cell> = {};
    for (const c of this.columns) out[c.name] = c.values[i];
    return out;
  }

  /** All rows as objects. */
  rows(): Record<string, Cell>[] {
    return Array.from({ length: this.numRows }, (_, i) => this.row(i));
  }

  /** The sorted distinct non-missing values of a category or string column. */
  categories(name: string): string[] {
    const c = this.column(name);
    if (isNumericType(c.type)) throw new ValueError(`Table.categories: column '${name}' is ${c.type}, not category or string`);
    return [...new Set((c.values as (string | null)[]).filter((v): v is string => v !== null))].sort();
  }

  /**
   * The columns as one tensor [rows, columns] (all columns unless named). Category columns become
   * their codes in `categories(name)` order; missing values become NaN.
   */
  toTensor(names: readonly string[] = this.columnNames, opts: { dtype?: DType } = {}): Tensor {
    const dtype = opts.dtype ?? "float32";
    if (dtype !== "float32" && dtype !== "float64") throw new ValueError(`Table.toTensor: dtype must be float32 or float64, got ${dtype}`);
    const cols = names.map((n) => this.column(n));
    for (const c of cols)
      if (c.type === "string") throw new ValueError(`Table.toTensor: column '${c.name}' is free text (string); declare it as 'category' or leave it out`);
    const n = this.numRows;
    const out = dtype === "float32" ? new Float32Array(n * cols.length) : new Float64Array(n * cols.length);
    cols.forEach((c, j) => {
      const v = c.values instanceof Float64Array ? c.values : codesOf(c, this.categories(c.name));
      for (let i = 0; i < n; i++) out[i * cols.length + j] = v[i];
    });
    return new Tensor(new Storage(dtype, out), [n, cols.length]);
  }

  /**
   * Class labels of one column as int32 codes [rows] plus the class names: category columns map to
   * their index in `classes` (sorted unless given), int/bool columns are taken as they are.
   */
  labels(name: string, classes?: readonly string[]): { labels: Tensor; classes: string[] } {
    const c = this.column(name);
    const n = this.numRows;
    const out = new Int32Array(n);
    let names: string[];
    if (c.type === "category" || c.type === "string") {
      names = classes ? [...classes] : this.categories(name);
      const codes = codesOf(c, names);
      for (let i = 0; i < n; i++) {
        if (Number.isNaN(codes[i])) {
          const v = c.values[i];
          throw new ValueError(v === null ? `Table.labels: row ${i} of '${name}' is missing; drop or impute it first` : `Table.labels: row ${i} of '${name}' is '${v}', which is not one of the classes ${JSON.stringify(names)}`);
        }
        out[i] = codes[i];
      }
    } else {
      const v = c.values as Float64Array;
      let max = -1;
      for (let i = 0; i < n; i++) {
        if (!Number.isInteger(v[i]) || v[i] < 0) throw new ValueError(`Table.labels: row ${i} of '${name}' is ${v[i]}; class labels must be non-negative integers (or a category column)`);
        out[i] = v[i];
        max = Math.max(max, v[i]);
      }
      names = classes ? [...classes] : Array.from({ length: max + 1 }, (_, k) => String(k));
    }
    return { labels: new Tensor(new Storage("int32", out), [n]), classes: names };
  }

  /** The first rows as an aligned text table. */
  toString(maxRows = 10): string {
    const shown = this.head(maxRows);
    const cells = [this.columnNames, ...shown.rows().map((r) => this.columnNames.map((n) => formatCell(r[n])))];
    const widths = this.columnNames.map((_, j) => Math.max(...cells.map((r) => r[j].length)));
    const lines = cells.map((r) => r.map((s, j) => s.padEnd(widths[j])).join("  ").trimEnd());
    if (this.numRows > maxRows) lines.push(`… ${this.numRows - maxRows} more rows`);
    return `Table ${this.numRows} rows × ${this.numColumns} columns\n${lines.join("\n")}`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

function formatCell(v: Cell): string {
  if (v === null || (typeof v === "number" && Number.isNaN(v))) return "NA";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  return v;
}

/** Codes of a text column in the given category order; NaN for missing or unknown values. */
function codesOf(c: Column, categories: readonly string[]): Float64Array {
  const index = new Map(categories.map((s, k) => [s, k]));
  return Float64Array.from(c.values as (string | null)[], (v) => (v === null ? NaN : index.get(v) ?? NaN));
}

/**
 * A column of the given type from raw values (numbers, strings, booleans, null/undefined for
 * missing). `where(i)` names the place of value i in errors (e.g. "line 7").
 */
export function makeColumn(name: string, type: ColumnType, raw: readonly unknown[], where: (i: number) => string = (i) => `row ${i}`, op = "Table"): Column {
  const bad = (i: number, v: unknown, want: string): never => {
    throw new ValueError(`${op}: ${where(i)}, column '${name}': ${JSON.stringify(v)} is not ${want}; declare the column with another type or mark the value as missing`);
  };
  if (type === "category" || type === "string") {
    const values = raw.map((v, i) => {
      if (v === null || v === undefined) return null;
      if (typeof v === "object") return bad(i, v, "a single value");
      return String(v);
    });
    return { name, type, values };
  }
  if (type !== "float" && type !== "int" && type !== "bool")
    throw new ValueError(`${op}: column '${name}' has unknown type '${String(type)}'; use 'float', 'int', 'bool', 'category' or 'string'`);
  const values = new Float64Array(raw.length);
  raw.forEach((v, i) => {
    let x: number;
    if (v === null || v === undefined) x = NaN;
    else if (type === "bool") x = parseBool(v) ?? bad(i, v, "a boolean (true/false, 1/0, yes/no)");
    else if (typeof v === "number") x = v;
    else if (typeof v === "string") x = v.trim() === "" ? NaN : parseNumber(v) ?? bad(i, v, type === "int" ? "an integer" : "a number");
    else x = bad(i, v, "a number");
    if (type === "int" && !Number.isNaN(x) && !Number.isInteger(x)) bad(i, v, "an integer");
    values[i] = x;
  });
  return { name, type, values };
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A decimal number (or ±inf/infinity), else undefined. Hex, empty text and '1,5' are not numbers. */
export function parseNumber(s: string): number | undefined {
  const t = s.trim();
  if (NUMBER.test(t)) return Number(t);
  const l = t.toLowerCase().replace(/^\+/, "");
  if (l === "inf" || l === "infinity") return Infinity;
  if (l === "-inf" || l === "-infinity") return -Infinity;
  return undefined;
}

/** 1/0 for booleans, 'true'/'false', 'yes'/'no', '1'/'0' and the numbers 1/0; else undefined. */
export function parseBool(v: unknown): number | undefined {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number") return v === 1 ? 1 : v === 0 ? 0 : undefined;
  if (typeof v !== "string") return undefined;
  const l = v.trim().toLowerCase();
  if (l === "true" || l === "yes" || l === "1") return 1;
  if (l === "false" || l === "no" || l === "0") return 0;
  return undefined;
}

/** int when every value is an integer, float when every value is a number, bool for true/false, else category. */
export function inferType(raw: readonly unknown[]): ColumnType {
  const present = raw.filter((v) => v !== null && v !== undefined && !(typeof v === "string" && v.trim() === "") && !(typeof v === "number" && Number.isNaN(v)));
  if (present.length === 0) return "float";
  const nums = present.map((v) => (typeof v === "number" ? v : typeof v === "string" ? parseNumber(v) : undefined));
  if (nums.every((x) => x !== undefined)) return nums.every((x) => Number.isInteger(x)) ? "int" : "float";
  if (present.every((v) => typeof v === "boolean" || (typeof v === "string" && /^(true|false)$/i.test(v.trim())))) return "bool";
  return "category";
}
