// The profiler: records every op call, autograd node, backward pass and optimizer step while it runs
// (through the hooks in ./hooks.ts), with start, duration, self time, FLOPs and bytes; summarizes
// them per name (torch.profiler's key_averages().table()) and exports Chrome trace-event JSON.
import { dtypeInfo, type Tensor, ValueError } from "../tensor/index.js";
import { writeJsonAtomic } from "../io/atomic.js";
import { opFlops } from "./flops.js";
import { type OpCallInfo, profilerHooks } from "./hooks.js";
import { keyAverages, type KeyAverage, type KeyAveragesOptions, formatKeyAverages, type TableOptions } from "./table.js";
import { chromeTrace, type ChromeTrace } from "./trace.js";

/** op: an op call; backward: an autograd node's gradient rule; autograd: a whole backward(); optimizer: a step; user: recordFunction; step: a training step. */
export type EventCategory = "op" | "backward" | "autograd" | "optimizer" | "user" | "step";

/** One recorded range. Times are milliseconds from the profiler's start. */
export interface ProfileEvent {
  name: string;
  category: EventCategory;
  start: number;
  /** Inclusive duration. */
  dur: number;
  /** Duration minus the durations of the ranges directly inside it. */
  self: number;
  /** Nesting depth (0: top level). */
  depth: number;
  /** Matrix-product FLOPs (see flops.ts); 0 for other ops, and for a range whose nested ops carry them. */
  flops: number;
  /** Bytes of the op's inputs and outputs (0 for views and ranges that are not ops). */
  bytes: number;
  /** Input shapes (ops only, with recordShapes). */
  shapes?: (readonly number[])[];
}

export interface ProfilerOptions {
  /** Keep each op's input shapes (default true), for the trace and groupByInputShape. */
  recordShapes?: boolean;
}

interface Frame {
  ev: ProfileEvent;
  childTime: number;
  childFlops: number;
}

let active: Profiler | null = null;

/** The profiler that is recording now, if any. */
export function activeProfiler(): Profiler | null {
  return active;
}

function tensorBytes(t: Tensor): number {
  const info = dtypeInfo(t.dtype);
  return info.storageLength(t.size) * info.array.BYTES_PER_ELEMENT;
}

/**
 * Records ops, autograd nodes and optimizer steps between start() and stop(), like
 * torch.profiler.profile. One profiler records at a time. Prefer `profile(fn)`.
 * @example
 * const prof = new ingot.profiler.Profiler().start();
 * step(); prof.stop();
 * console.log(prof.table({ rowLimit: 10 }));
 */
export class Profiler {
  readonly events: ProfileEvent[] = [];
  readonly recordShapes: boolean;
  private stack: Frame[] = [];
  private t0 = 0;
  private t1 = 0;
  private running = false;
  private steps = 0;

  constructor(opts: ProfilerOptions = {}) {
    this.recordShapes = opts.recordShapes ?? true;
  }

  /** Wall time from start() to stop() (or to now while running), in milliseconds. */
  get wallMs(): number {
    return (this.running ? performance.now() : this.t1) - this.t0;
  }

  /** The Unix time (ms) the profiler started, for the trace's metadata. */
  startedAt = 0;

  start(): this {
    if (this.running) throw new ValueError("Profiler.start: this profiler is already recording; call stop() first");
    if (active) throw new ValueError("Profiler.start: another profiler is recording; stop it first (one profiler records at a time)");
    active = this;
    this.running = true;
    this.startedAt = Date.now();
    profilerHooks.op = (info, run) => this.recordOp(info, run);
    profilerHooks.range = (category, name, run) => this.range(category as EventCategory, name, run);
    this.t0 = performance.now();
    return this;
  }

  stop(): this {
    if (!this.running) return this;
    this.t1 = performance.now();
    // Ranges left open (an exception escaped a step) end now.
    while (this.stack.length) this.close(this.stack[this.stack.length - 1], this.t1);
    profilerHooks.op = null;
    profilerHooks.range = null;
    this.running = false;
    if (active === this) active = null;
    return this;
  }

  /** Runs fn inside a named range (torch.profiler.record_function). */
  recordFunction<T>(name: string, fn: () => T): T {
    return this.range("user", name, fn);
  }

  /** Opens a range that a later endRange() closes (for callbacks: onBatchBegin / onBatchEnd). */
  beginRange(name: string, category: EventCategory = "step"): void {
    if (!this.running) return;
    this.open(name, category, performance.now());
  }

  /** Closes the innermost open range opened by beginRange. */
  endRange(): void {
    if (!this.running || this.stack.length === 0) return;
    this.close(this.stack[this.stack.length - 1], performance.now());
  }

  /** Marks a training step: closes the previous `ProfilerStep#n` range and opens the next (torch.profiler's prof.step()). */
  step(): void {
    if (!this.running) return;
    const top = this.stack[0];
    if (top && top.ev.category === "step") {
      if (this.stack.length > 1) throw new ValueError("Profiler.step: called inside an open range; call it between steps");
      this.close(top, performance.now());
    }
    this.open(`ProfilerStep#${this.steps++}`, "step", performance.now());
  }

  /** Per-name totals, sorted (default by self time). */
  keyAverages(opts: KeyAveragesOptions = {}): KeyAverage[] {
    return keyAverages(this.events, opts);
  }

  /** The totals as a text table, like torch.profiler's key_averages().table(). */
  table(opts: TableOptions = {}): string {
    return formatKeyAverages(this.keyAverages(opts), { ...opts, wallMs: this.wallMs });
  }

  /** The events as Chrome trace-event JSON (chrome://tracing, https://ui.perfetto.dev). */
  toChromeTrace(): ChromeTrace {
    return chromeTrace(this.events, { startedAt: this.startedAt, wallMs: this.wallMs });
  }

  /** Writes the Chrome trace to `path` (atomically). */
  exportChromeTrace(path: string): void {
    writeJsonAtomic(path, this.toChromeTrace());
  }

  private open(name: string, category: EventCategory, now: number): Frame {
    const ev: ProfileEvent = { name, category, start: now - this.t0, dur: 0, self: 0, depth: this.stack.length, flops: 0, bytes: 0 };
    const f = { ev, childTime: 0, childFlops: 0 };
    this.stack.push(f);
    return f;
  }

  private close(f: Frame, now: number): void {
    // Pop down to f (ranges an exception skipped are closed with it).
    while (this.stack.length) {
      const top = this.stack.pop()!;
      const ev = top.ev;
      ev.dur = now - this.t0 - ev.start;
      ev.self = Math.max(0, ev.dur - top.childTime);
      // FLOPs belong to the innermost ranges that have them (linear decomposed into matmul counts once).
      if (top.childFlops > 0) ev.flops = 0;
      this.events.push(ev);
      const parent = this.stack[this.stack.length - 1];
      if (parent) {
        parent.childTime += ev.dur;
        parent.childFlops += ev.flops + top.childFlops;
      }
      if (top === f) return;
    }
  }

  private range<T>(category: EventCategory, name: string, run: () => T): T {
    const f = this.open(name, category, performance.now());
    try {
      return run();
    } finally {
      this.close(f, performance.now());
    }
  }

  private recordOp(info: OpCallInfo, run: () => Tensor[]): Tensor[] {
    const f = this.open(info.name, "op", performance.now());
    let outputs: Tensor[] | null = null;
    try {
      outputs = run();
      return outputs;
    } finally {
      const now = performance.now();
      if (outputs) {
        const ev = f.ev;
        // Set before close, which clears them when nested ops (a decomposition) carry the FLOPs.
        ev.flops = opFlops(info.name, info.inputs, outputs, info.attrs);
        if (!info.view) {
          let b = 0;
          for (const t of info.inputs) if (t) b += tensorBytes(t);
          if (!info.inplace) for (const t of outputs) b += tensorBytes(t);
          ev.bytes = b;
        }
        if (this.recordShapes) ev.shapes = info.inputs.map((t) => (t ? t.shape : []));
      }
      this.close(f, now);
    }
  }
}

/** A finished profile: the profiler (events, table, trace) and what fn returned. */
export interface Profile<T> {
  profiler: Profiler;
  result: T;
  /** Wall time of fn, in milliseconds. */
  wallMs: number;
  /** Shorthands for profiler.table / keyAverages / exportChromeTrace. */
  table(opts?: TableOptions): string;
  keyAverages(opts?: KeyAveragesOptions): KeyAverage[];
  exportChromeTrace(path: string): void;
}

function finished<T>(profiler: Profiler, result: T): Profile<T> {
  return {
    profiler,
    result,
    wallMs: profiler.wallMs,
    table: (o) => profiler.table(o),
    keyAverages: (o) => profiler.keyAverages(o),
    exportChromeTrace: (p) => profiler.exportChromeTrace(p),
  };
}

/**
 * Runs fn (sync or async) under a profiler and returns the profile with fn's result. For an async
 * fn, everything that runs before its promise settles is recorded, other async work included.
 * @example
 * const p = ingot.profiler.profile(() => trainStep());
 * console.log(p.table({ rowLimit: 15 }));
 * p.exportChromeTrace("trace.json"); // open in https://ui.perfetto.dev
 */
export function profile<T>(fn: () => Promise<T>, opts?: ProfilerOptions): Promise<Profile<T>>;
export function profile<T>(fn: () => T, opts?: ProfilerOptions): Profile<T>;
export function profile<T>(fn: () => T | Promise<T>, opts: ProfilerOptions = {}): Profile<T> | Promise<Profile<T>> {
  if (typeof fn !== "function") throw new ValueError(`profile: expected a function to run, got ${typeof fn}; e.g. ingot.profiler.profile(() => step())`);
  const prof = new Profiler(opts).start();
  let out: T | Promise<T>;
  try {
    out = fn();
  } catch (e) {
    prof.stop();
    throw e;
  }
  if (out instanceof Promise)
    return out.then(
      (r) => finished(prof.stop(), r),
      (e: unknown) => {
        prof.stop();
        throw e;
      },
    );
  return finished(prof.stop(), out);
}

/** Runs fn inside a named range of the active profiler (a no-op when none records), as torch.profiler.record_function. */
export function recordFunction<T>(name: string, fn: () => T): T {
  const range = profilerHooks.range;
  return range === null ? fn() : range("user", name, fn);
}
