// BERT, a post-LayerNorm transformer encoder in one file, after Hugging Face's modeling_bert.py: word +
// position + token-type embeddings, self-attention through the fused op with padding masks, a GELU (erf)
// feed-forward, and the masked-LM (tied decoder) and sequence-classification (pooler) heads.
//
// Parameter names are Hugging Face's (bert.embeddings.word_embeddings.weight,
// bert.encoder.layer.0.attention.self.query.weight, cls.predictions.transform.dense.weight, …), so a
// BertModel / BertForMaskedLM state dict maps onto these modules name for name.
import { type DType, ShapeError, shapeStr, type Tensor, ValueError } from "../tensor/index.js";
import { add, copy_, crossEntropy, gelu, indexSelect, linear, scaledDotProductAttention, tanh, tensor, zeros } from "../ops/index.js";
import { Dropout, Embedding, LayerNorm, Linear, Module, ModuleList, Parameter } from "../nn/index.js";
import { normal_, zeros_ } from "../nn/init.js";
import { noGrad } from "../autograd/index.js";

export interface BertConfig {
  /** Tokens in the vocabulary V. */
  vocabSize: number;
  /** The width C of the hidden states; a multiple of numHeads. */
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  /** The feed-forward width (BERT: 4·hiddenSize). */
  intermediateSize: number;
  /** The longest sequence T the position embedding covers. */
  maxPositions: number;
  /** Segment ids (sentence A / B): 2 in BERT. */
  typeVocabSize: number;
  /** Dropout on embeddings, attention weights and residual branches in training mode (BERT: 0.1). */
  dropout: number;
  layerNormEps: number;
  /** The [PAD] id: its embedding row starts at zero and gets no gradient (Hugging Face's padding_idx). */
  padTokenId: number;
  /** Standard deviation of the N(0, σ²) initialization of Linear and Embedding weights (BERT: 0.02). */
  initializerRange: number;
  /** Parameter dtype (default float32). */
  dtype: DType;
}

/** bert-base-uncased's configuration. */
export const BERT_DEFAULTS: BertConfig = {
  vocabSize: 30522,
  hiddenSize: 768,
  numLayers: 12,
  numHeads: 12,
  intermediateSize: 3072,
  maxPositions: 512,
  typeVocabSize: 2,
  dropout: 0.1,
  layerNormEps: 1e-12,
  padTokenId: 0,
  initializerRange: 0.02,
  dtype: "float32",
};

/**
 * Named sizes (the vocabulary comes from the tokenizer): `tiny` is Google's BERT-Tiny (2 layers, 128
 * wide, 2 heads), `small` is Google's BERT-Mini (4 layers, 256 wide, 4 heads), both from "Well-Read
 * Students Learn Better" (Turc et al. 2019); small enough to pretrain on a CPU.
 */
export const BERT_SIZES: Record<"tiny" | "small", Omit<BertConfig, "vocabSize" | "dtype" | "padTokenId">> = {
  tiny: { hiddenSize: 128, numLayers: 2, numHeads: 2, intermediateSize: 512, maxPositions: 128, typeVocabSize: 2, dropout: 0.1, layerNormEps: 1e-12, initializerRange: 0.02 },
  small: { hiddenSize: 256, numLayers: 4, numHeads: 4, intermediateSize: 1024, maxPositions: 128, typeVocabSize: 2, dropout: 0.1, layerNormEps: 1e-12, initializerRange: 0.02 },
};

/** The inputs besides the ids; each (B, T). */
export interface BertInputs {
  /** 1 for real tokens, 0 for padding (padBatch's attentionMask); default all real. */
  attentionMask?: Tensor | null;
  /** Segment ids; default all 0. */
  tokenTypeIds?: Tensor | null;
}

/** Fills in the defaults and checks a configuration. */
export function bertConfig(config: Partial<BertConfig>): BertConfig {
  const c = { ...BERT_DEFAULTS, ...config };
  for (const k of ["vocabSize", "hiddenSize", "numLayers", "numHeads", "intermediateSize", "maxPositions", "typeVocabSize"] as const)
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new ValueError(`BERT: config.${k} must be a positive integer, got ${c[k]}`);
  if (c.hiddenSize % c.numHeads !== 0) throw new ValueError(`BERT: hiddenSize (${c.hiddenSize}) must be divisible by numHeads (${c.numHeads}); each head gets hiddenSize / numHeads features`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new ValueError(`BERT: dropout must be in [0, 1), got ${c.dropout}`);
  if (!Number.isInteger(c.padTokenId) || c.padTokenId < 0 || c.padTokenId >= c.vocabSize) throw new ValueError(`BERT: padTokenId ${c.padTokenId} is not an id of the ${c.vocabSize}-token vocabulary`);
  return c;
}

/** Word + position + token-type embeddings, then LayerNorm and dropout. */
export class BertEmbeddings extends Module {
  word_embeddings: Embedding;
  position_embeddings: Embedding;
  token_type_embeddings: Embedding;
  LayerNorm: LayerNorm;
  dropout: Dropout;

  constructor(c: BertConfig) {
    super();
    this.word_embeddings = new Embedding(c.vocabSize, c.hiddenSize, { paddingIdx: c.padTokenId, dtype: c.dtype });
    this.position_embeddings = new Embedding(c.maxPositions, c.hiddenSize, { dtype: c.dtype });
    this.token_type_embeddings = new Embedding(c.typeVocabSize, c.hiddenSize, { dtype: c.dtype });
    this.LayerNorm = new LayerNorm(c.hiddenSize, { eps: c.layerNormEps, dtype: c.dtype });
    this.dropout = new Dropout(c.dropout);
  }

  override forward(ids: Tensor, tokenTypeIds: Tensor): Tensor {
    const T = ids.shape[1];
    const pos = tensor(Array.from({ length: T }, (_, t) => t), { dtype: "int32", shape: [T] });
    const x = add(add(this.word_embeddings.call(ids), this.position_embeddings.call(pos)), this.token_type_embeddings.call(tokenTypeIds)); // (B, T, C)
    return this.dropout.call(this.LayerNorm.call(x));
  }
}

/** Multi-head self-attention: separate query, key and value projections (as BERT), the fused op. */
export class BertSelfAttention extends Module {
  query: Linear;
  key: Linear;
  value: Linear;
  readonly numHeads: number;
  readonly dropoutP: number;

  constructor(c: BertConfig) {
    super();
    this.query = new Linear(c.hiddenSize, c.hiddenSize, { dtype: c.dtype });
    this.key = new Linear(c.hiddenSize, c.hiddenSize, { dtype: c.dtype });
    this.value = new Linear(c.hiddenSize, c.hiddenSize, { dtype: c.dtype });
    this.numHeads = c.numHeads;
    this.dropoutP = c.dropout;
  }

  /** x (B, T, C), mask a bool (B, 1, 1, T) of the keys that may be attended to, or null. */
  override forward(x: Tensor, mask: Tensor | null): Tensor {
    const [B, T, C] = x.shape;
    const H = this.numHeads;
    const heads = (t: Tensor) => t.view(B, T, H, C / H).transpose(1, 2); // (B, H, T, D)
    const y = scaledDotProductAttention(heads(this.query.call(x)), heads(this.key.call(x)), heads(this.value.call(x)), {
      attnMask: mask,
      dropoutP: this.training ? this.dropoutP : 0,
    }); // (B, H, T, D)
    return y.transpose(1, 2).reshape(B, T, C);
  }
}

/** dense → dropout → LayerNorm(· + residual): the output of the attention and of the feed-forward block. */
export class BertOutput extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  dropout: Dropout;

  constructor(c: BertConfig, inFeatures: number) {
    super();
    this.dense = new Linear(inFeatures, c.hiddenSize, { dtype: c.dtype });
    this.LayerNorm = new LayerNorm(c.hiddenSize, { eps: c.layerNormEps, dtype: c.dtype });
    this.dropout = new Dropout(c.dropout);
  }

  override forward(h: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.call(add(this.dropout.call(this.dense.call(h)), residual));
  }
}

export class BertAttention extends Module {
  self: BertSelfAttention;
  output: BertOutput;

  constructor(c: BertConfig) {
    super();
    this.self = new BertSelfAttention(c);
    this.output = new BertOutput(c, c.hiddenSize);
  }

  override forward(x: Tensor, mask: Tensor | null): Tensor {
    return this.output.call(this.self.call(x, mask), x);
  }
}

/** The feed-forward expansion C → intermediateSize with GELU (erf form, as BERT). */
export class BertIntermediate extends Module {
  dense: Linear;
  constructor(c: BertConfig) {
    super();
    this.dense = new Linear(c.hiddenSize, c.intermediateSize, { dtype: c.dtype });
  }
  override forward(x: Tensor): Tensor {
    return gelu(this.dense.call(x));
  }
}

/** A post-LayerNorm block: x = LN(x + attn(x)); x = LN(x + ffn(x)). */
export class BertLayer extends Module {
  attention: BertAttention;
  intermediate: BertIntermediate;
  output: BertOutput;

  constructor(c: BertConfig) {
    super();
    this.attention = new BertAttention(c);
    this.intermediate = new BertIntermediate(c);
    this.output = new BertOutput(c, c.intermediateSize);
  }

  override forward(x: Tensor, mask: Tensor | null): Tensor {
    const a = this.attention.call(x, mask);
    return this.output.call(this.intermediate.call(a), a);
  }
}

export class BertEncoder extends Module {
  layer: ModuleList;
  constructor(c: BertConfig) {
    super();
    this.layer = new ModuleList(Array.from({ length: c.numLayers }, () => new BertLayer(c)));
  }
  override forward(x: Tensor, mask: Tensor | null): Tensor {
    for (const l of this.layer) x = (l as BertLayer).call(x, mask);
    return x;
  }
}

/** The [CLS] state through dense and tanh (trained by next-sentence prediction in BERT; fresh here). */
export class BertPooler extends Module {
  dense: Linear;
  constructor(c: BertConfig) {
    super();
    this.dense = new Linear(c.hiddenSize, c.hiddenSize, { dtype: c.dtype });
  }
  override forward(hidden: Tensor): Tensor {
    return tanh(this.dense.call(hidden.select(1, 0))); // (B, C)
  }
}

export interface BertOutputs {
  /** (B, T, C) */
  lastHiddenState: Tensor;
  /** (B, C), or null without a pooler. */
  poolerOutput: Tensor | null;
}

/** Hugging Face's init: N(0, initializerRange²) weights, zero biases, the padding row zero, LayerNorm 1 and 0. */
function initBert(root: Module, c: BertConfig): void {
  for (const m of root.modules()) {
    if (m instanceof Linear || m instanceof Embedding) normal_(m.weight, 0, c.initializerRange);
    if (m instanceof Linear && m.bias) zeros_(m.bias);
    if (m instanceof Embedding && m.paddingIdx !== null) noGrad(() => copy_(m.weight.select(0, m.paddingIdx!), 0));
    if (m instanceof LayerNorm) m.resetParameters();
  }
}

/**
 * The BERT encoder (Hugging Face's BertModel): `forward(ids, {attentionMask, tokenTypeIds})` gives the
 * last hidden states and, with a pooler, the pooled [CLS] state.
 * @example const bert = new BERT({ vocabSize: 8000, ...BERT_SIZES.tiny }); bert.forward(ids, { attentionMask }).lastHiddenState // (B, T, 128)
 */
export class BERT extends Module {
  readonly config: BertConfig;
  embeddings: BertEmbeddings;
  encoder: BertEncoder;
  pooler: BertPooler | null;

  constructor(config: Partial<BertConfig> = {}, opts: { addPoolingLayer?: boolean } = {}) {
    super();
    const c = (this.config = bertConfig(config));
    this.embeddings = new BertEmbeddings(c);
    this.encoder = new BertEncoder(c);
    this.pooler = opts.addPoolingLayer === false ? null : new BertPooler(c);
    initBert(this, c);
  }

  /** ids (B, T) int32 → hidden states (B, T, C) and the pooled (B, C). */
  override forward(ids: Tensor, opts: BertInputs = {}): BertOutputs {
    const { maxPositions } = this.config;
    if (ids.ndim !== 2 || ids.dtype !== "int32")
      throw new ShapeError(`BERT: input ids must be int32 of shape (B, T), got ${ids.dtype}${shapeStr(ids.shape)}; a single sequence is ids.unsqueeze(0)`);
    const [B, T] = ids.shape;
    if (T > maxPositions) throw new ValueError(`BERT: ${T} tokens exceed maxPositions ${maxPositions}; truncate the sequences to ${maxPositions} tokens`);
    for (const [name, t] of [["attentionMask", opts.attentionMask], ["tokenTypeIds", opts.tokenTypeIds]] as const)
      if (t && (t.ndim !== 2 || t.shape[0] !== B || t.shape[1] !== T)) throw new ShapeError(`BERT: ${name} must have the ids' shape ${shapeStr([B, T])}, got ${shapeStr(t.shape)}`);
    const types = opts.tokenTypeIds ?? zeros([B, T], { dtype: "int32" });
    // (B, 1, 1, T) bool: a key may be attended to when it is a real token. Every row keeps its [CLS].
    const mask = opts.attentionMask ? opts.attentionMask.ne(0).reshape(B, 1, 1, T) : null;
    const h = this.encoder.call(this.embeddings.call(ids, types), mask);
    return { lastHiddenState: h, poolerOutput: this.pooler ? this.pooler.call(h) : null };
  }

  override extraRepr(): string {
    const c = this.config;
    return `vocabSize=${c.vocabSize}, hiddenSize=${c.hiddenSize}, numLayers=${c.numLayers}, numHeads=${c.numHeads}, intermediateSize=${c.intermediateSize}, dropout=${c.dropout}`;
  }
}

/** dense → GELU → LayerNorm before the decoder. */
export class BertPredictionHeadTransform extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  constructor(c: BertConfig) {
    super();
    this.dense = new Linear(c.hiddenSize, c.hiddenSize, { dtype: c.dtype });
    this.LayerNorm = new LayerNorm(c.hiddenSize, { eps: c.layerNormEps, dtype: c.dtype });
  }
  override forward(x: Tensor): Tensor {
    return this.LayerNorm.call(gelu(this.dense.call(x)));
  }
}

/** The MLM prediction head; decoder.weight IS the word embedding (tied), with its own output bias. */
export class BertLMPredictionHead extends Module {
  transform: BertPredictionHeadTransform;
  decoder: Linear;
  bias: Parameter;
  constructor(c: BertConfig) {
    super();
    this.transform = new BertPredictionHeadTransform(c);
    this.decoder = new Linear(c.hiddenSize, c.vocabSize, { bias: false, dtype: c.dtype });
    this.bias = new Parameter(zeros([c.vocabSize], { dtype: c.dtype }));
  }
  override forward(x: Tensor): Tensor {
    return linear(this.transform.call(x), this.decoder.weight, this.bias);
  }
}

export class BertOnlyMLMHead extends Module {
  predictions: BertLMPredictionHead;
  constructor(c: BertConfig) {
    super();
    this.predictions = new BertLMPredictionHead(c);
  }
  override forward(x: Tensor): Tensor {
    return this.predictions.call(x);
  }
}

/** The label that marks a position without a masked-LM target (PyTorch's ignore_index). */
export const IGNORE_INDEX = -100;

export interface MaskedLMOutput {
  /** (B, T, V); with labels, only the labelled positions' rows (N, V) in row-major order (see forward). */
  logits: Tensor;
  /** Mean cross-entropy over the positions whose label is not −100, when labels were given. */
  loss: Tensor | null;
}

/**
 * BERT with the masked-LM head (Hugging Face's BertForMaskedLM; no pooler). The decoder's weight is
 * the word embedding (tied).
 * @example const { loss } = mlm.forward(batch.inputIds, { attentionMask: batch.attentionMask, labels });
 */
export class BertForMaskedLM extends Module {
  readonly config: BertConfig;
  bert: BERT;
  cls: BertOnlyMLMHead;

  constructor(config: Partial<BertConfig> = {}) {
    super();
    this.bert = new BERT(config, { addPoolingLayer: false });
    this.config = this.bert.config;
    this.cls = new BertOnlyMLMHead(this.config);
    initBert(this.cls, this.config);
    this.tie();
  }

  /** Points the decoder at the word embedding (after construction and after `to`). */
  private tie(): void {
    this.cls.predictions.decoder.weight = this.bert.embeddings.word_embeddings.weight;
  }

  override to(dtype: DType): this {
    super.to(dtype);
    this.tie();
    this.config.dtype = dtype;
    return this;
  }

  /**
   * ids (B, T) → logits and, with labels (B, T) int32 (−100 where there is no target), the mean
   * cross-entropy over the labelled positions. NOTE: with labels the decoder runs on the labelled
   * positions only (as fairseq's RoBERTa head with masked_tokens), since it is the widest matrix and
   * only ~15 % of the positions have a target; `logits` is then (N, V). Pass allLogits for (B, T, V).
   */
  override forward(ids: Tensor, opts: BertInputs & { labels?: Tensor | null; allLogits?: boolean } = {}): MaskedLMOutput {
    const h = this.bert.forward(ids, opts).lastHiddenState; // (B, T, C)
    const [B, T, C] = h.shape;
    const labels = opts.labels ?? null;
    if (!labels) return { logits: this.cls.call(h), loss: null };
    if (labels.ndim !== 2 || labels.shape[0] !== B || labels.shape[1] !== T || labels.dtype !== "int32")
      throw new ShapeError(`BertForMaskedLM: labels must be int32 of the ids' shape ${shapeStr([B, T])}, got ${labels.dtype}${shapeStr(labels.shape)}`);
    const flat = labels.reshape(B * T);
    if (opts.allLogits) {
      const logits = this.cls.call(h);
      return { logits, loss: crossEntropy(logits.reshape(B * T, this.config.vocabSize), flat, { ignoreIndex: IGNORE_INDEX }) };
    }
    const lab = flat.dataSync();
    const pick: number[] = [];
    for (let i = 0; i < lab.length; i++) if (lab[i] !== IGNORE_INDEX) pick.push(i);
    const idx = tensor(pick, { dtype: "int32", shape: [pick.length] });
    const logits = this.cls.call(indexSelect(h.reshape(B * T, C), 0, idx)); // (N, V)
    const target = indexSelect(flat, 0, idx);
    // NOTE: no labelled position gives NaN, as PyTorch's mean over nothing.
    return { logits, loss: crossEntropy(logits, target, { ignoreIndex: IGNORE_INDEX }) };
  }
}

export interface SequenceClassifierOutput {
  /** (B, numLabels) */
  logits: Tensor;
  /** Mean cross-entropy against labels (B) int32, when given. */
  loss: Tensor | null;
}

/**
 * BERT with a classification head on the pooled [CLS] state (Hugging Face's
 * BertForSequenceClassification): pooler (dense, tanh) → dropout → classifier.
 * @example const clf = new BertForSequenceClassification({ ...cfg }, 5); clf.forward(ids, { attentionMask, labels }).loss
 */
export class BertForSequenceClassification extends Module {
  readonly config: BertConfig;
  readonly numLabels: number;
  bert: BERT;
  dropout: Dropout;
  classifier: Linear;

  constructor(config: Partial<BertConfig>, numLabels: number) {
    super();
    if (!Number.isInteger(numLabels) || numLabels < 1) throw new ValueError(`BertForSequenceClassification: numLabels must be a positive integer, got ${numLabels}`);
    this.bert = new BERT(config);
    this.config = this.bert.config;
    this.numLabels = numLabels;
    this.dropout = new Dropout(this.config.dropout);
    this.classifier = new Linear(this.config.hiddenSize, numLabels, { dtype: this.config.dtype });
    initBert(this.classifier, this.config);
  }

  override forward(ids: Tensor, opts: BertInputs & { labels?: Tensor | null } = {}): SequenceClassifierOutput {
    const pooled = this.bert.forward(ids, opts).poolerOutput!; // (B, C)
    const logits = this.classifier.call(this.dropout.call(pooled)); // (B, numLabels)
    const labels = opts.labels ?? null;
    if (labels && (labels.ndim !== 1 || labels.shape[0] !== ids.shape[0]))
      throw new ShapeError(`BertForSequenceClassification: labels must be (B) = ${shapeStr([ids.shape[0]])} class ids, got ${shapeStr(labels.shape)}`);
    return { logits, loss: labels ? crossEntropy(logits, labels) : null };
  }
}
