// Where the model to estimate comes from: a saved model folder (loaded with Ingot's own loaders and
// counted, and described again from its config.json by formula), a config file, or a preset.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ValueError } from "../tensor/index.js";
import { loadSafetensors } from "../io/index.js";
import { loadModel } from "../keras/load.js";
import { CONFIG_FORMAT } from "../keras/serialize.js";
import { GPT_ARCHITECTURE, loadGPT } from "../models/gpt-io.js";
import { BERT_ARCHITECTURE, loadBert } from "../models/bert-io.js";
import type { BertConfig } from "../models/bert.js";
import type { Module } from "../nn/index.js";
import type { GPTConfig } from "../models/gpt.js";
import type { ModelSource } from "./estimate.js";
import { kerasEstimate, type KerasEstimate } from "./keras.js";
import { getPreset } from "./presets.js";
import { bertSpec, gptSpec, llamaSpec, type LlamaConfig, type TransformerSpec } from "./transformer.js";

type Json = Record<string, any>;

/** The recipe `regression-mlp` (input → hidden relu → output) as the two Dense layers it is. */
function regressionMlp(c: Json): KerasEstimate {
  const layers = [
    { className: "InputLayer", config: { name: "input", batchInputShape: [null, c.input_dim] } },
    { className: "Dense", config: { name: "hidden", units: c.hidden_dim } },
    { className: "Dense", config: { name: "output", units: c.output_dim } },
  ];
  return { ...kerasEstimate("Sequential", { layers }), className: "nn MLP (regression-mlp)" };
}

/** The spec a config.json (or a bare model config) describes; `where` names it in errors. */
export function specFromConfig(config: Json, where: string): TransformerSpec | KerasEstimate {
  if (config.format === CONFIG_FORMAT) return kerasEstimate(String(config.className), config.config as Json);
  if (config.architecture === GPT_ARCHITECTURE && config.gpt) return gptSpec(config.gpt as Partial<GPTConfig>);
  if (config.architecture === BERT_ARCHITECTURE && config.bert) return bertSpec(config.bert as Partial<BertConfig>, config.head ?? "none", Number(config.numLabels ?? 2));
  if (config.recipe === "regression-mlp") return regressionMlp(config);
  // Bare configs: a GPTConfig, a BertConfig (with an optional head), or a LLaMA-style {family: "llama", ...}.
  if (config.family === "llama") return llamaSpec(config as LlamaConfig);
  if ("nEmbd" in config || "nLayer" in config) return gptSpec(config as Partial<GPTConfig>);
  if ("hiddenSize" in config || "numLayers" in config) return bertSpec(config as Partial<BertConfig>, config.head ?? "none", Number(config.numLabels ?? 2));
  throw new ValueError(
    `estimate: ${where} describes no model the estimator knows: expected a model folder's config.json (keras, GPT, BERT, regression-mlp), a GPT config ({nLayer, nHead, nEmbd, blockSize, vocabSize}), a BERT config ({hiddenSize, numLayers, ...}) or {family: "llama", vocabSize, dModel, nLayer, nHead, dFF, contextLength}`,
  );
}

function readJsonFile(path: string): Json {
  if (!existsSync(path)) throw new ValueError(`estimate: ${path} does not exist`);
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ValueError(`estimate: ${path} is not valid JSON (${(e as Error).message})`);
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new ValueError(`estimate: ${path} must hold a JSON object`);
  return v as Json;
}

/**
 * Parameters of a loaded model: its own count, with each layer that compress.quantize replaced counted
 * as its logical weights (in·out + bias) instead of its int8/int4 buffers (which are not parameters
 * of an nn model and are packed in a keras one); quantized layers do not train.
 */
function countWithQuantized(root: Module, total: number, trainable: number): { total: number; trainable: number } {
  for (const [, mod] of root.namedModules()) {
    const q = (mod as { quantizationInfo?: () => { inFeatures?: number; outFeatures?: number; bias?: boolean } }).quantizationInfo?.();
    if (!q || typeof q.inFeatures !== "number" || typeof q.outFeatures !== "number") continue;
    const stored = (mod as { countParams?: () => number }).countParams?.() ?? 0; // a keras layer counts its buffers
    total += q.inFeatures * q.outFeatures + (q.bias ? q.outFeatures : 0) - stored;
  }
  return { total, trainable };
}

function defaultBatch(spec: TransformerSpec | KerasEstimate, config: Json, card: Json): number {
  const b = config.training?.batch_size ?? card.training?.batch_size ?? card.batch_size;
  if (Number.isInteger(b) && b > 0) return b;
  return spec.kind === "keras" ? 32 : 8;
}

/** A saved model folder: loaded and counted with Ingot's loaders, and its config described by formula. */
export function fromModelDir(dir: string): ModelSource {
  if (!existsSync(dir)) throw new ValueError(`estimate: ${dir} does not exist; pass a model folder (config.json + model.safetensors), --config FILE or --preset NAME`);
  if (!statSync(dir).isDirectory()) throw new ValueError(`estimate: ${dir} is a file; pass a model folder, or the file as --config ${dir}`);
  if (!existsSync(join(dir, "config.json"))) throw new ValueError(`estimate: ${dir} has no config.json; pass a model folder written by 'ingot train', model.save(dir), saveGPT or saveBert`);
  const config = readJsonFile(join(dir, "config.json"));
  const card = existsSync(join(dir, "card.json")) ? readJsonFile(join(dir, "card.json")) : {};
  const spec = specFromConfig(config, join(dir, "config.json"));
  let loaded: { total: number; trainable: number };
  if (config.format === CONFIG_FORMAT) {
    const m = loadModel(dir, { compile: false });
    loaded = countWithQuantized(m, m.countParams(), m.countTrainableParams());
  } else if (config.architecture === GPT_ARCHITECTURE) {
    const m = loadGPT(dir).model;
    loaded = countWithQuantized(m, m.numParameters(), m.numParameters(true));
  } else if (config.architecture === BERT_ARCHITECTURE) {
    const m = loadBert(dir).model;
    loaded = countWithQuantized(m, m.numParameters(), m.numParameters(true));
  } else {
    // Another nn model (regression-mlp): the tensors in model.safetensors.
    const total = Object.values(loadSafetensors(join(dir, "model.safetensors")).tensors).reduce((n, t) => n + t.size, 0);
    loaded = { total, trainable: total };
  }
  return { label: dir, spec, loaded, batch: defaultBatch(spec, config, card) };
}

/** A config file (a model folder's config.json or a bare GPT/BERT/LLaMA config). */
export function fromConfigFile(path: string): ModelSource {
  const config = readJsonFile(path);
  const spec = specFromConfig(config, path);
  return { label: path, spec, loaded: null, batch: defaultBatch(spec, config, {}) };
}

export function fromPreset(name: string): ModelSource {
  const p = getPreset(name);
  return { label: name, spec: p.spec, loaded: null, batch: p.batch };
}
