// The weights that compression works on, found in nn modules and keras models alike: Linear and
// Conv weights ([out, in, …]) and keras Dense and Conv2D kernels ([in, out] and [kH, kW, in, out]).
import { ValueError } from "../tensor/index.js";
import { Module } from "../nn/module.js";
import type { Parameter } from "../nn/parameter.js";
import { Linear } from "../nn/linear.js";
import { Conv1d, Conv2d } from "../nn/conv.js";
import { Dense } from "../keras/layers/core.js";
import { Conv2D } from "../keras/layers/conv.js";

/** One prunable weight: its dotted name, the layer that owns it and the axis of its outputs. */
export interface WeightTarget {
  /** `fc1.weight`, `dense_1.kernel`, … (the stateDict name). */
  name: string;
  /** The layer's dotted name (`fc1`, `dense_1`). */
  layerName: string;
  layer: Module;
  /** The property holding the weight (`weight` or `kernel`). */
  key: "weight" | "kernel";
  param: Parameter;
  /** The axis that indexes output neurons/channels: 0 for nn ([out, …]), the last for keras ([…, out]). */
  outAxis: number;
  /** The axis that indexes inputs. */
  inAxis: number;
}

/** True for the layers whose weights compression handles. */
export function isWeightLayer(m: Module): m is Linear | Conv1d | Conv2d | Dense | Conv2D {
  return m instanceof Linear || m instanceof Conv1d || m instanceof Conv2d || m instanceof Dense || m instanceof Conv2D;
}

/** The weight target of one layer, or null when the layer holds none (or is not built yet). */
export function targetOf(layerName: string, m: Module): WeightTarget | null {
  if (m instanceof Linear || m instanceof Conv1d || m instanceof Conv2d)
    return { name: join(layerName, "weight"), layerName, layer: m, key: "weight", param: m.weight, outAxis: 0, inAxis: 1 };
  if ((m instanceof Dense || m instanceof Conv2D) && m.kernel) {
    const nd = m.kernel.ndim;
    return { name: join(layerName, "kernel"), layerName, layer: m, key: "kernel", param: m.kernel, outAxis: nd - 1, inAxis: nd - 2 };
  }
  return null;
}

function join(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

/**
 * The prunable weights of a model in registration order; `layers` keeps only the named layers
 * (their dotted names), and a name that matches nothing is an error listing the candidates.
 * A weight shared by two layers (a tied head) is listed once.
 */
export function weightTargets(model: Module, layers?: readonly string[], where = "compress"): WeightTarget[] {
  const all: WeightTarget[] = [];
  const seen = new Set<Parameter>();
  for (const [name, m] of model.namedModules()) {
    if (!isWeightLayer(m)) continue;
    const t = targetOf(name, m);
    if (!t || seen.has(t.param)) continue;
    seen.add(t.param);
    all.push(t);
  }
  // A weight tied to another module (GPT's head is the token embedding) is left alone unless named.
  if (!layers) return all.filter((t) => !sharedWeight(model, t));
  const byName = new Map(all.map((t) => [t.layerName, t]));
  return layers.map((l) => {
    const t = byName.get(l);
    if (!t) throw new ValueError(`${where}: no Linear/Conv/Dense/Conv2D layer named '${l}'; the layers with weights are ${all.map((x) => `'${x.layerName}'`).join(", ") || "none"}`);
    return t;
  });
}

/** Throws unless x is in [0, 1), naming the option, its value and the range. */
export function checkFraction(where: string, what: string, x: unknown): number {
  if (typeof x !== "number" || !(x >= 0 && x < 1))
    throw new ValueError(`${where}: ${what} must be a fraction in [0, 1), got ${JSON.stringify(x)}; e.g. 0.9 removes 90 % of the weights`);
  return x;
}

/** Whether m is a Module (a keras model or layer is one too). */
export function checkModule(where: string, m: unknown): Module {
  if (!(m instanceof Module)) throw new ValueError(`${where}: expected an nn Module or a keras model, got ${m === null ? "null" : typeof m}`);
  return m;
}

/** True when the weight is also held by another module (a tied output head). */
export function sharedWeight(model: Module, t: WeightTarget): boolean {
  return model.modules().some((m) => m !== t.layer && Object.values(m).includes(t.param));
}
