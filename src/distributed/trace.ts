// A small Chrome trace-event recorder (chrome://tracing, ui.perfetto.dev): complete events ("ph":"X")
// with start and duration in microseconds, on named threads. DistributedDataParallel records its
// forward, the span of backward in which gradients become ready, and each bucket's all-reduce on the
// communication thread with it, so the overlap of communication with backward can be seen.
import { writeJsonAtomic } from "../io/atomic.js";

/** Now on CLOCK_MONOTONIC in ns: the clock the Gloo addon stamps its collectives with. */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

export interface TraceEvent {
  name: string;
  cat: string;
  ph: "X" | "M" | "i";
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  s?: string;
  args?: Record<string, unknown>;
}

export class ChromeTrace {
  readonly events: TraceEvent[] = [];
  constructor(readonly pid: number, threads: Record<number, string>) {
    for (const [tid, name] of Object.entries(threads)) this.events.push({ name: "thread_name", cat: "__metadata", ph: "M", ts: 0, pid, tid: Number(tid), args: { name } });
  }

  /** A span from startNs to endNs (monotonic ns). */
  span(tid: number, cat: string, name: string, startNs: number, endNs: number, args?: Record<string, unknown>): void {
    this.events.push({ name, cat, ph: "X", ts: startNs / 1000, dur: Math.max(0, endNs - startNs) / 1000, pid: this.pid, tid, ...(args ? { args } : {}) });
  }

  /** An instant (a gradient became ready). */
  instant(tid: number, cat: string, name: string, atNs: number, args?: Record<string, unknown>): void {
    this.events.push({ name, cat, ph: "i", s: "t", ts: atNs / 1000, pid: this.pid, tid, ...(args ? { args } : {}) });
  }

  write(path: string, metadata: Record<string, unknown> = {}): void {
    writeJsonAtomic(path, { traceEvents: this.events, displayTimeUnit: "ms", otherData: metadata });
  }
}
