// DP-SGD for Keras models: the compiled optimizer is wrapped in a DPOptimizer, fit gets Poisson
// batches from a DPDataLoader, and a callback adds `epsilon` to each epoch's logs (and prints it).
import { type Generator, type Tensor, ValueError } from "../tensor/index.js";
import { TensorDataset } from "../data/dataset.js";
import type { Model } from "../keras/model.js";
import { Callback } from "../keras/history.js";
import type { Logs } from "../keras/history.js";
import { DPDataLoader } from "./data-loader.js";
import { GradSampleModule } from "./grad-sample.js";
import { DPOptimizer } from "./optimizer.js";
import { PrivacyEngine } from "./engine.js";
import { getNoiseMultiplier } from "./rdp.js";
import { validateModule } from "./validate.js";

export interface KerasPrivacyOptions {
  /** Training samples N (q = batchSize / N). */
  numSamples: number;
  /** Expected batch size (q·N). */
  batchSize: number;
  epochs: number;
  /** C: per-sample clipping bound (default 1.0). */
  maxGradNorm?: number;
  /** δ (default 1e-5). */
  targetDelta?: number;
  /** Either σ, or the ε to spend over `epochs` (σ is then found by bisection). */
  noiseMultiplier?: number;
  targetEpsilon?: number;
  generator?: Generator;
  /** Where the per-epoch ε line goes (null: nowhere). */
  stream?: { write(s: string): unknown } | null;
}

export interface KerasPrivacy {
  engine: PrivacyEngine;
  noiseMultiplier: number;
  sampleRate: number;
  stepsPerEpoch: number;
  delta: number;
  maxGradNorm: number;
  /** Poisson batches of (x, y) for model.fit(source, {epochs}). */
  flow(x: Tensor, y: Tensor): DPDataLoader<Tensor[], Tensor[]>;
  /** Adds `epsilon` to each epoch's logs; put it before callbacks that read the logs. */
  callback: Callback;
  /** What card.json records. */
  card(): Record<string, unknown>;
}

/** The callback that reports ε after every epoch. */
class EpsilonCallback extends Callback {
  constructor(
    private readonly engine: PrivacyEngine,
    private readonly delta: number,
    private readonly stream: { write(s: string): unknown } | null,
  ) {
    super();
  }
  override onEpochEnd(epoch: number, logs?: Logs): void {
    const eps = this.engine.getEpsilon(this.delta);
    if (logs) logs.epsilon = eps;
    this.stream?.write(`epoch ${epoch + 1}: ε = ${eps.toFixed(3)} at δ = ${this.delta} (RDP accountant, ${this.engine.accountant.steps} steps)\n`);
  }
}

/**
 * Makes a compiled Keras model train with DP-SGD: call before fit, then fit on `flow(x, y)` with
 * `callback` among the callbacks.
 * @example
 * const dp = makeKerasPrivate(model, {numSamples: 60000, batchSize: 256, epochs: 15, targetEpsilon: 3});
 * await model.fit(dp.flow(x, y), {epochs: 15, callbacks: [dp.callback]});
 */
export function makeKerasPrivate(model: Model, opts: KerasPrivacyOptions): KerasPrivacy {
  const where = "makeKerasPrivate";
  const compiled = model.requireCompiled("fit");
  if (!model.built) throw new ValueError(`${where}: build the model first (give the first layer an inputShape)`);
  validateModule(model);
  const { numSamples: n, batchSize, epochs } = opts;
  if (!Number.isInteger(n) || n < 1) throw new ValueError(`${where}: numSamples must be a positive integer, got ${n}`);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > n) throw new ValueError(`${where}: batchSize must be an integer in [1, ${n}], got ${batchSize}`);
  if (!Number.isInteger(epochs) || epochs < 1) throw new ValueError(`${where}: epochs must be an integer ≥ 1, got ${epochs}`);
  if ((opts.noiseMultiplier === undefined) === (opts.targetEpsilon === undefined)) throw new ValueError(`${where}: give either noiseMultiplier or targetEpsilon`);
  const delta = opts.targetDelta ?? 1e-5;
  const maxGradNorm = opts.maxGradNorm ?? 1.0;
  const sampleRate = batchSize / n;
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const noiseMultiplier = opts.noiseMultiplier ?? getNoiseMultiplier({ targetEpsilon: opts.targetEpsilon!, targetDelta: delta, sampleRate, steps: epochs * stepsPerEpoch });
  const engine = new PrivacyEngine();
  const gradSample = new GradSampleModule(model, { lossReduction: "mean" }); // Keras losses average over the batch
  const spec = compiled.optimizer;
  compiled.optimizer = {
    ...spec,
    create: (params) =>
      new DPOptimizer(spec.create(params), { noiseMultiplier, maxGradNorm, expectedBatchSize: sampleRate * n, sampleRate, gradSample, accountant: engine.accountant, generator: opts.generator }),
  };
  model.optimizer = null;
  return {
    engine,
    noiseMultiplier,
    sampleRate,
    stepsPerEpoch,
    delta,
    maxGradNorm,
    flow: (x, y) => {
      if (x.shape[0] !== n) throw new ValueError(`${where}: flow got ${x.shape[0]} samples but the privacy settings were made for ${n}`);
      return new DPDataLoader<Tensor[], Tensor[]>(new TensorDataset(x, y), { sampleRate, steps: stepsPerEpoch, generator: opts.generator });
    },
    callback: new EpsilonCallback(engine, delta, opts.stream ?? null),
    card: () => ({
      mechanism: "DP-SGD (per-sample clipping, Gaussian noise, Poisson sampling)",
      accountant: "rdp",
      conversion: "improved (Balle et al. 2020), as Opacus",
      epsilon: engine.getEpsilon(delta),
      delta,
      noise_multiplier: noiseMultiplier,
      max_grad_norm: maxGradNorm,
      sample_rate: sampleRate,
      expected_batch_size: batchSize,
      steps: engine.accountant.steps,
      target_epsilon: opts.targetEpsilon ?? null,
    }),
  };
}
