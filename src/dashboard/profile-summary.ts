// A profile's table for the dashboard, from the Chrome trace JSON that `--profile FILE` writes
// (ingot.profiler's trace: complete events with args["self us"], flops, bytes).
import { ValueError } from "../tensor/index.js";

export interface ProfileRow {
  name: string;
  kind: string;
  calls: number;
  selfUs: number;
  totalUs: number;
  flops: number;
  bytes: number;
}

export interface ProfileSummary {
  /** Wall time the profile covered (µs), when the trace records it. */
  wallUs: number | null;
  selfUs: number;
  events: number;
  /** The heaviest names by self time (at most 25). */
  rows: ProfileRow[];
}

interface TraceEvent {
  name?: unknown;
  cat?: unknown;
  ph?: unknown;
  dur?: unknown;
  args?: Record<string, unknown>;
}

export function profileSummary(trace: unknown, maxRows = 25): ProfileSummary {
  const events = (trace as { traceEvents?: unknown })?.traceEvents;
  if (!Array.isArray(events)) throw new ValueError("not a Chrome trace: no traceEvents array (write one with --profile FILE or ingot profile --out FILE)");
  const rows = new Map<string, ProfileRow>();
  let selfUs = 0;
  let n = 0;
  for (const e of events as TraceEvent[]) {
    if (e.ph !== "X" || typeof e.name !== "string") continue;
    n++;
    const dur = typeof e.dur === "number" ? e.dur : 0;
    // Traces from other tools have no self time: their durations are counted as they are.
    const self = typeof e.args?.["self us"] === "number" ? (e.args["self us"] as number) : dur;
    const kind = typeof e.cat === "string" ? e.cat : "";
    const key = `${kind}\u0000${e.name}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { name: e.name, kind, calls: 0, selfUs: 0, totalUs: 0, flops: 0, bytes: 0 }));
    r.calls++;
    r.selfUs += self;
    r.totalUs += dur;
    r.flops += typeof e.args?.flops === "number" ? (e.args.flops as number) : 0;
    r.bytes += typeof e.args?.bytes === "number" ? (e.args.bytes as number) : 0;
    selfUs += self;
  }
  const wallMs = (trace as { otherData?: { wall_ms?: unknown } }).otherData?.wall_ms;
  return {
    wallUs: typeof wallMs === "number" ? wallMs * 1000 : null,
    selfUs,
    events: n,
    rows: [...rows.values()].sort((a, b) => b.selfUs - a.selfUs).slice(0, maxRows),
  };
}
