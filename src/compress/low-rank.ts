// Low-rank factorization: a Linear/Dense weight (or a Conv weight seen as [out, in·kH·kW]) is
// replaced by its truncated SVD, W ≈ (U_r·√S_r)·(√S_r·V_rᵀ), i.e. two thinner layers: in → r (no
// bias) then r → out (the bias and activation). The rank is given, or the smallest that keeps a
// share of the energy Σσ², or the one that brings the model to a target fraction of its parameters.
import { type Tensor, ValueError } from "../tensor/index.js";
import { tensor } from "../ops/index.js";
import { Module } from "../nn/module.js";
import { Sequential as NnSequential } from "../nn/containers.js";
import { Linear } from "../nn/linear.js";
import { Conv2d } from "../nn/conv.js";
import { Sequential } from "../keras/sequential.js";
import { Dense } from "../keras/layers/core.js";
import { Conv2D } from "../keras/layers/conv.js";
import { svd } from "./svd.js";
import { checkModule, type WeightTarget, weightTargets } from "./targets.js";
import { type LayerSpec, layerSpecs, rebuildSequential } from "./rebuild.js";

export interface LowRankOptions {
  /** The rank of every factorized layer (capped at min(in, out)). */
  rank?: number;
  /** Keep the smallest rank whose Σσ² is at least this share of the layer's, in (0, 1]. */
  energy?: number;
  /** Choose ranks (largest layers first) so the whole model keeps this fraction of its parameters, in (0, 1]. */
  paramFraction?: number;
  /** Only these layers (dotted names); default every Linear/Conv2d/Dense/Conv2D (with paramFraction: as few as needed). */
  layers?: readonly string[];
}

/** Per factorized layer: the matrix size, the rank kept and the share of Σσ² it keeps. */
export type LowRankReport = Record<string, { rows: number; cols: number; rank: number; energy: number }>;

/** The weight as an m×n matrix: nn [out, in·k…]; keras [kH·kW·in, out]. */
function asMatrix(t: WeightTarget): { a: Float64Array; m: number; n: number } {
  const w = t.param;
  const a = Float64Array.from(w.contiguous().dataSync() as ArrayLike<number>);
  if (t.key === "weight") return { a, m: w.shape[0], n: w.size / w.shape[0] };
  const out = w.shape[w.ndim - 1];
  return { a, m: w.size / out, n: out };
}

/** Factors L (m×r) = U_r·√S_r and R (r×n) = √S_r·V_rᵀ of the matrix, and the energy kept. */
function factors(mat: { a: Float64Array; m: number; n: number }, rank: (S: Float64Array) => number): { L: Float64Array; R: Float64Array; r: number; energy: number } {
  const { m, n } = mat;
  const { U, S, V, k } = svd(mat.a, m, n);
  const r = Math.max(1, Math.min(k, rank(S)));
  const L = new Float64Array(m * r);
  const R = new Float64Array(r * n);
  for (let j = 0; j < r; j++) {
    const s = Math.sqrt(S[j]);
    for (let i = 0; i < m; i++) L[i * r + j] = U[i * k + j] * s;
    for (let i = 0; i < n; i++) R[j * n + i] = V[i * k + j] * s;
  }
  let total = 0;
  let kept = 0;
  S.forEach((s, i) => ((total += s * s), i < r && (kept += s * s)));
  return { L, R, r, energy: total ? kept / total : 1 };
}

/** The smallest rank keeping `e` of Σσ². */
export function rankForEnergy(S: ArrayLike<number>, e: number): number {
  let total = 0;
  for (let i = 0; i < S.length; i++) total += S[i] * S[i];
  let acc = 0;
  for (let i = 0; i < S.length; i++) {
    acc += S[i] * S[i];
    // NOTE: a relative slack so that e = 1 is met despite rounding in the sums.
    if (acc >= e * total * (1 - 1e-12)) return i + 1;
  }
  return S.length;
}

/**
 * Ranks for a target fraction of the model's parameters: the largest layers are factorized first,
 * each keeping the same share g of its weights, until the target is reachable with savings.
 */
function ranksForBudget(where: string, targets: { t: WeightTarget; m: number; n: number }[], total: number, fraction: number): Map<WeightTarget, number> {
  const sorted = [...targets].sort((x, y) => y.m * y.n - x.m * x.n);
  const goal = fraction * total;
  for (let count = 1; count <= sorted.length; count++) {
    const chosen = sorted.slice(0, count);
    const weights = chosen.reduce((s, c) => s + c.m * c.n, 0);
    const g = (goal - (total - weights)) / weights;
    if (!(g > 0)) continue;
    const ranks = chosen.map((c) => Math.floor((g * c.m * c.n) / (c.m + c.n)));
    if (ranks.every((r, i) => r >= 1 && r * (chosen[i].m + chosen[i].n) < chosen[i].m * chosen[i].n)) return new Map(chosen.map((c, i) => [c.t, ranks[i]]));
  }
  throw new ValueError(`${where}: cannot bring the model to ${fraction} of its ${total} parameters by factorizing its Linear/Dense/Conv weights; ask for a larger paramFraction`);
}

function checkOptions(where: string, o: LowRankOptions): void {
  if (!o || typeof o !== "object") throw new ValueError(`${where}: pass options {rank} or {energy} or {paramFraction}`);
  const given = (["rank", "energy", "paramFraction"] as const).filter((k) => o[k] !== undefined);
  if (given.length !== 1) throw new ValueError(`${where}: give exactly one of rank, energy and paramFraction, got ${given.length ? given.join(", ") : "none"}`);
  if (o.rank !== undefined && (!Number.isInteger(o.rank) || o.rank < 1)) throw new ValueError(`${where}: rank must be an integer ≥ 1, got ${JSON.stringify(o.rank)}`);
  for (const k of ["energy", "paramFraction"] as const)
    if (o[k] !== undefined && !(typeof o[k] === "number" && o[k]! > 0 && o[k]! <= 1)) throw new ValueError(`${where}: ${k} must be in (0, 1], got ${JSON.stringify(o[k])}`);
}

/**
 * Replaces Linear/Conv2d (nn, in place; returns the model) or Dense/Conv2D (keras Sequential; returns
 * a new model) layers by two low-rank factors from their truncated SVD.
 * @example const { model: small, report } = compress.lowRank(model, { paramFraction: 0.5 }); // then fine-tune
 */
export function lowRank<M extends Module>(model: M, opts: LowRankOptions): { model: M; report: LowRankReport } {
  const where = "lowRank";
  checkModule(where, model);
  checkOptions(where, opts);
  let targets = weightTargets(model, opts.layers, where);
  if (!(model instanceof Sequential) && model instanceof Dense) throw new ValueError(`${where}: pass the model, not one Dense layer`);
  const mats = targets.map((t) => ({ t, ...asMatrix(t) }));
  let budget: Map<WeightTarget, number> | null = null;
  if (opts.paramFraction !== undefined) {
    budget = ranksForBudget(where, mats, model.numParameters(), opts.paramFraction);
    targets = targets.filter((t) => budget!.has(t));
  }
  const report: LowRankReport = {};
  const done = new Map<WeightTarget, { L: Tensor; R: Tensor; r: number }>();
  for (const mat of mats) {
    if (!targets.includes(mat.t)) continue;
    const f = factors(mat, (S) => (budget ? budget.get(mat.t)! : opts.rank !== undefined ? opts.rank : rankForEnergy(S, opts.energy!)));
    const dtype = mat.t.param.dtype;
    done.set(mat.t, { L: tensor(f.L, { shape: [mat.m, f.r], dtype }), R: tensor(f.R, { shape: [f.r, mat.n], dtype }), r: f.r });
    report[mat.t.layerName] = { rows: mat.m, cols: mat.n, rank: f.r, energy: f.energy };
  }
  if (model instanceof Sequential) return { model: factorKeras(model, done) as unknown as M, report };
  if (targets.some((t) => !(t.layer instanceof Linear || t.layer instanceof Conv2d)))
    throw new ValueError(`${where}: only Linear and Conv2d layers of an nn model can be factorized (Conv1d is not supported yet)`);
  for (const [t, f] of done) replaceChild(model, t.layerName, factorNn(t.layer as Linear | Conv2d, f));
  return { model, report };
}

function factorNn(layer: Linear | Conv2d, f: { L: Tensor; R: Tensor; r: number }): NnSequential {
  const dtype = layer.weight.dtype;
  const bias: Record<string, Tensor> = layer.bias ? { bias: layer.bias.detach() } : {};
  let first: Linear | Conv2d;
  let second: Linear | Conv2d;
  if (layer instanceof Linear) {
    first = new Linear(layer.inFeatures, f.r, { bias: false, dtype });
    second = new Linear(f.r, layer.outFeatures, { bias: !!layer.bias, dtype });
    first.loadStateDict({ weight: f.R });
    second.loadStateDict({ weight: f.L, ...bias });
  } else {
    const [out, cin, ...k] = layer.weight.shape;
    first = new Conv2d(cin, f.r, k, { stride: layer.stride, padding: layer.padding, dilation: layer.dilation, paddingMode: layer.paddingMode, bias: false, dtype });
    second = new Conv2d(f.r, out, 1, { bias: !!layer.bias, dtype });
    first.loadStateDict({ weight: f.R.reshape([f.r, cin, ...k]) });
    second.loadStateDict({ weight: f.L.reshape([out, f.r, 1, 1]), ...bias });
  }
  const seq = new NnSequential(first, second);
  seq.training = layer.training;
  return seq;
}

/** Sets the sub-module at a dotted path. */
function replaceChild(root: Module, path: string, m: Module): void {
  const parts = path.split(".");
  let parent: Module = root;
  for (const p of parts.slice(0, -1)) parent = (parent as unknown as Record<string, Module>)[p];
  parent.registerModule(parts[parts.length - 1], m);
}

function factorKeras(model: Sequential, done: Map<WeightTarget, { L: Tensor; R: Tensor; r: number }>): Sequential {
  const weights = model.getWeights();
  const specs: LayerSpec[] = [];
  const byLayer = new Map([...done].map(([t, f]) => [t.layer, f]));
  const old = layerSpecs(model);
  model.layers.forEach((layer, i) => {
    const spec = old[i];
    const f = byLayer.get(layer);
    if (!f || !(layer instanceof Dense || layer instanceof Conv2D)) return void specs.push(spec);
    const name = layer.name;
    const { batchInputShape, ...rest } = spec.config;
    const first: Record<string, unknown> = { ...rest, name: `${name}_in`, activation: "linear", useBias: false, kernelRegularizer: null, biasRegularizer: null };
    if (batchInputShape) first.batchInputShape = batchInputShape;
    const second: Record<string, unknown> = { ...rest };
    const w = weights[`${name}.kernel`];
    delete weights[`${name}.kernel`];
    if (layer instanceof Dense) {
      first.units = f.r;
      weights[`${name}_in.kernel`] = f.L;
      weights[`${name}.kernel`] = f.R;
    } else {
      const [kh, kw, cin, out] = w.shape;
      first.filters = f.r;
      Object.assign(second, { kernelSize: [1, 1], strides: [1, 1], padding: "valid", dilationRate: [1, 1] });
      weights[`${name}_in.kernel`] = f.L.reshape([kh, kw, cin, f.r]);
      weights[`${name}.kernel`] = f.R.reshape([1, 1, f.r, out]);
    }
    specs.push({ className: spec.className, config: first }, { className: spec.className, config: second });
  });
  return rebuildSequential(model, specs, weights);
}
