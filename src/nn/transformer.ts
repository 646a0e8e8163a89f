// Transformer layers (PyTorch's nn.Transformer*): encoder and decoder layers, post-norm or pre-norm,
// their stacks, and the encoder–decoder Transformer, with PyTorch's state_dict names.
import { type DType, shapeStr, ShapeError, type Tensor, ValueError } from "../tensor/index.js";
import { add } from "../ops/index.js";
import { gelu, relu } from "../ops/activation.js";
import { Module } from "./module.js";
import { ModuleList } from "./containers.js";
import { checkSize, Linear } from "./linear.js";
import { LayerNorm } from "./normalization.js";
import { Dropout } from "./dropout.js";
import { xavierUniform_ } from "./init.js";
import { generateSquareSubsequentMask, MultiheadAttention } from "./attention.js";

/** The feed-forward activation: a name, a function, or a module (called with `call`). */
export type TransformerActivation = "relu" | "gelu" | ((x: Tensor) => Tensor) | Module;

export interface TransformerLayerOptions {
  /** Width of the feed-forward network (default 2048). */
  dimFeedforward?: number;
  /** Dropout after attention, inside and after the feed-forward network (default 0.1). */
  dropout?: number;
  /** Default 'relu'. */
  activation?: TransformerActivation;
  /** eps of the layer norms (default 1e-5). */
  layerNormEps?: number;
  /** Inputs and output are [batch, seq, feature] (default false: [seq, batch, feature]). */
  batchFirst?: boolean;
  /** Pre-norm: x + f(norm(x)) instead of norm(x + f(x)) (default false). */
  normFirst?: boolean;
  /** Biases in the linear layers, attention and layer norms (default true). */
  bias?: boolean;
  dtype?: DType;
}

function resolveActivation(layer: string, a: TransformerActivation | undefined): (x: Tensor) => Tensor {
  if (a === undefined || a === "relu") return relu;
  if (a === "gelu") return (x) => gelu(x);
  if (a instanceof Module) return (x) => a.call(x) as Tensor;
  if (typeof a === "function") return a;
  throw new ValueError(`${layer}: activation should be 'relu', 'gelu', a function or a module, got ${JSON.stringify(a)}`);
}

/** Shared by the encoder and decoder layers: options, the feed-forward block, and clone(). */
abstract class TransformerLayerBase extends Module {
  readonly normFirst: boolean;
  readonly batchFirst: boolean;
  /** The options the layer was built with (clone() builds its copies from them). */
  declare protected readonly options: TransformerLayerOptions;
  declare protected readonly act: (x: Tensor) => Tensor;

  constructor(
    readonly dModel: number,
    readonly nhead: number,
    opts: TransformerLayerOptions,
  ) {
    super();
    const name = this.constructor.name;
    checkSize(name, "dModel", dModel, 1);
    checkSize(name, "nhead", nhead, 1);
    checkSize(name, "dimFeedforward", opts.dimFeedforward ?? 2048, 1);
    // Non-enumerable: an activation module would otherwise be registered as a sub-module.
    Object.defineProperty(this, "options", { value: { ...opts } });
    Object.defineProperty(this, "act", { value: resolveActivation(name, opts.activation) });
    this.normFirst = opts.normFirst ?? false;
    this.batchFirst = opts.batchFirst ?? false;
  }

  protected attn(): MultiheadAttention {
    const o = this.options;
    return new MultiheadAttention(this.dModel, this.nhead, { dropout: o.dropout ?? 0.1, bias: o.bias, batchFirst: o.batchFirst, dtype: o.dtype });
  }

  protected norm(): LayerNorm {
    return new LayerNorm(this.dModel, { eps: this.options.layerNormEps ?? 1e-5, bias: this.options.bias, dtype: this.options.dtype });
  }

  /** A Linear of the feed-forward network (dModel ↔ dimFeedforward), with the layer's bias and dtype. */
  protected linear(inFeatures: number, outFeatures: number): Linear {
    return new Linear(inFeatures, outFeatures, { bias: this.options.bias, dtype: this.options.dtype });
  }

  protected dropoutModule(): Dropout {
    return new Dropout(this.options.dropout ?? 0.1);
  }

  /** Width of the feed-forward network. */
  protected get ffDim(): number {
    return this.options.dimFeedforward ?? 2048;
  }

  /** attn(q, kv, kv) with the masks; the output only: the weights are not computed, so the fused attention op runs. */
  protected attend(attn: MultiheadAttention, q: Tensor, kv: Tensor, attnMask?: Tensor | null, keyPaddingMask?: Tensor | null, isCausal = false): Tensor {
    return attn.call(q, kv, kv, { attnMask, keyPaddingMask, needWeights: false, isCausal })[0];
  }

  /** The residual branches in turn: x + f(norm(x)) with normFirst, else norm(x + f(x)). */
  protected residual(x: Tensor, branches: [LayerNorm, (x: Tensor) => Tensor][]): Tensor {
    for (const [norm, f] of branches) x = this.normFirst ? add(x, f(norm.call(x))) : norm.call(add(x, f(x)));
    return x;
  }

  /** linear2(dropout(act(linear1(x)))), then dropout (the last dropout module is the caller's). */
  protected ff(x: Tensor, linear1: Linear, dropout: Dropout, linear2: Linear): Tensor {
    return linear2.call(dropout.call(this.act(linear1.call(x))));
  }

  /**
   * An independent copy with the same options, parameter values (and dtype) and mode — what the
   * stacks hold numLayers of (PyTorch deep-copies the layer). Sub-classes with other constructor
   * arguments must override it.
   */
  clone(): this {
    const Ctor = this.constructor as new (dModel: number, nhead: number, opts: TransformerLayerOptions) => this;
    const copy = new Ctor(this.dModel, this.nhead, this.options);
    const p = this.parameters()[0];
    if (p) copy.to(p.dtype);
    copy.loadStateDict(this.stateDict());
    return copy.train(this.training);
  }

  override extraRepr(): string {
    return `dModel=${this.dModel}, nhead=${this.nhead}, normFirst=${this.normFirst}, batchFirst=${this.batchFirst}`;
  }
}

export interface TransformerEncoderLayerCallOptions {
  /** [S, S] or [N·nhead, S, S]: bool true = may not attend, float = added (see generateSquareSubsequentMask). */
  srcMask?: Tensor | null;
  /** [N, S] ([S] unbatched): bool true = a padding position, ignored as a key. */
  srcKeyPaddingMask?: Tensor | null;
  /** Causal self-attention (position i sees positions ≤ i) without a mask tensor; combined with srcMask. */
  isCausal?: boolean;
}

/**
 * Self-attention and a feed-forward network, each in a residual branch with dropout and LayerNorm
 * (post-norm by default, pre-norm with normFirst).
 * @example const layer = new TransformerEncoderLayer(64, 4, {dimFeedforward: 128, batchFirst: true}); const y = layer.call(x);
 */
export class TransformerEncoderLayer extends TransformerLayerBase {
  self_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;

  constructor(dModel: number, nhead: number, opts: TransformerLayerOptions = {}) {
    super(dModel, nhead, opts);
    this.self_attn = this.attn();
    this.linear1 = this.linear(dModel, this.ffDim);
    this.dropout = this.dropoutModule();
    this.linear2 = this.linear(this.ffDim, dModel);
    this.norm1 = this.norm();
    this.norm2 = this.norm();
    this.dropout1 = this.dropoutModule();
    this.dropout2 = this.dropoutModule();
  }

  override forward(src: Tensor, opts: TransformerEncoderLayerCallOptions = {}): Tensor {
    return this.residual(src, [
      [this.norm1, (x) => this.dropout1.call(this.attend(this.self_attn, x, x, opts.srcMask, opts.srcKeyPaddingMask, opts.isCausal))],
      [this.norm2, (x) => this.dropout2.call(this.ff(x, this.linear1, this.dropout, this.linear2))],
    ]);
  }
}

export interface TransformerDecoderLayerCallOptions {
  /** Self-attention mask [T, T] or [N·nhead, T, T] (generateSquareSubsequentMask(T) for causal decoding). */
  tgtMask?: Tensor | null;
  /** Cross-attention mask [T, S] or [N·nhead, T, S]. */
  memoryMask?: Tensor | null;
  /** [N, T]: bool true = a padding position of the target. */
  tgtKeyPaddingMask?: Tensor | null;
  /** [N, S]: bool true = a padding position of the memory. */
  memoryKeyPaddingMask?: Tensor | null;
  /** Causal self-attention over the target without a tgtMask tensor (combined with tgtMask when given). */
  tgtIsCausal?: boolean;
}

/**
 * Self-attention over the target, cross-attention to the encoder's output (memory) and a
 * feed-forward network, each in a residual branch with dropout and LayerNorm.
 */
export class TransformerDecoderLayer extends TransformerLayerBase {
  self_attn: MultiheadAttention;
  multihead_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  norm3: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  dropout3: Dropout;

  constructor(dModel: number, nhead: number, opts: TransformerLayerOptions = {}) {
    super(dModel, nhead, opts);
    this.self_attn = this.attn();
    this.multihead_attn = this.attn();
    this.linear1 = this.linear(dModel, this.ffDim);
    this.dropout = this.dropoutModule();
    this.linear2 = this.linear(this.ffDim, dModel);
    this.norm1 = this.norm();
    this.norm2 = this.norm();
    this.norm3 = this.norm();
    this.dropout1 = this.dropoutModule();
    this.dropout2 = this.dropoutModule();
    this.dropout3 = this.dropoutModule();
  }

  override forward(tgt: Tensor, memory: Tensor, opts: TransformerDecoderLayerCallOptions = {}): Tensor {
    return this.residual(tgt, [
      [this.norm1, (x) => this.dropout1.call(this.attend(this.self_attn, x, x, opts.tgtMask, opts.tgtKeyPaddingMask, opts.tgtIsCausal))],
      [this.norm2, (x) => this.dropout2.call(this.attend(this.multihead_attn, x, memory, opts.memoryMask, opts.memoryKeyPaddingMask))],
      [this.norm3, (x) => this.dropout3.call(this.ff(x, this.linear1, this.dropout, this.linear2))],
    ]);
  }
}

function copies<T extends TransformerLayerBase>(stack: string, layer: T, numLayers: number): T[] {
  if (!(layer instanceof TransformerLayerBase)) throw new ValueError(`${stack}: the layer must be a Transformer${stack.includes("Encoder") ? "Encoder" : "Decoder"}Layer`);
  checkSize(stack, "numLayers", numLayers, 1);
  return Array.from({ length: numLayers }, () => layer.clone());
}

export interface TransformerStackOptions {
  /** A module applied to the last layer's output, e.g. a LayerNorm (default none). */
  norm?: Module | null;
}

/** numLayers independent copies of an encoder layer, applied in turn (then `norm`, if given). */
export class TransformerEncoder extends Module {
  layers: ModuleList;
  norm: Module | null;

  constructor(
    encoderLayer: TransformerEncoderLayer,
    readonly numLayers: number,
    opts: TransformerStackOptions = {},
  ) {
    super();
    this.layers = new ModuleList(copies("TransformerEncoder", encoderLayer, numLayers));
    this.norm = opts.norm ?? null;
  }

  /** mask and srcKeyPaddingMask as for TransformerEncoderLayer's srcMask and srcKeyPaddingMask. */
  override forward(src: Tensor, opts: { mask?: Tensor | null; srcKeyPaddingMask?: Tensor | null; isCausal?: boolean } = {}): Tensor {
    let x = src;
    for (const layer of this.layers)
      x = (layer as TransformerEncoderLayer).call(x, { srcMask: opts.mask, srcKeyPaddingMask: opts.srcKeyPaddingMask, isCausal: opts.isCausal });
    return this.norm ? (this.norm.call(x) as Tensor) : x;
  }
}

/** numLayers independent copies of a decoder layer, each attending to the same memory (then `norm`). */
export class TransformerDecoder extends Module {
  layers: ModuleList;
  norm: Module | null;

  constructor(
    decoderLayer: TransformerDecoderLayer,
    readonly numLayers: number,
    opts: TransformerStackOptions = {},
  ) {
    super();
    this.layers = new ModuleList(copies("TransformerDecoder", decoderLayer, numLayers));
    this.norm = opts.norm ?? null;
  }

  override forward(tgt: Tensor, memory: Tensor, opts: TransformerDecoderLayerCallOptions = {}): Tensor {
    let x = tgt;
    for (const layer of this.layers) x = (layer as TransformerDecoderLayer).call(x, memory, opts);
    return this.norm ? (this.norm.call(x) as Tensor) : x;
  }
}

export interface TransformerOptions extends TransformerLayerOptions {
  /** Default 512. */
  dModel?: number;
  /** Default 8. */
  nhead?: number;
  /** Default 6. */
  numEncoderLayers?: number;
  /** Default 6. */
  numDecoderLayers?: number;
  /** Used instead of the built encoder: called as encoder.call(src, {mask, srcKeyPaddingMask}). */
  customEncoder?: Module | null;
  /** Used instead of the built decoder: called as decoder.call(tgt, memory, {tgtMask, …}). */
  customDecoder?: Module | null;
}

export interface TransformerCallOptions extends TransformerDecoderLayerCallOptions {
  srcMask?: Tensor | null;
  srcKeyPaddingMask?: Tensor | null;
  /** Causal self-attention in the encoder (PyTorch's src_is_causal). */
  srcIsCausal?: boolean;
}

/**
 * The encoder–decoder model of "Attention Is All You Need" (PyTorch's nn.Transformer): encoder and
 * decoder stacks, each ending in a LayerNorm; every weight matrix starts Xavier-uniform.
 * @example const t = new Transformer({dModel: 32, nhead: 4, numEncoderLayers: 2, numDecoderLayers: 2});
 * const y = t.call(src, tgt, {tgtMask: Transformer.generateSquareSubsequentMask(tgt.shape[0])});
 */
export class Transformer extends Module {
  encoder: Module;
  decoder: Module;
  readonly dModel: number;
  readonly nhead: number;
  readonly batchFirst: boolean;

  constructor(opts: TransformerOptions = {}) {
    super();
    this.dModel = opts.dModel ?? 512;
    this.nhead = opts.nhead ?? 8;
    this.batchFirst = opts.batchFirst ?? false;
    const norm = () => new LayerNorm(this.dModel, { eps: opts.layerNormEps ?? 1e-5, bias: opts.bias, dtype: opts.dtype });
    this.encoder =
      opts.customEncoder ?? new TransformerEncoder(new TransformerEncoderLayer(this.dModel, this.nhead, opts), opts.numEncoderLayers ?? 6, { norm: norm() });
    this.decoder =
      opts.customDecoder ?? new TransformerDecoder(new TransformerDecoderLayer(this.dModel, this.nhead, opts), opts.numDecoderLayers ?? 6, { norm: norm() });
    this.resetParameters();
  }

  /** PyTorch's init: Xavier-uniform on every parameter with more than one dim. */
  resetParameters(): void {
    for (const p of this.parameters()) if (p.ndim > 1) xavierUniform_(p);
  }

  /** src [S, N, E] ([N, S, E] batchFirst, [S, E] unbatched), tgt [T, N, E] → [T, N, E]. */
  override forward(src: Tensor, tgt: Tensor, opts: TransformerCallOptions = {}): Tensor {
    const batched = src.ndim === 3;
    const b = this.batchFirst ? 0 : 1;
    if (batched && src.shape[b] !== tgt.shape[b])
      throw new ShapeError(`Transformer: the batch sizes of src ${shapeStr(src.shape)} and tgt ${shapeStr(tgt.shape)} must be equal (dim ${b})`);
    if (src.shape[src.ndim - 1] !== this.dModel || tgt.shape[tgt.ndim - 1] !== this.dModel)
      throw new ShapeError(`Transformer: src ${shapeStr(src.shape)} and tgt ${shapeStr(tgt.shape)} must both have dModel = ${this.dModel} features`);
    const memory = this.encoder.call(src, { mask: opts.srcMask, srcKeyPaddingMask: opts.srcKeyPaddingMask, isCausal: opts.srcIsCausal }) as Tensor;
    return this.decoder.call(tgt, memory, {
      tgtMask: opts.tgtMask,
      memoryMask: opts.memoryMask,
      tgtKeyPaddingMask: opts.tgtKeyPaddingMask,
      memoryKeyPaddingMask: opts.memoryKeyPaddingMask,
      tgtIsCausal: opts.tgtIsCausal,
    }) as Tensor;
  }

  /** The additive causal mask [T, T] (0 on and below the diagonal, −∞ above). */
  static generateSquareSubsequentMask(T: number, dtype: DType = "float32"): Tensor {
    return generateSquareSubsequentMask(T, dtype);
  }
}
