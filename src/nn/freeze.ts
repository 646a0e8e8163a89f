// Freezing by name: turn gradient tracking of the parameters whose dotted names match a pattern off
// (freeze) or on (unfreeze), for transfer learning (train the head, keep the encoder).
import { ValueError } from "../tensor/index.js";
import type { Module } from "./module.js";

/**
 * A parameter-name pattern: a RegExp (tested on the dotted name); a string with `*` (a glob: `*`
 * matches any characters, dots included, over the whole name, e.g. "bert.encoder.layer.*.attention.*");
 * or a plain string, which matches that name and every name below it ("bert.embeddings" matches
 * "bert.embeddings.word_embeddings.weight"). An array matches when any of its patterns does.
 */
export type NamePattern = string | RegExp | readonly (string | RegExp)[];

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");

/** Whether a dotted parameter or module name matches a pattern (see NamePattern). */
export function matchesName(name: string, pattern: NamePattern): boolean {
  if (Array.isArray(pattern)) return pattern.some((p) => matchesName(name, p));
  if (pattern instanceof RegExp) return pattern.test(name);
  const p = pattern as string;
  if (p.includes("*")) return new RegExp(`^${p.split("*").map(escape).join(".*")}$`).test(name);
  return name === p || name.startsWith(`${p}.`);
}

function setMatching(fn: string, model: Module, pattern: NamePattern, flag: boolean): string[] {
  const hit: string[] = [];
  for (const [name, p] of model.namedParameters())
    if (matchesName(name, pattern)) {
      p.requiresGrad_(flag);
      hit.push(name);
    }
  if (!hit.length) {
    const names = model.namedParameters().map(([n]) => n);
    throw new ValueError(`${fn}: no parameter name matches ${String(pattern)}; the names look like ${names.slice(0, 4).join(", ")}${names.length > 4 ? ", …" : ""}`);
  }
  return hit;
}

/**
 * Stops gradient tracking of the parameters whose names match (they keep their values in training);
 * returns the names frozen. Build the optimizer afterwards over the parameters that require grad.
 * @example nn.freeze(model, "bert.embeddings"); nn.freeze(model, /layer\.[01]\./);
 */
export function freeze(model: Module, pattern: NamePattern): string[] {
  return setMatching("freeze", model, pattern, false);
}

/** Turns gradient tracking back on for the matching parameters (all of them without a pattern); returns their names. */
export function unfreeze(model: Module, pattern: NamePattern = /.*/): string[] {
  return setMatching("unfreeze", model, pattern, true);
}

/** The parameter counts: those that require grad, and all (a parameter shared by two modules counts once). */
export function countParameters(model: Module): { trainable: number; total: number } {
  return { trainable: model.numParameters(true), total: model.numParameters() };
}
