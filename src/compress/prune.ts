// Unstructured magnitude pruning (Han et al. 2015) per layer or with one global threshold, masks
// held through training (re-applied after every optimizer step), the gradual sparsity schedule of
// Zhu & Gupta 2017, and removePruning, which folds the masks into the weights and forgets them.
import { type Tensor, ValueError } from "../tensor/index.js";
import { copy_, mul, tensor } from "../ops/index.js";
import { noGrad } from "../autograd/index.js";
import type { Module } from "../nn/module.js";
import type { Parameter } from "../nn/parameter.js";
import type { Optimizer } from "../optim/optimizer.js";
import { Callback } from "../keras/history.js";
import { checkFraction, checkModule, type WeightTarget, weightTargets } from "./targets.js";

export interface PruneOptions {
  /** The fraction of weights set to zero, in [0, 1). */
  sparsity: number;
  /** 'layer' (default): each layer loses that fraction; 'global': one threshold over all the weights, so layers lose different fractions. */
  scope?: "layer" | "global";
  /** Only these layers (dotted names such as `fc1` or `dense_1`); default every Linear/Conv/Dense/Conv2D. */
  layers?: readonly string[];
}

/** One pruned weight and its 0/1 mask (same shape and dtype). */
export interface MaskedWeight {
  target: WeightTarget;
  mask: Tensor;
}

/**
 * Zhu & Gupta 2017's schedule: s_t = s_f + (s_i − s_f)·(1 − (t − t0)/(n·Δt))³ for t0 ≤ t ≤ t0 + n·Δt,
 * with masks updated every Δt steps (TF-MOT's PolynomialDecay, power 3).
 */
export interface PolynomialDecayOptions {
  initialSparsity: number;
  finalSparsity: number;
  /** t0: the step of the first update (default 0). */
  beginStep?: number;
  /** t0 + n·Δt: the step at which the final sparsity is reached. */
  endStep: number;
  /** Δt: steps between mask updates (default 100). */
  frequency?: number;
  /** The exponent (default 3, as the paper). */
  power?: number;
}

/** The sparsity at step t under the schedule (before t0: the initial sparsity; after the end: the final). */
export function polynomialDecay(o: PolynomialDecayOptions, t: number): number {
  const t0 = o.beginStep ?? 0;
  const span = o.endStep - t0;
  const p = span <= 0 ? 1 : Math.min(1, Math.max(0, (t - t0) / span));
  // The ends exactly (the formula rounds s_i to 0.09999… for s_i = 0.1).
  if (p === 0) return o.initialSparsity;
  if (p === 1) return o.finalSparsity;
  return o.finalSparsity + (o.initialSparsity - o.finalSparsity) * Math.pow(1 - p, o.power ?? 3);
}

function checkSchedule(o: PolynomialDecayOptions): void {
  const w = "gradualPruning";
  checkFraction(w, "initialSparsity", o.initialSparsity);
  checkFraction(w, "finalSparsity", o.finalSparsity);
  const t0 = o.beginStep ?? 0;
  if (!Number.isInteger(t0) || t0 < 0) throw new ValueError(`${w}: beginStep must be an integer ≥ 0, got ${JSON.stringify(o.beginStep)}`);
  if (!Number.isInteger(o.endStep) || o.endStep < t0) throw new ValueError(`${w}: endStep must be an integer ≥ beginStep (${t0}), got ${JSON.stringify(o.endStep)}`);
  const f = o.frequency ?? 100;
  if (!Number.isInteger(f) || f < 1) throw new ValueError(`${w}: frequency must be an integer ≥ 1, got ${JSON.stringify(o.frequency)}`);
}

/** The absolute values of a weight, in float64. */
function absValues(t: Tensor): Float64Array {
  const src = t.contiguous().dataSync() as ArrayLike<number>;
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Math.abs(src[i]);
  return out;
}

/**
 * Marks exactly k of the values (the smallest; ties broken by position, in the given order of
 * arrays) as pruned: returns one 0/1 array per input.
 */
function keepMasks(values: Float64Array[], k: number): Uint8Array[] {
  const masks = values.map((v) => new Uint8Array(v.length).fill(1));
  if (k <= 0) return masks;
  const n = values.reduce((s, v) => s + v.length, 0);
  const all = new Float64Array(n);
  let o = 0;
  for (const v of values) {
    all.set(v, o);
    o += v.length;
  }
  all.sort();
  const threshold = all[k - 1];
  // Everything strictly below the threshold goes, then values equal to it until k are gone.
  let below = 0;
  for (let i = 0; i < k; i++) if (all[i] < threshold) below++;
  let ties = k - below;
  values.forEach((v, a) => {
    const m = masks[a];
    for (let i = 0; i < v.length; i++) {
      if (v[i] < threshold) m[i] = 0;
      else if (v[i] === threshold && ties > 0) {
        m[i] = 0;
        ties--;
      }
    }
  });
  return masks;
}

function maskTensor(bits: Uint8Array, like: Tensor): Tensor {
  return tensor(Float64Array.from(bits), { shape: [...like.shape], dtype: like.dtype });
}

/**
 * The masks of a model's weights: computed from magnitudes, re-applied after every optimizer step
 * (`step()`, or the keras `callback()`, or `wrapOptimizer`), updated along a gradual schedule, and
 * folded in by `remove()`.
 */
export class Pruner {
  readonly weights: MaskedWeight[];
  /** Optimizer steps seen by step(). */
  stepCount = 0;
  private sparsityNow: number;

  constructor(
    readonly model: Module,
    targets: WeightTarget[],
    readonly scope: "layer" | "global",
    sparsity: number,
    readonly schedule: PolynomialDecayOptions | null = null,
  ) {
    if (!targets.length) throw new ValueError("prune: the model has no Linear, Conv, Dense or Conv2D weights to prune (is the keras model built?)");
    this.weights = targets.map((target) => ({ target, mask: maskTensor(new Uint8Array(target.param.size).fill(1), target.param) }));
    this.sparsityNow = sparsity;
    this.updateMasks(sparsity);
  }

  /** The sparsity the masks were last computed for. */
  get targetSparsity(): number {
    return this.sparsityNow;
  }

  /** Recomputes the masks from the current magnitudes for this sparsity, and applies them. */
  updateMasks(sparsity: number): void {
    checkFraction("prune", "sparsity", sparsity);
    this.sparsityNow = sparsity;
    // NOTE: masked weights are zero, so they stay the smallest: the masks only grow during a schedule.
    const values = this.weights.map((w) => absValues(w.target.param));
    let bits: Uint8Array[];
    if (this.scope === "global") bits = keepMasks(values, Math.round(sparsity * values.reduce((s, v) => s + v.length, 0)));
    else bits = values.map((v) => keepMasks([v], Math.round(sparsity * v.length))[0]);
    this.weights.forEach((w, i) => (w.mask = maskTensor(bits[i], w.target.param)));
    this.apply();
  }

  /** Sets the pruned weights to zero again (after an optimizer step moved them). */
  apply(): void {
    noGrad(() => {
      for (const w of this.weights) {
        const p = currentParam(w.target);
        copy_(p, mul(p, w.mask));
      }
    });
  }

  /** Call after each optimizer step: advances the schedule (updating masks when due) and re-applies the masks. */
  step(): void {
    this.stepCount++;
    const s = this.schedule;
    if (s) {
      const t0 = s.beginStep ?? 0;
      const f = s.frequency ?? 100;
      const t = this.stepCount;
      const due = (t >= t0 && t <= s.endStep && (t - t0) % f === 0) || t === s.endStep;
      if (due) {
        const want = polynomialDecay(s, t);
        if (want !== this.sparsityNow) return this.updateMasks(want);
      }
    }
    this.apply();
  }

  /** An optimizer whose step() also calls this.step() (the masks survive every update). */
  wrapOptimizer<O extends Optimizer>(opt: O): O {
    const step = opt.step.bind(opt);
    const self = this;
    opt.step = function (this: O, ...args: unknown[]) {
      const r = (step as (...a: unknown[]) => unknown)(...args);
      self.step();
      return r;
    } as O["step"];
    return opt;
  }

  /** A keras callback that calls step() after every batch of fit. */
  callback(): Callback {
    const self = this;
    return new (class PruningCallback extends Callback {
      override onBatchEnd(): void {
        self.step();
      }
    })();
  }

  /** Zero weights and totals: per layer and over every masked weight. */
  sparsity(): { total: number; zeros: number; size: number; layers: Record<string, number> } {
    return measureSparsity(this.weights.map((w) => w.target));
  }

  /** Applies the masks a last time and drops them: the weights keep their zeros and train freely after. */
  remove(): Module {
    this.apply();
    this.weights.length = 0;
    return this.model;
  }
}

/** The parameter now held by the layer (Module.to may have replaced it). */
function currentParam(t: WeightTarget): Parameter {
  return (t.layer as unknown as Record<string, Parameter>)[t.key] ?? t.param;
}

/** Fraction of zeros per layer and over all the given weights. */
export function measureSparsity(targets: WeightTarget[]): { total: number; zeros: number; size: number; layers: Record<string, number> } {
  let zeros = 0;
  let size = 0;
  const layers: Record<string, number> = {};
  for (const t of targets) {
    const v = currentParam(t).contiguous().dataSync() as ArrayLike<number>;
    let z = 0;
    for (let i = 0; i < v.length; i++) if (v[i] === 0) z++;
    layers[t.name] = v.length ? z / v.length : 0;
    zeros += z;
    size += v.length;
  }
  return { total: size ? zeros / size : 0, zeros, size, layers };
}

/** The zero fraction of a model's prunable weights. */
export function sparsityOf(model: Module): { total: number; zeros: number; size: number; layers: Record<string, number> } {
  return measureSparsity(weightTargets(checkModule("sparsityOf", model)));
}

/**
 * Prunes the smallest-magnitude weights of a model now (in place) and returns the Pruner that holds
 * the masks for fine-tuning. `scope: 'global'` ranks all weights together (one threshold).
 * @example const pruner = compress.magnitudePrune(model, {sparsity: 0.9, scope: 'global'}); await model.fit(x, y, {callbacks: [pruner.callback()]}); compress.removePruning(pruner);
 */
export function magnitudePrune(model: Module, opts: PruneOptions): Pruner {
  const where = "magnitudePrune";
  checkModule(where, model);
  if (!opts || typeof opts !== "object") throw new ValueError(`${where}: pass options {sparsity, scope?}, e.g. {sparsity: 0.9}`);
  checkFraction(where, "sparsity", opts.sparsity);
  const scope = checkScope(where, opts.scope);
  return new Pruner(model, weightTargets(model, opts.layers, where), scope, opts.sparsity);
}

/**
 * A Pruner that starts at the schedule's initial sparsity and raises it along Zhu & Gupta's cubic
 * schedule as step() is called after each optimizer step (or by its keras callback).
 * @example const pruner = compress.gradualPruning(model, {initialSparsity: 0, finalSparsity: 0.9, endStep: 1000, frequency: 50});
 */
export function gradualPruning(model: Module, opts: PolynomialDecayOptions & { scope?: "layer" | "global"; layers?: readonly string[] }): Pruner {
  const where = "gradualPruning";
  checkModule(where, model);
  checkSchedule(opts);
  const scope = checkScope(where, opts.scope);
  return new Pruner(model, weightTargets(model, opts.layers, where), scope, polynomialDecay(opts, 0), { ...opts });
}

function checkScope(where: string, s: unknown): "layer" | "global" {
  if (s === undefined) return "layer";
  if (s !== "layer" && s !== "global") throw new ValueError(`${where}: scope must be 'layer' or 'global', got ${JSON.stringify(s)}`);
  return s;
}

/** Folds a Pruner's masks into the weights and drops them (PyTorch's prune.remove); returns the model. */
export function removePruning(pruner: Pruner): Module {
  if (!(pruner instanceof Pruner)) throw new ValueError("removePruning: pass the Pruner returned by magnitudePrune or gradualPruning");
  return pruner.remove();
}
