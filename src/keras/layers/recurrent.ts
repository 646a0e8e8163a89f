// Keras LSTM and GRU layers over [batch, time, features], on ingot.nn's LSTM and GRU (batchFirst).
// The weights keep nn's PyTorch layout; initialization follows Keras: glorotUniform input
// kernels, orthogonal recurrent kernels, zero biases and (LSTM) a forget-gate bias of 1.
import { type Tensor, ValueError } from "../../tensor/index.js";
import { copy_, select, transpose, zeros } from "../../ops/index.js";
import { noGrad } from "../../autograd/index.js";
import { GRU as NNGRU, LSTM as NNLSTM, type RNNBase } from "../../nn/rnn.js";
import { getInitializer, type Initializer, type InitializerId, serializeInitializer } from "../initializers.js";
import { getRegularizer, type Regularizer, type RegularizerId } from "../regularizers.js";
import { castFloat } from "./core.js";
import { checkInt, knownDim, Layer, type LayerArgs, type Shape, single, singleTensor } from "./base.js";

export interface RecurrentArgs extends LayerArgs {
  units: number;
  /** Return the output at every step [B, T, units] instead of the last one [B, units] (default false). */
  returnSequences?: boolean;
  /** Read the sequence backwards (default false). */
  goBackwards?: boolean;
  useBias?: boolean;
  /** Only 'tanh' (the cell's activation in ingot.nn). */
  activation?: "tanh";
  /** Only 'sigmoid'. */
  recurrentActivation?: "sigmoid";
  kernelInitializer?: InitializerId;
  recurrentInitializer?: InitializerId;
  biasInitializer?: InitializerId;
  kernelRegularizer?: RegularizerId;
  recurrentRegularizer?: RegularizerId;
  biasRegularizer?: RegularizerId;
}

abstract class Recurrent extends Layer {
  rnn: RNNBase | null = null;
  readonly units: number;
  readonly returnSequences: boolean;
  readonly goBackwards: boolean;
  readonly useBias: boolean;
  protected readonly inits: Record<"kernel" | "recurrent" | "bias", Initializer>;
  protected readonly regs: Record<"kernel" | "recurrent" | "bias", Regularizer | null>;

  constructor(args: RecurrentArgs) {
    super(args);
    const n = this.name;
    this.units = checkInt(n, "units", args?.units);
    if ((args.activation ?? "tanh") !== "tanh") throw new ValueError(`${n}: only activation 'tanh' is supported, got ${JSON.stringify(args.activation)}`);
    if ((args.recurrentActivation ?? "sigmoid") !== "sigmoid")
      throw new ValueError(`${n}: only recurrentActivation 'sigmoid' is supported, got ${JSON.stringify(args.recurrentActivation)}`);
    for (const k of ["dropout", "recurrentDropout", "returnState", "stateful"])
      if ((args as unknown as Record<string, unknown>)[k]) throw new ValueError(`${n}: option '${k}' is not supported; add a dropout() layer around the recurrent layer instead`);
    this.returnSequences = args.returnSequences ?? false;
    this.goBackwards = args.goBackwards ?? false;
    this.useBias = args.useBias ?? true;
    this.inits = {
      kernel: getInitializer(args.kernelInitializer ?? "glorotUniform", n),
      recurrent: getInitializer(args.recurrentInitializer ?? "orthogonal", n),
      bias: getInitializer(args.biasInitializer ?? "zeros", n),
    };
    this.regs = { kernel: getRegularizer(args.kernelRegularizer, n), recurrent: getRegularizer(args.recurrentRegularizer, n), bias: getRegularizer(args.biasRegularizer, n) };
  }

  protected abstract makeRNN(inDim: number): RNNBase;

  override build(shape: Shape | Shape[]): void {
    const s = single(this, shape);
    this.inputSpec = { ndim: 3, layout: "[batch, time, features]" };
    this.checkInputShape(s);
    const f = knownDim(this, s, -1, "features dim");
    this.inputSpec = { ndim: 3, axes: { [-1]: f }, layout: "[batch, time, features]" };
    const rnn = this.makeRNN(f);
    noGrad(() => {
      // Keras' kernels are [in, gates·units]; nn's weights are the transposes, so fill a Keras-layout
      // tensor and copy its transpose (the initializers' fans then match Keras exactly).
      const fill = (w: Tensor, init: Initializer) => {
        const k = zeros([w.shape[1], w.shape[0]], { dtype: w.dtype });
        init.init(k);
        copy_(w, transpose(k, 0, 1));
      };
      const p = rnn as unknown as Record<string, Tensor | null>;
      fill(p.weight_ih_l0!, this.inits.kernel);
      fill(p.weight_hh_l0!, this.inits.recurrent);
      if (p.bias_ih_l0) {
        const b = zeros([p.bias_ih_l0.shape[0]], { dtype: p.bias_ih_l0.dtype });
        this.inits.bias.init(b);
        copy_(p.bias_ih_l0, b);
        copy_(p.bias_hh_l0!, 0);
        this.adjustBias(p.bias_ih_l0);
      }
    });
    if (!this.trainable) rnn.requiresGrad_(false);
    rnn.eval();
    this.rnn = rnn;
    this.addRegularizer("rnn.weight_ih_l0", this.regs.kernel);
    this.addRegularizer("rnn.weight_hh_l0", this.regs.recurrent);
    if (this.useBias) {
      this.addRegularizer("rnn.bias_ih_l0", this.regs.bias);
      this.addRegularizer("rnn.bias_hh_l0", this.regs.bias);
    }
    super.build(shape);
  }

  /** Bias tweaks after initialization (LSTM's unit forget bias). */
  protected adjustBias(_b: Tensor): void {}

  computeOutputShape(shape: Shape | Shape[]): Shape {
    const s = single(this, shape);
    return this.returnSequences ? [s[0], s[1], this.units] : [s[0], this.units];
  }

  protected compute(inputs: Tensor | Tensor[]): Tensor {
    const rnn = this.rnn!;
    let x = castFloat(singleTensor(this, inputs), (rnn as unknown as Record<string, Tensor>).weight_ih_l0.dtype); // (B, T, F)
    if (this.goBackwards) x = x.flip(1);
    const [out] = rnn.call(x) as [Tensor, unknown]; // (B, T, units)
    return this.returnSequences ? out : select(out, 1, out.shape[1] - 1);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      units: this.units,
      returnSequences: this.returnSequences,
      goBackwards: this.goBackwards,
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.inits.kernel),
      recurrentInitializer: serializeInitializer(this.inits.recurrent),
      biasInitializer: serializeInitializer(this.inits.bias),
      kernelRegularizer: this.regs.kernel?.toJSON() ?? null,
      recurrentRegularizer: this.regs.recurrent?.toJSON() ?? null,
      biasRegularizer: this.regs.bias?.toJSON() ?? null,
    };
  }
}

/** Long short-term memory over [B, T, features] → [B, units] (or [B, T, units] with returnSequences). */
export class LSTM extends Recurrent {
  static override className = "LSTM";
  readonly unitForgetBias: boolean;
  constructor(args: RecurrentArgs & { unitForgetBias?: boolean }) {
    super(args);
    this.unitForgetBias = args.unitForgetBias ?? true;
  }
  protected makeRNN(inDim: number): RNNBase {
    return new NNLSTM(inDim, this.units, { batchFirst: true, bias: this.useBias, dtype: this.dtype });
  }
  protected override adjustBias(b: Tensor): void {
    // Gate order i, f, g, o (the same in Keras and PyTorch): the forget gate starts open.
    if (this.unitForgetBias) copy_(b.slice(0, this.units, 2 * this.units), 1);
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), unitForgetBias: this.unitForgetBias };
  }
}

/**
 * Gated recurrent unit over [B, T, features]; the reset gate acts after the recurrent matmul
 * (Keras' resetAfter = true, its default, which is also PyTorch's and cuDNN's formula).
 */
export class GRU extends Recurrent {
  static override className = "GRU";
  constructor(args: RecurrentArgs & { resetAfter?: boolean }) {
    super(args);
    if (args.resetAfter === false) throw new ValueError(`${this.name}: only resetAfter true (Keras' default) is supported`);
  }
  protected makeRNN(inDim: number): RNNBase {
    return new NNGRU(inDim, this.units, { batchFirst: true, bias: this.useBias, dtype: this.dtype });
  }
}
