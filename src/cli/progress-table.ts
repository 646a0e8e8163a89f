// What `ingot train` and `ingot eval` show humans: an aligned table (per-epoch logs, a summary),
// a keras callback that collects the per-epoch rows with their times, and number formats.
import * as ingot from "../index.js";
import type { EpochRow, Log } from "./recipes/common.js";

const NUMERIC = /^[-+]?[\d.,]+(e[-+]?\d+)?%?$/;

/** Columns padded to their widest cell; columns of numbers right-aligned, text left-aligned. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? formatNumber(c) : c)));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const numeric = header.map((_, i) => cells.length > 0 && cells.every((r) => NUMERIC.test(r[i] ?? "")));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "─".repeat(w)).join("  "), ...cells.map(line)].join("\n") + "\n";
}

/** Two label/value columns. */
export function formatPairs(pairs: [string, string][]): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n") + "\n";
}

/** 4 significant decimals for losses, integers as they are, tiny values in scientific notation. */
export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(3);
  return v.toFixed(4);
}

/** `97.65%`. */
export function percent(v: number): string {
  return `${(v * 100).toFixed(2)}%`;
}

/** `1,234,567`. */
export function grouped(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** `2.3 kB`, `1.4 MB`. */
export function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

/**
 * The per-epoch table: epoch, the logged values in their order, and seconds. Long runs show about
 * `maxRows` evenly spaced epochs, always the first and the last.
 */
export function epochTable(rows: EpochRow[], maxRows = 12): string {
  if (!rows.length) return "";
  const keys = Object.keys(rows[0]).filter((k) => k !== "epoch" && k !== "seconds");
  const step = [1, 2, 5, 10, 20, 50, 100, 200, 500].find((k) => rows.length / k <= maxRows) ?? Math.ceil(rows.length / maxRows);
  const shown = rows.filter((_, i) => i === 0 || i === rows.length - 1 || (i + 1) % step === 0);
  return formatTable(
    ["epoch", ...keys, "seconds"],
    shown.map((r) => [r.epoch, ...keys.map((k) => r[k]), r.seconds.toFixed(r.seconds < 10 ? 2 : 1)]),
  );
}

/**
 * A fit callback that keeps every epoch's logs with its wall time; with `log` it also prints one
 * line per epoch there (what --json runs show on stderr instead of a progress bar).
 */
export class EpochRecorder extends ingot.keras.Callback {
  readonly rows: EpochRow[] = [];
  private t0 = 0;

  constructor(private readonly log: Log | null = null) {
    super();
  }

  override onEpochBegin(): void {
    this.t0 = performance.now();
  }

  override onEpochEnd(epoch: number, logs: Record<string, number> = {}): void {
    const row: EpochRow = { epoch: epoch + 1, ...logs, seconds: (performance.now() - this.t0) / 1000 };
    this.rows.push(row);
    if (this.log) this.log.write(epochLine(row, this.params?.epochs ?? 0));
  }
}

/** `epoch 2/5: loss 0.0912 - accuracy 0.9721 (18.2 s)`. */
export function epochLine(row: EpochRow, epochs: number): string {
  const parts = Object.entries(row)
    .filter(([k]) => k !== "epoch" && k !== "seconds")
    .map(([k, v]) => `${k} ${formatNumber(v)}`);
  return `epoch ${row.epoch}/${epochs}: ${parts.join(" - ")} (${row.seconds.toFixed(1)} s)\n`;
}
