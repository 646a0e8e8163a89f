// PrivacyEngine, makePrivate and makePrivateWithEpsilon: Opacus's PrivacyEngine.make_private in
// Ingot's shapes — a model (wrapped in place for per-sample gradients), an optimizer (DPOptimizer)
// and a data loader (Poisson sampling), plus the accountant that turns the steps taken into ε.
import { type Generator, ValueError } from "../tensor/index.js";
import type { Module } from "../nn/index.js";
import { Optimizer } from "../optim/optimizer.js";
import { DataLoader } from "../data/loader.js";
import { DPDataLoader } from "./data-loader.js";
import { GradSampleModule, type LossReduction } from "./grad-sample.js";
import { DPOptimizer } from "./optimizer.js";
import { type Accountant, GDPAccountant, getNoiseMultiplier, RDPAccountant, type RdpConversion } from "./rdp.js";
import { validateModule } from "./validate.js";

export interface MakePrivateOptions<L extends DataLoader<any, any>> {
  model: Module;
  optimizer: Optimizer;
  dataLoader: L;
  /** σ: noise std / maxGradNorm. */
  noiseMultiplier: number;
  /** C: the per-sample L2 clipping bound. */
  maxGradNorm: number;
  /** Replace the loader's batches by Poisson samples with q = batchSize/N (default true, as in Opacus; the accounting assumes it). */
  poissonSampling?: boolean;
  /** How the training loss is reduced over the batch (default "mean"). */
  lossReduction?: LossReduction;
  /** Generator for sampling and noise (default: the default generator). */
  generator?: Generator;
}

export interface PrivateTraining<L> {
  /** The same model, its layers wrapped to record per-sample gradients. */
  model: Module;
  optimizer: DPOptimizer;
  /** A DPDataLoader (Poisson sampling), or the loader given when poissonSampling is false. */
  dataLoader: L | DPDataLoader;
  /** The engine, for getEpsilon(delta). */
  engine: PrivacyEngine;
}

/**
 * Tracks the privacy spent by the training runs it made private.
 * @example
 * const engine = new PrivacyEngine();
 * const { model, optimizer, dataLoader } = engine.makePrivate({ model, optimizer, dataLoader, noiseMultiplier: 1.1, maxGradNorm: 1 });
 * // ... train as usual ...
 * engine.getEpsilon(1e-5);
 */
export class PrivacyEngine {
  readonly accountant: Accountant;

  /** accountant: "rdp" (default; an upper bound) or "gdp" (Opacus's Gaussian-DP central-limit approximation). */
  constructor(private readonly opts: { accountant?: "rdp" | "gdp"; conversion?: RdpConversion; alphas?: readonly number[] } = {}) {
    const kind = opts.accountant ?? "rdp";
    if (kind !== "rdp" && kind !== "gdp") throw new ValueError(`PrivacyEngine: accountant must be 'rdp' or 'gdp', got '${String(opts.accountant)}'`);
    this.accountant = kind === "gdp" ? new GDPAccountant() : new RDPAccountant({ conversion: opts.conversion, alphas: opts.alphas });
  }

  makePrivate<L extends DataLoader<any, any>>(opts: MakePrivateOptions<L>): PrivateTraining<L> {
    const where = "makePrivate";
    if (!opts || typeof opts !== "object") throw new ValueError(`${where}: pass {model, optimizer, dataLoader, noiseMultiplier, maxGradNorm}`);
    const { model, optimizer, dataLoader } = opts;
    if (!model || typeof (model as Module).namedModules !== "function") throw new ValueError(`${where}: model must be an nn.Module (or a keras model)`);
    if (!(optimizer instanceof Optimizer)) throw new ValueError(`${where}: optimizer must be an ingot.optim optimizer built on model.parameters()`);
    if (!(dataLoader instanceof DataLoader)) throw new ValueError(`${where}: dataLoader must be an ingot.data.DataLoader`);
    if (typeof opts.noiseMultiplier !== "number") throw new ValueError(`${where}: noiseMultiplier is required (or use makePrivateWithEpsilon with targetEpsilon)`);
    if (typeof opts.maxGradNorm !== "number") throw new ValueError(`${where}: maxGradNorm is required (the per-sample clipping bound, e.g. 1.0)`);
    if (dataLoader instanceof DPDataLoader && opts.poissonSampling === false)
      throw new ValueError(`${where}: the loader is already a DPDataLoader; pass poissonSampling: true or give a plain DataLoader`);
    validateModule(model);
    const n = dataLoader.dataset.length;
    if (n === 0) throw new ValueError(`${where}: the data loader's dataset is empty`);
    const poisson = opts.poissonSampling ?? true;
    const dl: L | DPDataLoader = poisson ? (dataLoader instanceof DPDataLoader ? dataLoader : DPDataLoader.fromDataLoader(dataLoader, { generator: opts.generator })) : dataLoader;
    const sampleRate = dl instanceof DPDataLoader ? dl.sampleRate : Math.min(1, dataLoader.batchSize / n);
    const lossReduction = opts.lossReduction ?? "mean";
    const gradSample = new GradSampleModule(model, { lossReduction });
    const dpOpt = new DPOptimizer(optimizer, {
      noiseMultiplier: opts.noiseMultiplier,
      maxGradNorm: opts.maxGradNorm,
      expectedBatchSize: lossReduction === "mean" ? sampleRate * n : 1,
      sampleRate,
      gradSample,
      accountant: this.accountant,
      generator: opts.generator,
    });
    return { model, optimizer: dpOpt, dataLoader: dl, engine: this };
  }

  /** Like makePrivate, with σ chosen so that `epochs` epochs spend (targetEpsilon, targetDelta). */
  makePrivateWithEpsilon<L extends DataLoader<any, any>>(
    opts: Omit<MakePrivateOptions<L>, "noiseMultiplier"> & { targetEpsilon: number; targetDelta: number; epochs: number; epsilonTolerance?: number },
  ): PrivateTraining<L> & { noiseMultiplier: number } {
    const where = "makePrivateWithEpsilon";
    if (!(opts.dataLoader instanceof DataLoader)) throw new ValueError(`${where}: dataLoader must be an ingot.data.DataLoader`);
    if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new ValueError(`${where}: epochs must be an integer ≥ 1, got ${opts.epochs}`);
    const n = opts.dataLoader.dataset.length;
    const dl = opts.dataLoader;
    const sampleRate = dl instanceof DPDataLoader ? dl.sampleRate : Math.min(1, dl.batchSize / Math.max(1, n));
    const steps = opts.epochs * dl.length;
    const noiseMultiplier = getNoiseMultiplier({
      targetEpsilon: opts.targetEpsilon,
      targetDelta: opts.targetDelta,
      sampleRate,
      steps,
      epsilonTolerance: opts.epsilonTolerance,
      conversion: this.opts.conversion,
      alphas: this.opts.alphas,
      accountant: this.accountant.mechanism === "gdp" ? "gdp" : "rdp",
    });
    return { ...this.makePrivate({ ...opts, noiseMultiplier }), noiseMultiplier };
  }

  /** ε spent so far for δ. */
  getEpsilon(delta: number): number {
    return this.accountant.getEpsilon(delta);
  }
}

/** makePrivate with a fresh PrivacyEngine (returned as `engine`). */
export function makePrivate<L extends DataLoader<any, any>>(opts: MakePrivateOptions<L>): PrivateTraining<L> {
  return new PrivacyEngine().makePrivate(opts);
}

/** makePrivateWithEpsilon with a fresh PrivacyEngine (returned as `engine`). */
export function makePrivateWithEpsilon<L extends DataLoader<any, any>>(
  opts: Omit<MakePrivateOptions<L>, "noiseMultiplier"> & { targetEpsilon: number; targetDelta: number; epochs: number; epsilonTolerance?: number },
): PrivateTraining<L> & { noiseMultiplier: number } {
  return new PrivacyEngine().makePrivateWithEpsilon(opts);
}
