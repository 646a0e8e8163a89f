// compress.quantize: int8 (dynamic or static, integer GEMM) and int4 weight-only (group-wise, fused
// dequantizing GEMM/GEMV) quantization of nn models and keras Sequential models, in place; the
// `quantization` block of config.json; and rebuilding a quantized GPT's layers on load.
import { type Tensor, ValueError } from "../tensor/index.js";
import { noGrad } from "../autograd/index.js";
import { Module } from "../nn/module.js";
import { Linear } from "../nn/linear.js";
import { Dense } from "../keras/layers/core.js";
import { Int4Linear, type LayerQuantization, QuantizedLinear } from "./quant-linear.js";
import { QuantizedDense } from "./quant-keras.js";
import { type Calibration, calibrate, makeObserver, type ObserverName } from "./quant-observe.js";
import { moduleAt, quantTargets, replaceModule } from "./quant-util.js";
import { checkInt4Group } from "./quant-pack.js";

export { QuantizedLinear, Int4Linear, type LayerQuantization } from "./quant-linear.js";
export { QuantizedDense, type QuantizedDenseArgs } from "./quant-keras.js";
export { MinMaxObserver, PercentileObserver, type Observer, type PercentileObserverOptions, type Calibration, calibrate } from "./quant-observe.js";
export { QATLinear, prepareQAT, convertQAT, type PrepareQATOptions, type ConvertQATOptions } from "./quant-qat.js";
export { quantizeWeightInt8, quantizeWeightInt4, dequantizeInt8, dequantizeInt4, type Int8Weight, type Int4Weight } from "./quant-pack.js";

export interface QuantizeOptions {
  /** 8: int8 weights and activations (integer GEMM); 4: int4 weights, float activations. */
  bits: 8 | 4;
  /** int4: weights per group along the input features (default 32). */
  group?: 32 | 64 | 128;
  /** int8: 'dynamic' (default; activation scales per row at run time) or 'static' (scales fixed by calibration). */
  mode?: "dynamic" | "static";
  /** Inputs for static calibration: a tensor (run in batches of 256) or an iterable of batches. */
  calibration?: Calibration;
  /** How static calibration turns the activations it saw into a range (default 'minmax'). */
  observer?: ObserverName;
  /** The percentile observer's percentile of |x| (default 99.99). */
  percentile?: number;
  /** Layers (dotted names) to keep in float. */
  skip?: string[];
}

/** The `quantization` block of config.json: one entry per quantized layer. */
export interface QuantizationBlock {
  format: "ingot.quantization";
  version: 1;
  layers: Record<string, LayerQuantization>;
}

function checkOptions(opts: QuantizeOptions): void {
  if (!opts || (opts.bits !== 8 && opts.bits !== 4)) throw new ValueError(`quantize: bits must be 8 or 4, got ${JSON.stringify(opts?.bits)}`);
  if (opts.bits === 8 && opts.group !== undefined) throw new ValueError("quantize: group applies to int4 only (int8 weights have one scale per output channel); drop it or use bits: 4");
  if (opts.bits === 4 && opts.mode !== undefined)
    throw new ValueError(`quantize: int4 is weight-only (activations stay float), so mode '${opts.mode}' does not apply; drop mode or use bits: 8`);
  if (opts.mode !== undefined && opts.mode !== "dynamic" && opts.mode !== "static") throw new ValueError(`quantize: mode must be 'dynamic' or 'static', got ${JSON.stringify(opts.mode)}`);
  if (opts.mode === "static" && !opts.calibration) throw new ValueError("quantize: mode 'static' needs calibration data: pass {calibration: inputs} (a tensor or an iterable of batches)");
  if (opts.mode !== "static" && (opts.calibration || opts.observer))
    throw new ValueError("quantize: calibration and observer apply to mode 'static'; add mode: 'static' or drop them");
}

/**
 * Quantizes a model in place and returns it: every nn.Linear becomes a QuantizedLinear (int8) or
 * an Int4Linear (int4), every keras Dense a QuantizedDense. Tied weights (GPT's head, which is the
 * token embedding) and the layers in `skip` stay float. The result saves into its model folder
 * (model.save / saveGPT) and loads back with keras.loadModel / loadGPT.
 * @example compress.quantize(model, { bits: 8 }); model.save('out/mnist-int8');
 * @example compress.quantize(gpt, { bits: 4, group: 32 });
 * @example compress.quantize(model, { bits: 8, mode: 'static', calibration: xTrain.slice(0, 0, 1024), observer: 'percentile' });
 */
export function quantize<M extends Module>(model: M, opts: QuantizeOptions): M {
  if (!(model instanceof Module)) throw new ValueError("quantize: expected an nn module or a keras model");
  checkOptions(opts);
  const targets = quantTargets(model, opts.skip);
  if (!targets.length) throw new ValueError("quantize: the model has no float Linear or Dense layer to quantize (already quantized?)");
  const group = opts.bits === 4 ? (opts.group ?? 32) : undefined;
  // Check every layer before changing any, so an error leaves the model as it was.
  if (group !== undefined)
    for (const [name, m] of targets) checkInt4Group(name, m instanceof Linear ? m.inFeatures : m.kernel!.shape[0], group);
  let scales: Map<string, number> | null = null;
  if (opts.mode === "static") {
    const obs = calibrate(model, targets, opts.calibration!, () => makeObserver(opts.observer, opts.percentile));
    scales = new Map([...obs].map(([n, o]) => [n, o.scale()]));
  }
  noGrad(() => {
    for (const [name, m] of targets) {
      const actScale = scales?.get(name) ?? null;
      let q: Module;
      if (m instanceof Dense) q = QuantizedDense.fromDense(m, { bits: opts.bits, group, actScale });
      else if (opts.bits === 8) q = QuantizedLinear.fromLinear(m.weight.detach(), m.bias?.detach() ?? null, actScale);
      else q = Int4Linear.fromLinear(m.weight.detach(), m.bias?.detach() ?? null, group!, name);
      q.training = m.training;
      replaceModule(model, name, q);
    }
  });
  return model;
}

/** The quantization block of a model (null when nothing in it is quantized). */
export function quantizationBlock(model: Module): QuantizationBlock | null {
  const layers: Record<string, LayerQuantization> = {};
  for (const [name, m] of model.namedModules()) {
    const info = (m as { quantizationInfo?: () => LayerQuantization }).quantizationInfo?.();
    if (info) layers[name] = info;
  }
  return Object.keys(layers).length ? { format: "ingot.quantization", version: 1, layers } : null;
}

/**
 * Turns the float nn.Linear layers named in a saved quantization block into empty quantized layers
 * of the recorded shapes, so that the folder's packed weights load into them (used by loadGPT).
 */
export function restoreQuantization(model: Module, block: unknown, where = "config.json"): void {
  const b = block as QuantizationBlock;
  if (!b || typeof b !== "object" || b.format !== "ingot.quantization" || typeof b.layers !== "object")
    throw new ValueError(`${where}: the quantization block is not one Ingot wrote (expected {format: 'ingot.quantization', layers}); got ${JSON.stringify(block)?.slice(0, 120)}`);
  if (b.version !== 1) throw new ValueError(`${where}: quantization block version ${JSON.stringify(b.version)} is newer than this Ingot reads (1); update Ingot`);
  for (const [name, info] of Object.entries(b.layers)) {
    const m = moduleAt(model, name);
    if (!(m instanceof Linear)) throw new ValueError(`${where}: the quantization block names layer '${name}', which is not a Linear of this model`);
    if (m.inFeatures !== info.inFeatures || m.outFeatures !== info.outFeatures)
      throw new ValueError(`${where}: layer '${name}' is [${m.outFeatures},${m.inFeatures}] but the quantization block says [${info.outFeatures},${info.inFeatures}]`);
    let q: Module;
    if (info.bits === 8) q = new QuantizedLinear(info.inFeatures, info.outFeatures, { bias: info.bias, mode: info.mode === "static" ? "static" : "dynamic" });
    else if (info.bits === 4) q = new Int4Linear(info.inFeatures, info.outFeatures, info.group ?? 32, { bias: info.bias, name });
    else throw new ValueError(`${where}: layer '${name}' has bits ${JSON.stringify((info as { bits: unknown }).bits)}; expected 8 or 4`);
    q.training = m.training;
    replaceModule(model, name, q);
  }
}

/** Bytes of a model's parameters and buffers as stored (packed int4 counts half a byte per weight). */
export function modelBytes(model: Module): number {
  const seen = new Set<Tensor>();
  let n = 0;
  for (const [, t] of [...model.namedParameters(), ...model.namedBuffers()]) {
    if (seen.has(t)) continue;
    seen.add(t);
    n += t.storage.data.BYTES_PER_ELEMENT * t.size;
  }
  return n;
}
