// keras.loadModel: rebuilds a model from a folder written by model.save (config.json → layers,
// model.safetensors → weights, then compile from the saved settings). It reads data only and
// never runs code from the folder; every malformed part gets an error naming the file.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { IngotError } from "../tensor/index.js";
import { parseSafetensors } from "../io/index.js";
import { checkLayerName, type Layer, type SymbolicTensor } from "./layers/base.js";
import { InputLayer } from "./layers/core.js";
import { layerClass, layerClassNames } from "./layers/index.js";
import type { CompileArgs, Model } from "./model.js";
import { Sequential } from "./sequential.js";
import { Functional, symbolicInput } from "./functional.js";
import { CONFIG_FORMAT, CONFIG_VERSION } from "./serialize.js";

type Spec = { className: string; config: Record<string, unknown>; name?: string; inboundNodes?: unknown };

function fail(msg: string): never {
  throw new IngotError(`loadModel: ${msg}`);
}

function asSpec(v: unknown, where: string): Spec {
  if (!v || typeof v !== "object" || typeof (v as Spec).className !== "string" || !(v as Spec).config || typeof (v as Spec).config !== "object")
    fail(`${where} must be {className, config}, got ${JSON.stringify(v)?.slice(0, 120)}`);
  return v as Spec;
}

/** Rebuilds one layer (or nested model) from its {className, config}. */
export function layerFromConfig(v: unknown, where = "config.json"): Layer {
  const spec = asSpec(v, where);
  const label = `${where}: layer '${String(spec.config.name ?? "?")}' (${spec.className})`;
  try {
    if (spec.className === "Sequential") return sequentialFromConfig(spec.config, where);
    if (spec.className === "Functional" || spec.className === "Model") return functionalFromConfig(spec.config, where);
    const cls = layerClass(spec.className);
    if (!cls) fail(`${where}: unknown layer type '${spec.className}'; known types: ${layerClassNames().join(", ")}`);
    return new cls(spec.config);
  } catch (e) {
    if (e instanceof IngotError && e.message.startsWith("loadModel:")) throw e;
    fail(`${label} cannot be rebuilt: ${(e as Error).message}`);
  }
}

function sequentialFromConfig(cfg: Record<string, unknown>, where: string): Sequential {
  if (!Array.isArray(cfg.layers)) fail(`${where}: a Sequential config needs a 'layers' list`);
  const m = new Sequential({ name: typeof cfg.name === "string" ? cfg.name : undefined });
  cfg.layers.forEach((l, i) => m.add(layerFromConfig(l, `${where} layers[${i}]`)));
  const shape = cfg.buildInputShape;
  if (!m.built && Array.isArray(shape)) m.buildFromShapes([shape as (number | null)[]]);
  return m;
}

function functionalFromConfig(cfg: Record<string, unknown>, where: string): Functional {
  if (!Array.isArray(cfg.layers) || !Array.isArray(cfg.inputLayers) || !Array.isArray(cfg.outputLayers))
    fail(`${where}: a Functional config needs 'layers', 'inputLayers' and 'outputLayers' lists`);
  const specs = cfg.layers.map((l, i) => asSpec(l, `${where} layers[${i}]`));
  const layers = new Map<string, Layer>();
  const tensors = new Map<string, SymbolicTensor>(); // "name/nodeIndex" → the node's output
  const pending: [Spec, Layer, number][] = [];
  specs.forEach((s, i) => {
    const l = layerFromConfig(s, `${where} layers[${i}]`);
    layers.set(l.name, l);
    if (l instanceof InputLayer) tensors.set(`${l.name}/0`, symbolicInput(l));
    const nodes = Array.isArray(s.inboundNodes) ? s.inboundNodes : [];
    nodes.forEach((_, k) => pending.push([s, l, k]));
  });
  const ref = (r: unknown): SymbolicTensor | undefined => {
    if (!Array.isArray(r) || typeof r[0] !== "string" || typeof r[1] !== "number") fail(`${where}: a node reference must be [layerName, nodeIndex, 0], got ${JSON.stringify(r)}`);
    if (!layers.has(r[0])) fail(`${where}: a node refers to layer '${r[0]}', which the config does not define`);
    return tensors.get(`${r[0]}/${r[1]}`);
  };
  // Apply layers as their inputs become available (shared layers may need several passes).
  while (pending.length) {
    const before = pending.length;
    for (let i = 0; i < pending.length; i++) {
      const [s, l, k] = pending[i];
      const inbound = (s.inboundNodes as unknown[])[k];
      if (!Array.isArray(inbound) || !inbound.length) fail(`${where}: node ${k} of layer '${l.name}' has no inputs`);
      const ins = inbound.map(ref);
      if (ins.some((t) => !t)) continue;
      tensors.set(`${l.name}/${k}`, l.apply(ins.length === 1 ? ins[0]! : (ins as SymbolicTensor[])));
      pending.splice(i--, 1);
    }
    if (pending.length === before) fail(`${where}: the graph cannot be rebuilt: layers ${pending.map(([, l]) => `'${l.name}'`).join(", ")} wait for inputs that never appear`);
  }
  const outs = (list: unknown[], what: string) =>
    list.map((r) => {
      const t = ref(r);
      if (!t) fail(`${where}: ${what} refers to ${JSON.stringify(r)}, which is not in the graph`);
      return t;
    });
  if (cfg.name !== undefined) checkLayerName(cfg.name);
  return new Functional({ inputs: outs(cfg.inputLayers, "inputLayers"), outputs: outs(cfg.outputLayers, "outputLayers"), name: cfg.name as string | undefined });
}

export interface LoadModelOptions {
  /** Compile with the saved optimizer, loss and metrics when config.json has them (default true). */
  compile?: boolean;
}

/**
 * Loads a model folder written by model.save(dir): the architecture from config.json, the weights
 * from model.safetensors, and the compile settings.
 * @example const model = keras.loadModel('out/mnist-mlp'); model.predict(x);
 */
export function loadModel(dir: string, opts: LoadModelOptions = {}): Model {
  if (typeof dir !== "string" || !dir) fail(`pass the folder written by model.save(dir), got ${JSON.stringify(dir)}`);
  if (!existsSync(dir)) fail(`${dir} does not exist; pass the folder written by model.save(dir)`);
  if (!statSync(dir).isDirectory())
    fail(`${dir} is a file, not a model folder${dir.endsWith(".safetensors") ? "; weights alone load into a built model with model.loadWeights(path)" : ""}`);
  const cfgPath = join(dir, "config.json");
  const weightsPath = join(dir, "model.safetensors");
  return loadModelFrom({ dir, readConfig: () => (existsSync(cfgPath) ? readFileSync(cfgPath, "utf8") : null), readWeights: () => (existsSync(weightsPath) ? readFileSync(weightsPath) : null) }, opts);
}

/** A model folder's two files, from disk or from memory (a decrypted folder): null when absent. */
export interface SavedModelFiles {
  /** Named in errors. */
  dir: string;
  readConfig(): string | null;
  readWeights(): Uint8Array | null;
}

/** loadModel over files given by functions (used for folders decrypted in memory). */
export function loadModelFrom(files: SavedModelFiles, opts: LoadModelOptions = {}): Model {
  const { dir } = files;
  const cfgPath = join(dir, "config.json");
  const cfgText = files.readConfig();
  if (cfgText === null) fail(`${dir} has no config.json; is it a folder written by model.save()?`);
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(cfgText) as Record<string, unknown>;
  } catch (e) {
    fail(`${cfgPath} is not valid JSON (${(e as Error).message})`);
  }
  if (!cfg || typeof cfg !== "object" || cfg.format !== CONFIG_FORMAT)
    fail(`${cfgPath} does not describe a Keras model (its format is ${JSON.stringify(cfg?.format)}, expected '${CONFIG_FORMAT}'); was it written by a keras model's save()?`);
  if (typeof cfg.formatVersion !== "number" || cfg.formatVersion > CONFIG_VERSION)
    fail(`${cfgPath} has formatVersion ${JSON.stringify(cfg.formatVersion)}, but this Ingot reads version ${CONFIG_VERSION}; update Ingot`);
  const model = layerFromConfig({ className: cfg.className, config: cfg.config }, cfgPath) as Model;
  if (!("runAll" in model)) fail(`${cfgPath} describes a single ${String(cfg.className)} layer, not a model`);
  model.requireBuilt("loadModel");
  const weightsPath = join(dir, "model.safetensors");
  const weights = files.readWeights();
  if (weights === null) fail(`${dir} has config.json but no model.safetensors; the folder is incomplete`);
  let tensors;
  try {
    tensors = parseSafetensors(weights, weightsPath).tensors;
  } catch (e) {
    fail(`${weightsPath} cannot be read: ${(e as Error).message}`);
  }
  try {
    model.loadStateDict(tensors);
  } catch (e) {
    fail(`the weights in ${weightsPath} do not match the architecture in config.json: ${(e as Error).message}`);
  }
  if (opts.compile !== false && cfg.compile) {
    try {
      model.compile(cfg.compile as CompileArgs);
    } catch (e) {
      fail(`the compile settings in ${cfgPath} are invalid: ${(e as Error).message}`);
    }
  }
  return model;
}
