// Poisson sampling for DP-SGD (Opacus's DPDataLoader / UniformWithReplacementSampler): every step
// takes each sample independently with probability q, so batch sizes vary (and can be 0). The
// privacy analysis of the subsampled Gaussian mechanism assumes exactly this sampling.
import { type Generator, ValueError } from "../tensor/index.js";
import { type Collated, Dataset } from "../data/dataset.js";
import { DataLoader } from "../data/loader.js";
import { pickGenerator } from "../data/util.js";

export interface DPDataLoaderOptions<T, B> {
  /** Probability q of taking each sample in a step (default: the batch size / dataset size of the loader it replaces). */
  sampleRate: number;
  /** Steps per epoch (default round(1/q), as Opacus). */
  steps?: number;
  collate?: (items: T[]) => B;
  generator?: Generator;
}

/**
 * A DataLoader whose batches are Poisson samples: each of its `length` batches holds every sample
 * with probability sampleRate (expected size q·N). Empty batches are yielded like any other (the
 * DP optimizer still adds noise for them).
 * @example const dl = DPDataLoader.fromDataLoader(new DataLoader(ds, {batchSize: 256}));
 */
export class DPDataLoader<T = unknown, B = Collated<T>> extends DataLoader<T, B> {
  readonly sampleRate: number;
  readonly steps: number;
  private readonly dpCollate?: (items: T[]) => B;
  private readonly dpGenerator?: Generator;

  constructor(dataset: Dataset<T>, opts: DPDataLoaderOptions<T, B>) {
    super(dataset, { batchSize: Math.max(1, Math.round(opts.sampleRate * dataset.length)), collate: opts.collate, generator: opts.generator });
    const q = opts.sampleRate;
    if (!(q > 0 && q <= 1)) throw new ValueError(`DPDataLoader: sampleRate must be in (0, 1], got ${q}; it is the expected batch size / the dataset size`);
    this.sampleRate = q;
    this.steps = opts.steps ?? Math.max(1, Math.round(1 / q));
    if (!Number.isInteger(this.steps) || this.steps < 1) throw new ValueError(`DPDataLoader: steps must be a positive integer, got ${opts.steps}`);
    this.dpCollate = opts.collate;
    this.dpGenerator = opts.generator;
  }

  /** The Poisson-sampling version of a loader: q = batchSize / dataset size, the same number of steps per epoch. */
  static fromDataLoader<T, B>(loader: DataLoader<T, B>, opts: { generator?: Generator } = {}): DPDataLoader<T, B> {
    const n = loader.dataset.length;
    if (n === 0) throw new ValueError("DPDataLoader.fromDataLoader: the dataset is empty");
    const collate = (loader as unknown as { collate?: (items: T[]) => B }).collate;
    return new DPDataLoader<T, B>(loader.dataset, { sampleRate: Math.min(1, loader.batchSize / n), steps: loader.length, collate, generator: opts.generator ?? (loader as unknown as { generator?: Generator }).generator });
  }

  /** The expected batch size q·N (what the noisy gradient sum is divided by). */
  get expectedBatchSize(): number {
    return this.sampleRate * this.dataset.length;
  }

  override get length(): number {
    return this.steps;
  }

  /** The indices of one Poisson batch. */
  sampleIndices(): number[] {
    const g = pickGenerator({ generator: this.dpGenerator });
    const n = this.dataset.length;
    const q = this.sampleRate;
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (g.random() < q) idx.push(i);
    return idx;
  }

  override *[Symbol.iterator](): Iterator<B> {
    for (let s = 0; s < this.steps; s++) {
      const idx = this.sampleIndices();
      if (this.dpCollate) yield this.dpCollate(idx.map((i) => this.dataset.get(i)));
      else yield this.dataset.getBatch(idx) as unknown as B;
    }
  }
}
