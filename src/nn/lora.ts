// LoRA (Hu et al. 2021, as Hugging Face PEFT): frozen Linear layers gain a trainable low-rank update,
// y = W x + b + (alpha/r)·B(A(dropout(x))), with A kaiming-uniform and B zero so training starts at the
// base model; merge()/unmerge() fold the update into W; adapters are saved alone, in PEFT's file format.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Tensor, ValueError } from "../tensor/index.js";
import { add, copy_, matmul, mul, sub } from "../ops/index.js";
import { noGrad } from "../autograd/index.js";
import { loadSafetensors, saveSafetensors } from "../io/safetensors.js";
import { Module, type StateDict } from "./module.js";
import { Linear } from "./linear.js";
import { Dropout } from "./dropout.js";
import { kaimingUniform_, zeros_ } from "./init.js";
import { matchesName } from "./freeze.js";

export interface LoraOptions {
  /** r, the rank of the update (PEFT's r; default 8). */
  rank?: number;
  /** The update is scaled by alpha / rank (default 8, i.e. 1 at rank 8). */
  alpha?: number;
  /** Dropout on the adapter's input in training mode (default 0). */
  dropout?: number;
  /**
   * Which Linear layers get an adapter: module names or name suffixes at a '.' boundary ("query",
   * "attention.self.value"), as PEFT's target_modules; or a RegExp tested on the full dotted name.
   */
  targetModules: string[] | RegExp;
  /** Modules that stay trainable and are saved with the adapter (PEFT's modules_to_save: a task head). */
  modulesToSave?: string[];
}

/**
 * A Linear with a LoRA update. It keeps the wrapped layer's `weight` and `bias` (the same Parameter
 * objects, frozen), so the base names in the state dict do not change; the adapter adds
 * `lora_A.weight` [r, in] and `lora_B.weight` [out, r].
 */
export class LoraLinear extends Linear {
  lora_dropout: Dropout;
  lora_A: Linear;
  lora_B: Linear;
  readonly rank: number;
  readonly alpha: number;
  readonly scaling: number;
  /** Whether B·A is currently folded into weight. */
  merged = false;

  constructor(base: Linear, opts: { rank: number; alpha: number; dropout: number }) {
    super(base.inFeatures, base.outFeatures, { bias: base.bias !== null, dtype: base.weight.dtype });
    this.weight = base.weight;
    this.bias = base.bias;
    this.training = base.training;
    this.rank = opts.rank;
    this.alpha = opts.alpha;
    this.scaling = opts.alpha / opts.rank;
    this.lora_dropout = new Dropout(opts.dropout);
    this.lora_A = new Linear(base.inFeatures, opts.rank, { bias: false, dtype: base.weight.dtype });
    this.lora_B = new Linear(opts.rank, base.outFeatures, { bias: false, dtype: base.weight.dtype });
    for (const m of [this.lora_dropout, this.lora_A, this.lora_B]) m.training = base.training;
    this.resetLoraParameters();
  }

  /** PEFT's init: A kaiming-uniform (a = √5, as nn.Linear), B zeros, so the update starts at 0. */
  resetLoraParameters(): void {
    kaimingUniform_(this.lora_A.weight, { a: Math.sqrt(5) });
    zeros_(this.lora_B.weight);
  }

  /** scaling·B·A, [out, in]. */
  delta(): Tensor {
    return mul(matmul(this.lora_B.weight, this.lora_A.weight), this.scaling);
  }

  /** Folds the update into weight (inference without the extra matmuls); idempotent. */
  merge(): void {
    if (this.merged) return;
    noGrad(() => copy_(this.weight, add(this.weight, this.delta())));
    this.merged = true;
  }

  /** Takes the update out of weight again (to continue training or to swap adapters). */
  unmerge(): void {
    if (!this.merged) return;
    noGrad(() => copy_(this.weight, sub(this.weight, this.delta())));
    this.merged = false;
  }

  override forward(x: Tensor): Tensor {
    const y = super.forward(x);
    if (this.merged) return y;
    return add(y, mul(this.lora_B.call(this.lora_A.call(this.lora_dropout.call(x))), this.scaling));
  }

  override extraRepr(): string {
    return `${super.extraRepr()}, rank=${this.rank}, alpha=${this.alpha}${this.merged ? ", merged" : ""}`;
  }
}

/** The resolved settings an adapted model remembers (and adapter_config.json stores). */
export interface LoraConfig {
  rank: number;
  alpha: number;
  dropout: number;
  targetModules: string[] | RegExp;
  modulesToSave: string[];
  /** The names of the wrapped layers. */
  wrapped: string[];
}

const CONFIGS = new WeakMap<Module, LoraConfig>();

/** The LoRA settings applied to model, or null. */
export function loraConfigOf(model: Module): LoraConfig | null {
  return CONFIGS.get(model) ?? null;
}

/** Whether a module name is a LoRA target: equal to a target or ending with "." + target; a RegExp is tested on the name. */
function isTarget(name: string, targets: string[] | RegExp): boolean {
  return targets instanceof RegExp ? targets.test(name) : targets.some((t) => name === t || name.endsWith(`.${t}`));
}

/**
 * Wraps every matching nn.Linear of `model` in a LoraLinear (in place) and freezes everything except
 * the adapters and `modulesToSave`. Returns the model. Build the optimizer afterwards, over the
 * parameters that require grad.
 * @example nn.applyLora(model, { rank: 8, alpha: 16, targetModules: ["query", "value"], modulesToSave: ["classifier"] });
 */
export function applyLora<M extends Module>(model: M, opts: LoraOptions): M {
  const rank = opts.rank ?? 8;
  const alpha = opts.alpha ?? 8;
  const dropout = opts.dropout ?? 0;
  if (!Number.isInteger(rank) || rank < 1) throw new ValueError(`applyLora: rank must be a positive integer, got ${rank}`);
  if (!(alpha > 0)) throw new ValueError(`applyLora: alpha must be positive, got ${alpha}`);
  if (!(dropout >= 0 && dropout < 1)) throw new ValueError(`applyLora: dropout must be in [0, 1), got ${dropout}`);
  if (CONFIGS.has(model)) throw new ValueError("applyLora: the model already has LoRA adapters; apply it once (or build a fresh model)");
  const targets = opts.targetModules;
  const wrapped: string[] = [];
  const owners = model.namedModules();
  for (const [parentName, parent] of owners)
    for (const [child, m] of parent.namedChildren()) {
      const name = parentName ? `${parentName}.${child}` : child;
      if (!(m instanceof Linear) || m instanceof LoraLinear || !isTarget(name, targets)) continue;
      (parent as unknown as Record<string, Module>)[child] = new LoraLinear(m, { rank, alpha, dropout });
      wrapped.push(name);
    }
  if (!wrapped.length) {
    const linears = owners.filter(([, m]) => m instanceof Linear).map(([n]) => n);
    throw new ValueError(`applyLora: no nn.Linear matches targetModules ${String(targets instanceof RegExp ? targets : JSON.stringify(targets))}; the Linear layers are ${linears.slice(0, 8).join(", ")}${linears.length > 8 ? ", …" : ""}`);
  }
  const modulesToSave = opts.modulesToSave ?? [];
  for (const [name, p] of model.namedParameters()) p.requiresGrad_(name.includes("lora_") || modulesToSave.some((s) => matchesName(name, s)));
  CONFIGS.set(model, { rank, alpha, dropout, targetModules: targets, modulesToSave, wrapped });
  return model;
}

/** Every LoraLinear of a model. */
export function loraLayers(model: Module): LoraLinear[] {
  return model.modules().filter((m): m is LoraLinear => m instanceof LoraLinear);
}

/** Folds every adapter into its base weight. */
export function mergeLora(model: Module): void {
  for (const l of loraLayers(model)) l.merge();
}

/** Takes every adapter out of its base weight again. */
export function unmergeLora(model: Module): void {
  for (const l of loraLayers(model)) l.unmerge();
}

/** The adapter weights only (lora_A / lora_B), plus the modulesToSave parameters, by dotted name. */
export function loraStateDict(model: Module): StateDict {
  const save = CONFIGS.get(model)?.modulesToSave ?? [];
  const out: StateDict = {};
  for (const [k, t] of Object.entries(model.stateDict())) if (k.includes(".lora_A.") || k.includes(".lora_B.") || save.some((s) => matchesName(k, s))) out[k] = t;
  return out;
}

/** PEFT prefixes the names in adapter_model.safetensors with the wrapper's path. */
const PEFT_PREFIX = "base_model.model.";

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * Writes the adapter alone, as PEFT does: adapter_model.safetensors (lora_A / lora_B and the
 * modulesToSave weights, named base_model.model.<name>) and adapter_config.json.
 */
export function saveLoraAdapter(dir: string, model: Module, opts: { baseModel?: string; taskType?: string } = {}): void {
  const cfg = CONFIGS.get(model);
  if (!cfg) throw new ValueError("saveLoraAdapter: the model has no LoRA adapters; call nn.applyLora first");
  if (loraLayers(model).some((l) => l.merged)) throw new ValueError("saveLoraAdapter: the adapters are merged into the base weights; unmerge them first");
  mkdirSync(dir, { recursive: true });
  const tensors: StateDict = {};
  for (const [k, t] of Object.entries(loraStateDict(model))) tensors[PEFT_PREFIX + k] = t;
  saveSafetensors(join(dir, "adapter_model.safetensors"), tensors);
  const targets = cfg.targetModules instanceof RegExp ? cfg.targetModules.source : cfg.targetModules;
  writeAtomic(
    join(dir, "adapter_config.json"),
    JSON.stringify(
      {
        peft_type: "LORA",
        task_type: opts.taskType ?? null,
        base_model_name_or_path: opts.baseModel ?? null,
        r: cfg.rank,
        lora_alpha: cfg.alpha,
        lora_dropout: cfg.dropout,
        target_modules: targets,
        modules_to_save: cfg.modulesToSave.length ? cfg.modulesToSave : null,
        bias: "none",
        fan_in_fan_out: false,
        inference_mode: true,
      },
      null,
      2,
    ) + "\n",
  );
}

/** adapter_config.json keys of PEFT's LoRA variants, with the value that means "not used". */
const PEFT_VARIANTS: [string, unknown][] = [
  ["use_rslora", false], ["use_dora", false], ["fan_in_fan_out", false], ["bias", "none"], ["lora_bias", false],
  ["rank_pattern", {}], ["alpha_pattern", {}], ["layers_to_transform", null], ["layer_replication", null],
  ["use_qalora", false], ["target_parameters", null], ["trainable_token_indices", null], ["exclude_modules", null],
];

function isPlain(value: unknown, plain: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (plain !== null && typeof plain === "object") return typeof value === "object" && Object.keys(value as object).length === 0;
  return value === plain;
}

/**
 * Reads an adapter folder written by saveLoraAdapter (or PEFT) into `model`: applies LoRA with the
 * saved settings when the model has none yet, then loads the adapter weights (all must fit).
 */
export function loadLoraAdapter<M extends Module>(dir: string, model: M): M {
  const c = JSON.parse(readFileSync(join(dir, "adapter_config.json"), "utf8")) as Record<string, unknown>;
  if (c.peft_type !== "LORA") throw new ValueError(`loadLoraAdapter: ${dir}/adapter_config.json has peft_type '${String(c.peft_type)}', expected 'LORA'`);
  // PEFT's variants of LoRA that change the arithmetic: refused by name rather than loaded wrongly.
  const unsupported = PEFT_VARIANTS.filter(([key, plain]) => key in c && !isPlain(c[key], plain)).map(([key]) => `${key}: ${JSON.stringify(c[key])}`);
  if (unsupported.length)
    throw new ValueError(`loadLoraAdapter: ${dir}/adapter_config.json uses PEFT options Ingot's LoRA does not implement (${unsupported.join(", ")}); only plain LoRA (W + alpha/r·BA) loads`);
  if (!CONFIGS.has(model)) {
    const t = c.target_modules;
    applyLora(model, {
      rank: Number(c.r),
      alpha: Number(c.lora_alpha),
      dropout: Number(c.lora_dropout ?? 0),
      targetModules: typeof t === "string" ? new RegExp(t) : (t as string[]),
      modulesToSave: (c.modules_to_save as string[] | null) ?? [],
    });
  }
  const { tensors } = loadSafetensors(join(dir, "adapter_model.safetensors"));
  const own = model.stateDict();
  const sd: StateDict = {};
  for (const [k, t] of Object.entries(tensors)) {
    const name = k.startsWith(PEFT_PREFIX) ? k.slice(PEFT_PREFIX.length) : k;
    if (!(name in own)) throw new ValueError(`loadLoraAdapter: the adapter has '${name}', which the model does not; was it trained on another architecture?`);
    sd[name] = t;
  }
  model.loadStateDict(sd, { strict: false });
  return model;
}
