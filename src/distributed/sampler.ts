// DistributedSampler (torch.utils.data.distributed.DistributedSampler): each rank iterates its own
// share of a dataset's indices. The order is shuffled with seed + epoch (call setEpoch each epoch, so
// every epoch differs yet every rank agrees on it); the list is padded by repeating its start so that
// all ranks get the same number of samples (and so run the same number of steps), or truncated with dropLast.
import { Generator, ValueError } from "../tensor/index.js";
import { permutation } from "../data/util.js";
import { getRank, getWorldSize } from "./process-group.js";

export interface DistributedSamplerOptions {
  /** Number of ranks (default: the default group's world size). */
  numReplicas?: number;
  /** This rank (default: the default group's rank). */
  rank?: number;
  /** Shuffle each epoch (default true). */
  shuffle?: boolean;
  /** The shuffle seed, the same on every rank (default 0). */
  seed?: number;
  /** Drop the tail so the samples divide evenly, instead of padding (default false). */
  dropLast?: boolean;
}

export class DistributedSampler implements Iterable<number> {
  readonly numReplicas: number;
  readonly rank: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** Samples this rank gets per epoch (torch's num_samples). */
  readonly numSamples: number;
  /** numSamples × numReplicas. */
  readonly totalSize: number;
  private epoch = 0;
  private readonly n: number;

  /** `dataset` is anything with a length (a Dataset) or the number of samples. */
  constructor(dataset: { readonly length: number } | number, opts: DistributedSamplerOptions = {}) {
    this.n = typeof dataset === "number" ? dataset : dataset?.length;
    if (!Number.isInteger(this.n) || this.n < 0) throw new ValueError(`DistributedSampler: the dataset must have a length (or pass the sample count), got ${String(this.n)}`);
    this.numReplicas = opts.numReplicas ?? getWorldSize();
    this.rank = opts.rank ?? getRank();
    if (!Number.isInteger(this.numReplicas) || this.numReplicas < 1) throw new ValueError(`DistributedSampler: numReplicas must be an integer ≥ 1, got ${this.numReplicas}`);
    if (!Number.isInteger(this.rank) || this.rank < 0 || this.rank >= this.numReplicas)
      throw new ValueError(`DistributedSampler: invalid rank ${this.rank}, rank should be in the interval [0, ${this.numReplicas - 1}]`);
    this.shuffle = opts.shuffle ?? true;
    this.seed = opts.seed ?? 0;
    this.dropLast = opts.dropLast ?? false;
    // As torch: with dropLast the tail that does not divide evenly is dropped, else the list is padded.
    this.numSamples =
      this.dropLast && this.n % this.numReplicas !== 0 ? Math.ceil((this.n - this.numReplicas) / this.numReplicas) : Math.ceil(this.n / this.numReplicas);
    this.totalSize = this.numSamples * this.numReplicas;
  }

  /** Sets the epoch, which changes the shuffle (call it before each epoch's loop, on every rank). */
  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) throw new ValueError(`DistributedSampler.setEpoch: epoch must be an integer ≥ 0, got ${epoch}`);
    this.epoch = epoch;
  }

  get length(): number {
    return this.numSamples;
  }

  /** This rank's indices for the current epoch. */
  indices(): number[] {
    let idx = this.shuffle ? permutation(this.n, new Generator(this.seed + this.epoch)) : Array.from({ length: this.n }, (_, i) => i);
    if (!this.dropLast) {
      const padding = this.totalSize - idx.length;
      if (padding > 0 && idx.length > 0) {
        const base = idx;
        while (idx.length < this.totalSize) idx = idx.concat(base.slice(0, this.totalSize - idx.length));
      }
    } else idx = idx.slice(0, this.totalSize);
    const mine: number[] = [];
    for (let i = this.rank; i < this.totalSize; i += this.numReplicas) mine.push(idx[i]);
    return mine;
  }

  [Symbol.iterator](): Iterator<number> {
    return this.indices()[Symbol.iterator]();
  }
}
