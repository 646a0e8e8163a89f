// Writing a Keras model folder: config.json (the architecture as layer configs, enough to rebuild
// the model without running code), model.safetensors (weights by name) and card.json.
import { saveModelDir } from "../io/index.js";
import { VERSION } from "../version.js";
import type { Model } from "./model.js";

/** Marks config.json files written by ingot.keras. */
export const CONFIG_FORMAT = "ingot.keras";
export const CONFIG_VERSION = 1;

export interface SaveOptions {
  /** Extra card.json fields (dataset, command, seed, metrics, …); merged over the defaults. */
  card?: Record<string, unknown>;
}

/**
 * The `quantization` block of config.json when compress.quantize replaced layers (each quantized
 * layer describes itself with quantizationInfo()); the layers themselves rebuild from their configs.
 */
function quantizationOf(m: Model): Record<string, unknown> | null {
  const layers: Record<string, unknown> = {};
  for (const [name, l] of m.namedModules()) {
    const info = (l as { quantizationInfo?: () => unknown }).quantizationInfo?.();
    if (info) layers[name] = info;
  }
  return Object.keys(layers).length ? { format: "ingot.quantization", version: 1, layers } : null;
}

/** The model's config.json content. */
export function modelConfig(m: Model): Record<string, unknown> {
  const quantization = quantizationOf(m);
  return {
    format: CONFIG_FORMAT,
    formatVersion: CONFIG_VERSION,
    className: m.className,
    config: m.getConfig(),
    // The compile settings when they are names (a loss or metric function cannot be saved).
    compile: m.compiled?.config ?? null,
    ...(quantization ? { quantization } : {}),
  };
}

/** Writes the model folder; each file is written to a temporary name and renamed into place. */
export function saveModel(m: Model, dir: string, opts: SaveOptions = {}): void {
  const config = modelConfig(m);
  const card = {
    framework: "ingot",
    version: VERSION,
    api: "keras",
    className: m.className,
    name: m.name,
    params: { total: m.countParams(), trainable: m.countTrainableParams() },
    ...(m.lastLogs ? { metrics: m.lastLogs, epochs: m.history?.epoch.length ?? null } : {}),
    saved: new Date().toISOString(),
    ...opts.card,
  };
  saveModelDir(dir, { config, weights: m.stateDict(), card });
}
