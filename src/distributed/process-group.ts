// Process groups on Gloo, shaped like torch.distributed: initProcessGroup (explicit options or
// torchrun's environment variables), the collectives allReduce / broadcast / allGather /
// reduceScatter / barrier on tensors or typed arrays, in place and without copies, and
// destroyProcessGroup. Collectives run on the addon's communication thread and return Promises,
// so JavaScript keeps running (the backward pass) while they run.
import { IngotError, Tensor, ValueError } from "../tensor/index.js";
import { TCPStore } from "./store.js";
import { type CollectiveTiming, loadGloo, type NativeProcessGroup } from "./native.js";

export type Backend = "gloo" | "nccl";
export type ReduceOpName = "sum" | "avg" | "max" | "min" | "product";
/** torch.distributed.ReduceOp. */
export const ReduceOp = { SUM: "sum", AVG: "avg", MAX: "max", MIN: "min", PRODUCT: "product" } as const satisfies Record<string, ReduceOpName>;
const OP_CODE: Record<ReduceOpName, number> = { sum: 0, avg: 0, max: 1, min: 2, product: 3 };

/** What the collectives take: a contiguous float32/float64/int32 tensor, or such a typed array. */
export type CommData = Tensor | Float32Array | Float64Array | Int32Array;
type Raw = Float32Array | Float64Array | Int32Array;

export interface InitProcessGroupOptions {
  /** 'gloo' (CPU, the one built here); 'nccl' needs the CUDA backend. Default 'gloo'. */
  backend?: Backend;
  /** This process's rank in [0, worldSize) (default: RANK). */
  rank?: number;
  /** Number of processes (default: WORLD_SIZE). */
  worldSize?: number;
  /** Where rank 0 hosts the rendezvous store (default: MASTER_ADDR). */
  masterAddr?: string;
  /** The store's port (default: MASTER_PORT). */
  masterPort?: number;
  /** Timeout of the rendezvous and of every collective (default 1 800 000 ms, torch's 30 minutes). */
  timeoutMs?: number;
  /** The network interface Gloo uses (default: GLOO_SOCKET_IFNAME, else the address this host reaches the master with). */
  iface?: string;
}

/** torch's default process-group timeout: 30 minutes. */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ValueError(`initProcessGroup: environment variable ${name} must be an integer, got '${v}'`);
  return n;
}

function need<T>(v: T | undefined, what: string, env: string): T {
  if (v === undefined) throw new ValueError(`initProcessGroup: ${what} is not set; pass it or set ${env} (ingot run sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT)`);
  return v;
}

/** The typed array a collective works on, in place. */
function rawOf(where: string, t: CommData): Raw {
  if (t instanceof Float32Array || t instanceof Float64Array || t instanceof Int32Array) return t;
  if (t instanceof Tensor) {
    if (t.dtype !== "float32" && t.dtype !== "float64" && t.dtype !== "int32")
      throw new ValueError(`${where}: tensors of dtype ${t.dtype} are not supported; use float32, float64 or int32 (t.to('float32'))`);
    if (!t.isContiguous()) throw new ValueError(`${where}: the tensor must be contiguous (it is worked on in place); use t.contiguous() and copy the result back`);
    return t.dataSync() as Raw;
  }
  throw new ValueError(`${where}: expected a Tensor, Float32Array, Float64Array or Int32Array, got ${Object.prototype.toString.call(t)}`);
}

/** A group of processes that run collectives together (torch's ProcessGroupGloo). */
export class ProcessGroup {
  private destroyed = false;
  constructor(
    readonly rank: number,
    readonly worldSize: number,
    readonly backend: Backend,
    /** The rendezvous store (hosted by rank 0), usable for small key-value exchanges. */
    readonly store: TCPStore,
    private readonly native: NativeProcessGroup,
    readonly timeoutMs: number,
  ) {}

  private check(where: string): void {
    if (this.destroyed) throw new IngotError(`${where}: the process group was destroyed; call initProcessGroup again`);
  }

  /** Turns Gloo's failure into an error naming the rank and the likely cause. */
  private explain(where: string, e: unknown): IngotError {
    const msg = e instanceof Error ? e.message : String(e);
    let hint = "";
    if (/closed by peer|reset by peer|Broken pipe|Connection refused|Read error|Write error|EOF/i.test(msg))
      hint = " — another rank exited or lost its connection; look at that rank's output for the first error";
    else if (/timed? ?out/i.test(msg))
      hint = ` — a rank did not join this collective within ${this.timeoutMs} ms (stuck, crashed, or running a different collective); raise timeoutMs if it is only slow`;
    return new IngotError(`ingot.distributed: ${where} failed on rank ${this.rank} of ${this.worldSize}: ${msg}${hint}`);
  }

  private async wrap(where: string, p: () => Promise<CollectiveTiming>): Promise<CollectiveTiming> {
    this.check(where);
    try {
      return await p();
    } catch (e) {
      throw this.explain(where, e);
    }
  }

  /** Blocking form for the few places that cannot await (DistributedDataParallel's constructor). */
  syncBroadcast(t: CommData, src = 0): CollectiveTiming {
    this.check("broadcast");
    const raw = rawOf("broadcast", t);
    try {
      return this.native.broadcast(raw, src, true);
    } catch (e) {
      throw this.explain("broadcast", e);
    }
  }

  /** Reduces `t` across ranks in place: every rank ends with the sum (avg, max, min, product). */
  allReduce(t: CommData, op: ReduceOpName = "sum"): Promise<CollectiveTiming> {
    const raw = rawOf("allReduce", t);
    const code = OP_CODE[op];
    if (code === undefined) throw new ValueError(`allReduce: op must be one of ${Object.keys(OP_CODE).join(", ")}, got '${op}'`);
    if (op === "avg" && raw instanceof Int32Array) throw new ValueError("allReduce: 'avg' of an int32 tensor is not an integer; use 'sum' and divide, or a float tensor");
    return this.wrap("allReduce", async () => {
      const r = await this.native.allReduce(raw, code);
      if (op === "avg") for (let i = 0; i < raw.length; i++) raw[i] /= this.worldSize;
      return r;
    });
  }

  /** Copies `t` of rank `src` into `t` on every rank. */
  broadcast(t: CommData, src = 0): Promise<CollectiveTiming> {
    this.checkRank("broadcast", src);
    const raw = rawOf("broadcast", t);
    return this.wrap("broadcast", () => this.native.broadcast(raw, src));
  }

  /** torch's all_gather_into_tensor: `output` (worldSize × input's elements) gets every rank's input, in rank order. */
  allGatherInto(output: CommData, input: CommData): Promise<CollectiveTiming> {
    const o = rawOf("allGather", output);
    const i = rawOf("allGather", input);
    if (o.constructor !== i.constructor) throw new ValueError("allGather: the output and the input must have the same dtype");
    if (o.length !== i.length * this.worldSize)
      throw new ValueError(`allGather: the output must hold worldSize × input elements (${this.worldSize} × ${i.length} = ${i.length * this.worldSize}), it holds ${o.length}`);
    return this.wrap("allGather", () => this.native.allGather(i, o));
  }

  /** torch's all_gather(tensorList, tensor): tensorList[r] gets rank r's `input`. */
  async allGather(outputs: CommData[], input: CommData): Promise<CollectiveTiming> {
    if (!Array.isArray(outputs) || outputs.length !== this.worldSize) throw new ValueError(`allGather: pass one output per rank (${this.worldSize}), got ${Array.isArray(outputs) ? outputs.length : typeof outputs}`);
    const i = rawOf("allGather", input);
    const outs = outputs.map((o) => rawOf("allGather", o));
    for (const o of outs) if (o.length !== i.length || o.constructor !== i.constructor) throw new ValueError(`allGather: every output must have the input's dtype and ${i.length} elements`);
    const flat = new (i.constructor as new (n: number) => Raw)(i.length * this.worldSize);
    const r = await this.allGatherInto(flat, i);
    outs.forEach((o, k) => o.set(flat.subarray(k * i.length, (k + 1) * i.length)));
    return r;
  }

  /**
   * torch's reduce_scatter_tensor: reduces `input` (worldSize equal chunks) across ranks and writes
   * chunk `rank` of the result to `output`. Gloo has no reduce-scatter collective for this API, so
   * this is an all-reduce of a copy followed by taking the chunk (correct; twice the traffic of a ring reduce-scatter).
   */
  async reduceScatterTensor(output: CommData, input: CommData, op: ReduceOpName = "sum"): Promise<CollectiveTiming> {
    const o = rawOf("reduceScatter", output);
    const i = rawOf("reduceScatter", input);
    if (o.constructor !== i.constructor) throw new ValueError("reduceScatter: the output and the input must have the same dtype");
    if (i.length !== o.length * this.worldSize)
      throw new ValueError(`reduceScatter: the input must hold worldSize × output elements (${this.worldSize} × ${o.length}), it holds ${i.length}`);
    const tmp = i.slice();
    const r = await this.allReduce(tmp, op);
    o.set(tmp.subarray(this.rank * o.length, (this.rank + 1) * o.length));
    return r;
  }

  /** torch's reduce_scatter(output, inputList): output = the reduction of every rank's inputList[rank]. */
  async reduceScatter(output: CommData, inputs: CommData[], op: ReduceOpName = "sum"): Promise<CollectiveTiming> {
    if (!Array.isArray(inputs) || inputs.length !== this.worldSize) throw new ValueError(`reduceScatter: pass one input per rank (${this.worldSize}), got ${Array.isArray(inputs) ? inputs.length : typeof inputs}`);
    const o = rawOf("reduceScatter", output);
    const ins = inputs.map((t) => rawOf("reduceScatter", t));
    for (const t of ins) if (t.length !== o.length || t.constructor !== o.constructor) throw new ValueError(`reduceScatter: every input must have the output's dtype and ${o.length} elements`);
    const flat = new (o.constructor as new (n: number) => Raw)(o.length * this.worldSize);
    ins.forEach((t, k) => flat.set(t, k * o.length));
    return this.reduceScatterTensor(o, flat, op);
  }

  /** Waits until every rank has reached the barrier. */
  barrier(): Promise<CollectiveTiming> {
    return this.wrap("barrier", () => this.native.barrier());
  }

  private checkRank(where: string, r: number): void {
    if (!Number.isInteger(r) || r < 0 || r >= this.worldSize) throw new ValueError(`${where}: src must be a rank in [0, ${this.worldSize}), got ${r}`);
  }

  /** Closes Gloo's connections and the store (rank 0 stops serving it). */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    try {
      await this.native.close();
    } catch {
      // a broken group closes all the same
    }
    await this.store.close();
  }
}

let defaultGroup: ProcessGroup | null = null;
let generation = 0;

/**
 * torch.distributed.init_process_group: rank 0 hosts the rendezvous store at masterAddr:masterPort,
 * every rank connects Gloo to every other (full mesh over TCP), then all meet at a barrier.
 * Options not given come from RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (as `ingot run` and torchrun set them).
 */
export async function initProcessGroup(opts: InitProcessGroupOptions = {}): Promise<ProcessGroup> {
  const backend = opts.backend ?? "gloo";
  if (backend === "nccl")
    throw new IngotError("initProcessGroup: backend 'nccl' needs the CUDA backend, which is not built in this Ingot; use backend 'gloo' (CPU tensors)");
  if (backend !== "gloo") throw new ValueError(`initProcessGroup: backend must be 'gloo' or 'nccl', got '${String(backend)}'`);
  if (defaultGroup) throw new IngotError("initProcessGroup: the default process group is already initialized; call destroyProcessGroup() first");
  const rank = need(opts.rank ?? envInt("RANK"), "rank", "RANK");
  const worldSize = need(opts.worldSize ?? envInt("WORLD_SIZE"), "worldSize", "WORLD_SIZE");
  const masterAddr = need(opts.masterAddr ?? process.env.MASTER_ADDR, "masterAddr", "MASTER_ADDR");
  const masterPort = need(opts.masterPort ?? envInt("MASTER_PORT"), "masterPort", "MASTER_PORT");
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(worldSize) || worldSize < 1) throw new ValueError(`initProcessGroup: worldSize must be an integer ≥ 1, got ${worldSize}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new ValueError(`initProcessGroup: rank must be an integer in [0, ${worldSize}), got ${rank}`);
  if (!Number.isInteger(masterPort) || masterPort < 1 || masterPort > 65535) throw new ValueError(`initProcessGroup: masterPort must be in [1, 65535], got ${masterPort}`);
  if (!(timeoutMs > 0) || timeoutMs > 2 ** 31) throw new ValueError(`initProcessGroup: timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
  const gloo = loadGloo();
  const store = await TCPStore.create({ host: masterAddr, port: masterPort, isMaster: rank === 0, timeoutMs });
  const iface = opts.iface ?? process.env.GLOO_SOCKET_IFNAME ?? "";
  const native = new gloo.ProcessGroup({
    rank,
    size: worldSize,
    storeHost: masterAddr,
    storePort: store.port,
    prefix: `ingot/pg${generation++}/`,
    hostname: store.localAddress,
    iface,
    timeoutMs,
  });
  const pg = new ProcessGroup(rank, worldSize, backend, store, native, timeoutMs);
  try {
    await native.connect();
    // Every rank has read every address from the store once all pass this barrier.
    await native.barrier();
  } catch (e) {
    await pg.destroy();
    const msg = e instanceof Error ? e.message : String(e);
    throw new IngotError(`initProcessGroup: rank ${rank} of ${worldSize} could not connect through ${masterAddr}:${masterPort}: ${msg}`);
  }
  defaultGroup = pg;
  return pg;
}

/** torch.distributed.is_initialized. */
export function isInitialized(): boolean {
  return defaultGroup !== null;
}

/** The default group, or an error saying to initialize it. */
export function getDefaultGroup(where = "ingot.distributed"): ProcessGroup {
  if (!defaultGroup) throw new IngotError(`${where}: the default process group is not initialized; call await initProcessGroup() first`);
  return defaultGroup;
}

/** torch.distributed.get_rank (0 when not initialized, as a single process). */
export function getRank(): number {
  return defaultGroup?.rank ?? 0;
}

/** torch.distributed.get_world_size (1 when not initialized). */
export function getWorldSize(): number {
  return defaultGroup?.worldSize ?? 1;
}

/** torch.distributed.destroy_process_group. */
export async function destroyProcessGroup(): Promise<void> {
  const pg = defaultGroup;
  defaultGroup = null;
  await pg?.destroy();
}

// The collectives on the default group (torch.distributed.all_reduce, …); each resolves when done.
export const allReduce = (t: CommData, op: ReduceOpName = "sum") => getDefaultGroup("allReduce").allReduce(t, op);
export const broadcast = (t: CommData, src = 0) => getDefaultGroup("broadcast").broadcast(t, src);
export const allGather = (outputs: CommData[], input: CommData) => getDefaultGroup("allGather").allGather(outputs, input);
export const allGatherIntoTensor = (output: CommData, input: CommData) => getDefaultGroup("allGather").allGatherInto(output, input);
export const reduceScatter = (output: CommData, inputs: CommData[], op: ReduceOpName = "sum") => getDefaultGroup("reduceScatter").reduceScatter(output, inputs, op);
export const reduceScatterTensor = (output: CommData, input: CommData, op: ReduceOpName = "sum") => getDefaultGroup("reduceScatter").reduceScatterTensor(output, input, op);
export const barrier = () => getDefaultGroup("barrier").barrier();
