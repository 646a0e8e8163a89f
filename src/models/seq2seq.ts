// An encoder–decoder transformer in one file ("Attention Is All You Need", PyTorch's translation
// tutorial): token embeddings + sinusoidal positions → TransformerEncoder / TransformerDecoder → logits.
import { type DType, ShapeError, shapeStr, type Tensor, ValueError } from "../tensor/index.js";
import { add, argmax, cat, crossEntropy, eq, mul, slice, tensor } from "../ops/index.js";
import { noGrad } from "../autograd/index.js";
import { Embedding, LayerNorm, Linear, Module, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer } from "../nn/index.js";
import { xavierUniform_ } from "../nn/init.js";

export interface Seq2SeqConfig {
  srcVocabSize: number;
  tgtVocabSize: number;
  /** Width of the model (default 128). */
  dModel: number;
  /** Attention heads; divides dModel (default 4). */
  nhead: number;
  numEncoderLayers: number;
  numDecoderLayers: number;
  /** Width of the feed-forward networks (default 4·dModel). */
  dimFeedforward: number;
  /** Dropout in every layer in training mode (default 0.1). */
  dropout: number;
  /** The longest source or target sequence the positions cover (default 128). */
  maxLen: number;
  /** The padding token of sources and targets: ignored as a key and by the loss (default 0). */
  padIdx: number;
  /** Pre-LayerNorm layers (more stable for small, quickly trained models; default true). */
  normFirst: boolean;
  dtype: DType;
}

const DEFAULTS: Omit<Seq2SeqConfig, "srcVocabSize" | "tgtVocabSize"> = {
  dModel: 128,
  nhead: 4,
  numEncoderLayers: 3,
  numDecoderLayers: 3,
  dimFeedforward: 512,
  dropout: 0.1,
  maxLen: 128,
  padIdx: 0,
  normFirst: true,
  dtype: "float32",
};

/** sin/cos positions [maxLen, d] (Vaswani et al. §3.5): even features sin(p/10000^(i/d)), odd cos. */
function sinusoids(maxLen: number, d: number, dtype: DType): Tensor {
  const pe = new Float64Array(maxLen * d);
  for (let p = 0; p < maxLen; p++)
    for (let i = 0; i < d; i += 2) {
      const angle = p / Math.pow(10000, i / d);
      pe[p * d + i] = Math.sin(angle);
      if (i + 1 < d) pe[p * d + i + 1] = Math.cos(angle);
    }
  return tensor(pe, { shape: [maxLen, d], dtype });
}

/**
 * A transformer that maps a source sequence to a target sequence. Sequences are batch-first int32
 * token ids; `forward(src, tgtIn)` gives next-token logits for the target (teacher forcing), and
 * `greedyDecode` generates. The target's self-attention is causal (the fused attention op's isCausal).
 * @example const m = new Seq2SeqTransformer({ srcVocabSize: 60, tgtVocabSize: 60, dModel: 64 });
 * const { loss } = m.forward(src, tgtIn, tgtOut); const out = m.greedyDecode(src, { bos: 1, eos: 2, maxLen: 12 });
 */
export class Seq2SeqTransformer extends Module {
  readonly config: Seq2SeqConfig;
  src_tok_emb: Embedding;
  tgt_tok_emb: Embedding;
  encoder: TransformerEncoder;
  decoder: TransformerDecoder;
  generator: Linear;
  declare positions: Tensor;

  constructor(config: Partial<Seq2SeqConfig> & Pick<Seq2SeqConfig, "srcVocabSize" | "tgtVocabSize">) {
    super();
    const c = (this.config = { ...DEFAULTS, dimFeedforward: 4 * (config.dModel ?? DEFAULTS.dModel), ...config });
    for (const k of ["srcVocabSize", "tgtVocabSize", "dModel", "nhead", "numEncoderLayers", "numDecoderLayers", "dimFeedforward", "maxLen"] as const)
      if (!Number.isInteger(c[k]) || c[k] < 1) throw new ValueError(`Seq2SeqTransformer: config.${k} must be a positive integer, got ${c[k]}`);
    if (c.dModel % c.nhead !== 0) throw new ValueError(`Seq2SeqTransformer: dModel (${c.dModel}) must be divisible by nhead (${c.nhead})`);
    const layer = { dimFeedforward: c.dimFeedforward, dropout: c.dropout, batchFirst: true, normFirst: c.normFirst, dtype: c.dtype };
    const norm = () => new LayerNorm(c.dModel, { dtype: c.dtype });
    this.src_tok_emb = new Embedding(c.srcVocabSize, c.dModel, { dtype: c.dtype });
    this.tgt_tok_emb = new Embedding(c.tgtVocabSize, c.dModel, { dtype: c.dtype });
    this.encoder = new TransformerEncoder(new TransformerEncoderLayer(c.dModel, c.nhead, layer), c.numEncoderLayers, { norm: norm() });
    this.decoder = new TransformerDecoder(new TransformerDecoderLayer(c.dModel, c.nhead, layer), c.numDecoderLayers, { norm: norm() });
    this.generator = new Linear(c.dModel, c.tgtVocabSize, { dtype: c.dtype });
    this.registerBuffer("positions", sinusoids(c.maxLen, c.dModel, c.dtype), { persistent: false });
    // PyTorch's translation tutorial: Xavier-uniform on every matrix.
    for (const p of this.parameters()) if (p.ndim > 1) xavierUniform_(p);
  }

  /** Token embeddings scaled by √dModel plus the positions: ids (N, L) → (N, L, dModel). */
  private embed(emb: Embedding, ids: Tensor, what: string): Tensor {
    if (ids.ndim !== 2 || ids.dtype !== "int32") throw new ShapeError(`Seq2SeqTransformer: ${what} must be int32 token ids (N, L), got ${ids.dtype}${shapeStr(ids.shape)}`);
    const L = ids.shape[1];
    if (L > this.config.maxLen) throw new ValueError(`Seq2SeqTransformer: ${what} has ${L} positions, more than maxLen ${this.config.maxLen}; raise config.maxLen`);
    return add(mul(emb.call(ids), Math.sqrt(this.config.dModel)), slice(this.positions, 0, 0, L)); // (N, L, d)
  }

  /** src (N, S) → memory (N, S, dModel) and the source padding mask (N, S) (true = padding). */
  encode(src: Tensor): { memory: Tensor; srcPadding: Tensor } {
    const srcPadding = eq(src, this.config.padIdx);
    const memory = this.encoder.call(this.embed(this.src_tok_emb, src, "src"), { srcKeyPaddingMask: srcPadding });
    return { memory, srcPadding };
  }

  /** tgtIn (N, T) attending causally to itself and to the memory → logits (N, T, tgtVocabSize). */
  decode(tgtIn: Tensor, memory: Tensor, srcPadding: Tensor): Tensor {
    const x = this.decoder.call(this.embed(this.tgt_tok_emb, tgtIn, "tgtIn"), memory, {
      tgtIsCausal: true,
      tgtKeyPaddingMask: eq(tgtIn, this.config.padIdx),
      memoryKeyPaddingMask: srcPadding,
    });
    return this.generator.call(x);
  }

  /**
   * Teacher forcing: src (N, S) and tgtIn (N, T) (the target shifted right, starting with a start
   * token) → logits (N, T, V); with tgtOut (N, T) also the mean cross-entropy over non-padding targets.
   */
  override forward(src: Tensor, tgtIn: Tensor, tgtOut?: Tensor | null): { logits: Tensor; loss: Tensor | null } {
    if (src.shape[0] !== tgtIn.shape[0]) throw new ShapeError(`Seq2SeqTransformer: src ${shapeStr(src.shape)} and tgtIn ${shapeStr(tgtIn.shape)} must have the same batch size`);
    const { memory, srcPadding } = this.encode(src);
    const logits = this.decode(tgtIn, memory, srcPadding);
    if (!tgtOut) return { logits, loss: null };
    const [N, T, V] = logits.shape;
    if (tgtOut.shape[0] !== N || tgtOut.shape[1] !== T) throw new ShapeError(`Seq2SeqTransformer: tgtOut must have tgtIn's shape ${shapeStr([N, T])}, got ${shapeStr(tgtOut.shape)}`);
    return { logits, loss: crossEntropy(logits.reshape([N * T, V]), tgtOut.reshape([N * T]), { ignoreIndex: this.config.padIdx }) };
  }

  /**
   * Greedy decoding without gradients: encodes src (N, S) once, then appends the most likely token
   * to every row until each has produced `eos` or `maxLen` tokens. Returns the generated ids per row
   * (without the start token; up to and including eos).
   */
  greedyDecode(src: Tensor, opts: { bos: number; eos: number; maxLen: number }): number[][] {
    return noGrad(() => {
      const N = src.shape[0];
      const { memory, srcPadding } = this.encode(src);
      let ys = tensor(new Int32Array(N).fill(opts.bos), { dtype: "int32", shape: [N, 1] });
      const out: number[][] = Array.from({ length: N }, () => []);
      const done = new Array<boolean>(N).fill(false);
      // NOTE: no KV cache: each step re-runs the decoder over the prefix (targets here are short).
      for (let t = 0; t < opts.maxLen && done.includes(false); t++) {
        const logits = this.decode(ys, memory, srcPadding); // (N, t + 1, V)
        const next = argmax(slice(logits, 1, t, t + 1), -1); // (N, 1)
        const ids = next.dataSync();
        for (let n = 0; n < N; n++)
          if (!done[n]) {
            out[n].push(ids[n]);
            done[n] = ids[n] === opts.eos;
          }
        ys = cat([ys, next], 1);
      }
      return out;
    });
  }
}
