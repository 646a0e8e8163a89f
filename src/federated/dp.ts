// Differential privacy on client updates (McMahan, Ramage, Talwar & Zhang 2018, "Learning
// Differentially Private Recurrent Language Models", DP-FedAvg; Flower's
// DifferentialPrivacyClientSideFixedClipping and LocalDpMod):
//   every client clips its update to L2 norm C:  Δ_i ← Δ_i · min(1, C / ‖Δ_i‖)
//   central: the server adds N(0, (σC/m)²) to the mean of the m clipped updates (each client's
//            influence on the mean is at most C/m, so σ is the noise multiplier of the Gaussian mechanism);
//            with DP the mean is unweighted (1/m each), as in McMahan et al.'s fixed-weight estimator.
//   local:   every client adds N(0, (σC)²) to its own clipped update before it leaves the client,
//            so the server never needs to be trusted with the noise (at the cost of √m more noise).
// No privacy accountant here: (ε, δ) over R rounds follows from σ, the sampling rate and R with an
// RDP/moments accountant, which this module does not compute.
import { IngotError } from "../tensor/index.js";
import { Generator } from "../tensor/random.js";
import { l2Norm } from "./params.js";

export interface DpOptions {
  /** Where the noise is added. */
  mode: "central" | "local";
  /** C: the L2 norm every client update is clipped to (Flower's clipping_norm). */
  clippingNorm: number;
  /** σ: noise std in units of C (Flower's noise_multiplier). */
  noiseMultiplier: number;
}

export function checkDp(dp: DpOptions): DpOptions {
  if (dp.mode !== "central" && dp.mode !== "local") throw new IngotError(`federated DP: mode must be 'central' or 'local', got '${dp.mode}'`);
  if (!(dp.clippingNorm > 0)) throw new IngotError(`federated DP: clippingNorm must be > 0 (the L2 bound C on each update), got ${dp.clippingNorm}`);
  if (!(dp.noiseMultiplier >= 0)) throw new IngotError(`federated DP: noiseMultiplier must be ≥ 0, got ${dp.noiseMultiplier}`);
  return dp;
}

/** Scales `v` in place to L2 norm ≤ c; returns the norm before clipping. */
export function clipToNorm(v: Float32Array | Float64Array, c: number): number {
  const norm = l2Norm(v);
  if (norm > c) {
    const s = c / norm;
    for (let i = 0; i < v.length; i++) v[i] *= s;
  }
  return norm;
}

/** Adds N(0, std²) to every entry of `v` in place. */
export function addGaussianNoise(v: Float32Array | Float64Array, std: number, g: Generator): void {
  if (std === 0) return;
  for (let i = 0; i < v.length; i++) v[i] += std * g.normal();
}

/** The client side: clip, and in local mode add the noise. Returns the pre-clip norm. */
export function privatizeUpdate(delta: Float32Array, dp: DpOptions, g: Generator): number {
  const norm = clipToNorm(delta, dp.clippingNorm);
  if (dp.mode === "local") addGaussianNoise(delta, dp.noiseMultiplier * dp.clippingNorm, g);
  return norm;
}

/** The server side: in central mode, noise on the mean of m clipped updates. */
export function noiseMean(mean: Float64Array, dp: DpOptions, m: number, g: Generator): void {
  if (dp.mode === "central") addGaussianNoise(mean, (dp.noiseMultiplier * dp.clippingNorm) / m, g);
}
