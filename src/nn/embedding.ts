// Embedding: a lookup table of numEmbeddings vectors of size embeddingDim, indexed by int32 ids.
import { DType, shapeStr, Tensor, ValueError } from "../tensor/index.js";
import { copy_ } from "../ops/index.js";
import { embedding } from "../ops/indexing.js";
import { noGrad } from "../autograd/index.js";
import { Module } from "./module.js";
import { Parameter } from "./parameter.js";
import { normal_ } from "./init.js";
import { empty } from "./util.js";
import { checkSize } from "./linear.js";

export interface EmbeddingOptions {
  /** This row stays zero-initialized and gets no gradient (negative counts from the end). */
  paddingIdx?: number | null;
  dtype?: DType;
}

/**
 * ids of any shape (int32) → vectors [..., embeddingDim]. The weight starts as N(0, 1) with the
 * paddingIdx row at zero, as in PyTorch.
 * @example const emb = new Embedding(vocabSize, 64); emb.call(ids) // (B, T) → (B, T, 64)
 */
export class Embedding extends Module {
  weight: Parameter;
  readonly paddingIdx: number | null;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: EmbeddingOptions = {},
  ) {
    super();
    checkSize("Embedding", "numEmbeddings", numEmbeddings, 1);
    checkSize("Embedding", "embeddingDim", embeddingDim, 1);
    this.paddingIdx = normPadding(opts.paddingIdx, numEmbeddings);
    this.weight = new Parameter(empty([numEmbeddings, embeddingDim], opts.dtype));
    this.resetParameters();
  }

  /** A layer holding `weight` [V, D] (frozen by default, like nn.Embedding.from_pretrained). */
  static fromPretrained(weight: Tensor, opts: { freeze?: boolean; paddingIdx?: number | null } = {}): Embedding {
    if (weight.ndim !== 2) throw new ValueError(`Embedding.fromPretrained: weight must be 2-D [numEmbeddings, embeddingDim], got ${shapeStr(weight.shape)}`);
    const e = new Embedding(weight.shape[0], weight.shape[1], { paddingIdx: opts.paddingIdx, dtype: weight.dtype });
    noGrad(() => copy_(e.weight, weight));
    e.weight.requiresGrad_(!(opts.freeze ?? true));
    return e;
  }

  /** N(0, 1) with the padding row zeroed. */
  resetParameters(): void {
    normal_(this.weight);
    if (this.paddingIdx !== null) noGrad(() => copy_(this.weight.select(0, this.paddingIdx!), 0));
  }

  override forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight, this.paddingIdx);
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, paddingIdx=${this.paddingIdx}` : ""}`;
  }
}

function normPadding(p: number | null | undefined, n: number): number | null {
  if (p === null || p === undefined) return null;
  if (!Number.isInteger(p) || p < -n || p >= n) throw new ValueError(`Embedding: paddingIdx ${p} is out of range for ${n} embeddings (expected ${-n} to ${n - 1})`);
  return p < 0 ? p + n : p;
}
