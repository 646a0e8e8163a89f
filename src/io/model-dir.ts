// Model folders: config.json (architecture), model.safetensors (weights), card.json (metrics and
// lineage). Every file is written to a temporary name and renamed, so a crash never leaves a
// half-written model; loading reads data only and never runs code from the folder.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IngotError, type Tensor } from "../tensor/index.js";
import { loadSafetensors, saveSafetensors } from "./safetensors.js";

export interface SavedModel {
  config: Record<string, unknown>;
  weights: Record<string, Tensor>;
  card: Record<string, unknown>;
}

function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + "\n");
  renameSync(tmp, path);
}

/** Writes a model folder: weights first, then config and card (the config's presence marks a complete model). */
export function saveModelDir(dir: string, model: SavedModel): void {
  mkdirSync(dir, { recursive: true });
  saveSafetensors(join(dir, "model.safetensors"), model.weights, { format: "pt" });
  writeJsonAtomic(join(dir, "card.json"), model.card);
  writeJsonAtomic(join(dir, "config.json"), model.config);
}

/** Reads a model folder written by saveModelDir. */
export function loadModelDir(dir: string): SavedModel {
  const cfg = join(dir, "config.json");
  if (!existsSync(cfg)) throw new IngotError(`loadModelDir: ${dir} has no config.json; is it a model folder written by Ingot?`);
  const config = JSON.parse(readFileSync(cfg, "utf8")) as Record<string, unknown>;
  const weightsPath = join(dir, "model.safetensors");
  if (!existsSync(weightsPath)) throw new IngotError(`loadModelDir: ${dir} has no model.safetensors`);
  const { tensors } = loadSafetensors(weightsPath);
  const cardPath = join(dir, "card.json");
  const card = existsSync(cardPath) ? (JSON.parse(readFileSync(cardPath, "utf8")) as Record<string, unknown>) : {};
  return { config, weights: tensors, card };
}
