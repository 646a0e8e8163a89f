// Chrome trace-event JSON (the "JSON Object Format" of the Trace Event Format document): complete
// events (ph "X") with microsecond ts and dur, one process and thread, plus metadata events that
// name them. chrome://tracing and https://ui.perfetto.dev open it.
import type { ProfileEvent } from "./profiler.js";

export interface TraceEvent {
  name: string;
  cat?: string;
  ph: "X" | "M";
  ts?: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: "ms";
  otherData: Record<string, unknown>;
}

/** µs with 3 decimals (ns resolution; performance.now() gives µs or better). */
const us = (ms: number) => Math.round(ms * 1e6) / 1e3;

export function chromeTrace(events: readonly ProfileEvent[], meta: { startedAt: number; wallMs: number }): ChromeTrace {
  const pid = process.pid;
  const tid = 1;
  // Parents before children at equal start times, so viewers nest them.
  const sorted = [...events].sort((a, b) => a.start - b.start || a.depth - b.depth);
  const traceEvents: TraceEvent[] = [
    { name: "process_name", ph: "M", pid, tid, args: { name: `ingot (pid ${pid})` } },
    { name: "thread_name", ph: "M", pid, tid, args: { name: "main" } },
    ...sorted.map((e) => {
      const args: Record<string, unknown> = {};
      if (e.shapes) args["Input Dims"] = e.shapes;
      if (e.flops) args.flops = e.flops;
      if (e.bytes) args.bytes = e.bytes;
      args["self us"] = us(e.self);
      return { name: e.name, cat: e.category, ph: "X" as const, ts: us(e.start), dur: us(e.dur), pid, tid, args };
    }),
  ];
  return { traceEvents, displayTimeUnit: "ms", otherData: { producer: "ingot.profiler", started_at: new Date(meta.startedAt).toISOString(), wall_ms: meta.wallMs } };
}
