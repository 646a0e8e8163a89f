// The quantized replacements of nn.Linear: QuantizedLinear (int8 weights per output channel, int8
// activations, integer GEMM) and Int4Linear (int4 group-wise weights, fused dequantizing GEMM/GEMV).
// Their state (buffers, not parameters) is what the model folder stores: packed int8/uint8 tensors.
import { allocArray, DTypeError, Storage, Tensor } from "../tensor/index.js";
import { int4Linear, int8Linear, to } from "../ops/index.js";
import { Module } from "../nn/module.js";
import { checkInt4Group, quantizeWeightInt4, quantizeWeightInt8 } from "./quant-pack.js";

/** What a quantized layer writes into config.json's `quantization` block (and rebuilds from). */
export interface LayerQuantization {
  bits: 8 | 4;
  /** int8: 'dynamic' (per-row activation scales) or 'static' (one calibrated scale); int4: 'weight-only'. */
  mode: "dynamic" | "static" | "weight-only";
  inFeatures: number;
  outFeatures: number;
  bias: boolean;
  /** int4: weights per group. */
  group?: number;
}

function zeros(dtype: "int8" | "uint8" | "float32", shape: number[]): Tensor {
  return new Tensor(new Storage(dtype, allocArray(dtype, shape.reduce((a, b) => a * b, 1))), shape);
}

/** x as float32 (the kernels' dtype); float64 inputs are computed in float32 and returned as float64. */
function asF32(x: Tensor, op: string): Tensor {
  if (x.dtype === "float32") return x;
  if (x.dtype === "float64") return to(x, "float32");
  throw new DTypeError(`${op}: input has dtype ${x.dtype}; expected float32 or float64`);
}

/**
 * A Linear with int8 weights (symmetric per output channel) and int8 activations: quantized per
 * row at run time (dynamic), or with one calibrated scale (static, `input_scale`). The product runs
 * on the integer GEMM; y = acc · s_x · s_w + bias. Build it with `QuantizedLinear.fromLinear`.
 */
export class QuantizedLinear extends Module {
  declare weight: Tensor;
  declare weight_scale: Tensor;
  declare bias: Tensor | null;
  declare input_scale: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean; mode?: "dynamic" | "static" } = {},
  ) {
    super();
    this.registerBuffer("weight", zeros("int8", [outFeatures, inFeatures]));
    this.registerBuffer("weight_scale", zeros("float32", [outFeatures]));
    this.registerBuffer("bias", opts.bias === false ? null : zeros("float32", [outFeatures]));
    this.registerBuffer("input_scale", opts.mode === "static" ? zeros("float32", []) : null);
  }

  /** Quantizes a float Linear's weight (and keeps its bias in float32); actScale fixes the activation scale (static). */
  static fromLinear(weight: Tensor, bias: Tensor | null, actScale?: number | null): QuantizedLinear {
    const [N, K] = weight.shape;
    const m = new QuantizedLinear(K, N, { bias: bias !== null, mode: actScale ? "static" : "dynamic" });
    const { q, scale } = quantizeWeightInt8(weight);
    m.weight = q;
    m.weight_scale = scale;
    if (bias) m.bias = to(bias.detach(), "float32").clone();
    if (actScale) m.input_scale = new Tensor(new Storage("float32", Float32Array.of(actScale)), []);
    return m;
  }

  get mode(): "dynamic" | "static" {
    return this.input_scale ? "static" : "dynamic";
  }

  override forward(x: Tensor): Tensor {
    const y = int8Linear(asF32(x, "QuantizedLinear"), this.weight, this.weight_scale, this.bias, {
      actScale: this.input_scale ? this.input_scale.item() : null,
    });
    return x.dtype === "float64" ? to(y, "float64") : y;
  }

  quantizationInfo(): LayerQuantization {
    return { bits: 8, mode: this.mode, inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.bias !== null };
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}, int8 ${this.mode}`;
  }
}

/**
 * A Linear with int4 weights, group-wise along the input features (a scale and a 4-bit zero point
 * per group), run by the fused dequantizing kernel on float activations. Build it with `Int4Linear.fromLinear`.
 */
export class Int4Linear extends Module {
  declare weight: Tensor;
  declare weight_scale: Tensor;
  declare weight_zero_point: Tensor;
  declare bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    readonly group: number,
    opts: { bias?: boolean; name?: string } = {},
  ) {
    super();
    checkInt4Group(opts.name ?? "Int4Linear", inFeatures, group);
    const G = inFeatures / group;
    this.registerBuffer("weight", zeros("uint8", [outFeatures, inFeatures / 2]));
    this.registerBuffer("weight_scale", zeros("float32", [outFeatures, G]));
    this.registerBuffer("weight_zero_point", zeros("uint8", [outFeatures, Math.ceil(G / 2)]));
    this.registerBuffer("bias", opts.bias === false ? null : zeros("float32", [outFeatures]));
  }

  static fromLinear(weight: Tensor, bias: Tensor | null, group: number, name = "Int4Linear"): Int4Linear {
    const [N, K] = weight.shape;
    const m = new Int4Linear(K, N, group, { bias: bias !== null, name });
    const p = quantizeWeightInt4(weight, group, name);
    m.weight = p.q;
    m.weight_scale = p.scale;
    m.weight_zero_point = p.zero;
    if (bias) m.bias = to(bias.detach(), "float32").clone();
    return m;
  }

  override forward(x: Tensor): Tensor {
    const y = int4Linear(asF32(x, "Int4Linear"), this.weight, this.weight_scale, this.weight_zero_point, this.bias, { group: this.group });
    return x.dtype === "float64" ? to(y, "float64") : y;
  }

  quantizationInfo(): LayerQuantization {
    return { bits: 4, mode: "weight-only", group: this.group, inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.bias !== null };
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}, int4 group ${this.group}`;
  }
}
