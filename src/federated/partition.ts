// Splitting one dataset among simulated clients: IID (a seeded shuffle cut into equal parts) and
// non-IID by label with Dirichlet(α) proportions (Hsu, Qi & Brown 2019, "Measuring the Effects of
// Non-Identical Data Distribution for Federated Visual Classification", arXiv:1909.06335), done per
// class as Flower's DirichletPartitioner does: for every class k, draw p_k ~ Dir(α·1_N) over the N
// clients and deal class k's samples out in those proportions. Small α → each client sees few classes;
// α → ∞ → IID. Every split is a pure function of (labels, N, α, seed), so a client process can compute
// its own part without the server sending indices.
import { Generator } from "../tensor/random.js";
import { IngotError } from "../tensor/index.js";
import { randperm } from "../ops/creation.js";

/** A seeded permutation of 0..n-1 (randperm's Fisher–Yates on the given generator). */
export function shuffledIndices(n: number, g: Generator): number[] {
  return Array.from(randperm(n, { generator: g }).dataSync() as Int32Array);
}

function checkClients(fn: string, n: number, numClients: number): void {
  if (!Number.isInteger(numClients) || numClients < 1) throw new IngotError(`${fn}: numClients must be an integer ≥ 1, got ${numClients}`);
  if (n < numClients) throw new IngotError(`${fn}: ${n} samples cannot be split among ${numClients} clients; use fewer clients or more data`);
}

/** IID: a seeded permutation cut into numClients parts whose sizes differ by at most one. */
export function iidPartition(n: number, numClients: number, seed = 0): number[][] {
  checkClients("iidPartition", n, numClients);
  const perm = shuffledIndices(n, new Generator(seed));
  const parts: number[][] = [];
  for (let c = 0; c < numClients; c++) parts.push(perm.slice(Math.floor((c * n) / numClients), Math.floor(((c + 1) * n) / numClients)).sort((a, b) => a - b));
  return parts;
}

/** A Gamma(shape, 1) draw (Marsaglia & Tsang 2000; shape < 1 through Gamma(shape+1)·U^(1/shape)). */
export function sampleGamma(shape: number, g: Generator): number {
  if (shape < 1) {
    let u = 0;
    while (u === 0) u = g.random();
    return sampleGamma(shape + 1, g) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = g.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = g.random();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A Dirichlet(alpha·1_k) draw: k proportions summing to 1. */
export function sampleDirichlet(alpha: number, k: number, g: Generator): number[] {
  const x = Array.from({ length: k }, () => sampleGamma(alpha, g));
  const s = x.reduce((a, b) => a + b, 0);
  // With a tiny alpha every draw can underflow to 0: then one client gets everything.
  if (!(s > 0)) return x.map((_, i) => (i === g.int(0, k) ? 1 : 0));
  return x.map((v) => v / s);
}

export interface DirichletOptions {
  /** Concentration α > 0 (Flower's `alpha`); 0.1 very skewed, 0.5 moderate, 100 near IID. */
  alpha: number;
  seed?: number;
  /** Redraw until every client has at least this many samples (Flower's `min_partition_size`, default 10). */
  minPartitionSize?: number;
  /** Give up after this many draws (default 100). */
  maxTries?: number;
}

/**
 * Non-IID label split: for each class, Dirichlet(α) proportions over the clients. `labels` are class
 * indices. Returns each client's sample indices (sorted).
 */
export function dirichletPartition(labels: ArrayLike<number>, numClients: number, opts: DirichletOptions): number[][] {
  const { alpha } = opts;
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new IngotError(`dirichletPartition: alpha must be a positive number, got ${alpha}`);
  checkClients("dirichletPartition", labels.length, numClients);
  const minSize = opts.minPartitionSize ?? 10;
  if (minSize * numClients > labels.length)
    throw new IngotError(`dirichletPartition: ${labels.length} samples cannot give ${numClients} clients ${minSize} each; lower minPartitionSize or use fewer clients`);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!byClass.has(y)) byClass.set(y, []);
    byClass.get(y)!.push(i);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const g = new Generator(opts.seed ?? 0);
  const tries = opts.maxTries ?? 100;
  for (let t = 0; t < tries; t++) {
    const parts: number[][] = Array.from({ length: numClients }, () => []);
    for (const k of classes) {
      const idx = shuffledIndices(byClass.get(k)!.length, g).map((j) => byClass.get(k)![j]);
      const p = sampleDirichlet(alpha, numClients, g);
      let start = 0;
      let acc = 0;
      for (let c = 0; c < numClients; c++) {
        acc += p[c];
        const end = c === numClients - 1 ? idx.length : Math.round(acc * idx.length);
        for (let j = start; j < end; j++) parts[c].push(idx[j]);
        start = Math.max(start, end);
      }
    }
    if (parts.every((p) => p.length >= minSize)) return parts.map((p) => p.sort((a, b) => a - b));
  }
  throw new IngotError(`dirichletPartition: no split with ≥ ${minSize} samples per client in ${tries} draws (alpha ${alpha}, ${numClients} clients); raise alpha or lower minPartitionSize`);
}

/** A partition spec as the command line writes it: `iid` or `dirichlet:<alpha>` (e.g. dirichlet:0.5). */
export type PartitionSpec = { kind: "iid" } | { kind: "dirichlet"; alpha: number };

export function parsePartition(s: string): PartitionSpec {
  if (s === "iid") return { kind: "iid" };
  const m = /^dirichlet:([0-9.eE+-]+)$/.exec(s);
  if (m && Number(m[1]) > 0) return { kind: "dirichlet", alpha: Number(m[1]) };
  throw new IngotError(`federated: unknown partition '${s}'; use 'iid' or 'dirichlet:<alpha>' with alpha > 0 (e.g. dirichlet:0.5)`);
}

/** Applies a spec: every client's sample indices. */
export function partition(labels: ArrayLike<number>, numClients: number, spec: PartitionSpec, seed = 0): number[][] {
  return spec.kind === "iid" ? iidPartition(labels.length, numClients, seed) : dirichletPartition(labels, numClients, { alpha: spec.alpha, seed });
}

/** Per-client label histograms (rows: clients, columns: classes 0..numClasses-1). */
export function labelCounts(labels: ArrayLike<number>, parts: number[][], numClasses: number): number[][] {
  return parts.map((p) => {
    const h = new Array(numClasses).fill(0);
    for (const i of p) h[labels[i]]++;
    return h;
  });
}
