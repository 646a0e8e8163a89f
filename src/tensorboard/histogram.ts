// Histograms as TensorBoard's HistogramProto wants them, with PyTorch's rules (torch.utils.tensorboard
// make_histogram): numpy-style bins, then only the buckets from one empty bucket left of the first
// non-empty one to the last non-empty one (TensorBoard reads right edges only).
import { ValueError } from "../tensor/index.js";
import type { HistogramData } from "./messages.js";

let tfEdges: Float64Array | null = null;

/** TensorFlow's default bucket edges: ±1e-12·1.1^k up to 1e20, and 0 (1,549 edges; as PyTorch's 'tensorflow' bins). */
export function tensorflowEdges(): Float64Array {
  if (tfEdges) return tfEdges;
  const pos: number[] = [];
  for (let v = 1e-12; v < 1e20; v *= 1.1) pos.push(v);
  const edges = [...pos.map((v) => -v).reverse(), 0, ...pos];
  tfEdges = Float64Array.from(edges);
  return tfEdges;
}

/** numpy.linspace(lo, hi, n + 1): evenly spaced edges with the last one exactly hi. */
function uniformEdges(lo: number, hi: number, n: number): Float64Array {
  if (lo === hi) {
    // numpy widens an empty range by ±0.5.
    lo -= 0.5;
    hi += 0.5;
  }
  const e = new Float64Array(n + 1);
  const step = (hi - lo) / n;
  for (let i = 0; i < n; i++) e[i] = lo + i * step;
  e[n] = hi;
  return e;
}

/** Bin counts as numpy.histogram: [e_i, e_{i+1}) except the last bin, which includes its right edge. */
function countBins(values: ArrayLike<number>, edges: Float64Array): number[] {
  const n = edges.length - 1;
  const counts = new Array<number>(n).fill(0);
  const lo = edges[0];
  const hi = edges[n];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo || v > hi) continue;
    if (v === hi) {
      counts[n - 1]++;
      continue;
    }
    // Largest i with edges[i] <= v.
    let a = 0;
    let b = n;
    while (b - a > 1) {
      const m = (a + b) >>> 1;
      if (edges[m] <= v) a = m;
      else b = m;
    }
    counts[a]++;
  }
  return counts;
}

/**
 * The histogram of `values`: `bins` a count of equal bins over [min, max], explicit edges, or
 * 'tensorflow' (the default, as PyTorch's add_histogram). Throws on NaN/±Infinity and on no values.
 */
export function makeHistogram(where: string, values: ArrayLike<number>, bins: number | "tensorflow" | ArrayLike<number> = "tensorflow"): HistogramData {
  const n = values.length;
  if (n === 0) throw new ValueError(`${where}: the values are empty; a histogram needs at least one value`);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new ValueError(`${where}: the values contain ${v} at index ${i}; a histogram needs finite values (check for a diverged loss or weights)`);
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSquares += v * v;
  }
  let edges: Float64Array;
  if (bins === "tensorflow") edges = tensorflowEdges();
  else if (typeof bins === "number") {
    if (!Number.isInteger(bins) || bins < 1) throw new ValueError(`${where}: bins must be a positive integer, 'tensorflow' or an array of edges, got ${bins}`);
    edges = uniformEdges(min, max, bins);
  } else {
    edges = Float64Array.from(bins);
    if (edges.length < 2 || edges.some((e, i) => i > 0 && !(e > edges[i - 1])))
      throw new ValueError(`${where}: bin edges must be at least 2 increasing numbers, got [${Array.from(edges).join(",")}]`);
  }
  const counts = countBins(values, edges);
  const first = counts.findIndex((c) => c > 0);
  if (first < 0) throw new ValueError(`${where}: no value falls within the bins [${edges[0]}, ${edges[edges.length - 1]}]`);
  let last = counts.length - 1;
  while (counts[last] === 0) last--;
  // One empty bucket left of the first non-empty one, so that its left edge is shown too.
  const bucket = first > 0 ? counts.slice(first - 1, last + 1) : [0, ...counts.slice(0, last + 1)];
  const bucketLimit = Array.from(edges.subarray(first, last + 2));
  return { min, max, num: n, sum, sumSquares, bucketLimit, bucket };
}
