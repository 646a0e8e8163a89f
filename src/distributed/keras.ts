// Pieces for training Keras models under DistributedDataParallel (`ingot train --nproc`): sharding
// tensors by rank, averaging the epoch's training logs across ranks, and joining the process group
// when the process was started by the launcher.
import { type Tensor, ValueError } from "../tensor/index.js";
import type { DistributedDataParallelOptions } from "./ddp.js";
import { takeRows } from "../data/util.js";
import { Callback, type Logs } from "../keras/history.js";
import { DistributedSampler } from "./sampler.js";
import { getDefaultGroup, getRank, getWorldSize, initProcessGroup, isInitialized, type ProcessGroup } from "./process-group.js";

/**
 * This rank's rows of each tensor (dim 0), as DistributedSampler draws them for epoch 0 (shuffled
 * with `seed`, padded so every rank gets the same count and so runs the same number of steps).
 */
export function shardRows(tensors: Tensor[], opts: { seed?: number; shuffle?: boolean; rank?: number; worldSize?: number } = {}): Tensor[] {
  const n = tensors[0].shape[0];
  const sampler = new DistributedSampler(n, { seed: opts.seed ?? 0, shuffle: opts.shuffle ?? true, rank: opts.rank ?? getRank(), numReplicas: opts.worldSize ?? getWorldSize() });
  const idx = sampler.indices();
  return tensors.map((t) => takeRows(t, idx));
}

/**
 * A Keras callback that replaces the epoch's training logs (loss, metrics; not val_*, which every
 * rank computes on the same data) by their mean over the ranks, before later callbacks and History
 * see them. Put it first in the callbacks list.
 */
export class AllReduceMetrics extends Callback {
  constructor(private readonly group?: ProcessGroup) {
    super();
  }
  override async onEpochEnd(_epoch: number, logs?: Logs): Promise<void> {
    if (!logs) return;
    const pg = this.group ?? getDefaultGroup("AllReduceMetrics");
    const keys = Object.keys(logs)
      .filter((k) => !k.startsWith("val_"))
      .sort();
    const v = Float64Array.from(keys.map((k) => logs[k]));
    await pg.allReduce(v, "avg");
    keys.forEach((k, i) => (logs[k] = v[i]));
  }
}

/**
 * Joins the default process group from the environment when this process is one of several workers
 * started by `ingot run` / torchrun (WORLD_SIZE > 1); returns the group, or null for a single process.
 */
export async function initFromEnvIfLaunched(): Promise<ProcessGroup | null> {
  if (isInitialized()) return getDefaultGroup();
  const ws = Number(process.env.WORLD_SIZE ?? "1");
  if (!(ws > 1) || process.env.RANK === undefined) return null;
  return initProcessGroup();
}

/**
 * DistributedDataParallel options for `ingot train --nproc` from the environment:
 * INGOT_DDP_BUCKET_CAP_MB (bucket size, default 25) and INGOT_DDP_TRACE (a Chrome trace file; `{rank}` → the rank).
 */
export function ddpOptionsFromEnv(): DistributedDataParallelOptions {
  const o: DistributedDataParallelOptions = {};
  const cap = process.env.INGOT_DDP_BUCKET_CAP_MB;
  if (cap) {
    const v = Number(cap);
    if (!(v > 0)) throw new ValueError(`INGOT_DDP_BUCKET_CAP_MB must be a positive number of MB, got '${cap}'`);
    o.bucketCapMb = v;
  }
  if (process.env.INGOT_DDP_TRACE) o.traceFile = process.env.INGOT_DDP_TRACE;
  return o;
}
