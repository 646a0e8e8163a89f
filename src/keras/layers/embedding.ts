// Embedding: int ids [B, …] → vectors [B, …, outputDim] from a table [inputDim, outputDim]
// (Keras' default init U(−0.05, 0.05)).
import { IndexError, type Tensor, ValueError } from "../../tensor/index.js";
import { embedding, to, zeros } from "../../ops/index.js";
import type { Parameter } from "../../nn/parameter.js";
import { getInitializer, type Initializer, type InitializerId, serializeInitializer } from "../initializers.js";
import { getRegularizer, type Regularizer, type RegularizerId } from "../regularizers.js";
import { checkInt, Layer, type LayerArgs, type Shape, single, singleTensor } from "./base.js";

export interface EmbeddingArgs extends LayerArgs {
  /** Vocabulary size: ids run from 0 to inputDim − 1. */
  inputDim: number;
  outputDim: number;
  embeddingsInitializer?: InitializerId;
  embeddingsRegularizer?: RegularizerId;
  /** Length of the sequences (sets inputShape [inputLength]). */
  inputLength?: number;
}

export class Embedding extends Layer {
  static override className = "Embedding";
  embeddings: Parameter | null = null;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly embeddingsInitializer: Initializer;
  readonly embeddingsRegularizer: Regularizer | null;

  constructor(args: EmbeddingArgs) {
    super(args?.inputLength !== undefined && !args.inputShape && !args.batchInputShape ? { ...args, inputShape: [args.inputLength] } : args);
    if ((args as { maskZero?: boolean } | undefined)?.maskZero) throw new ValueError(`${this.name}: maskZero is not supported; pad with an id of your own and let the model learn it`);
    this.inputDim = checkInt(this.name, "inputDim", args?.inputDim);
    this.outputDim = checkInt(this.name, "outputDim", args.outputDim);
    this.embeddingsInitializer = getInitializer(args.embeddingsInitializer ?? "randomUniform", this.name);
    this.embeddingsRegularizer = getRegularizer(args.embeddingsRegularizer, this.name);
  }

  override build(shape: Shape | Shape[]): void {
    const t = zeros([this.inputDim, this.outputDim], { dtype: this.dtype });
    this.embeddingsInitializer.init(t);
    this.addWeight("embeddings", t, this.embeddingsRegularizer);
    super.build(shape);
  }

  computeOutputShape(s: Shape | Shape[]): Shape {
    return [...single(this, s), this.outputDim];
  }

  protected override outputDType(): Tensor["dtype"] {
    return this.embeddings?.dtype ?? this.dtype;
  }

  protected compute(inputs: Tensor | Tensor[]): Tensor {
    const x = singleTensor(this, inputs);
    // Float ids (as data often arrives) are truncated to int32, as Keras casts them.
    const ids = x.dtype === "int32" ? x : to(x, "int32");
    const v = ids.dataSync();
    for (let i = 0; i < v.length; i++)
      if (v[i] < 0 || v[i] >= this.inputDim)
        throw new IndexError(`${this.name}: id ${v[i]} is out of range for inputDim ${this.inputDim} (ids must be in 0..${this.inputDim - 1}); raise inputDim or fix the data`);
    return embedding(ids, this.embeddings!);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      embeddingsInitializer: serializeInitializer(this.embeddingsInitializer),
      embeddingsRegularizer: this.embeddingsRegularizer?.toJSON() ?? null,
    };
  }
}
