// Import of Hugging Face GPT-2 checkpoints: a folder with config.json (GPT2Config) and
// model.safetensors (GPT2Model's or GPT2LMHeadModel's state dict), and optionally the tokenizer
// (tokenizer.json, or vocab.json + merges.txt), into models.GPT. Like nanoGPT's from_pretrained:
// HF's Conv1D layers store their weight as [in, out], GPT's Linear as [out, in], so c_attn, c_proj
// and c_fc weights are transposed; the causal-mask buffers (attn.bias, attn.masked_bias) are
// dropped; lm_head is the token embedding. Pickled checkpoints (pytorch_model.bin) are refused:
// loading them would mean running their code.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type DType, IngotError, shapeStr, type Tensor } from "../tensor/index.js";
import { loadSafetensors } from "../io/safetensors.js";
import { loadTokenizer, type Tokenizer } from "../text/index.js";
import { GPT, type GPTConfig } from "./gpt.js";
import { skipInit } from "../nn/init.js";

export interface ImportGPT2Options {
  /** The dtype of the model's parameters (default float32; float16/bfloat16 checkpoints are converted). */
  dtype?: DType;
}

export interface ImportedGPT2 {
  model: GPT;
  /** The folder's tokenizer, when it has one. */
  tokenizer: Tokenizer | null;
  /** The GPT config built from config.json. */
  config: GPTConfig;
}

const CONV1D = /^h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/;
const BUFFERS = /^h\.\d+\.attn\.(bias|masked_bias)$/;

/** GPT2Config → GPTConfig; refuses the variants GPT does not implement, naming the field. */
export function gpt2Config(cfg: Record<string, unknown>, where = "config.json"): GPTConfig {
  const bad = (msg: string) => new IngotError(`importGPT2: ${where}: ${msg}`);
  if (cfg.model_type !== undefined && cfg.model_type !== "gpt2") throw bad(`model_type is '${String(cfg.model_type)}'; only GPT-2 checkpoints (model_type 'gpt2') can be imported`);
  const int = (name: string, fallback?: string): number => {
    const v = cfg[name] ?? (fallback ? cfg[fallback] : undefined);
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw bad(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  };
  const nEmbd = int("n_embd"), nHead = int("n_head");
  const act = cfg.activation_function ?? "gelu_new";
  if (act !== "gelu_new" && act !== "gelu_pytorch_tanh")
    throw bad(`activation_function '${String(act)}' is not supported; GPT uses GELU's tanh form (gelu_new)`);
  if (cfg.n_inner !== undefined && cfg.n_inner !== null && cfg.n_inner !== 4 * nEmbd)
    throw bad(`n_inner ${String(cfg.n_inner)} is not supported; GPT's MLP is 4 × n_embd = ${4 * nEmbd} wide`);
  const eps = cfg.layer_norm_epsilon ?? 1e-5;
  if (eps !== 1e-5) throw bad(`layer_norm_epsilon ${String(eps)} is not supported; GPT's LayerNorms use 1e-5`);
  if (cfg.scale_attn_weights === false) throw bad("scale_attn_weights false is not supported; GPT scales attention by 1/√head_dim");
  if (cfg.scale_attn_by_inverse_layer_idx === true) throw bad("scale_attn_by_inverse_layer_idx is not supported");
  if (cfg.reorder_and_upcast_attn === true) throw bad("reorder_and_upcast_attn is not supported");
  if (cfg.tie_word_embeddings === false) throw bad("tie_word_embeddings false is not supported; GPT ties the output head to the token embedding, as GPT-2 does");
  if (cfg.add_cross_attention === true) throw bad("add_cross_attention is not supported; GPT has no cross-attention");
  if (nEmbd % nHead !== 0) throw bad(`n_embd ${nEmbd} is not divisible by n_head ${nHead}`);
  return { vocabSize: int("vocab_size"), blockSize: int("n_positions", "n_ctx"), nLayer: int("n_layer"), nHead, nEmbd, dropout: 0, bias: true, dtype: "float32" };
}

/**
 * Reads a Hugging Face GPT-2 folder into a GPT (in eval mode). Every weight GPT-2 has must be there
 * with its shape; a tensor GPT does not know, or an lm_head that is not the token embedding, is an
 * error rather than silently dropped.
 * @example const { model, tokenizer } = importGPT2("checkpoints/gpt2"); model.generate([tokenizer!.encode("Hello")], 20)
 */
export function importGPT2(dir: string, opts: ImportGPT2Options = {}): ImportedGPT2 {
  const cfgPath = join(dir, "config.json");
  const stPath = join(dir, "model.safetensors");
  if (!existsSync(cfgPath)) throw new IngotError(`importGPT2: ${dir} has no config.json; pass a Hugging Face GPT-2 folder (config.json + model.safetensors)`);
  if (!existsSync(stPath)) {
    const pickled = existsSync(join(dir, "pytorch_model.bin"));
    throw new IngotError(
      `importGPT2: ${dir} has no model.safetensors` +
        (pickled ? "; it has pytorch_model.bin, a pickle Ingot does not load (it can run code): convert it with safetensors' convert script or save_pretrained(safe_serialization=True)" : ""),
    );
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(cfgPath, "utf8"));
  } catch (e) {
    throw new IngotError(`importGPT2: ${cfgPath} is not valid JSON (${(e as Error).message})`);
  }
  const config = gpt2Config(raw, cfgPath);
  const { tensors } = loadSafetensors(stPath);
  const dtype = opts.dtype ?? "float32";

  // HF names with or without GPT2LMHeadModel's "transformer." prefix → GPT's names, Conv1D transposed.
  const weights: Record<string, Tensor> = {};
  const fileShape: Record<string, readonly number[]> = {};
  let lmHead: Tensor | null = null;
  const unknown: string[] = [];
  for (const [key, t] of Object.entries(tensors)) {
    const name = key.startsWith("transformer.") ? key.slice("transformer.".length) : key;
    if (BUFFERS.test(name)) continue;
    if (name === "lm_head.weight") {
      lmHead = t;
      continue;
    }
    if (!/^(wte|wpe|ln_f)\.|^h\.\d+\./.test(name)) {
      unknown.push(key);
      continue;
    }
    fileShape[`transformer.${name}`] = t.shape;
    weights[`transformer.${name}`] = (CONV1D.test(name) && t.ndim === 2 ? t.t().contiguous() : t).to(dtype);
  }
  const model = skipInit(() => new GPT({ ...config, dtype })); // every weight is loaded below
  const expected = model.stateDict();
  delete expected["lm_head.weight"]; // tied to transformer.wte.weight
  for (const key of Object.keys(weights)) if (!(key in expected)) unknown.push(key.slice("transformer.".length));
  if (unknown.length) throw new IngotError(`importGPT2: ${stPath} holds tensors GPT-2 does not have: ${unknown.slice(0, 8).join(", ")}${unknown.length > 8 ? ", …" : ""}`);
  const missing = Object.keys(expected).filter((k) => !(k in weights));
  if (missing.length) throw new IngotError(`importGPT2: ${stPath} lacks ${missing.slice(0, 8).map((k) => k.slice("transformer.".length)).join(", ")}${missing.length > 8 ? ", …" : ""}`);
  for (const [key, t] of Object.entries(weights)) {
    const want = expected[key].shape;
    if (shapeStr(t.shape) !== shapeStr(want)) {
      const conv = CONV1D.test(key.slice("transformer.".length));
      const need = conv ? [...want].reverse() : want;
      throw new IngotError(
        `importGPT2: ${key.slice("transformer.".length)} has shape ${shapeStr(fileShape[key])} in ${stPath}; config.json implies ${shapeStr(need)}${conv ? " (HF's Conv1D layout, [in, out])" : ""}`,
      );
    }
  }
  if (lmHead) {
    const wte = tensors["wte.weight"] ?? tensors["transformer.wte.weight"];
    const same = shapeStr(lmHead.shape) === shapeStr(wte.shape) && lmHead.to("float32").sub(wte.to("float32")).abs().max().item() === 0;
    if (!same) throw new IngotError(`importGPT2: lm_head.weight in ${stPath} differs from wte.weight; GPT ties the output head to the token embedding, as GPT-2 does`);
  }
  weights["lm_head.weight"] = weights["transformer.wte.weight"];
  model.loadStateDict(weights);
  model.eval();
  const hasTokenizer = existsSync(join(dir, "tokenizer.json")) || (existsSync(join(dir, "vocab.json")) && existsSync(join(dir, "merges.txt")));
  return { model, tokenizer: hasTokenizer ? loadTokenizer(dir) : null, config: { ...config, dtype } };
}
