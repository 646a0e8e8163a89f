// Module: the base class of every layer and model (PyTorch's nn.Module).
//
// Conventions:
// - Sub-classes implement `forward(...)`; callers use `module.call(...)`, which runs `forward`
//   (the one place where hooks or checks can be added later, like PyTorch's `module(x)`).
// - Registration is by assignment: every own property holding a `Parameter` is a parameter and
//   every own property holding a `Module` is a sub-module, in the order the properties were first
//   defined (declared class fields count from their declaration). Buffers are plain tensors, so
//   they are declared with `registerBuffer(name, t)`. Plain arrays of modules are not searched:
//   use `ModuleList`. `registerParameter`/`registerModule` exist for names chosen at run time.
import { DType, IngotError, isFloatDType, shapeStr, ShapeError, shapesEqual, Tensor, ValueError } from "../tensor/index.js";
import { copy_, detach, to } from "../ops/index.js";
import { noGrad } from "../autograd/index.js";
import { Parameter } from "./parameter.js";

/** Parameters and persistent buffers by dotted name (`"encoder.0.weight"`), in registration order. */
export type StateDict = Record<string, Tensor>;

export interface LoadStateDictOptions {
  /** Refuse missing and unexpected keys (default true). Shape mismatches are refused always. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

export class Module {
  /** Training mode (dropout active, batch norm uses batch statistics); set with train()/eval(). */
  training = true;
  /** Names of the buffers, each with whether it is saved in stateDict (persistent). */
  declare private readonly bufferNames: Map<string, boolean>;

  constructor() {
    Object.defineProperty(this, "bufferNames", { value: new Map<string, boolean>(), enumerable: false });
  }

  /** The computation; sub-classes override it. Call modules with `call(...)`. */
  forward(..._args: any[]): any {
    throw new IngotError(`${this.constructor.name}: forward() is not implemented; a Module sub-class must define forward(...)`);
  }

  /** Runs the module: `model.call(x)` is PyTorch's `model(x)`. */
  call(...args: Parameters<this["forward"]>): ReturnType<this["forward"]> {
    return this.forward(...args);
  }

  /** This module's own (name, value) pairs in registration order; containers with their own order override it. */
  protected ownEntries(): [string, unknown][] {
    return Object.keys(this).map((k) => [k, (this as Record<string, unknown>)[k]]);
  }

  /** Adds (or replaces) a parameter under `name`; null records that the slot is empty (like a bias=false). */
  registerParameter(name: string, param: Parameter | null): void {
    this.checkName("registerParameter", name);
    if (param !== null && !(param instanceof Parameter))
      throw new ValueError(`registerParameter: '${name}' must be a Parameter or null; wrap the tensor: new Parameter(t)`);
    if (this.bufferNames.has(name)) throw new ValueError(`registerParameter: '${name}' is already a buffer of ${this.constructor.name}`);
    (this as Record<string, unknown>)[name] = param;
  }

  /**
   * Adds a buffer: a tensor that is state but not learned (running means, counters). Persistent
   * buffers are part of stateDict(). Assigning the property later replaces the buffer's tensor.
   */
  registerBuffer(name: string, tensor: Tensor | null, opts: { persistent?: boolean } = {}): void {
    this.checkName("registerBuffer", name);
    if (tensor !== null && !(tensor instanceof Tensor)) throw new ValueError(`registerBuffer: '${name}' must be a Tensor or null`);
    if (tensor instanceof Parameter) throw new ValueError(`registerBuffer: '${name}' is a Parameter; register it with registerParameter`);
    const cur = (this as Record<string, unknown>)[name];
    if (cur instanceof Parameter || cur instanceof Module)
      throw new ValueError(`registerBuffer: '${name}' is already a ${cur instanceof Parameter ? "parameter" : "sub-module"} of ${this.constructor.name}`);
    this.bufferNames.set(name, opts.persistent ?? true);
    (this as Record<string, unknown>)[name] = tensor;
  }

  /** Adds a sub-module under `name` (the same as assigning the property). */
  registerModule(name: string, module: Module | null): void {
    this.checkName("registerModule", name);
    if (module !== null && !(module instanceof Module)) throw new ValueError(`registerModule: '${name}' must be a Module or null`);
    if (this.bufferNames.has(name)) throw new ValueError(`registerModule: '${name}' is already a buffer of ${this.constructor.name}`);
    (this as Record<string, unknown>)[name] = module;
  }

  private checkName(fn: string, name: string): void {
    if (typeof name !== "string" || name === "" || name.includes("."))
      throw new ValueError(`${fn}: name must be a non-empty string without '.', got ${JSON.stringify(name)}`);
    if (name === "training" || (name in this && !Object.prototype.hasOwnProperty.call(this, name)))
      throw new ValueError(`${fn}: '${name}' is already a property or method of ${this.constructor.name}; choose another name`);
  }

  /** (name, parameter) pairs of this module only. */
  private ownParameters(): [string, Parameter][] {
    return this.ownEntries().filter((e): e is [string, Parameter] => e[1] instanceof Parameter);
  }

  private ownBuffers(persistentOnly = false): [string, Tensor][] {
    return this.ownEntries().filter(
      (e): e is [string, Tensor] =>
        e[1] instanceof Tensor && !(e[1] instanceof Parameter) && this.bufferNames.has(e[0]) && (!persistentOnly || this.bufferNames.get(e[0])!),
    );
  }

  /** Direct sub-modules with their names. */
  namedChildren(): [string, Module][] {
    return this.ownEntries().filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every module below it (each once), with dotted names; this one is ''. */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const walk = (m: Module, p: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([p, m]);
      for (const [n, c] of m.namedChildren()) walk(c, p ? `${p}.${n}` : n);
    };
    walk(this, prefix);
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Every parameter with its dotted name (a parameter shared by two modules is listed once). */
  namedParameters(opts: { prefix?: string; recurse?: boolean } = {}): [string, Parameter][] {
    const mods: [string, Module][] = opts.recurse === false ? [[opts.prefix ?? "", this]] : this.namedModules(opts.prefix ?? "");
    const seen = new Set<Tensor>();
    const out: [string, Parameter][] = [];
    for (const [p, m] of mods)
      for (const [n, t] of m.ownParameters()) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([p ? `${p}.${n}` : n, t]);
      }
    return out;
  }

  /** Every parameter (for an optimizer: `new optim.Adam(model.parameters())`). */
  parameters(recurse = true): Parameter[] {
    return this.namedParameters({ recurse }).map(([, p]) => p);
  }

  namedBuffers(opts: { prefix?: string; recurse?: boolean } = {}): [string, Tensor][] {
    const mods: [string, Module][] = opts.recurse === false ? [[opts.prefix ?? "", this]] : this.namedModules(opts.prefix ?? "");
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [p, m] of mods)
      for (const [n, t] of m.ownBuffers()) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([p ? `${p}.${n}` : n, t]);
      }
    return out;
  }

  buffers(recurse = true): Tensor[] {
    return this.namedBuffers({ recurse }).map(([, b]) => b);
  }

  /** Number of parameter elements (only those that require grad when trainableOnly). */
  numParameters(trainableOnly = false): number {
    return this.parameters()
      .filter((p) => !trainableOnly || p.requiresGrad)
      .reduce((n, p) => n + p.size, 0);
  }

  /** Sets training mode on this module and all below it; returns this. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode (dropout off, batch norm uses running statistics); returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Calls fn on every sub-module (children first) and then on this one, like PyTorch's apply. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** Clears every parameter's gradient (sets it to null, PyTorch's default set_to_none). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Turns gradient tracking of every parameter on or off (freezing); returns this. */
  requiresGrad_(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad_(flag);
    return this;
  }

  /**
   * Converts floating-point parameters and buffers to `dtype`. Parameters are replaced by new
   * Parameter objects, so build the optimizer after converting. Returns this.
   */
  to(dtype: DType): this {
    if (!isFloatDType(dtype)) throw new ValueError(`Module.to: dtype must be float32 or float64, got ${dtype}`);
    noGrad(() => {
      for (const m of this.modules()) {
        const self = m as unknown as Record<string, unknown>;
        for (const [n, p] of m.ownParameters()) if (p.dtype !== dtype) self[n] = new Parameter(to(detach(p), dtype), p.requiresGrad);
        for (const [n, b] of m.ownBuffers()) if (isFloatDType(b.dtype) && b.dtype !== dtype) self[n] = to(b, dtype).clone();
      }
    });
    return this;
  }

  /** Parameters and buffers as float64 (for gradient checks); returns this. */
  double(): this {
    return this.to("float64");
  }

  /** Parameters and buffers as float32; returns this. */
  float(): this {
    return this.to("float32");
  }

  /**
   * Parameters and persistent buffers by dotted name. The tensors share storage with the module
   * (detached, like PyTorch's state_dict); pass keepVars to get the Parameter objects themselves.
   */
  stateDict(opts: { prefix?: string; keepVars?: boolean } = {}): StateDict {
    const out: StateDict = {};
    const walk = (m: Module, p: string): void => {
      for (const [n, t] of m.ownParameters()) out[p + n] = opts.keepVars ? t : detach(t);
      for (const [n, t] of m.ownBuffers(true)) out[p + n] = opts.keepVars ? t : detach(t);
      for (const [n, c] of m.namedChildren()) walk(c, `${p}${n}.`);
    };
    walk(this, opts.prefix ?? "");
    return out;
  }

  /**
   * Copies values from `stateDict` into this module's parameters and buffers, in place (so an
   * optimizer built earlier keeps working). Shapes must match; with strict (the default) the keys
   * must match exactly too. Returns the keys that were missing and unexpected.
   */
  loadStateDict(stateDict: StateDict | Map<string, Tensor>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const given = stateDict instanceof Map ? stateDict : new Map(Object.entries(stateDict));
    const own = this.stateDict({ keepVars: true });
    const missingKeys = Object.keys(own).filter((k) => !given.has(k));
    const unexpectedKeys = [...given.keys()].filter((k) => !(k in own));
    const problems: string[] = [];
    for (const [k, src] of given) {
      const dst = own[k];
      if (!dst) continue;
      if (!(src instanceof Tensor)) problems.push(`  '${k}' is not a Tensor`);
      else if (!shapesEqual(src.shape, dst.shape))
        problems.push(`  size mismatch for '${k}': the state dict has ${shapeStr(src.shape)}, the model has ${shapeStr(dst.shape)}`);
    }
    const keyProblems: string[] = [];
    if (strict && missingKeys.length) keyProblems.push(`  missing keys: ${missingKeys.map((k) => `'${k}'`).join(", ")}`);
    if (strict && unexpectedKeys.length) keyProblems.push(`  unexpected keys: ${unexpectedKeys.map((k) => `'${k}'`).join(", ")}`);
    if (problems.length || keyProblems.length) {
      const hint = keyProblems.length ? "\n(pass {strict: false} to load the keys that match and ignore the rest)" : "";
      const msg = `loadStateDict: the state dict does not fit ${this.constructor.name}:\n${[...problems, ...keyProblems].join("\n")}${hint}`;
      throw problems.length ? new ShapeError(msg) : new ValueError(msg);
    }
    noGrad(() => {
      for (const [k, src] of given) if (own[k]) copy_(own[k], src);
    });
    return { missingKeys, unexpectedKeys };
  }

  /** The hyper-parameters shown inside the parentheses of toString(), e.g. `inFeatures=3, outFeatures=4`. */
  extraRepr(): string {
    return "";
  }

  /** PyTorch-style nested description: `Sequential(\n  (0): Linear(inFeatures=3, ...)\n)`. */
  toString(): string {
    const extra = this.extraRepr();
    const kids = this.namedChildren().map(([n, c]) => `(${n}): ${c.toString()}`);
    if (!kids.length) return `${this.constructor.name}(${extra})`;
    const lines = [...(extra ? extra.split("\n") : []), ...kids].join("\n").split("\n");
    return `${this.constructor.name}(\n${lines.map((l) => `  ${l}`).join("\n")}\n)`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /**
   * A table of the modules that hold parameters, with their parameter shapes and counts, and the
   * totals (like Keras' model.summary()).
   */
  summary(): string {
    const rows: [string, string, string, string][] = [["Module", "Type", "Parameters", "Shapes"]];
    for (const [name, m] of this.namedModules()) {
      const ps = m.ownParameters();
      if (!ps.length) continue;
      const n = ps.reduce((s, [, p]) => s + p.size, 0);
      rows.push([name || "(root)", m.constructor.name, n.toLocaleString("en-US"), ps.map(([k, p]) => `${k} ${shapeStr(p.shape)}`).join(", ")]);
    }
    const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
    const fmt = (r: string[]) => r.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
    const rule = "─".repeat(widths.reduce((a, b) => a + b, 0) + 6);
    const total = this.numParameters();
    const trainable = this.numParameters(true);
    return [
      fmt(rows[0]),
      rule,
      ...rows.slice(1).map(fmt),
      rule,
      `Total parameters: ${total.toLocaleString("en-US")}`,
      `Trainable parameters: ${trainable.toLocaleString("en-US")}`,
      `Non-trainable parameters: ${(total - trainable).toLocaleString("en-US")}`,
    ].join("\n");
  }
}
