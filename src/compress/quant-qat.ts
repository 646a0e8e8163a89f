// Quantization-aware training: prepareQAT swaps each nn.Linear for a QATLinear that fake-quantizes
// its weights (int8 per output channel) and inputs (int8 per tensor, a running range) with a
// straight-through gradient; after fine-tuning, convertQAT turns them into QuantizedLinear layers.
import { noGrad } from "../autograd/index.js";
import { type Tensor, ValueError } from "../tensor/index.js";
import { abs, clamp, div, fakeQuantize, linear, max, zeros } from "../ops/index.js";
import { Module } from "../nn/module.js";
import { Linear } from "../nn/linear.js";
import type { Parameter } from "../nn/parameter.js";
import { Dense } from "../keras/layers/core.js";
import { QuantizedLinear } from "./quant-linear.js";
import { quantTargets, replaceModule } from "./quant-util.js";

export interface PrepareQATOptions {
  /** Weight of the old value in the running input range, per training step (default 0.9). */
  momentum?: number;
  /** Layers (dotted names) to leave in float. */
  skip?: string[];
}

/**
 * A Linear trained through int8 rounding: y = linear(fq(x), fq(W), b), where fq quantizes and
 * dequantizes (W per output channel, scale max|W_n|/127; x with one scale from the running max |x|).
 * It holds the original Parameter objects, so an optimizer built before prepareQAT keeps working.
 */
export class QATLinear extends Module {
  weight: Parameter;
  bias: Parameter | null;
  declare input_absmax: Tensor;
  readonly momentum: number;
  private seen = false;

  constructor(src: Linear, opts: { momentum?: number } = {}) {
    super();
    this.weight = src.weight;
    this.bias = src.bias;
    this.momentum = opts.momentum ?? 0.9;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new ValueError(`prepareQAT: momentum must be in [0, 1), got ${this.momentum}`);
    this.registerBuffer("input_absmax", zeros([], { dtype: "float32" }));
    this.training = src.training;
  }

  get inFeatures(): number {
    return this.weight.shape[1];
  }

  get outFeatures(): number {
    return this.weight.shape[0];
  }

  /** The activation scale convertQAT will fix (running max |x| / 127). */
  inputScale(): number {
    const a = this.input_absmax.item();
    return a > 0 ? a / 127 : 1;
  }

  override forward(x: Tensor): Tensor {
    if (this.training) {
      const m = noGrad(() => max(abs(x)).item());
      const cur = this.input_absmax.item();
      const next = this.seen || cur > 0 ? this.momentum * cur + (1 - this.momentum) * m : m;
      this.input_absmax.dataSync()[this.input_absmax.offset] = next;
      this.seen = true;
    }
    const xq = this.input_absmax.item() > 0 ? fakeQuantize(x, this.inputScale(), 0, -127, 127) : x;
    // NOTE: the weight scale is a constant of each step (no gradient through max|W|), as in PyTorch's observers.
    const sw = noGrad(() => clamp(div(max(abs(this.weight.detach()), 1, true), 127), 1e-12));
    const wq = fakeQuantize(this.weight, sw, 0, -127, 127);
    return linear(xq, wq, this.bias);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}, fake int8`;
  }
}

/**
 * Prepares an nn model for quantization-aware training: every nn.Linear (tied weights and `skip`
 * aside) becomes a QATLinear. Fine-tune it as usual, then call convertQAT. Returns the model.
 * @example compress.prepareQAT(model); trainSomeEpochs(model); compress.convertQAT(model);
 */
export function prepareQAT<M extends Module>(model: M, opts: PrepareQATOptions = {}): M {
  const targets = quantTargets(model, opts.skip, "prepareQAT");
  if (targets.some(([, m]) => m instanceof Dense))
    throw new ValueError("prepareQAT: keras models are not supported yet; quantize them after training with compress.quantize(model, {bits: 8, mode: 'static', calibration})");
  for (const [name, m] of targets) replaceModule(model, name, new QATLinear(m as Linear, opts));
  return model;
}

export interface ConvertQATOptions {
  /** 'static' (default): the activation scale learned during QAT; 'dynamic': per-row scales at run time. */
  mode?: "static" | "dynamic";
}

/** Replaces every QATLinear by a QuantizedLinear (int8 weights; static activation scale by default). Returns the model. */
export function convertQAT<M extends Module>(model: M, opts: ConvertQATOptions = {}): M {
  const qat = model.namedModules().filter((e): e is [string, QATLinear] => e[1] instanceof QATLinear);
  if (!qat.length) throw new ValueError("convertQAT: the model has no QATLinear layers; call compress.prepareQAT(model) and fine-tune it first");
  for (const [name, m] of qat) {
    const q = noGrad(() => QuantizedLinear.fromLinear(m.weight.detach(), m.bias ? m.bias.detach() : null, opts.mode === "dynamic" ? null : m.inputScale()));
    q.training = false;
    replaceModule(model, name, q);
  }
  return model;
}
