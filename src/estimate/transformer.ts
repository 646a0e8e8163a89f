// Transformers as Ingot builds them (models.GPT, models.BERT and its heads) plus a LLaMA-style decoder
// for the big presets: a shape description, its exact parameter count by formula, FLOPs per token
// (Kaplan et al. 2020 table 1; Chowdhery et al. 2022 appendix B) and activation memory (Korthikanti
// et al. 2022 section 4). docs/estimator.md derives every formula.
import { ValueError } from "../tensor/index.js";
import { BERT_DEFAULTS, type BertConfig } from "../models/bert.js";
import { GPT_DEFAULTS, type GPTConfig } from "../models/gpt.js";

/** One transformer, described by its sizes. */
export interface TransformerSpec {
  kind: "transformer";
  /** gpt: models.GPT; bert: models.BERT; llama: a pre-RMSNorm SwiGLU decoder with rotary positions (not built by Ingot). */
  family: "gpt" | "bert" | "llama";
  vocabSize: number;
  /** Rows of the learned position embedding (0 with rotary positions). */
  maxPositions: number;
  /** The longest sequence the model takes (GPT blockSize, BERT maxPositions, LLaMA's training context). */
  contextLength: number;
  nLayer: number;
  nHead: number;
  /** The width h of the residual stream. */
  dModel: number;
  /** The feed-forward width (4h in GPT and BERT). */
  dFF: number;
  /** Biases in the Linear layers. */
  linearBias: boolean;
  /** Biases (beta) in the LayerNorms; RMSNorm has none. */
  normBias: boolean;
  norm: "layernorm" | "rmsnorm";
  mlp: "gelu" | "swiglu";
  /** The output head reuses the token embedding (GPT, BERT's MLM decoder). */
  tiedHead: boolean;
  /** gpt/llama: "lm"; bert: "none" (BertModel with pooler), "mlm" (BertForMaskedLM) or "classify". */
  head: "lm" | "none" | "mlm" | "classify";
  numLabels: number;
  /** BERT's token-type (segment) embedding rows. */
  typeVocabSize: number;
  /** Attention sees only earlier positions (decoders). */
  causal: boolean;
}

/** Parameter counts by part; `total` counts a tied matrix once. */
export interface ParamBreakdown {
  total: number;
  /** Token embedding (the tied head's matrix too). */
  tokenEmbedding: number;
  /** Position and token-type embeddings. */
  otherEmbeddings: number;
  /** The transformer layers (all L of them). */
  layers: number;
  perLayer: number;
  /** Final norm, heads (untied output matrix, MLM transform and bias, pooler, classifier). */
  rest: number;
  /** Untied output projection (0 when tied). */
  untiedHead: number;
  /** Kaplan et al.'s N: every parameter but the embeddings and the output (de-embedding) matrix. */
  nonEmbedding: number;
  /** Parameters that multiply each token in a matmul: nonEmbedding + the V·h output matrix (tied or not); lookups excluded. */
  compute: number;
  /** Parameters applied once per sequence (pooler, classifier): their FLOPs are spread over the T tokens. */
  perSequence: number;
}

const positiveInt = (where: string, k: string, v: unknown) => {
  if (!Number.isInteger(v) || (v as number) < 1) throw new ValueError(`${where}: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
};

/** The spec of a models.GPT with this config (defaults filled in as the constructor does). */
export function gptSpec(config: Partial<GPTConfig>): TransformerSpec {
  const c = { ...GPT_DEFAULTS, ...config };
  for (const k of ["vocabSize", "blockSize", "nLayer", "nHead", "nEmbd"] as const) positiveInt("GPT config", k, c[k]);
  if (c.nEmbd % c.nHead !== 0) throw new ValueError(`GPT config: nEmbd (${c.nEmbd}) must be divisible by nHead (${c.nHead})`);
  return {
    kind: "transformer",
    family: "gpt",
    vocabSize: c.vocabSize,
    maxPositions: c.blockSize,
    contextLength: c.blockSize,
    nLayer: c.nLayer,
    nHead: c.nHead,
    dModel: c.nEmbd,
    dFF: 4 * c.nEmbd,
    linearBias: c.bias,
    normBias: c.bias,
    norm: "layernorm",
    mlp: "gelu",
    tiedHead: true,
    head: "lm",
    numLabels: 0,
    typeVocabSize: 0,
    causal: true,
  };
}

/** The spec of a BERT (head "none": BertModel with its pooler; "mlm": BertForMaskedLM; "classify": BertForSequenceClassification). */
export function bertSpec(config: Partial<BertConfig>, head: "none" | "mlm" | "classify" = "none", numLabels = 2): TransformerSpec {
  const c = { ...BERT_DEFAULTS, ...config };
  for (const k of ["vocabSize", "hiddenSize", "numLayers", "numHeads", "intermediateSize", "maxPositions", "typeVocabSize"] as const) positiveInt("BERT config", k, c[k]);
  if (c.hiddenSize % c.numHeads !== 0) throw new ValueError(`BERT config: hiddenSize (${c.hiddenSize}) must be divisible by numHeads (${c.numHeads})`);
  if (!["none", "mlm", "classify"].includes(head)) throw new ValueError(`BERT config: head must be 'none', 'mlm' or 'classify', got ${JSON.stringify(head)}`);
  if (head === "classify") positiveInt("BERT config", "numLabels", numLabels);
  return {
    kind: "transformer",
    family: "bert",
    vocabSize: c.vocabSize,
    maxPositions: c.maxPositions,
    contextLength: c.maxPositions,
    nLayer: c.numLayers,
    nHead: c.numHeads,
    dModel: c.hiddenSize,
    dFF: c.intermediateSize,
    linearBias: true,
    normBias: true,
    norm: "layernorm",
    mlp: "gelu",
    tiedHead: head === "mlm",
    head,
    numLabels: head === "classify" ? numLabels : 0,
    typeVocabSize: c.typeVocabSize,
    causal: false,
  };
}

export interface LlamaConfig {
  vocabSize: number;
  dModel: number;
  nLayer: number;
  nHead: number;
  dFF: number;
  contextLength: number;
}

/** A LLaMA-style decoder (Touvron et al. 2023): RMSNorm, SwiGLU, rotary positions, no biases, untied head. */
export function llamaSpec(c: LlamaConfig): TransformerSpec {
  for (const k of ["vocabSize", "dModel", "nLayer", "nHead", "dFF", "contextLength"] as const) positiveInt("LLaMA config", k, c[k]);
  return {
    kind: "transformer",
    family: "llama",
    vocabSize: c.vocabSize,
    maxPositions: 0,
    contextLength: c.contextLength,
    nLayer: c.nLayer,
    nHead: c.nHead,
    dModel: c.dModel,
    dFF: c.dFF,
    linearBias: false,
    normBias: false,
    norm: "rmsnorm",
    mlp: "swiglu",
    tiedHead: false,
    head: "lm",
    numLabels: 0,
    typeVocabSize: 0,
    causal: true,
  };
}

/** A Linear layer's parameters. */
const linear = (inF: number, outF: number, bias: boolean) => inF * outF + (bias ? outF : 0);

/** The exact parameter count of the model the spec describes, by part (see docs/estimator.md). */
export function transformerParams(s: TransformerSpec): ParamBreakdown {
  const h = s.dModel;
  const norm = h + (s.normBias ? h : 0);
  const b = s.linearBias;
  // Attention: q, k, v (one fused [3h, h] matrix in GPT, three in BERT: the same count) and the output projection.
  const attention = 3 * linear(h, h, b) + linear(h, h, b);
  const mlp = s.mlp === "swiglu" ? 3 * linear(h, s.dFF, b) : linear(h, s.dFF, b) + linear(s.dFF, h, b);
  const perLayer = attention + mlp + 2 * norm;
  const layers = s.nLayer * perLayer;
  const tokenEmbedding = s.vocabSize * h;
  const otherEmbeddings = s.maxPositions * h + s.typeVocabSize * h;
  let rest = 0;
  let perSequence = 0;
  let untiedHead = 0;
  if (s.family === "bert") {
    rest += norm; // the LayerNorm after the embeddings
    if (s.head === "none" || s.head === "classify") {
      perSequence += linear(h, h, true); // pooler
      if (s.head === "classify") perSequence += linear(h, s.numLabels, true);
    } else {
      rest += linear(h, h, true) + norm + s.vocabSize; // the MLM transform (dense, LayerNorm) and the decoder's own bias
    }
  } else {
    rest += norm; // the final norm (ln_f)
    if (!s.tiedHead) untiedHead = s.vocabSize * h;
  }
  rest += perSequence + untiedHead;
  const total = tokenEmbedding + otherEmbeddings + layers + rest;
  const outputMatrix = s.head === "lm" || s.head === "mlm" ? s.vocabSize * h : 0;
  const nonEmbedding = total - tokenEmbedding - otherEmbeddings - untiedHead;
  const compute = nonEmbedding - perSequence + outputMatrix;
  return { total, tokenEmbedding, otherEmbeddings, layers, perLayer, rest, untiedHead, nonEmbedding, compute, perSequence };
}

/** FLOPs per token by three accountings; `train` / `forward` are the ones the estimate uses. */
export interface FlopsPerToken {
  /** 2·N_compute + 4·L·T·h (+ per-sequence heads / T): every matmul, attention counted without the causal saving (as PaLM). */
  forward: number;
  /** 3 × forward: the backward pass costs two forwards (Kaplan et al. 2020 §2.1). */
  train: number;
  /** Kaplan et al. 2020 table 1: C_forward = 2N + 2·n_layer·n_ctx·d_attn, N non-embedding; training 3×. */
  kaplan: { n: number; forward: number; train: number };
  /** Chowdhery et al. 2022 appendix B: 6N + 12·L·H·Q·T, N = parameters in matmuls. */
  palm: { n: number; train: number };
}

/** FLOPs per token of the spec at sequence length T (a multiply-add is 2 FLOPs). */
export function transformerFlops(s: TransformerSpec, seq: number): FlopsPerToken {
  const p = transformerParams(s);
  const L = s.nLayer;
  const h = s.dModel;
  // Q·Kᵀ and attention·V: 2·T·h each per token per layer.
  const attention = 4 * L * seq * h;
  const forward = 2 * p.compute + attention + (2 * p.perSequence) / seq;
  const kaplanForward = 2 * p.nonEmbedding + 2 * L * seq * h;
  const headDim = h / s.nHead;
  return {
    forward,
    train: 3 * forward,
    kaplan: { n: p.nonEmbedding, forward: kaplanForward, train: 3 * kaplanForward },
    palm: { n: p.compute, train: 6 * p.compute + 12 * L * s.nHead * headDim * seq },
  };
}

/**
 * Activation bytes of one transformer layer for a micro-batch of b sequences of length s, values of
 * `w` bytes and 1-byte dropout masks. Korthikanti et al. 2022 §4.1 at w = 2 and dFF = 4h:
 * s·b·h·(34 + 5·a·s/h). See docs/estimator.md for the terms.
 */
export function layerActivationBytes(spec: TransformerSpec, s: number, b: number, w: number): number {
  const h = spec.dModel;
  const a = spec.nHead;
  const sbh = s * b * h;
  const as2b = a * s * s * b;
  // Attention: LN output (QKV input), Q, K, V, softmax output, its dropout output, projection input (w bytes
  // each); dropout masks of the scores and of the output (1 byte).
  const attention = w * (5 * sbh + 2 * as2b) + as2b + sbh;
  // MLP: its input, then (GELU) the GELU input and output, or (SwiGLU) gate, up and their product (w each), output dropout mask.
  const ff = s * b * spec.dFF;
  const mlp = w * (sbh + (spec.mlp === "swiglu" ? 3 : 2) * ff) + sbh;
  const norms = 2 * w * sbh;
  return attention + mlp + norms;
}

/**
 * Activation bytes of a training step: the layers (full, or with full recomputation only each layer's
 * input, w·s·b·h, plus one layer's activations while it is recomputed), and outside the layers the
 * final norm and head inputs (2·w·sbh), the embedding dropout mask (sbh) and fp32 logits (4·s·b·V),
 * as Korthikanti et al. §4.3 count them.
 */
export function trainActivationBytes(spec: TransformerSpec, s: number, b: number, w: number, recompute: boolean): number {
  const layer = layerActivationBytes(spec, s, b, w);
  const sbh = s * b * spec.dModel;
  const layers = recompute ? spec.nLayer * w * sbh + layer : spec.nLayer * layer;
  const logitsRows = spec.head === "lm" || spec.head === "mlm" ? s * b : b;
  const logitsCols = spec.head === "classify" ? spec.numLabels : spec.head === "none" ? spec.dModel : spec.vocabSize;
  return layers + 2 * w * sbh + sbh + 4 * logitsRows * logitsCols;
}

/** KV-cache bytes: keys and values of every layer, 2·L·T·h·w per sequence, times the batch. */
export function kvCacheBytes(spec: TransformerSpec, s: number, b: number, w: number): number {
  return spec.causal ? 2 * spec.nLayer * s * spec.dModel * w * b : 0;
}

/** Activation bytes alive during one inference forward: one layer's working set (no dropout masks, nothing saved) and the fp32 logits (a decoder's last position; every position for the MLM head). */
export function inferenceActivationBytes(spec: TransformerSpec, s: number, b: number, w: number): number {
  const h = spec.dModel;
  // The residual stream, the widest intermediate (the FF hidden or the attention scores) and the logits of the last position.
  const scores = spec.nHead * s * s * b;
  const logits = spec.head === "lm" ? b * spec.vocabSize : spec.head === "mlm" ? s * b * spec.vocabSize : spec.head === "classify" ? b * spec.numLabels : 0;
  return w * (2 * s * b * h + Math.max(s * b * spec.dFF, scores)) + 4 * logits;
}
