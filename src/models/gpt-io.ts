// GPT model folders: config.json ({architecture: "gpt", gpt: GPTConfig}), model.safetensors (the
// state dict without the tied lm_head.weight, as Hugging Face writes GPT-2), tokenizer.json, card.json.
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IngotError } from "../tensor/index.js";
import { loadModelDir, saveModelDir, type SavedModel } from "../io/model-dir.js";
import { loadTokenizer, type Tokenizer } from "../text/index.js";
import { GPT, type GPTConfig } from "./gpt.js";
import { skipInit } from "../nn/init.js";
import { quantizationBlock, restoreQuantization } from "../compress/quantize.js";

/** The name config.json's `architecture` field carries for a GPT folder. */
export const GPT_ARCHITECTURE = "gpt";

export interface SaveGPTOptions {
  /** Written as tokenizer.json next to the weights, so the folder tokenizes as it was trained. */
  tokenizer?: Tokenizer;
  /** Metrics and lineage (card.json). */
  card?: Record<string, unknown>;
  /** Extra fields kept in config.json (e.g. training hyper-parameters, a quantization block). */
  extraConfig?: Record<string, unknown>;
}

export interface LoadedGPT {
  model: GPT;
  /** Present when the folder has a tokenizer.json. */
  tokenizer: Tokenizer | null;
  config: Record<string, unknown>;
  card: Record<string, unknown>;
}

/** Saves a GPT (and its tokenizer) as a model folder; every file is written atomically. */
export function saveGPT(dir: string, model: GPT, opts: SaveGPTOptions = {}): void {
  const weights = model.stateDict();
  delete weights["lm_head.weight"]; // tied: the same tensor as transformer.wte.weight
  if (opts.tokenizer) {
    // The tokenizer goes first: config.json, written last by saveModelDir, marks a complete folder.
    const path = join(dir, "tokenizer.json");
    mkdirSync(dir, { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(opts.tokenizer.toJSON()) + "\n");
    renameSync(tmp, path);
  }
  // A model quantized by compress.quantize records its quantized layers, so loadGPT can rebuild them.
  const quantization = quantizationBlock(model);
  saveModelDir(dir, {
    config: { ...opts.extraConfig, ...(quantization ? { quantization } : {}), architecture: GPT_ARCHITECTURE, gpt: { ...model.config } },
    weights,
    card: opts.card ?? {},
  });
}

/** Loads a folder written by saveGPT (weights, config, and tokenizer.json when present). */
export function loadGPT(dir: string): LoadedGPT {
  const tokPath = join(dir, "tokenizer.json");
  return gptFromSaved(loadModelDir(dir), dir, () => (existsSync(tokPath) ? loadTokenizer(tokPath) : null));
}

/** loadGPT over a folder's parts already read (a folder decrypted in memory); `dir` names it in errors. */
export function gptFromSaved(saved: SavedModel, dir: string, tokenizer: () => Tokenizer | null): LoadedGPT {
  const { config, weights, card } = saved;
  if (config.architecture !== GPT_ARCHITECTURE || typeof config.gpt !== "object" || config.gpt === null)
    throw new IngotError(`loadGPT: ${dir}/config.json is not a GPT folder (architecture is '${String(config.architecture)}', expected '${GPT_ARCHITECTURE}')`);
  const model = skipInit(() => new GPT(config.gpt as Partial<GPTConfig>)); // loadStateDict (strict) fills every weight
  if (config.quantization) restoreQuantization(model, config.quantization, `${dir}/config.json`);
  if (!("lm_head.weight" in weights)) weights["lm_head.weight"] = weights["transformer.wte.weight"];
  model.loadStateDict(weights);
  model.eval();
  return { model, tokenizer: tokenizer(), config, card };
}
