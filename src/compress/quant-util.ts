// Finding the layers quantization replaces (nn.Linear, keras Dense) and swapping a module in its
// parent, for nn modules and keras models alike.
import { ValueError } from "../tensor/index.js";
import { Module } from "../nn/module.js";
import type { Parameter } from "../nn/parameter.js";
import { Linear } from "../nn/linear.js";
import { Dense } from "../keras/layers/core.js";

/** Parameters owned by more than one module (a tied head: GPT's lm_head.weight is the token embedding). */
export function sharedParameters(model: Module): Set<Parameter> {
  const owners = new Map<Parameter, number>();
  for (const m of model.modules())
    for (const [, p] of m.namedParameters({ recurse: false })) owners.set(p, (owners.get(p) ?? 0) + 1);
  return new Set([...owners].filter(([, n]) => n > 1).map(([p]) => p));
}

/**
 * The Linear and Dense layers to quantize, by dotted name, in registration order: tied weights stay
 * float (quantizing one owner would silently change the other), and so do the layers in `skip`.
 */
export function quantTargets(model: Module, skip: readonly string[] = [], where = "quantize"): [string, Linear | Dense][] {
  const shared = sharedParameters(model);
  const all = model.namedModules().filter((e): e is [string, Linear | Dense] => e[1] instanceof Linear || e[1] instanceof Dense);
  const names = new Set(all.map(([n]) => n));
  for (const s of skip) if (!names.has(s)) throw new ValueError(`${where}: skip names '${s}', which is not a Linear/Dense layer; the layers are ${[...names].map((n) => `'${n}'`).join(", ") || "none"}`);
  return all.filter(([name, m]) => {
    if (skip.includes(name)) return false;
    const w = m instanceof Linear ? m.weight : m.kernel;
    return w !== null && !shared.has(w);
  });
}

/** The module at a dotted path ('' is the model itself). */
export function moduleAt(model: Module, path: string): Module | undefined {
  return model.namedModules().find(([n]) => n === path)?.[1];
}

/** Puts `m` in place of the module at `path` (same name, same position among its siblings). */
export function replaceModule(model: Module, path: string, m: Module): void {
  const i = path.lastIndexOf(".");
  const parent = i < 0 ? model : moduleAt(model, path.slice(0, i));
  if (!path) throw new ValueError("quantize: the model itself is a Linear/Dense and cannot be replaced in place; wrap it (new nn.Sequential(linear)) or use QuantizedLinear.fromLinear / Int4Linear.fromLinear");
  if (!parent) throw new ValueError(`quantize: cannot replace '${path}': it is not a sub-module of the model`);
  parent.registerModule(path.slice(i + 1), m);
}
