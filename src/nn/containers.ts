// Containers: Sequential (runs its modules in order), ModuleList and ModuleDict (hold modules so
// that their parameters are registered, for models that call them in their own way).
import { IndexError, type Tensor, ValueError } from "../tensor/index.js";
import { Module } from "./module.js";

function checkModule(where: string, m: unknown, i: number | string): Module {
  if (!(m instanceof Module)) throw new ValueError(`${where}: entry ${JSON.stringify(i)} is not a Module (got ${typeof m}); layers come from ingot.nn`);
  return m;
}

/** Shared by Sequential and ModuleList: modules kept under the names "0", "1", … */
abstract class IndexedModules extends Module {
  /** Number of modules held. */
  get length(): number {
    return this.children().length;
  }

  /** The module at index i (negative counts from the end). */
  at(i: number): Module {
    const n = this.length;
    const j = i < 0 ? i + n : i;
    if (!Number.isInteger(j) || j < 0 || j >= n)
      throw new IndexError(`${this.constructor.name}.at: index ${i} is out of range for ${n} module(s)`);
    return this.children()[j];
  }

  /** Adds a module at the end; returns this. */
  append(m: Module): this {
    this.registerModule(String(this.length), checkModule(`${this.constructor.name}.append`, m, this.length));
    return this;
  }

  /** Adds modules at the end; returns this. */
  extend(ms: Iterable<Module>): this {
    for (const m of ms) this.append(m);
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }
}

/**
 * Modules applied one after another: `new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 1))`,
 * or with names: `new Sequential({fc1: new Linear(4, 8), act: new ReLU()})`.
 */
export class Sequential extends IndexedModules {
  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    if (modules.length === 1 && !(modules[0] instanceof Module) && typeof modules[0] === "object") {
      for (const [k, m] of Object.entries(modules[0])) this.registerModule(k, checkModule("Sequential", m, k));
    } else (modules as Module[]).forEach((m, i) => this.registerModule(String(i), checkModule("Sequential", m, i)));
  }

  override forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.children()) y = m.call(y);
    return y;
  }
}

/** A list of modules whose parameters are registered; it has no forward of its own. */
export class ModuleList extends IndexedModules {
  constructor(modules: Iterable<Module> = []) {
    super();
    this.extend(modules);
  }
}

/** Modules by name, in insertion order; it has no forward of its own. */
export class ModuleDict extends Module {
  declare private readonly items: Map<string, Module>;

  constructor(modules: Record<string, Module> | Iterable<[string, Module]> = {}) {
    super();
    Object.defineProperty(this, "items", { value: new Map<string, Module>(), enumerable: false });
    const entries = Symbol.iterator in modules ? [...(modules as Iterable<[string, Module]>)] : Object.entries(modules);
    for (const [k, m] of entries) this.set(k, m);
  }

  // NOTE: plain objects list integer-like keys first; the Map keeps insertion order as PyTorch does.
  protected override ownEntries(): [string, unknown][] {
    return [...this.items.entries(), ...super.ownEntries()];
  }

  /** Adds or replaces the module under key. */
  set(key: string, m: Module): this {
    if (typeof key !== "string" || key === "" || key.includes("."))
      throw new ValueError(`ModuleDict.set: key must be a non-empty string without '.', got ${JSON.stringify(key)}`);
    this.items.set(key, checkModule("ModuleDict", m, key));
    return this;
  }

  /** The module under key; an IndexError names the keys that exist. */
  get(key: string): Module {
    const m = this.items.get(key);
    if (!m) throw new IndexError(`ModuleDict.get: no module '${key}'; the keys are ${[...this.items.keys()].map((k) => `'${k}'`).join(", ") || "(none)"}`);
    return m;
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  delete(key: string): boolean {
    return this.items.delete(key);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  [Symbol.iterator](): Iterator<[string, Module]> {
    return this.items.entries();
  }
}
