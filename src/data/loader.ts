// DataLoader: batches of a Dataset, optionally shuffled each epoch with a seeded generator.
import { type Generator, ValueError } from "../tensor/index.js";
import { type Collated, Dataset } from "./dataset.js";
import { permutation, pickGenerator } from "./util.js";

export interface DataLoaderOptions<T, B> {
  /** Items per batch (default 1). */
  batchSize?: number;
  /** Draw a new order every epoch (default false). */
  shuffle?: boolean;
  /** Leave out the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Turns a list of items into a batch (default `defaultCollate`: stack tensors, recurse into arrays/objects). */
  collate?: (items: T[]) => B;
  /** The generator for shuffling (default: the default generator, so `manualSeed` makes runs repeat). */
  generator?: Generator;
  /** The indices of each epoch, in order (a DistributedSampler); excludes `shuffle`, as in torch. */
  sampler?: Iterable<number> & { readonly length: number };
}

/**
 * Iterates a dataset in batches, like torch's DataLoader. Every `for … of` is one epoch; with
 * `shuffle` each epoch draws a new order from the generator.
 * @example for (const [x, y] of new DataLoader(new TensorDataset(xs, ys), { batchSize: 32, shuffle: true })) { … }
 */
export class DataLoader<T = unknown, B = Collated<T>> implements Iterable<B> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  private readonly collate?: (items: T[]) => B;
  private readonly generator?: Generator;
  readonly sampler?: Iterable<number> & { readonly length: number };

  constructor(
    readonly dataset: Dataset<T>,
    opts: DataLoaderOptions<T, B> = {},
  ) {
    if (!(dataset instanceof Dataset)) throw new ValueError("DataLoader: the first argument must be a Dataset (wrap tensors in new TensorDataset(x, y))");
    this.batchSize = opts.batchSize ?? 1;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new ValueError(`DataLoader: batchSize must be a positive integer, got ${opts.batchSize}`);
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.collate = opts.collate;
    this.generator = opts.generator;
    this.sampler = opts.sampler;
    if (this.sampler && this.shuffle) throw new ValueError("DataLoader: sampler option is mutually exclusive with shuffle (the sampler decides the order; DistributedSampler shuffles itself)");
  }

  /** Number of batches per epoch (torch's `len(loader)`). */
  get length(): number {
    const n = this.sampler ? this.sampler.length : this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The order of one epoch: a fresh permutation when shuffling, else 0..n-1. */
  private order(): number[] {
    if (this.sampler) return [...this.sampler];
    const n = this.dataset.length;
    return this.shuffle ? permutation(n, pickGenerator({ generator: this.generator })) : Array.from({ length: n }, (_, i) => i);
  }

  *[Symbol.iterator](): Iterator<B> {
    const order = this.order();
    const batches = this.length;
    for (let b = 0; b < batches; b++) {
      const idx = order.slice(b * this.batchSize, (b + 1) * this.batchSize);
      if (this.collate) yield this.collate(idx.map((i) => this.dataset.get(i)));
      else yield this.dataset.getBatch(idx) as unknown as B;
    }
  }
}
