// Helpers shared by structured pruning and low-rank factorization: ranking and selecting slices
// of a weight, and rebuilding a keras Sequential from edited layer configs and weights.
import { type Tensor, ValueError } from "../tensor/index.js";
import { contiguous, detach, indexSelect, tensor } from "../ops/index.js";
import { noGrad } from "../autograd/index.js";
import { Sequential } from "../keras/sequential.js";
import { layerFromConfig } from "../keras/load.js";
import type { CompileArgs } from "../keras/model.js";

/** A layer of a keras Sequential as config.json describes it. */
export interface LayerSpec {
  className: string;
  config: Record<string, unknown>;
}

/** The L1 or L2 norm of every slice of t along `axis` (one per output neuron or channel). */
export function sliceNorms(t: Tensor, axis: number, norm: "l1" | "l2"): Float64Array {
  const v = t.contiguous().dataSync() as ArrayLike<number>;
  const shape = t.shape;
  const n = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < v.length; i++) {
    const c = Math.floor(i / inner) % n;
    out[c] += norm === "l1" ? Math.abs(v[i]) : v[i] * v[i];
  }
  if (norm === "l2") for (let c = 0; c < n; c++) out[c] = Math.sqrt(out[c]);
  return out;
}

/** The indices to keep (ascending) after removing the `remove` lowest scores (ties: the later index goes first). */
export function keepIndices(scores: Float64Array, remove: number): number[] {
  const order = Array.from(scores.keys()).sort((a, b) => scores[a] - scores[b] || b - a);
  const gone = new Set(order.slice(0, remove));
  return Array.from(scores.keys()).filter((i) => !gone.has(i));
}

/** The slices of t at `indices` along `axis`, as a new contiguous tensor. */
export function take(t: Tensor, axis: number, indices: readonly number[]): Tensor {
  return noGrad(() => contiguous(indexSelect(detach(t), axis, tensor(Int32Array.from(indices), { dtype: "int32" }))));
}

/** Flattened positions of the kept channels: channels-last [H, W, C] (keras) or channels-first [C, H, W] (nn). */
export function flatIndices(spatial: number, channels: number, keep: readonly number[], channelsLast: boolean): number[] {
  const out: number[] = [];
  if (channelsLast) {
    for (let p = 0; p < spatial; p++) for (const c of keep) out.push(p * channels + c);
  } else for (const c of keep) for (let p = 0; p < spatial; p++) out.push(c * spatial + p);
  return out;
}

/**
 * A new keras Sequential from layer specs and weights by name, built for the old model's input,
 * and compiled with its saved settings (a fresh optimizer).
 */
export function rebuildSequential(old: Sequential, specs: LayerSpec[], weights: Record<string, Tensor>): Sequential {
  const m = new Sequential({ name: old.name });
  specs.forEach((s, i) => m.add(layerFromConfig(s, `layers[${i}]`)));
  if (!old.inputShapeSeen) throw new ValueError(`${old.name}: the model is not built; build it (give the first layer an inputShape) before compressing`);
  m.buildFromShapes([old.inputShapeSeen as (number | null)[]]);
  m.loadStateDict(weights);
  if (old.compiled?.config) m.compile(old.compiled.config as unknown as CompileArgs);
  else if (old.compiled) m.compile({ loss: old.compiled.losses.map((l) => l.fn), metrics: old.compiled.metrics, optimizer: "adam" });
  return m;
}

/** The layer specs of a keras Sequential (copies that can be edited). */
export function layerSpecs(m: Sequential): LayerSpec[] {
  return m.layers.map((l) => ({ className: l.className, config: { ...l.getConfig() } }));
}
