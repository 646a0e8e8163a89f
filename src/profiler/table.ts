// Per-name totals of a profile and their table, after torch.profiler's key_averages().table():
// self time (the range minus the ranges inside it) is what sums to the profiled wall time without
// counting nested ranges twice; total time includes them.
import { bytes as formatBytes, formatTable } from "../cli/progress-table.js";
import { ValueError } from "../tensor/index.js";
import type { EventCategory, ProfileEvent } from "./profiler.js";

export interface KeyAverage {
  name: string;
  category: EventCategory;
  /** Input shapes, with groupByInputShape. */
  shapes?: string;
  count: number;
  /** Milliseconds. */
  selfMs: number;
  totalMs: number;
  flops: number;
  bytes: number;
}

export type SortKey = "self" | "total" | "count" | "flops" | "bytes" | "name";

export interface KeyAveragesOptions {
  /** One row per (name, input shapes) instead of per name (torch's group_by_input_shape). */
  groupByInputShape?: boolean;
  /** Default "self" (torch's self_cpu_time_total), descending. */
  sortBy?: SortKey;
}

export interface TableOptions extends KeyAveragesOptions {
  /** At most this many rows (default all). */
  rowLimit?: number;
}

const SORT_KEYS: SortKey[] = ["self", "total", "count", "flops", "bytes", "name"];

export function keyAverages(events: readonly ProfileEvent[], opts: KeyAveragesOptions = {}): KeyAverage[] {
  const sortBy = opts.sortBy ?? "self";
  if (!SORT_KEYS.includes(sortBy)) throw new ValueError(`keyAverages: sortBy must be one of ${SORT_KEYS.join(", ")}, got '${String(sortBy)}'`);
  const rows = new Map<string, KeyAverage>();
  for (const e of events) {
    const shapes = opts.groupByInputShape && e.shapes ? e.shapes.map((s) => `[${s.join(",")}]`).join(" ") : undefined;
    const key = `${e.category}\u0000${e.name}\u0000${shapes ?? ""}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { name: e.name, category: e.category, shapes, count: 0, selfMs: 0, totalMs: 0, flops: 0, bytes: 0 }));
    r.count++;
    r.selfMs += e.self;
    r.totalMs += e.dur;
    r.flops += e.flops;
    r.bytes += e.bytes;
  }
  const field: Record<SortKey, (r: KeyAverage) => number | string> = {
    self: (r) => r.selfMs,
    total: (r) => r.totalMs,
    count: (r) => r.count,
    flops: (r) => r.flops,
    bytes: (r) => r.bytes,
    name: (r) => r.name,
  };
  const f = field[sortBy];
  return [...rows.values()].sort((a, b) => (sortBy === "name" ? String(f(a)).localeCompare(String(f(b))) : (f(b) as number) - (f(a) as number)));
}

/** `12.345ms`, `87.000us`, as torch prints times. */
function time(ms: number): string {
  return ms >= 1 ? `${ms.toFixed(3)}ms` : `${(ms * 1000).toFixed(3)}us`;
}

/** `1.23 GFLOP` style with SI prefixes. */
export function si(v: number, unit: string): string {
  if (v === 0) return "—";
  const p = ["", "K", "M", "G", "T", "P"];
  let i = 0;
  while (v >= 1000 && i < p.length - 1) (v /= 1000), i++;
  return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${p[i]}${unit}`;
}

/** The table: one row per name, self and total time with their shares of the self-time sum, calls, FLOPs, FLOP/s, bytes. */
export function formatKeyAverages(rows: readonly KeyAverage[], opts: TableOptions & { wallMs?: number } = {}): string {
  const selfSum = rows.reduce((s, r) => s + r.selfMs, 0);
  const shown = opts.rowLimit ? rows.slice(0, opts.rowLimit) : rows;
  const pct = (ms: number) => (selfSum > 0 ? `${((100 * ms) / selfSum).toFixed(2)}%` : "—");
  const header = ["Name", "Kind", ...(opts.groupByInputShape ? ["Input shapes"] : []), "Self %", "Self", "Total %", "Total", "Avg", "Calls", "FLOPs", "FLOP/s", "Bytes"];
  const body = shown.map((r) => [
    r.name,
    r.category,
    ...(opts.groupByInputShape ? [r.shapes ?? ""] : []),
    pct(r.selfMs),
    time(r.selfMs),
    pct(r.totalMs),
    time(r.totalMs),
    time(r.totalMs / r.count),
    String(r.count),
    si(r.flops, "FLOP"),
    // An op's FLOP rate over its own time (its kernel); a range's nested ops carry its FLOPs.
    r.flops > 0 && r.selfMs > 0 ? si(r.flops / (r.selfMs / 1000), "FLOP/s") : "—",
    r.bytes > 0 ? formatBytes(r.bytes) : "—",
  ]);
  let out = formatTable(header, body);
  if (shown.length < rows.length) out += `(${rows.length - shown.length} more rows; rowLimit shows more)\n`;
  const flops = rows.reduce((s, r) => s + r.flops, 0);
  out += `Self time total: ${time(selfSum)}`;
  if (opts.wallMs !== undefined) out += ` of ${time(opts.wallMs)} wall (${opts.wallMs > 0 ? ((100 * selfSum) / opts.wallMs).toFixed(1) : "—"}% inside recorded ranges)`;
  if (flops > 0) out += `; ${si(flops, "FLOP")}`;
  return out + "\n";
}
