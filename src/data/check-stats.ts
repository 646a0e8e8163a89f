// Drift statistics between a reference sample and a current one: the population stability index
// (PSI) over reference-quantile bins or categories, and the two-sample Kolmogorov–Smirnov test.
import { quantile } from "./clean.js";

/** Proportions below this are raised to it before the PSI's logarithm (an empty bin would be infinite). */
export const PSI_EPSILON = 1e-4;

/** PSI below 0.1: no meaningful shift; 0.1–0.25: moderate; 0.25 and above: major (Siddiqi 2006, credit scoring). */
export const PSI_MODERATE = 0.1;
export const PSI_MAJOR = 0.25;

/** Σ (a − e)·ln(a / e) over bins, with proportions floored at PSI_EPSILON. */
export function psiFromCounts(expected: readonly number[], actual: readonly number[]): number {
  const ne = expected.reduce((a, b) => a + b, 0);
  const na = actual.reduce((a, b) => a + b, 0);
  if (ne === 0 || na === 0) return NaN;
  let psi = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i] / ne, PSI_EPSILON);
    const a = Math.max(actual[i] / na, PSI_EPSILON);
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

/**
 * PSI of numbers: the bins are the reference's deciles (bins − 1 interior edges at the k/bins
 * quantiles, repeated edges merged), open at both ends; a value equal to an edge falls in the bin below.
 */
export function psiNumeric(reference: readonly number[], current: readonly number[], bins = 10): number {
  const ref = [...reference].sort((a, b) => a - b);
  const edges = [...new Set(Array.from({ length: bins - 1 }, (_, k) => quantile(ref, (k + 1) / bins)))].sort((a, b) => a - b);
  const hist = (xs: readonly number[]) => {
    const h = new Array<number>(edges.length + 1).fill(0);
    for (const x of xs) {
      let lo = 0;
      let hi = edges.length; // first edge ≥ x, by bisection
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (edges[mid] < x) lo = mid + 1;
        else hi = mid;
      }
      h[lo]++;
    }
    return h;
  };
  return psiFromCounts(hist(ref), hist(current));
}

/** PSI of categories: one bin per value seen in either sample. */
export function psiCategorical(reference: readonly string[], current: readonly string[]): number {
  const keys = [...new Set([...reference, ...current])].sort();
  const count = (xs: readonly string[]) => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
    return keys.map((k) => m.get(k) ?? 0);
  };
  return psiFromCounts(count(reference), count(current));
}

/** Q_KS(λ) = 2 Σ_{j≥1} (−1)^{j−1} e^{−2j²λ²}, the Kolmogorov distribution's upper tail. */
function kolmogorovQ(lambda: number): number {
  if (lambda < 1e-3) return 1;
  let sum = 0;
  for (let j = 1; j <= 100; j++) {
    const term = 2 * (j % 2 ? 1 : -1) * Math.exp(-2 * j * j * lambda * lambda);
    sum += term;
    if (Math.abs(term) < 1e-12) break;
  }
  return Math.min(1, Math.max(0, sum));
}

/**
 * The two-sample Kolmogorov–Smirnov test: D = sup |F₁(x) − F₂(x)| and its asymptotic p-value
 * Q_KS((√nₑ + 0.12 + 0.11/√nₑ)·D) with nₑ = n₁n₂/(n₁+n₂) (Stephens 1970; Numerical Recipes §14.3.3).
 */
export function ksTwoSample(a: readonly number[], b: readonly number[]): { statistic: number; pValue: number } {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  if (!x.length || !y.length) return { statistic: NaN, pValue: NaN };
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] <= v) i++;
    while (j < y.length && y[j] <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  const en = Math.sqrt((x.length * y.length) / (x.length + y.length));
  return { statistic: d, pValue: kolmogorovQ((en + 0.12 + 0.11 / en) * d) };
}
