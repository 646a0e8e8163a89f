// GPT, a decoder-only causal language model in one file, after nanoGPT's model.py: token + position
// embeddings, pre-LayerNorm blocks of causal self-attention (the fused op) and a GELU MLP, tied output head.
//
// Parameter names follow Hugging Face GPT-2 (transformer.wte.weight, transformer.h.0.attn.c_attn.weight,
// …, lm_head.weight tied to transformer.wte.weight). Weights are stored as nn.Linear's [out, in], as
// nanoGPT does; HF's Conv1D stores [in, out], so an importer of GPT-2 checkpoints transposes
// c_attn, c_proj and c_fc weights (as nanoGPT's from_pretrained does).
import { type DType, ShapeError, shapeStr, type Tensor, ValueError } from "../tensor/index.js";
import { add, crossEntropy, gelu, scaledDotProductAttention, slice, tensor } from "../ops/index.js";
import { Dropout, Embedding, LayerNorm, Linear, Module, ModuleList, type Parameter } from "../nn/index.js";
import { normal_, zeros_ } from "../nn/init.js";
import { AdamW } from "../optim/index.js";
import { isGradEnabled } from "../autograd/index.js";
import { KVCache } from "./kv-cache.js";
import { generate, type GeneratedToken, type GenerateOptions, type Prompts, streamTokens } from "./generate.js";

export interface GPTConfig {
  /** Tokens in the vocabulary V (nanoGPT pads GPT-2's 50257 to 50304 for speed). */
  vocabSize: number;
  /** The longest context T the position embedding covers. */
  blockSize: number;
  nLayer: number;
  nHead: number;
  /** The width C of the residual stream; a multiple of nHead. */
  nEmbd: number;
  /** Dropout on embeddings, attention weights and residual branches in training mode. */
  dropout: number;
  /** Biases in the Linear layers and LayerNorms (GPT-2: true). */
  bias: boolean;
  /** Parameter dtype (default float32). */
  dtype: DType;
}

/** nanoGPT's defaults (GPT-2 124M with the padded vocabulary). */
export const GPT_DEFAULTS: GPTConfig = { vocabSize: 50304, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768, dropout: 0, bias: true, dtype: "float32" };

/** What one attention layer needs besides its input: the mask of this forward and the cache. */
interface AttentionContext {
  attnMask: Tensor | null;
  isCausal: boolean;
  cache: KVCache | null;
  layer: number;
}

/** Multi-head causal self-attention: one projection to q, k, v, the fused attention op, an output projection. */
export class CausalSelfAttention extends Module {
  c_attn: Linear;
  c_proj: Linear;
  resid_dropout: Dropout;
  readonly nHead: number;
  readonly dropout: number;

  constructor(c: GPTConfig) {
    super();
    this.c_attn = new Linear(c.nEmbd, 3 * c.nEmbd, { bias: c.bias, dtype: c.dtype });
    this.c_proj = new Linear(c.nEmbd, c.nEmbd, { bias: c.bias, dtype: c.dtype });
    this.resid_dropout = new Dropout(c.dropout);
    this.nHead = c.nHead;
    this.dropout = c.dropout;
  }

  override forward(x: Tensor, ctx: AttentionContext): Tensor {
    const [B, T, C] = x.shape;
    const H = this.nHead;
    const fused = this.c_attn.call(x); // (B, T, 3C)
    // Inference with a KV cache and no padding: the cache's fused step (two ops instead of ~18).
    if (ctx.cache && ctx.attnMask === null && ctx.cache.canAttend(ctx.layer) && !(isGradEnabled() && fused.requiresGrad) && !(this.training && this.dropout > 0))
      return this.resid_dropout.call(this.c_proj.call(ctx.cache.attend(ctx.layer, fused, H)));
    const qkv = fused.view(B, T, 3, H, C / H).permute(2, 0, 3, 1, 4); // (3, B, H, T, D)
    const q = qkv.select(0, 0);
    let k = qkv.select(0, 1);
    let v = qkv.select(0, 2);
    if (ctx.cache) [k, v] = ctx.cache.update(ctx.layer, k, v); // (B, H, S, D)
    const y = scaledDotProductAttention(q, k, v, { attnMask: ctx.attnMask, isCausal: ctx.isCausal, dropoutP: this.training ? this.dropout : 0 }); // (B, H, T, D)
    return this.resid_dropout.call(this.c_proj.call(y.transpose(1, 2).reshape(B, T, C))); // (B, T, C)
  }
}

/** The feed-forward block: C → 4C, GELU (tanh form, as GPT-2), 4C → C. */
export class MLP extends Module {
  c_fc: Linear;
  c_proj: Linear;
  dropout: Dropout;

  constructor(c: GPTConfig) {
    super();
    this.c_fc = new Linear(c.nEmbd, 4 * c.nEmbd, { bias: c.bias, dtype: c.dtype });
    this.c_proj = new Linear(4 * c.nEmbd, c.nEmbd, { bias: c.bias, dtype: c.dtype });
    this.dropout = new Dropout(c.dropout);
  }

  override forward(x: Tensor): Tensor {
    return this.dropout.call(this.c_proj.call(gelu(this.c_fc.call(x), "tanh")));
  }
}

/** A pre-LayerNorm transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
export class Block extends Module {
  ln_1: LayerNorm;
  attn: CausalSelfAttention;
  ln_2: LayerNorm;
  mlp: MLP;

  constructor(c: GPTConfig) {
    super();
    this.ln_1 = new LayerNorm(c.nEmbd, { bias: c.bias, dtype: c.dtype });
    this.attn = new CausalSelfAttention(c);
    this.ln_2 = new LayerNorm(c.nEmbd, { bias: c.bias, dtype: c.dtype });
    this.mlp = new MLP(c);
  }

  override forward(x: Tensor, ctx: AttentionContext): Tensor {
    x = add(x, this.attn.call(this.ln_1.call(x), ctx));
    return add(x, this.mlp.call(this.ln_2.call(x)));
  }
}

/** The trunk, under the name `transformer` as in GPT-2 checkpoints. */
export class GPTTransformer extends Module {
  wte: Embedding;
  wpe: Embedding;
  drop: Dropout;
  h: ModuleList;
  ln_f: LayerNorm;

  constructor(c: GPTConfig) {
    super();
    this.wte = new Embedding(c.vocabSize, c.nEmbd, { dtype: c.dtype });
    this.wpe = new Embedding(c.blockSize, c.nEmbd, { dtype: c.dtype });
    this.drop = new Dropout(c.dropout);
    this.h = new ModuleList(Array.from({ length: c.nLayer }, () => new Block(c)));
    this.ln_f = new LayerNorm(c.nEmbd, { bias: c.bias, dtype: c.dtype });
  }
}

export interface GPTForwardOptions {
  /** Keys and values of the earlier positions: idx then holds only the new tokens, and the cache grows by them. */
  cache?: KVCache | null;
  /** (B, T) 1/true for real tokens, 0/false for left padding (batched prompts of different lengths); default all real. */
  attentionMask?: Tensor | null;
  /** Compute the logits of the last position only, (B, 1, V), as nanoGPT does at inference. */
  lastOnly?: boolean;
}

export interface GPTOutput {
  /** (B, T, V), or (B, 1, V) with lastOnly. */
  logits: Tensor;
  /** Mean cross-entropy over the targets that are not −1, when targets were given. */
  loss: Tensor | null;
}

/**
 * A GPT language model (nanoGPT's structure, GPT-2's parameter names). `forward(idx, targets)` gives
 * logits and the loss; `generate` / `stream` sample with a KV cache.
 * @example const gpt = new GPT({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128 }); const { loss } = gpt.forward(x, y);
 */
export class GPT extends Module {
  readonly config: GPTConfig;
  transformer: GPTTransformer;
  /** The output head; its weight IS transformer.wte.weight (weight tying). */
  lm_head: Linear;

  constructor(config: Partial<GPTConfig> = {}) {
    super();
    const c = (this.config = { ...GPT_DEFAULTS, ...config });
    for (const k of ["vocabSize", "blockSize", "nLayer", "nHead", "nEmbd"] as const)
      if (!Number.isInteger(c[k]) || c[k] < 1) throw new ValueError(`GPT: config.${k} must be a positive integer, got ${c[k]}`);
    if (c.nEmbd % c.nHead !== 0) throw new ValueError(`GPT: nEmbd (${c.nEmbd}) must be divisible by nHead (${c.nHead}); each head gets nEmbd / nHead features`);
    if (!(c.dropout >= 0 && c.dropout < 1)) throw new ValueError(`GPT: dropout must be in [0, 1), got ${c.dropout}`);
    this.transformer = new GPTTransformer(c);
    this.lm_head = new Linear(c.nEmbd, c.vocabSize, { bias: false, dtype: c.dtype });
    this.lm_head.weight = this.transformer.wte.weight;
    this.resetParameters();
  }

  /** nanoGPT's init: N(0, 0.02) for Linear and Embedding weights, zero biases, N(0, 0.02/√(2·nLayer)) for the residual projections. */
  resetParameters(): void {
    for (const m of this.modules()) {
      if (m instanceof Linear || m instanceof Embedding) normal_(m.weight, 0, 0.02);
      if (m instanceof Linear && m.bias) zeros_(m.bias);
      if (m instanceof LayerNorm) m.resetParameters();
    }
    // Scaled so that the residual stream's variance does not grow with depth (GPT-2 paper).
    for (const [name, p] of this.namedParameters()) if (name.endsWith("c_proj.weight")) normal_(p, 0, 0.02 / Math.sqrt(2 * this.config.nLayer));
  }

  /** Converts the parameters like Module.to, keeping the output head tied to the token embedding. */
  override to(dtype: DType): this {
    super.to(dtype);
    this.lm_head.weight = this.transformer.wte.weight;
    this.config.dtype = dtype;
    return this;
  }

  /**
   * idx (B, T) int32 token ids → logits (B, T, V); with targets (B, T) int32 also the mean
   * cross-entropy (targets of −1 are ignored, as in nanoGPT).
   */
  override forward(idx: Tensor, targets?: Tensor | null, opts: GPTForwardOptions = {}): GPTOutput {
    const { blockSize, vocabSize } = this.config;
    if (idx.ndim !== 2 || idx.dtype !== "int32")
      throw new ShapeError(`GPT: idx must be int32 token ids of shape (B, T), got ${idx.dtype}${shapeStr(idx.shape)}; a single sequence is idx.unsqueeze(0)`);
    const [B, T] = idx.shape;
    const cache = opts.cache ?? null;
    if (cache && cache.batchSize && cache.batchSize !== B)
      throw new ShapeError(`GPT: idx has ${B} row(s) but the KV cache holds ${cache.batchSize}; use one cache per batch`);
    const past = cache?.length ?? 0;
    const newReal = opts.attentionMask ? maskRows(opts.attentionMask, B, T) : Array.from({ length: B }, () => new Array<number>(T).fill(1));
    const real = cache && past ? cache.real.map((r, b) => [...r, ...newReal[b]]) : newReal; // (B, S)
    const padded = real.some((r) => r.includes(0));
    const S = past + T;
    if (!padded && S > blockSize)
      throw new ValueError(`GPT: ${S} positions exceed blockSize ${blockSize}; crop the context to the last ${blockSize} tokens (generate does)`);

    // Positions: of a real token, the number of real tokens before it in its row (left padding shifts nothing).
    let pos: Tensor;
    if (!padded) pos = tensor(Array.from({ length: T }, (_, t) => past + t), { dtype: "int32", shape: [T] });
    else {
      const ids = real.flatMap((r) => {
        let n = 0;
        const before = r.map((f) => ((n += f), n - f));
        return before.slice(past);
      });
      const top = Math.max(...ids);
      if (top >= blockSize) throw new ValueError(`GPT: position ${top} is beyond blockSize ${blockSize}; crop the context to the last ${blockSize} tokens`);
      pos = tensor(ids, { dtype: "int32", shape: [B, T] });
    }
    const ctx = { ...attentionOf(real, past, T, padded), cache, layer: 0 };

    const t = this.transformer;
    let x = t.drop.call(add(t.wte.call(idx), t.wpe.call(pos))); // (B, T, C)
    t.h.children().forEach((block, layer) => (x = (block as Block).call(x, { ...ctx, layer })));
    x = t.ln_f.call(x);
    if (cache) cache.advance(newReal);
    if (opts.lastOnly) x = slice(x, 1, T - 1, T); // (B, 1, C)
    const logits = this.lm_head.call(x); // (B, T, V)
    let loss: Tensor | null = null;
    if (targets) {
      if (opts.lastOnly) throw new ValueError("GPT: lastOnly computes one position's logits; it cannot be combined with targets");
      if (targets.ndim !== 2 || targets.shape[0] !== B || targets.shape[1] !== T)
        throw new ShapeError(`GPT: targets must have idx's shape ${shapeStr([B, T])}, got ${shapeStr(targets.shape)}`);
      loss = crossEntropy(logits.view(B * T, vocabSize), targets.reshape(B * T), { ignoreIndex: -1 });
    }
    return { logits, loss };
  }

  /**
   * Continues each prompt by up to maxNewTokens sampled tokens using the KV cache; returns every row's
   * prompt followed by its new tokens (up to and including a stop). See GenerateOptions.
   * @example gpt.generate([tok.encode("ROMEO:")], 100, { temperature: 0.8, topK: 200, seed: 1 })
   */
  generate(idx: Prompts, maxNewTokens: number, opts: GenerateOptions = {}): number[][] {
    return generate(this, idx, maxNewTokens, opts);
  }

  /** generate as an async iterator of tokens, yielding to the event loop after each step. */
  stream(idx: Prompts, maxNewTokens: number, opts: GenerateOptions = {}): AsyncGenerator<GeneratedToken, void, undefined> {
    return streamTokens(this, idx, maxNewTokens, opts);
  }

  /**
   * nanoGPT's optimizer: AdamW with weight decay on the matrices (every parameter with 2 or more
   * dims: Linear weights and embeddings) and none on biases and LayerNorm weights.
   */
  configureOptimizers(opts: { weightDecay?: number; lr?: number; betas?: [number, number]; eps?: number } = {}): AdamW {
    const ps = this.parameters().filter((p) => p.requiresGrad);
    const decay: Parameter[] = ps.filter((p) => p.ndim >= 2);
    const noDecay: Parameter[] = ps.filter((p) => p.ndim < 2);
    return new AdamW(
      [
        { params: decay, weightDecay: opts.weightDecay ?? 0.1 },
        { params: noDecay, weightDecay: 0 },
      ],
      { lr: opts.lr ?? 6e-4, betas: opts.betas ?? [0.9, 0.95], eps: opts.eps ?? 1e-8 },
    );
  }

  override extraRepr(): string {
    const c = this.config;
    return `vocabSize=${c.vocabSize}, blockSize=${c.blockSize}, nLayer=${c.nLayer}, nHead=${c.nHead}, nEmbd=${c.nEmbd}, dropout=${c.dropout}, bias=${c.bias}`;
  }
}

/** The attention mask of a (B, T) attentionMask as rows of 0/1. */
function maskRows(m: Tensor, B: number, T: number): number[][] {
  if (m.ndim !== 2 || m.shape[0] !== B || m.shape[1] !== T)
    throw new ShapeError(`GPT: attentionMask must have idx's shape ${shapeStr([B, T])}, got ${shapeStr(m.shape)}`);
  const d = m.dataSync();
  return Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (d[b * T + t] ? 1 : 0)));
}

/**
 * The attention of T new queries over S = past + T keys: plain causal for a fresh unpadded forward,
 * nothing for one new token, else an explicit bool mask (B or 1, 1, T, S) where query i (at position
 * past + i) sees keys j ≤ past + i that are real tokens. A padding query sees itself, so that no row
 * is fully masked (which would give NaN, and NaN·0 in later layers).
 */
function attentionOf(real: number[][], past: number, T: number, padded: boolean): { attnMask: Tensor | null; isCausal: boolean } {
  if (!padded && past === 0) return { attnMask: null, isCausal: true };
  if (!padded && T === 1) return { attnMask: null, isCausal: false };
  const S = past + T;
  const rows = padded ? real : [real[0]];
  const data = new Uint8Array(rows.length * T * S);
  rows.forEach((r, b) => {
    for (let i = 0; i < T; i++) for (let j = 0; j <= past + i; j++) data[(b * T + i) * S + j] = r[j] || j === past + i ? 1 : 0;
  });
  return { attnMask: tensor(data, { dtype: "bool", shape: [rows.length, 1, T, S] }), isCausal: false };
}
