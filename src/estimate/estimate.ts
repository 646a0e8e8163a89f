// The estimate itself: parameters, FLOPs per token (per sample for keras models), training and
// inference memory, and time and cost on a device at an assumed utilization. Every formula is in
// docs/estimator.md with its source.
import { ValueError } from "../tensor/index.js";
import { type ComputeDType, type Device, getDevice, peakFlops } from "./devices.js";
import type { KerasEstimate } from "./keras.js";
import { inferenceActivationBytes, kvCacheBytes, trainActivationBytes, transformerFlops, transformerParams, type TransformerSpec } from "./transformer.js";

/** What is estimated: a transformer spec or a walked keras config, with the count of a loaded model when there is one. */
export interface ModelSource {
  /** How the model was named (a folder, a preset, a config file). */
  label: string;
  spec: TransformerSpec | KerasEstimate;
  /** Parameters of the model loaded from its folder (total, trainable), when a folder was given. */
  loaded: { total: number; trainable: number } | null;
  /** Micro-batch the memory estimate uses unless overridden. */
  batch: number;
}

export interface EstimateOptions {
  /** Tokens (samples for keras models) to train on; default 20 × parameters for transformers (Hoffmann et al. 2022), 60 000 samples for keras models. */
  tokens?: number;
  batch?: number;
  /** Sequence length T; default the model's context. */
  seq?: number;
  device?: string;
  /** Fraction of the device's peak reached; default 0.4. */
  utilization?: number;
  /** USD per device-hour; default the device table's assumed price. */
  pricePerHour?: number;
  /** Default bf16, or fp32 on a device that lists no bf16 peak (the CPU). */
  dtype?: ComputeDType;
  /** Full activation recomputation (checkpoint each layer's input). */
  recompute?: boolean;
}

/** The default utilization: a model-FLOPs utilization of 40 % (PaLM reached 46.2 %, GPT-3 21.3 %, Chowdhery et al. 2022 table 3). */
export const DEFAULT_UTILIZATION = 0.4;
/** Hoffmann et al. 2022 (Chinchilla): compute-optimal training uses about 20 tokens per parameter. */
export const TOKENS_PER_PARAMETER = 20;
export const DEFAULT_KERAS_SAMPLES = 60_000;

/** Bytes of one value in a dtype. */
export const DTYPE_BYTES: Record<ComputeDType, number> = { fp32: 4, tf32: 4, bf16: 2, int8: 1 };

export interface MemoryBreakdown {
  weights: number;
  gradients: number;
  /** fp32 copy of the weights that mixed precision keeps for the update (Micikevicius et al. 2018). */
  master_weights: number;
  /** Adam's two fp32 moments. */
  optimizer: number;
  activations: number;
  total: number;
}

export interface InferenceMemory {
  weights: number;
  kv_cache: number;
  activations: number;
  total: number;
}

export interface Estimate {
  model: string;
  kind: "transformer" | "keras";
  family: string;
  /** "token" for language models, "sample" for keras models. */
  unit: "token" | "sample";
  /** The model's parameters: the loaded folder's count when a folder was given, else the formula's. */
  parameters: number;
  trainable_parameters: number;
  parameters_formula: number;
  parameters_loaded: number | null;
  /** Kaplan et al.'s non-embedding N and the matmul N of PaLM's formula (transformers). */
  non_embedding_parameters: number | null;
  compute_parameters: number | null;
  tokens: number;
  batch: number;
  seq: number | null;
  dtype: ComputeDType;
  recompute: boolean;
  train_flops_per_token: number;
  inference_flops_per_token: number;
  /** Executed FLOPs per token: train_flops_per_token plus one more forward with --recompute. */
  hardware_flops_per_token: number;
  flops_formulas: { kaplan_train: number; kaplan_forward: number; palm_train: number } | null;
  total_train_flops: number;
  train_memory: MemoryBreakdown;
  train_memory_bytes: number;
  inference_memory: InferenceMemory;
  inference_memory_bytes: number;
  device: { name: string; description: string; peak_flops: number; peak_dtype: ComputeDType; memory_bytes: number; bandwidth: number | null; source: string };
  utilization: number;
  utilization_assumed: boolean;
  seconds: number;
  hours: number;
  price_per_hour: number;
  price_assumed: boolean;
  cost: number;
  fits_train: boolean;
  fits_inference: boolean;
  /** Generation throughput at the batch (roofline: compute at the utilization, or reading weights and KV cache at full bandwidth); language models only. */
  inference_tokens_per_second: number | null;
  notes: string[];
}

function check(name: string, v: number | undefined, ok: (v: number) => boolean, what: string): void {
  if (v !== undefined && !(Number.isFinite(v) && ok(v))) throw new ValueError(`estimate: ${name} must be ${what}, got ${v}`);
}

/** Estimates training and serving a model; throws a ValueError naming a bad option. */
export function estimate(src: ModelSource, opts: EstimateOptions = {}): Estimate {
  check("--tokens", opts.tokens, (v) => v > 0, "a positive number of tokens (e.g. 10e9 or 10B)");
  check("--batch", opts.batch, (v) => Number.isInteger(v) && v >= 1, "a positive integer");
  check("--seq", opts.seq, (v) => Number.isInteger(v) && v >= 1, "a positive integer");
  check("--utilization", opts.utilization, (v) => v > 0 && v <= 1, "in (0, 1], a fraction of the device's peak (e.g. 0.4)");
  check("--price-per-hour", opts.pricePerHour, (v) => v >= 0, "a non-negative price in USD");
  const device: Device = getDevice(opts.device ?? "h100");
  // bf16 mixed precision on accelerators; fp32 on a device without a bf16 peak (the CPU: Ingot computes in fp32 there).
  const dtype = opts.dtype ?? (device.peakTflops.bf16 === null ? "fp32" : "bf16");
  if (!(dtype in DTYPE_BYTES)) throw new ValueError(`estimate: --dtype must be one of fp32, tf32, bf16, int8, got '${dtype}'`);
  const peak = peakFlops(device, dtype);
  const notes: string[] = [];
  if (peak.note) notes.push(peak.note);
  const recompute = opts.recompute ?? false;
  const batch = opts.batch ?? src.batch;
  const w = DTYPE_BYTES[dtype];
  const spec = src.spec;

  let formulaTotal: number;
  let formulaTrainable: number;
  let trainFlops: number;
  let forwardFlops: number;
  let hwFlops: number;
  let activations: number;
  let kv = 0;
  let inferAct: number;
  let seq: number | null = null;
  let nonEmbedding: number | null = null;
  let computeParams: number | null = null;
  let formulas: Estimate["flops_formulas"] = null;
  let family: string;
  if (spec.kind === "transformer") {
    seq = opts.seq ?? spec.contextLength;
    if (spec.maxPositions > 0 && seq > spec.maxPositions)
      throw new ValueError(`estimate: --seq ${seq} exceeds the model's ${spec.maxPositions} learned positions; pass --seq ${spec.maxPositions} or less`);
    const p = transformerParams(spec);
    const f = transformerFlops(spec, seq);
    formulaTotal = formulaTrainable = p.total;
    nonEmbedding = p.nonEmbedding;
    computeParams = p.compute;
    forwardFlops = f.forward;
    trainFlops = f.train;
    hwFlops = recompute ? f.train + f.forward : f.train;
    formulas = { kaplan_train: f.kaplan.train, kaplan_forward: f.kaplan.forward, palm_train: f.palm.train };
    activations = trainActivationBytes(spec, seq, batch, w, recompute);
    kv = kvCacheBytes(spec, seq, batch, w);
    inferAct = inferenceActivationBytes(spec, seq, batch, w);
    family = spec.family;
  } else {
    if (opts.seq !== undefined) throw new ValueError(`estimate: --seq applies to sequence models; a keras model's sizes come from its config`);
    formulaTotal = spec.params;
    formulaTrainable = spec.trainable;
    forwardFlops = spec.flops;
    trainFlops = 3 * spec.flops;
    hwFlops = trainFlops;
    activations = spec.activationValues * batch * w;
    inferAct = 2 * spec.maxLayerValues * batch * w;
    family = spec.className;
    if (recompute) notes.push("--recompute applies to transformer layers; the keras estimate keeps every layer output");
  }
  const total = src.loaded?.total ?? formulaTotal;
  const trainable = src.loaded?.trainable ?? formulaTrainable;
  if (src.loaded && src.loaded.total !== formulaTotal)
    notes.push(`the loaded model has ${src.loaded.total} parameters but the formula gives ${formulaTotal}; the loaded count is used`);

  const masterBytes = w < 4 ? 4 : 0;
  const gradBytes = Math.min(w, 4) === 1 ? 2 : w; // int8 training keeps bf16 gradients
  const train: MemoryBreakdown = {
    weights: total * w,
    gradients: trainable * gradBytes,
    master_weights: trainable * masterBytes,
    optimizer: trainable * 8,
    activations,
    total: 0,
  };
  train.total = train.weights + train.gradients + train.master_weights + train.optimizer + train.activations;
  const infer: InferenceMemory = { weights: total * w, kv_cache: kv, activations: inferAct, total: 0 };
  infer.total = infer.weights + infer.kv_cache + infer.activations;

  const unit = spec.kind === "transformer" ? "token" : "sample";
  const tokens = opts.tokens ?? (spec.kind === "transformer" ? TOKENS_PER_PARAMETER * total : DEFAULT_KERAS_SAMPLES);
  const utilization = opts.utilization ?? DEFAULT_UTILIZATION;
  const seconds = (tokens * hwFlops) / (peak.flops * utilization);
  const pricePerHour = opts.pricePerHour ?? device.pricePerHour;
  let tps: number | null = null;
  if (spec.kind === "transformer" && spec.causal) {
    const computeS = (batch * forwardFlops) / (peak.flops * utilization);
    const memoryS = device.bandwidth ? (infer.weights + infer.kv_cache) / device.bandwidth : 0;
    tps = batch / Math.max(computeS, memoryS);
  }
  return {
    model: src.label,
    kind: spec.kind,
    family,
    unit,
    parameters: total,
    trainable_parameters: trainable,
    parameters_formula: formulaTotal,
    parameters_loaded: src.loaded?.total ?? null,
    non_embedding_parameters: nonEmbedding,
    compute_parameters: computeParams,
    tokens,
    batch,
    seq,
    dtype,
    recompute,
    train_flops_per_token: trainFlops,
    inference_flops_per_token: forwardFlops,
    hardware_flops_per_token: hwFlops,
    flops_formulas: formulas,
    total_train_flops: tokens * trainFlops,
    train_memory: train,
    train_memory_bytes: train.total,
    inference_memory: infer,
    inference_memory_bytes: infer.total,
    device: { name: device.name, description: device.description, peak_flops: peak.flops, peak_dtype: peak.used, memory_bytes: device.memoryBytes, bandwidth: device.bandwidth, source: device.source },
    utilization,
    utilization_assumed: opts.utilization === undefined,
    seconds,
    hours: seconds / 3600,
    price_per_hour: pricePerHour,
    price_assumed: opts.pricePerHour === undefined,
    cost: (seconds / 3600) * pricePerHour,
    fits_train: train.total <= device.memoryBytes,
    fits_inference: infer.total <= device.memoryBytes,
    inference_tokens_per_second: tps,
    notes,
  };
}
