// The progress display of fit and evaluate (Keras' Progbar): with verbose 1, one updating line on a
// terminal (bar, ETA, live metrics) and plain lines otherwise; with verbose 2, one line per epoch.
import { Callback, type LogStream, type Logs } from "./history.js";

/** Keras' number format: 4 decimals, or scientific for tiny values. */
export function formatValue(v: number): string {
  return Math.abs(v) > 1e-3 || v === 0 || !Number.isFinite(v) ? v.toFixed(4) : v.toExponential(4);
}

/** `1:02:03`, `2:05` or `7s`. */
export function formatDuration(s: number): string {
  const t = Math.round(s);
  if (t >= 3600) return `${Math.floor(t / 3600)}:${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}:${String(t % 60).padStart(2, "0")}`;
  if (t >= 60) return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, "0")}`;
  return `${t}s`;
}

/** Time per step: `12ms/step`, `340us/step` or `2s/step`. */
function perStep(s: number, unit: string): string {
  if (s >= 1) return `${Math.round(s)}s/${unit}`;
  if (s >= 1e-3) return `${Math.round(s * 1e3)}ms/${unit}`;
  return `${Math.round(s * 1e6)}us/${unit}`;
}

const metricsText = (logs: Logs): string =>
  Object.entries(logs)
    .map(([k, v]) => ` - ${k}: ${formatValue(v)}`)
    .join("");

export interface ProgressBarOptions {
  stream?: LogStream;
  /** Width of the bar in characters (default 30). */
  width?: number;
  /** 1: live bar; 2: only the final line. */
  verbose?: number;
  unit?: string;
  /** Seconds between redraws on a terminal (default 0.05) and between plain lines elsewhere (default 10). */
  interval?: number;
}

/** A Keras-style progress bar over `target` steps (null: unknown). */
export class ProgressBar {
  private readonly start = performance.now();
  private lastDraw = 0;
  private lastLen = 0;
  private readonly stream: LogStream;
  private readonly tty: boolean;
  private readonly width: number;
  private readonly verbose: number;
  private readonly unit: string;
  private readonly interval: number;

  constructor(
    readonly target: number | null,
    opts: ProgressBarOptions = {},
  ) {
    this.stream = opts.stream ?? process.stdout;
    this.tty = !!this.stream.isTTY;
    this.width = opts.width ?? 30;
    this.verbose = opts.verbose ?? 1;
    this.unit = opts.unit ?? "step";
    this.interval = opts.interval ?? (this.tty ? 0.05 : 10);
  }

  private elapsed(): number {
    return (performance.now() - this.start) / 1000;
  }

  private bar(current: number): string {
    const t = this.target;
    const w = String(t ?? current).length;
    if (!t) return `${String(current).padStart(w)}/Unknown`;
    // Keras' bar: (done − 1) '=' then '>' (or '=' when complete), dots for the rest.
    const done = Math.floor((this.width * Math.min(current, t)) / t);
    const fill = done > 0 ? "=".repeat(done - 1) + (current < t ? ">" : "=") : "";
    return `${String(current).padStart(w)}/${t} [${fill.padEnd(this.width, ".")}]`;
  }

  /** Shows progress after `current` steps with the running logs (drawn at most every `interval` seconds). */
  update(current: number, logs: Logs = {}): void {
    if (this.verbose !== 1) return;
    const now = this.elapsed();
    if (now - this.lastDraw < this.interval) return;
    this.lastDraw = now;
    const eta = this.target && current ? (now / current) * (this.target - current) : null;
    const line = `${this.bar(current)} - ${eta !== null ? `ETA: ${formatDuration(eta)}` : formatDuration(now)}${metricsText(logs)}`;
    this.draw(line, false);
  }

  /** The final line of the epoch (or evaluation) with the time taken. */
  finish(current: number, logs: Logs = {}): void {
    const t = this.elapsed();
    const step = current ? perStep(t / current, this.unit) : "";
    const head = this.verbose === 1 ? this.bar(current) : `${current}/${this.target ?? current}`;
    this.draw(`${head} - ${formatDuration(t)} ${step}${metricsText(logs)}`, true);
  }

  private draw(line: string, final: boolean): void {
    if (this.tty) {
      const pad = this.lastLen > line.length ? " ".repeat(this.lastLen - line.length) : "";
      this.stream.write(`\r${line}${pad}${final ? "\n" : ""}`);
      this.lastLen = final ? 0 : line.length;
    } else this.stream.write(line + "\n");
  }
}

/** The callback fit adds when verbose > 0: "Epoch i/n" and a progress bar per epoch. */
export class ProgbarLogger extends Callback {
  private bar: ProgressBar | null = null;
  private seen = 0;

  override onEpochBegin(epoch: number): void {
    const p = this.params!;
    this.print(`Epoch ${epoch + 1}/${p.epochs}`);
    this.bar = new ProgressBar(p.steps, { stream: p.out, verbose: p.verbose });
    this.seen = 0;
  }

  override onBatchEnd(batch: number, logs: Logs = {}): void {
    this.seen = batch + 1;
    this.bar?.update(this.seen, logs);
  }

  override onEpochEnd(_epoch: number, logs: Logs = {}): void {
    this.bar?.finish(this.seen, logs);
    this.bar = null;
  }
}
