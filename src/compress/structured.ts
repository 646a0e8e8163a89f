// Structured pruning: whole neurons (Linear/Dense outputs) and channels (Conv out-channels) with the
// smallest L1 or L2 norm are removed, with the next layer's matching inputs, so the tensors really
// shrink (Li et al. 2017, "Pruning Filters for Efficient ConvNets"). Works on keras Sequential
// models (returns a rebuilt model) and nn.Sequential (edited in place). The output layer is kept.
import { type Tensor, ValueError } from "../tensor/index.js";
import { Module } from "../nn/module.js";
import { Sequential as NnSequential } from "../nn/containers.js";
import { Linear } from "../nn/linear.js";
import { Conv2d } from "../nn/conv.js";
import { BatchNorm1d, BatchNorm2d } from "../nn/normalization.js";
import { Sequential } from "../keras/sequential.js";
import { Dense, Flatten as KFlatten } from "../keras/layers/core.js";
import { Conv2D } from "../keras/layers/conv.js";
import type { Layer } from "../keras/layers/base.js";
import { checkFraction } from "./targets.js";
import { flatIndices, keepIndices, layerSpecs, rebuildSequential, sliceNorms, take } from "./rebuild.js";

export interface StructuredPruneOptions {
  /** The fraction of each prunable layer's neurons/channels to remove, in [0, 1) (at least one stays). */
  fraction: number;
  /** Rank by the 'l1' (default) or 'l2' norm of each output's weights. */
  norm?: "l1" | "l2";
  /** Only these layers (names); default every layer whose outputs feed another Dense/Conv layer. */
  layers?: readonly string[];
}

/** What was removed, per layer: outputs before and after. */
export type StructuredReport = Record<string, { before: number; after: number }>;

/** Keras layers that pass channels through unchanged, one to one. */
const KERAS_PASS = new Set(["Dropout", "Activation", "MaxPooling2D", "AveragePooling2D", "BatchNormalization", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ReLU"]);

function check(where: string, opts: StructuredPruneOptions): "l1" | "l2" {
  if (!opts || typeof opts !== "object") throw new ValueError(`${where}: pass options {fraction, norm?}, e.g. {fraction: 0.5}`);
  checkFraction(where, "fraction", opts.fraction);
  const norm = opts.norm ?? "l1";
  if (norm !== "l1" && norm !== "l2") throw new ValueError(`${where}: norm must be 'l1' or 'l2', got ${JSON.stringify(opts.norm)}`);
  return norm;
}

/** How many of n outputs to remove: round(fraction·n), leaving at least one. */
function removeCount(n: number, fraction: number): number {
  return Math.min(n - 1, Math.round(fraction * n));
}

/**
 * Removes a fraction of the neurons of each hidden Dense layer and of the filters of each Conv2D
 * layer of a keras Sequential (with the matching inputs of the next layer, through pooling,
 * dropout, batch normalization and flatten), and returns the smaller model, compiled like the old.
 * @example const small = compress.pruneStructured(model, {fraction: 0.5}); // conv 32 → 16 filters, …
 */
export function pruneStructured(model: Sequential, opts: StructuredPruneOptions): Sequential;
export function pruneStructured(model: NnSequential, opts: StructuredPruneOptions): NnSequential;
export function pruneStructured(model: Module, opts: StructuredPruneOptions): Module;
export function pruneStructured(model: Module, opts: StructuredPruneOptions): Module {
  return pruneStructuredWithReport(model, opts).model;
}

/** pruneStructured, also returning the sizes of the layers before and after. */
export function pruneStructuredWithReport(model: Module, opts: StructuredPruneOptions): { model: Module; report: StructuredReport } {
  const where = "pruneStructured";
  const norm = check(where, opts);
  if (model instanceof Sequential) return pruneKeras(model, opts, norm);
  if (model instanceof NnSequential) return pruneNn(model, opts, norm);
  throw new ValueError(
    `${where}: expected a keras Sequential or an nn.Sequential, got ${model instanceof Module ? model.constructor.name : typeof model}; for a GPT use compress.pruneHeads`,
  );
}

function checkLayers(where: string, wanted: readonly string[] | undefined, prunable: string[]): Set<string> | null {
  if (!wanted) return null;
  for (const w of wanted)
    if (!prunable.includes(w)) throw new ValueError(`${where}: layer '${w}' cannot be pruned structurally; the prunable layers are ${prunable.map((p) => `'${p}'`).join(", ") || "none"}`);
  return new Set(wanted);
}

function pruneKeras(model: Sequential, opts: StructuredPruneOptions, norm: "l1" | "l2"): { model: Module; report: StructuredReport } {
  const layers = model.layers;
  const specs = layerSpecs(model);
  const weights: Record<string, Tensor> = model.getWeights();
  const isWeighted = (l: Layer) => l instanceof Dense || l instanceof Conv2D;
  // Producer i → consumer j with only pass-through layers (and at most one flatten after a conv) between.
  const pairs: [number, number, number | null][] = [];
  for (let i = 0; i < layers.length; i++) {
    if (!isWeighted(layers[i])) continue;
    let flat: number | null = null;
    let j = i + 1;
    for (; j < layers.length && !isWeighted(layers[j]); j++) {
      const l = layers[j];
      if (l instanceof KFlatten && layers[i] instanceof Conv2D && flat === null) flat = j;
      else if (!KERAS_PASS.has(l.className)) break;
    }
    if (j < layers.length && isWeighted(layers[j]) && !(layers[j] instanceof Conv2D && (flat !== null || layers[i] instanceof Dense))) pairs.push([i, j, flat]);
  }
  const only = checkLayers("pruneStructured", opts.layers, pairs.map(([i]) => layers[i].name));
  const report: StructuredReport = {};
  for (const [i, j, flat] of pairs) {
    const p = layers[i] as Dense | Conv2D;
    if (only && !only.has(p.name)) continue;
    const kName = `${p.name}.kernel`;
    const outAxis = weights[kName].ndim - 1;
    const n = weights[kName].shape[outAxis];
    const keep = keepIndices(sliceNorms(weights[kName], outAxis, norm), removeCount(n, opts.fraction));
    weights[kName] = take(weights[kName], outAxis, keep);
    if (weights[`${p.name}.bias`]) weights[`${p.name}.bias`] = take(weights[`${p.name}.bias`], 0, keep);
    specs[i].config[p instanceof Dense ? "units" : "filters"] = keep.length;
    report[p.name] = { before: n, after: keep.length };
    // Per-channel weights of the layers in between (batch normalization) lose the same channels.
    for (let k = i + 1; k < j; k++)
      for (const key of Object.keys(weights))
        if (key.startsWith(`${layers[k].name}.`) && weights[key].ndim === 1 && weights[key].shape[0] === n) weights[key] = take(weights[key], 0, keep);
    const c = layers[j] as Dense | Conv2D;
    const cName = `${c.name}.kernel`;
    const inAxis = weights[cName].ndim - 2;
    if (flat !== null) {
      const s = layers[flat].inputShapeSeen as (number | null)[];
      const spatial = (s.slice(1) as number[]).reduce((a, b) => a * b, 1) / n;
      weights[cName] = take(weights[cName], 0, flatIndices(spatial, n, keep, (p as Conv2D).dataFormat !== "channelsFirst"));
    } else weights[cName] = take(weights[cName], inAxis, keep);
  }
  return { model: rebuildSequential(model, specs, weights), report };
}

/** nn modules without parameters pass channels through (ReLU, Dropout, pooling, …). */
function passesThrough(m: Module): boolean {
  return m.parameters().length === 0 && m.buffers().length === 0;
}

function pruneNn(model: NnSequential, opts: StructuredPruneOptions, norm: "l1" | "l2"): { model: Module; report: StructuredReport } {
  const kids = model.namedChildren();
  const isW = (m: Module) => m instanceof Linear || (m instanceof Conv2d && m.groups === 1);
  const pairs: [number, number, boolean][] = [];
  for (let i = 0; i < kids.length; i++) {
    if (!isW(kids[i][1])) continue;
    let flat = false;
    let j = i + 1;
    for (; j < kids.length && !isW(kids[j][1]); j++) {
      const m = kids[j][1];
      if (m instanceof BatchNorm1d || m instanceof BatchNorm2d) continue;
      if (!passesThrough(m)) break;
      if (m.constructor.name === "Flatten") flat = true;
    }
    if (j < kids.length && isW(kids[j][1])) {
      const [pm, cm] = [kids[i][1], kids[j][1]];
      const ok = pm instanceof Conv2d ? cm instanceof Conv2d || (flat && cm instanceof Linear) : cm instanceof Linear;
      if (ok) pairs.push([i, j, flat]);
    }
  }
  const only = checkLayers("pruneStructured", opts.layers, pairs.map(([i]) => kids[i][0]));
  const report: StructuredReport = {};
  const current = new Map(kids);
  for (const [i, j] of pairs) {
    const [pn] = kids[i];
    if (only && !only.has(pn)) continue;
    const p = current.get(pn) as Linear | Conv2d;
    const n = p.weight.shape[0];
    const keep = keepIndices(sliceNorms(p.weight, 0, norm), removeCount(n, opts.fraction));
    current.set(pn, rebuildNn(p, take(p.weight, 0, keep), p.bias ? take(p.bias, 0, keep) : null));
    report[pn] = { before: n, after: keep.length };
    for (let k = i + 1; k < j; k++) {
      const [bn, b] = kids[k];
      if (b instanceof BatchNorm1d || b instanceof BatchNorm2d) current.set(bn, sliceBatchNorm(current.get(bn) as BatchNorm1d | BatchNorm2d, keep));
    }
    const [cn] = kids[j];
    const c = current.get(cn) as Linear | Conv2d;
    let w: Tensor;
    if (c instanceof Linear && p instanceof Conv2d) w = take(c.weight, 1, flatIndices(c.inFeatures / n, n, keep, false));
    else w = take(c.weight, 1, keep);
    current.set(cn, rebuildNn(c, w, c.bias));
  }
  for (const [name, m] of current) if (m !== model.namedChildren().find(([n]) => n === name)?.[1]) model.registerModule(name, m);
  return { model, report };
}

/** A Linear or Conv2d like `m` with new weights (sizes from the weight). */
function rebuildNn(m: Linear | Conv2d, weight: Tensor, bias: Tensor | null): Linear | Conv2d {
  const dtype = m.weight.dtype;
  const fresh =
    m instanceof Linear
      ? new Linear(weight.shape[1], weight.shape[0], { bias: !!bias, dtype })
      : new Conv2d(weight.shape[1], weight.shape[0], m.kernelSize, { stride: m.stride, padding: m.padding, dilation: m.dilation, bias: !!bias, paddingMode: m.paddingMode, dtype });
  fresh.loadStateDict(bias ? { weight, bias } : { weight });
  fresh.training = m.training;
  return fresh;
}

function sliceBatchNorm(b: BatchNorm1d | BatchNorm2d, keep: number[]): BatchNorm1d | BatchNorm2d {
  const Cls = b.constructor as typeof BatchNorm2d;
  const fresh = new Cls(keep.length, { eps: b.eps, momentum: b.momentum, affine: b.affine, trackRunningStats: b.trackRunningStats, dtype: b.weight?.dtype ?? b.runningMean?.dtype });
  const state = b.stateDict();
  for (const k of Object.keys(state)) if (state[k].ndim === 1) state[k] = take(state[k], 0, keep);
  fresh.loadStateDict(state);
  fresh.training = b.training;
  return fresh;
}
