// keras QuantizedDense: what compress.quantize puts in place of a Dense layer (int8 or int4 kernel,
// float32 bias, the same activation). Registered by className, so keras.loadModel rebuilds it from
// config.json; its weights are buffers: kernel [units, in] (output-channel rows), kernel_scale, ….
import { allocArray, DTypeError, Storage, Tensor, ValueError } from "../tensor/index.js";
import { int4Linear, int8Linear, to, transpose } from "../ops/index.js";
import { type ActivationId, type Activation as ActivationFn, getActivation } from "../keras/activations.js";
import { activationConfig, type Dense } from "../keras/layers/core.js";
import { checkInt, Layer, type LayerArgs, type Shape, single, singleTensor } from "../keras/layers/base.js";
import { registerLayerClass } from "../keras/layers/index.js";
import { checkInt4Group, quantizeWeightInt4, quantizeWeightInt8 } from "./quant-pack.js";
import type { LayerQuantization } from "./quant-linear.js";

export interface QuantizedDenseArgs extends LayerArgs {
  units: number;
  inFeatures: number;
  activation?: ActivationId;
  useBias?: boolean;
  bits: 8 | 4;
  /** int8: 'dynamic' (default) or 'static'; int4 is weight-only. */
  mode?: "dynamic" | "static" | "weight-only";
  /** int4: weights per group (32, 64 or 128). */
  group?: number;
}

function zeros(dtype: "int8" | "uint8" | "float32", shape: number[]): Tensor {
  return new Tensor(new Storage(dtype, allocArray(dtype, shape.reduce((a, b) => a * b, 1))), shape);
}

/** A Dense layer whose kernel is int8 (per output channel, integer GEMM) or int4 (group-wise, fused dequantizing GEMM). */
export class QuantizedDense extends Layer {
  static override className = "QuantizedDense";
  declare kernel: Tensor;
  declare kernel_scale: Tensor;
  declare kernel_zero_point: Tensor | null;
  declare bias: Tensor | null;
  declare input_scale: Tensor | null;
  readonly units: number;
  readonly inFeatures: number;
  readonly activation: ActivationFn;
  readonly useBias: boolean;
  readonly bits: 8 | 4;
  readonly mode: "dynamic" | "static" | "weight-only";
  readonly group: number | null;

  constructor(args: QuantizedDenseArgs) {
    super({ ...args, trainable: false });
    this.units = checkInt(this.name, "units", args?.units);
    this.inFeatures = checkInt(this.name, "inFeatures", args?.inFeatures);
    this.activation = getActivation(args.activation, this.name);
    this.useBias = args.useBias ?? true;
    if (args.bits !== 8 && args.bits !== 4) throw new ValueError(`${this.name}: bits must be 8 or 4, got ${JSON.stringify(args.bits)}`);
    this.bits = args.bits;
    this.mode = args.bits === 4 ? "weight-only" : args.mode === "static" ? "static" : "dynamic";
    this.group = args.bits === 4 ? (args.group ?? 32) : null;
    const [N, K] = [this.units, this.inFeatures];
    if (this.bits === 8) {
      this.registerBuffer("kernel", zeros("int8", [N, K]));
      this.registerBuffer("kernel_scale", zeros("float32", [N]));
      this.registerBuffer("kernel_zero_point", null);
    } else {
      checkInt4Group(this.name, K, this.group!);
      const G = K / this.group!;
      this.registerBuffer("kernel", zeros("uint8", [N, K / 2]));
      this.registerBuffer("kernel_scale", zeros("float32", [N, G]));
      this.registerBuffer("kernel_zero_point", zeros("uint8", [N, Math.ceil(G / 2)]));
    }
    this.registerBuffer("bias", this.useBias ? zeros("float32", [N]) : null);
    this.registerBuffer("input_scale", this.mode === "static" ? zeros("float32", []) : null);
    this.inputSpec = { minNdim: 2, axes: { [-1]: K } };
  }

  /** The quantized twin of a built Dense layer (same name, activation and bias). */
  static fromDense(d: Dense, opts: { bits: 8 | 4; group?: number; actScale?: number | null }): QuantizedDense {
    if (!d.kernel) throw new ValueError(`quantize: layer '${d.name}' is not built yet; build the model (give it an inputShape or run it once) first`);
    const [K, N] = d.kernel.shape;
    const q = new QuantizedDense({
      name: d.name,
      units: N,
      inFeatures: K,
      activation: activationConfig(d, d.activation) as ActivationId,
      useBias: d.useBias,
      bits: opts.bits,
      mode: opts.bits === 4 ? "weight-only" : opts.actScale ? "static" : "dynamic",
      group: opts.group,
      ...(d.batchInputShape ? { batchInputShape: d.batchInputShape } : {}),
    });
    const w = transpose(d.kernel.detach(), 0, 1); // [in, units] → [units, in]: one row per output channel
    if (opts.bits === 8) {
      const p = quantizeWeightInt8(w);
      q.kernel = p.q;
      q.kernel_scale = p.scale;
    } else {
      const p = quantizeWeightInt4(w, q.group!, d.name);
      q.kernel = p.q;
      q.kernel_scale = p.scale;
      q.kernel_zero_point = p.zero;
    }
    if (d.bias) q.bias = to(d.bias.detach(), "float32").clone();
    if (opts.actScale) q.input_scale = new Tensor(new Storage("float32", Float32Array.of(opts.actScale)), []);
    q.inputShapeSeen = d.inputShapeSeen;
    q.outputShapeSeen = d.outputShapeSeen;
    q.built = true;
    return q;
  }

  computeOutputShape(s: Shape | Shape[]): Shape {
    return [...single(this, s).slice(0, -1), this.units];
  }

  protected compute(inputs: Tensor | Tensor[]): Tensor {
    const x0 = singleTensor(this, inputs);
    if (x0.dtype !== "float32" && x0.dtype !== "float64" && x0.dtype !== "int32")
      throw new DTypeError(`${this.name}: input has dtype ${x0.dtype}; expected a float tensor`);
    const x = x0.dtype === "float32" ? x0 : to(x0, "float32");
    const y =
      this.bits === 8
        ? int8Linear(x, this.kernel, this.kernel_scale, this.bias, { actScale: this.input_scale ? this.input_scale.item() : null })
        : int4Linear(x, this.kernel, this.kernel_scale, this.kernel_zero_point!, this.bias, { group: this.group! });
    return this.activation.fn(y);
  }

  quantizationInfo(): LayerQuantization {
    return {
      bits: this.bits,
      mode: this.mode,
      ...(this.group ? { group: this.group } : {}),
      inFeatures: this.inFeatures,
      outFeatures: this.units,
      bias: this.useBias,
    };
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      units: this.units,
      inFeatures: this.inFeatures,
      activation: activationConfig(this, this.activation),
      useBias: this.useBias,
      bits: this.bits,
      mode: this.mode,
      ...(this.group ? { group: this.group } : {}),
    };
  }
}

registerLayerClass(QuantizedDense);
