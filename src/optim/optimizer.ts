// The Optimizer base: parameter groups with per-group hyper-parameters, per-parameter state,
// zeroGrad/step and stateDict/loadStateDict (PyTorch's torch.optim.Optimizer).
import { isFloatDType, shapeStr, shapesEqual, Tensor, ValueError } from "../tensor/index.js";
import { clone, detach, to } from "../ops/index.js";
import { enableGrad, noGrad } from "../autograd/index.js";
import { profilerHooks } from "../profiler/hooks.js";

/** Hyper-parameters every optimizer has. */
export interface OptimizerOptions {
  lr: number;
}

/** A parameter group as the optimizer keeps it: its tensors, its hyper-parameters, and anything schedulers add (initialLr, …). */
export type ParamGroup<O extends OptimizerOptions = OptimizerOptions> = O & { params: Tensor[]; [extra: string]: unknown };

/** A group as the user gives it: tensors plus hyper-parameters that override the optimizer's defaults. */
export type ParamGroupInput<O extends OptimizerOptions = OptimizerOptions> = { params: Iterable<Tensor> } & Partial<O> & Record<string, unknown>;

/** What optimizers accept: the parameters (`model.parameters()`), or a list of groups. */
export type ParamsInput<O extends OptimizerOptions = OptimizerOptions> = Iterable<Tensor> | ParamGroupInput<O>[];

/** Per-parameter state (moment estimates, step counts). */
export type OptimizerState = Record<string, Tensor | number>;

export interface OptimizerStateDict {
  /** State by parameter index (parameters numbered across groups in order). */
  state: Record<number, OptimizerState>;
  /** Each group's hyper-parameters, with `params` the indices of its parameters. */
  paramGroups: (Record<string, unknown> & { params: number[] })[];
}

export abstract class Optimizer<O extends OptimizerOptions = OptimizerOptions> {
  readonly defaults: O;
  readonly paramGroups: ParamGroup<O>[] = [];
  /** State of each parameter, created on its first step. */
  readonly state = new Map<Tensor, OptimizerState>();

  constructor(params: ParamsInput<O>, defaults: O) {
    this.defaults = defaults;
    const name = this.constructor.name;
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new ValueError(`${name}: got an empty parameter list; pass model.parameters()`);
    if (list.every((p) => p instanceof Tensor)) this.addParamGroup({ params: list as Tensor[] } as unknown as ParamGroupInput<O>);
    else if (list.every((g) => typeof g === "object" && g !== null && !(g instanceof Tensor) && "params" in g))
      for (const g of list) this.addParamGroup(g as ParamGroupInput<O>);
    else throw new ValueError(`${name}: params must be tensors (model.parameters()) or a list of groups {params, lr?, …}, not a mix`);
  }

  /** Checks one group's hyper-parameters; each optimizer overrides it. */
  protected validate(_group: ParamGroup<O>): void {}

  /** Adds a group (e.g. layers unfrozen during fine-tuning); options it omits come from the defaults. */
  addParamGroup(input: ParamGroupInput<O>): void {
    const name = this.constructor.name;
    if (input.params instanceof Tensor) throw new ValueError(`${name}: a group's params must be a list of tensors, got a single tensor; wrap it: [t]`);
    const params = [...input.params];
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of params) {
      if (!(p instanceof Tensor)) throw new ValueError(`${name}: params must be tensors, got ${typeof p}`);
      if (!isFloatDType(p.dtype)) throw new ValueError(`${name}: can only optimize floating-point tensors, got a ${p.dtype} tensor of shape ${shapeStr(p.shape)}`);
      if (!p.isLeaf)
        throw new ValueError(`${name}: can't optimize a tensor computed by an op (a non-leaf); optimize the leaf tensors (Parameters) it came from`);
      if (seen.has(p)) throw new ValueError(`${name}: a parameter of shape ${shapeStr(p.shape)} appears in more than one group (or twice in one)`);
      seen.add(p);
    }
    const group = { ...this.defaults, ...input, params } as ParamGroup<O>;
    for (const [k, v] of Object.entries(group)) if (Array.isArray(v) && k !== "params") (group as Record<string, unknown>)[k] = [...v];
    if (typeof group.lr !== "number" || !(group.lr >= 0)) throw new ValueError(`${name}: lr must be a number ≥ 0, got ${String(group.lr)}`);
    this.validate(group);
    this.paramGroups.push(group);
  }

  /** Clears gradients: to null (default, PyTorch's set_to_none) or to zeros in place. */
  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups)
      for (const p of g.params) {
        if (!p.grad) continue;
        if (setToNone) p.grad = null;
        else noGrad(() => p.grad!.copy_(0));
      }
  }

  /**
   * One update of every parameter that has a gradient. With a closure (which re-computes the loss
   * and calls backward), the closure runs first and its loss is returned.
   */
  step(closure?: () => Tensor | number): number | undefined {
    let loss: number | undefined;
    if (closure) {
      const l = enableGrad(closure);
      loss = l instanceof Tensor ? l.item() : l;
    }
    const update = () => noGrad(() => {
      for (const g of this.paramGroups) this.updateGroup(g);
    });
    const range = profilerHooks.range;
    if (range === null) update();
    else range("optimizer", `${this.constructor.name}.step`, update);
    return loss;
  }

  /** Updates the parameters of one group (called under noGrad). */
  protected abstract updateGroup(group: ParamGroup<O>): void;

  /** The state of p, created empty on first use. */
  protected stateOf(p: Tensor): OptimizerState {
    let s = this.state.get(p);
    if (!s) this.state.set(p, (s = {}));
    return s;
  }

  /** A snapshot of the hyper-parameters and state (tensors copied), with parameters numbered. */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) if (k !== "params") out[k] = Array.isArray(v) ? [...v] : v;
      out.params = g.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      return out as Record<string, unknown> & { params: number[] };
    });
    const state: Record<number, OptimizerState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = copyState(s);
    }
    return { state, paramGroups };
  }

  /** Restores hyper-parameters and state saved by stateDict(); the groups must have the same sizes. */
  loadStateDict(sd: OptimizerStateDict): void {
    const name = this.constructor.name;
    if (!sd || !Array.isArray(sd.paramGroups) || typeof sd.state !== "object")
      throw new ValueError(`${name}.loadStateDict: expected {state, paramGroups} as written by stateDict()`);
    if (sd.paramGroups.length !== this.paramGroups.length)
      throw new ValueError(`${name}.loadStateDict: the state dict has ${sd.paramGroups.length} parameter group(s), this optimizer has ${this.paramGroups.length}`);
    sd.paramGroups.forEach((g, i) => {
      if (g.params.length !== this.paramGroups[i].params.length)
        throw new ValueError(
          `${name}.loadStateDict: group ${i} of the state dict has ${g.params.length} parameter(s), this optimizer's has ${this.paramGroups[i].params.length}`,
        );
    });
    const byIndex = new Map<number, Tensor>();
    sd.paramGroups.forEach((g, i) => g.params.forEach((idx, j) => byIndex.set(idx, this.paramGroups[i].params[j])));
    for (const [k, s] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(k));
      if (!p) throw new ValueError(`${name}.loadStateDict: state for parameter ${k}, which no group lists`);
      for (const v of Object.values(s))
        if (v instanceof Tensor && !shapesEqual(v.shape, p.shape) && v.size !== 1)
          throw new ValueError(`${name}.loadStateDict: state of parameter ${k} has shape ${shapeStr(v.shape)}, the parameter has ${shapeStr(p.shape)}`);
    }
    sd.paramGroups.forEach((g, i) => {
      const group = this.paramGroups[i] as Record<string, unknown>;
      for (const [k, v] of Object.entries(g)) if (k !== "params") group[k] = Array.isArray(v) ? [...v] : v;
    });
    this.state.clear();
    for (const [k, s] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(k))!;
      // State follows the parameter's dtype (a float64 checkpoint loads into a float32 model).
      this.state.set(p, copyState(s, p));
    }
  }
}

function copyState(s: OptimizerState, like?: Tensor): OptimizerState {
  const out: OptimizerState = {};
  for (const [k, v] of Object.entries(s))
    out[k] = v instanceof Tensor ? noGrad(() => clone(detach(like && isFloatDType(v.dtype) ? to(v, like.dtype) : v))) : v;
  return out;
}

/** Throws unless v is a number in [lo, hi] (hi exclusive when `openHi`). */
export function checkRange(opt: string, what: string, v: unknown, lo: number, hi = Infinity, openHi = false): void {
  const ok = typeof v === "number" && v >= lo && (openHi ? v < hi : v <= hi);
  if (!ok) throw new ValueError(`${opt}: ${what} must be in [${lo}, ${hi}${openHi ? ")" : "]"}, got ${String(v)}`);
}
