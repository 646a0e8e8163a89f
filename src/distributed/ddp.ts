// DistributedDataParallel (torch.nn.parallel.DistributedDataParallel) on a Gloo process group.
//
// - Construction broadcasts every parameter and buffer from rank 0, so all ranks start equal.
// - The parameters are grouped into buckets of about bucketCapMb (25 MB, PyTorch's default) in
//   reverse registration order, which is roughly the order backward produces their gradients.
// - A post-accumulate-grad hook on each parameter marks it ready; when a bucket is complete, and
//   every bucket before it has been started, its gradients are copied into the bucket's flat buffer
//   and an all-reduce of that buffer is queued on the communication thread — while JavaScript
//   continues with the rest of backward. Buckets start in the same order on every rank (as in
//   PyTorch's reducer), so the ranks' collectives always match.
// - `await ddp.finishGradSync()` (after backward, before optimizer.step) starts any bucket not
//   started yet, waits for the reductions, and writes the averaged gradients back into `.grad`.
//   `await ddp.step(optimizer)` does both. Keras models: fit awaits it itself (model.gradientSync).
// - `ddp.noSync(fn)` runs fn without synchronizing (gradient accumulation); the next backward
//   outside it averages the accumulated gradients.
import { IngotError, type Tensor, ValueError } from "../tensor/index.js";
import { zeros } from "../ops/index.js";
import type { Module } from "../nn/module.js";
import { registerPostAccumulateGradHook, type RemovableHandle } from "../autograd/hooks.js";
import { getDefaultGroup, type ProcessGroup } from "./process-group.js";
import { ChromeTrace, nowNs } from "./trace.js";

export interface DistributedDataParallelOptions {
  /** The group to average over (default: the default group from initProcessGroup). */
  processGroup?: ProcessGroup;
  /** Bucket size in MB (default 25, PyTorch's). Smaller buckets start communicating earlier. */
  bucketCapMb?: number;
  /** Broadcast the buffers (BatchNorm running statistics) from rank 0 before each forward (default true, as PyTorch). */
  broadcastBuffers?: boolean;
  /**
   * Write a Chrome trace (forward, backward's gradient-ready span, each bucket's all-reduce) to this
   * file. `{rank}` in the name is replaced by the rank (one file per rank); without it rank 0 alone writes.
   */
  traceFile?: string;
  /** Steps recorded in the trace before it is written (default 20); ddp.writeTrace() writes it at any time. */
  traceSteps?: number;
}

type Flat = Float32Array | Float64Array;

interface Bucket {
  index: number;
  params: Tensor[];
  names: string[];
  offsets: number[];
  flat: Flat;
  ready: Set<Tensor>;
  started: Promise<void> | null;
  startedAtNs: number;
}

/** A model whose fit loop awaits a gradient synchronization before the optimizer step (keras Model). */
interface GradientSyncTarget {
  gradientSync: (() => Promise<void>) | null;
}

const JS_TID = 1;
const COMM_TID = 2;

export class DistributedDataParallel<M extends Module = Module> {
  readonly module: M;
  readonly processGroup: ProcessGroup;
  readonly buckets: readonly Bucket[];
  readonly bucketCapMb: number;
  private readonly broadcastBuffers: boolean;
  private readonly handles: RemovableHandle[] = [];
  private syncEnabled = true;
  private nextBucket = 0;
  private anyReady = false;
  private firstReadyNs = 0;
  private lastReadyNs = 0;
  private readonly trace: ChromeTrace | null;
  private readonly traceFile: string | null;
  private readonly traceSteps: number;
  private tracedSteps = 0;
  /** Steps whose gradients were averaged. */
  steps = 0;

  constructor(module: M, opts: DistributedDataParallelOptions = {}) {
    if (!module || typeof (module as Module).parameters !== "function") throw new ValueError("DistributedDataParallel: wrap an nn.Module or a keras Model");
    this.module = module;
    this.processGroup = opts.processGroup ?? getDefaultGroup("DistributedDataParallel");
    this.bucketCapMb = opts.bucketCapMb ?? 25;
    if (!(this.bucketCapMb > 0)) throw new ValueError(`DistributedDataParallel: bucketCapMb must be > 0, got ${opts.bucketCapMb}`);
    this.broadcastBuffers = opts.broadcastBuffers ?? true;
    const named = module.namedParameters();
    if (named.length === 0)
      throw new ValueError("DistributedDataParallel: the module has no parameters (a keras model builds them on first use: give the first layer an inputShape, or call model.build(shape) first)");
    for (const [name, p] of named) {
      if (p.dtype !== "float32" && p.dtype !== "float64") throw new ValueError(`DistributedDataParallel: parameter '${name}' is ${p.dtype}; only float32 and float64 parameters are averaged`);
      if (!p.isContiguous()) throw new ValueError(`DistributedDataParallel: parameter '${name}' is not contiguous`);
    }
    // Every rank starts from rank 0's weights (blocking: the constructor cannot await).
    for (const [, p] of named) this.processGroup.syncBroadcast(p, 0);
    this.syncBuffers();
    this.buckets = this.makeBuckets(named.filter(([, p]) => p.requiresGrad));
    for (const b of this.buckets) for (const p of b.params) this.handles.push(registerPostAccumulateGradHook(p, () => this.onGradReady(b, p)));
    const rank = this.processGroup.rank;
    this.traceFile = opts.traceFile === undefined ? null : opts.traceFile.includes("{rank}") ? opts.traceFile.replaceAll("{rank}", String(rank)) : rank === 0 ? opts.traceFile : null;
    this.traceSteps = opts.traceSteps ?? 20;
    this.trace = this.traceFile ? new ChromeTrace(this.processGroup.rank, { [JS_TID]: "JavaScript (forward, backward)", [COMM_TID]: "Gloo communication thread" }) : null;
    if ("gradientSync" in (module as object)) (module as unknown as GradientSyncTarget).gradientSync = () => this.finishGradSync();
  }

  /** Buckets of at most bucketCapMb, parameters in reverse order, one dtype per bucket. */
  private makeBuckets(named: [string, Tensor][]): Bucket[] {
    const cap = this.bucketCapMb * 1024 * 1024;
    const out: Bucket[] = [];
    let cur: [string, Tensor][] = [];
    let bytes = 0;
    const flush = () => {
      if (!cur.length) return;
      const dtype = cur[0][1].dtype;
      const offsets: number[] = [];
      let n = 0;
      for (const [, p] of cur) {
        offsets.push(n);
        n += p.size;
      }
      out.push({ index: out.length, params: cur.map(([, p]) => p), names: cur.map(([k]) => k), offsets, flat: dtype === "float64" ? new Float64Array(n) : new Float32Array(n), ready: new Set(), started: null, startedAtNs: 0 });
      cur = [];
      bytes = 0;
    };
    for (const [name, p] of [...named].reverse()) {
      const size = p.size * (p.dtype === "float64" ? 8 : 4);
      if (cur.length && (bytes + size > cap || cur[0][1].dtype !== p.dtype)) flush();
      cur.push([name, p]);
      bytes += size;
    }
    flush();
    return out;
  }

  private syncBuffers(): void {
    if (!this.broadcastBuffers || this.processGroup.worldSize === 1) return;
    for (const [, b] of this.module.namedBuffers()) if (b.dtype === "float32" || b.dtype === "float64" || b.dtype === "int32") this.processGroup.syncBroadcast(b, 0);
  }

  /** Runs the module (PyTorch's `ddp(x)`): buffers come from rank 0 first. */
  call(...args: Parameters<M["forward"]>): ReturnType<M["forward"]> {
    const t0 = this.tracing ? nowNs() : 0;
    this.syncBuffers();
    const out = (this.module.call as (...a: unknown[]) => ReturnType<M["forward"]>)(...args);
    if (this.tracing) this.trace!.span(JS_TID, "forward", "forward", t0, nowNs());
    return out;
  }

  /** The wrapped module's parameters (for the optimizer). */
  parameters(): Tensor[] {
    return this.module.parameters();
  }

  /** Runs fn without averaging gradients (torch's `with ddp.no_sync():`); fn may be async. */
  noSync<T>(fn: () => T): T {
    const before = this.syncEnabled;
    this.syncEnabled = false;
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.syncEnabled = before;
      throw e;
    }
    if (result instanceof Promise) return result.finally(() => (this.syncEnabled = before)) as T;
    this.syncEnabled = before;
    return result;
  }

  private onGradReady(b: Bucket, p: Tensor): void {
    if (!this.syncEnabled) return;
    const t = nowNs();
    if (!this.anyReady) this.firstReadyNs = t;
    this.anyReady = true;
    this.lastReadyNs = t;
    if (b.ready.has(p) || b.started)
      throw new IngotError(
        "DistributedDataParallel: a parameter received a gradient twice before its gradients were averaged; call await ddp.finishGradSync() after each backward (or run the extra backward passes inside ddp.noSync())",
      );
    b.ready.add(p);
    if (b.ready.size === b.params.length) this.startReadyBuckets();
  }

  /** Starts, in bucket order, every complete bucket whose predecessors have started. */
  private startReadyBuckets(force = false): void {
    while (this.nextBucket < this.buckets.length) {
      const b = this.buckets[this.nextBucket];
      if (!force && b.ready.size < b.params.length) return;
      this.startBucket(b);
      this.nextBucket++;
    }
  }

  private startBucket(b: Bucket): void {
    b.params.forEach((p, i) => {
      const off = b.offsets[i];
      if (p.grad) b.flat.set(p.grad.dataSync() as Flat, off);
      else b.flat.fill(0, off, off + p.size); // unused in this pass: contributes zeros
    });
    b.startedAtNs = nowNs();
    const traced = this.tracing;
    b.started = this.processGroup.allReduce(b.flat, "sum").then((t) => {
      if (traced) this.trace!.span(COMM_TID, "comm", `allReduce bucket ${b.index} (${b.params.length} params, ${((b.flat.byteLength / 1024) | 0)} KiB)`, t.startNs, t.endNs, {
        queuedAtUs: b.startedAtNs / 1000,
        params: b.names,
      });
    });
  }

  /**
   * Waits for the gradient all-reduces of this backward and writes the averages into `.grad`. Call
   * it after backward and before optimizer.step() (or use `await ddp.step(optimizer)`). Inside
   * noSync it does nothing.
   */
  async finishGradSync(): Promise<void> {
    if (!this.syncEnabled || !this.anyReady) return;
    const waitFrom = nowNs();
    this.startReadyBuckets(true);
    try {
      await Promise.all(this.buckets.map((b) => b.started));
    } finally {
      this.reset();
    }
    const w = this.processGroup.worldSize;
    for (const b of this.buckets) {
      b.params.forEach((p, i) => {
        const view = b.flat.subarray(b.offsets[i], b.offsets[i] + p.size);
        for (let k = 0; k < view.length; k++) view[k] /= w;
        const g = p.grad;
        if (g && g.isContiguous() && g.dtype === p.dtype) (g.dataSync() as Flat).set(view);
        else {
          const fresh = zeros(p.shape, { dtype: p.dtype });
          (fresh.dataSync() as Flat).set(view);
          p.grad = fresh;
        }
      });
    }
    this.steps++;
    if (this.tracing) {
      this.trace!.span(JS_TID, "backward", "backward (first → last gradient ready)", this.firstTraceNs, this.lastTraceNs);
      this.trace!.span(JS_TID, "comm", "finishGradSync (wait + average)", waitFrom, nowNs());
      // Written after every traced step (small), so a short or interrupted run still leaves its trace.
      if (++this.tracedSteps <= this.traceSteps) this.writeTrace();
    }
  }

  /** Recording this step (a trace was asked for and traceSteps are not done yet). */
  private get tracing(): boolean {
    return this.trace !== null && this.tracedSteps < this.traceSteps;
  }

  private firstTraceNs = 0;
  private lastTraceNs = 0;

  private reset(): void {
    this.firstTraceNs = this.firstReadyNs;
    this.lastTraceNs = this.lastReadyNs;
    for (const b of this.buckets) {
      b.ready.clear();
      b.started = null;
    }
    this.nextBucket = 0;
    this.anyReady = false;
  }

  /** `await finishGradSync()` then `optimizer.step()`. */
  async step(optimizer: { step(): unknown }): Promise<void> {
    await this.finishGradSync();
    optimizer.step();
  }

  /** Writes the trace recorded so far to traceFile (or `path`). */
  writeTrace(path = this.traceFile): void {
    if (!this.trace || !path) throw new ValueError("DistributedDataParallel.writeTrace: construct with {traceFile} to record a trace");
    this.trace.write(path, { rank: this.processGroup.rank, worldSize: this.processGroup.worldSize, buckets: this.buckets.length, bucketCapMb: this.bucketCapMb, clock: "CLOCK_MONOTONIC" });
  }

  /** The wrapped module's state dict (parameter names without a `module.` prefix). */
  stateDict(): ReturnType<M["stateDict"]> {
    return this.module.stateDict() as ReturnType<M["stateDict"]>;
  }

  /** Removes the gradient hooks (the module then trains alone again). */
  removeHooks(): void {
    for (const h of this.handles.splice(0)) h.remove();
    if ("gradientSync" in (this.module as object)) (this.module as unknown as GradientSyncTarget).gradientSync = null;
  }
}
