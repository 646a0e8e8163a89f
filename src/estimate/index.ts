// ingot.estimate: parameters, FLOPs, memory, time and cost of training or serving a model, by formula
// (see docs/estimator.md); `ingot estimate` is its command line.
export { estimate, DEFAULT_UTILIZATION, TOKENS_PER_PARAMETER, DTYPE_BYTES, type Estimate, type EstimateOptions, type ModelSource, type MemoryBreakdown, type InferenceMemory } from "./estimate.js";
export { DEVICES, getDevice, deviceNames, peakFlops, measuredCpuGflops, COMPUTE_DTYPES, type ComputeDType, type Device } from "./devices.js";
export { PRESETS, getPreset, type Preset } from "./presets.js";
export { kerasEstimate, type KerasEstimate, type KerasLayerEstimate } from "./keras.js";
export { fromConfigFile, fromModelDir, fromPreset, specFromConfig } from "./source.js";
export {
  bertSpec,
  gptSpec,
  llamaSpec,
  transformerParams,
  transformerFlops,
  layerActivationBytes,
  trainActivationBytes,
  kvCacheBytes,
  inferenceActivationBytes,
  type TransformerSpec,
  type ParamBreakdown,
  type FlopsPerToken,
  type LlamaConfig,
} from "./transformer.js";
