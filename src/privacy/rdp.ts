// Rényi-DP accounting of the subsampled Gaussian mechanism (DP-SGD with Poisson sampling).
//
// RDP of one step at order α (Mironov, Talwar, Zhang 2019, "Rényi Differential Privacy of the
// Sampled Gaussian Mechanism", arXiv:1908.10530, §3.3): ε(α) = log(A_α) / (α − 1), with A_α a
// binomial sum for integer α and two erfc-weighted series for fractional α. This is the same
// computation as TF Privacy's rdp_accountant.py and Opacus's accountants/analysis/rdp.py, with
// the same default orders. RDP composes additively over steps (Mironov 2017, Prop. 1).
//
// Conversion to (ε, δ): two are offered.
// - "improved" (default, what Opacus and today's TF Privacy use): Balle et al. 2020, "Hypothesis
//   testing interpretations and Rényi differential privacy", Thm 21:
//   ε = rdp − (log δ + log α)/(α − 1) + log((α − 1)/α).
// - "classic" (Mironov 2017, Prop. 3, what TF Privacy used when its MNIST tutorial table was made):
//   ε = rdp − log δ / (α − 1).
// docs/privacy.md says which conversion reproduces which published number.
import { ValueError } from "../tensor/index.js";

/** Opacus's and TF Privacy's default RDP orders: 1.1, 1.2, …, 10.9, then 12, 13, …, 63. */
export const DEFAULT_ALPHAS: readonly number[] = [...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10), ...Array.from({ length: 52 }, (_, i) => 12 + i)];

export type RdpConversion = "improved" | "classic";

/** log(exp(a) + exp(b)) without overflow. */
function logAdd(a: number, b: number): number {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  if (lo === -Infinity) return hi;
  return Math.log1p(Math.exp(lo - hi)) + hi;
}

/** log(exp(a) − exp(b)) for a ≥ b. */
function logSub(a: number, b: number): number {
  if (a < b) throw new ValueError("rdp: internal error, a log-space subtraction went negative");
  if (b === -Infinity) return a;
  if (a === b) return -Infinity;
  const d = Math.expm1(a - b);
  return Number.isFinite(d) ? Math.log(d) + b : a;
}

/** log Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error below 1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * log(erfc(x)), accurate for large x where erfc underflows. erfc(x) = Q(1/2, x²) for x ≥ 0 (the
 * regularized upper incomplete gamma function), evaluated by its series or its continued fraction
 * in log space (Numerical Recipes §6.2); erfc(−x) = 2 − erfc(x).
 */
export function logErfc(x: number): number {
  if (x < 0) return Math.log(2 - Math.exp(logErfc(-x)));
  if (x === 0) return 0;
  const a = 0.5;
  const z = x * x;
  const lnPrefix = -z + a * Math.log(z) - logGamma(a);
  if (z < a + 1) {
    // P(a, z) by its series; Q = 1 − P.
    let ap = a;
    let sum = 1 / a;
    let del = sum;
    for (let n = 0; n < 500; n++) {
      ap += 1;
      del *= z / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-17) break;
    }
    return Math.log1p(-Math.exp(lnPrefix + Math.log(sum)));
  }
  // Q(a, z) by Lentz's continued fraction.
  const tiny = 1e-300;
  let b = z + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return lnPrefix + Math.log(h);
}

/** log of the binomial coefficient C(n, k) for real n and integer k ≥ 0, and its sign. */
function logAbsBinom(n: number, k: number): [number, number] {
  // C(n, k) = Π_{j<k} (n − j)/(j + 1): exact sign for fractional n, log magnitude summed.
  let log = 0;
  let sign = 1;
  for (let j = 0; j < k; j++) {
    const f = (n - j) / (j + 1);
    if (f === 0) return [-Infinity, 0];
    if (f < 0) sign = -sign;
    log += Math.log(Math.abs(f));
  }
  return [log, sign];
}

function logAInt(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  // log C(α, i) from lgamma: exact enough and fast for α ≤ 63.
  for (let i = 0; i <= alpha; i++) {
    const logCoef = logGamma(alpha + 1) - logGamma(i + 1) - logGamma(alpha - i + 1) + i * Math.log(q) + (alpha - i) * Math.log(1 - q);
    logA = logAdd(logA, logCoef + (i * i - i) / (2 * sigma * sigma));
  }
  return logA;
}

function logAFrac(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  for (let i = 0; ; i++) {
    const [logCoef, sign] = logAbsBinom(alpha, i);
    const j = alpha - i;
    const logT0 = logCoef + i * Math.log(q) + j * Math.log(1 - q);
    const logT1 = logCoef + j * Math.log(q) + i * Math.log(1 - q);
    const logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.SQRT2 * sigma));
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma));
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
    if (sign > 0) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30 || i > 10000) break;
  }
  return logAdd(logA0, logA1);
}

/** RDP at order α of one step of the Gaussian mechanism with noise multiplier σ, Poisson-subsampled at rate q. */
export function rdpOneStep(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0;
  if (sigma === 0) return Infinity;
  if (q === 1) return alpha / (2 * sigma * sigma);
  if (!Number.isFinite(alpha)) return Infinity;
  const logA = Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha);
  return logA / (alpha - 1);
}

function checkMechanism(where: string, q: number, sigma: number, steps: number): void {
  if (!(q >= 0 && q <= 1)) throw new ValueError(`${where}: sampleRate must be in [0, 1], got ${q}`);
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new ValueError(`${where}: noiseMultiplier must be a finite number ≥ 0, got ${sigma}`);
  if (!Number.isInteger(steps) || steps < 0) throw new ValueError(`${where}: steps must be an integer ≥ 0, got ${steps}`);
}

/** RDP of `steps` steps at each order (TF Privacy's / Opacus's compute_rdp). */
export function computeRdp(opts: { sampleRate: number; noiseMultiplier: number; steps: number; orders?: readonly number[] }): number[] {
  const { sampleRate: q, noiseMultiplier: sigma, steps } = opts;
  checkMechanism("computeRdp", q, sigma, steps);
  return (opts.orders ?? DEFAULT_ALPHAS).map((a) => rdpOneStep(q, sigma, a) * steps);
}

/** The smallest ε over the orders for δ, and the order that gives it (get_privacy_spent). */
export function getPrivacySpent(opts: { orders: readonly number[]; rdp: readonly number[]; delta: number; conversion?: RdpConversion }): { epsilon: number; bestAlpha: number } {
  const { orders, rdp, delta } = opts;
  if (orders.length !== rdp.length) throw new ValueError(`getPrivacySpent: got ${orders.length} orders but ${rdp.length} RDP values; give one RDP value per order`);
  if (!(delta > 0 && delta < 1)) throw new ValueError(`getPrivacySpent: delta must be in (0, 1), got ${delta}; a common choice is 1/(number of training samples) or smaller`);
  const conversion = opts.conversion ?? "improved";
  let best = Infinity;
  let bestAlpha = NaN;
  orders.forEach((a, i) => {
    if (a <= 1) throw new ValueError(`getPrivacySpent: RDP orders must be > 1, got ${a}`);
    const eps = conversion === "classic" ? rdp[i] - Math.log(delta) / (a - 1) : rdp[i] - (Math.log(delta) + Math.log(a)) / (a - 1) + Math.log((a - 1) / a);
    if (eps < best) {
      best = eps;
      bestAlpha = a;
    }
  });
  return { epsilon: Math.max(0, best), bestAlpha };
}

/** One stretch of training with fixed settings: `steps` steps of noise σ at sampling rate q. */
export interface MechanismStep {
  noiseMultiplier: number;
  sampleRate: number;
  steps: number;
}

/**
 * Keeps the history of (σ, q, steps) and turns it into ε for a δ, like Opacus's RDPAccountant.
 * @example const acc = new RDPAccountant(); acc.step({noiseMultiplier: 1.1, sampleRate: 256/60000}); acc.getEpsilon(1e-5)
 */
/** What the DP optimizer records its steps in and the engine asks for ε. */
export interface Accountant {
  readonly mechanism: string;
  step(s: { noiseMultiplier: number; sampleRate: number }): void;
  getEpsilon(delta: number): number;
  readonly steps: number;
}

export class RDPAccountant implements Accountant {
  readonly mechanism = "rdp";
  history: MechanismStep[] = [];

  constructor(readonly opts: { alphas?: readonly number[]; conversion?: RdpConversion } = {}) {}

  /** Records one step (merged with the last entry when σ and q are the same). */
  step(s: { noiseMultiplier: number; sampleRate: number }): void {
    checkMechanism("RDPAccountant.step", s.sampleRate, s.noiseMultiplier, 1);
    const last = this.history[this.history.length - 1];
    if (last && last.noiseMultiplier === s.noiseMultiplier && last.sampleRate === s.sampleRate) last.steps += 1;
    else this.history.push({ noiseMultiplier: s.noiseMultiplier, sampleRate: s.sampleRate, steps: 1 });
  }

  /** Number of steps recorded. */
  get steps(): number {
    return this.history.reduce((n, h) => n + h.steps, 0);
  }

  /** ε and the best order for δ after the recorded steps. */
  getPrivacySpent(delta: number, alphas?: readonly number[]): { epsilon: number; bestAlpha: number } {
    const orders = alphas ?? this.opts.alphas ?? DEFAULT_ALPHAS;
    if (!this.history.length) return { epsilon: 0, bestAlpha: NaN };
    const rdp = orders.map(() => 0);
    for (const h of this.history) computeRdp({ ...h, orders }).forEach((v, i) => (rdp[i] += v));
    return getPrivacySpent({ orders, rdp, delta, conversion: this.opts.conversion });
  }

  /** ε for δ after the recorded steps. */
  getEpsilon(delta: number, alphas?: readonly number[]): number {
    return this.getPrivacySpent(delta, alphas).epsilon;
  }
}

/** ε of `steps` steps (or `epochs` epochs, steps = floor(epochs / q)) at noise σ and sampling rate q. */
export function computeEpsilon(opts: { noiseMultiplier: number; sampleRate: number; delta: number; steps?: number; epochs?: number; conversion?: RdpConversion; alphas?: readonly number[] }): number {
  const steps = stepsOf("computeEpsilon", opts);
  const acc = new RDPAccountant({ conversion: opts.conversion, alphas: opts.alphas });
  acc.history = [{ noiseMultiplier: opts.noiseMultiplier, sampleRate: opts.sampleRate, steps }];
  return acc.getEpsilon(opts.delta);
}

function stepsOf(where: string, o: { steps?: number; epochs?: number; sampleRate: number }): number {
  if ((o.steps === undefined) === (o.epochs === undefined)) throw new ValueError(`${where}: give either steps or epochs (not both, not neither)`);
  if (o.steps !== undefined) return o.steps;
  if (!(o.epochs! > 0)) throw new ValueError(`${where}: epochs must be > 0, got ${o.epochs}`);
  if (!(o.sampleRate > 0)) throw new ValueError(`${where}: sampleRate must be > 0, got ${o.sampleRate}`);
  return Math.floor(o.epochs! / o.sampleRate);
}

/**
 * The noise multiplier σ that spends (targetEpsilon, targetDelta) over the training, by bisection
 * as Opacus's get_noise_multiplier does (the result's ε is within epsilonTolerance below the target).
 * @example getNoiseMultiplier({targetEpsilon: 3, targetDelta: 1e-5, sampleRate: 256/60000, epochs: 60})
 */
export function getNoiseMultiplier(opts: {
  targetEpsilon: number;
  targetDelta: number;
  sampleRate: number;
  epochs?: number;
  steps?: number;
  epsilonTolerance?: number;
  conversion?: RdpConversion;
  alphas?: readonly number[];
  /** Which accountant's ε to match (default "rdp"). */
  accountant?: "rdp" | "gdp";
}): number {
  const where = "getNoiseMultiplier";
  if (!(opts.targetEpsilon > 0) || !Number.isFinite(opts.targetEpsilon)) throw new ValueError(`${where}: targetEpsilon must be a finite number > 0, got ${opts.targetEpsilon}`);
  const steps = stepsOf(where, opts);
  const tol = opts.epsilonTolerance ?? 0.01;
  const eps = (sigma: number) =>
    opts.accountant === "gdp"
      ? gdpEpsilon(computeMuPoisson({ noiseMultiplier: sigma, sampleRate: opts.sampleRate, steps }), opts.targetDelta)
      : computeEpsilon({ noiseMultiplier: sigma, sampleRate: opts.sampleRate, delta: opts.targetDelta, steps, conversion: opts.conversion, alphas: opts.alphas });
  let lo = 0;
  let hi = 10;
  let epsHi = Infinity;
  while (epsHi > opts.targetEpsilon) {
    hi *= 2;
    if (hi > 1e6) throw new ValueError(`${where}: no noise multiplier up to 1e6 reaches ε = ${opts.targetEpsilon} at δ = ${opts.targetDelta}; the privacy budget is too low (raise targetEpsilon, or train fewer steps or with a lower sampleRate)`);
    epsHi = eps(hi);
  }
  while (opts.targetEpsilon - epsHi > tol) {
    const mid = (lo + hi) / 2;
    const e = eps(mid);
    if (e < opts.targetEpsilon) {
      hi = mid;
      epsHi = e;
    } else lo = mid;
  }
  return hi;
}

/** Φ(x), the standard normal CDF, from log erfc (accurate in both tails). */
function normalCdf(x: number): number {
  return 0.5 * Math.exp(logErfc(-x / Math.SQRT2));
}

/**
 * μ of μ-GDP for `steps` Poisson-subsampled Gaussian steps (the central limit theorem of Bu, Dong,
 * Long & Su 2020, "Deep Learning with Gaussian Differential Privacy", Thm 5; Opacus's
 * analysis/gdp.py compute_mu_poisson): μ = q·√(steps·(e^{1/σ²} − 1)). An approximation that is
 * accurate when q is small and steps large; it is not an upper bound like RDP.
 */
export function computeMuPoisson(opts: { steps: number; noiseMultiplier: number; sampleRate: number }): number {
  const { steps, noiseMultiplier: sigma, sampleRate: q } = opts;
  checkMechanism("computeMuPoisson", q, sigma, 0);
  if (!(steps >= 0) || !Number.isFinite(steps)) throw new ValueError(`computeMuPoisson: steps must be a finite number ≥ 0, got ${steps}`);
  return Math.sqrt(Math.expm1(1 / (sigma * sigma)) * steps) * q;
}

/** δ(ε) of μ-GDP: Φ(−ε/μ + μ/2) − e^ε·Φ(−ε/μ − μ/2) (Dong, Roth & Su 2019, Cor. 2.13). */
export function gdpDelta(eps: number, mu: number): number {
  return normalCdf(-eps / mu + mu / 2) - Math.exp(eps) * normalCdf(-eps / mu - mu / 2);
}

/** ε of μ-GDP at δ, by bisection on the decreasing δ(ε) over [0, 500] (Opacus's eps_from_mu). */
export function gdpEpsilon(mu: number, delta: number): number {
  if (!(delta > 0 && delta < 1)) throw new ValueError(`gdpEpsilon: delta must be in (0, 1), got ${delta}`);
  if (gdpDelta(0, mu) <= delta) return 0;
  let lo = 0;
  let hi = 500;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (gdpDelta(mid, mu) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * Opacus's GDPAccountant: ε from the Gaussian-DP central limit approximation. Only valid for one
 * (σ, q) over the whole run; prefer the RDPAccountant for a bound.
 */
export class GDPAccountant implements Accountant {
  readonly mechanism = "gdp";
  history: MechanismStep[] = [];

  step(s: { noiseMultiplier: number; sampleRate: number }): void {
    checkMechanism("GDPAccountant.step", s.sampleRate, s.noiseMultiplier, 1);
    const last = this.history[this.history.length - 1];
    if (last && last.noiseMultiplier === s.noiseMultiplier && last.sampleRate === s.sampleRate) last.steps += 1;
    else if (last) throw new ValueError("GDPAccountant: the noise multiplier and sample rate must stay the same over the run (use the RDP accountant for changing settings)");
    else this.history.push({ noiseMultiplier: s.noiseMultiplier, sampleRate: s.sampleRate, steps: 1 });
  }

  get steps(): number {
    return this.history.reduce((n, h) => n + h.steps, 0);
  }

  getEpsilon(delta: number): number {
    const h = this.history[0];
    if (!h) return 0;
    return gdpEpsilon(computeMuPoisson(h), delta);
  }
}
