// Training checkpoints: a GPT model folder (saveGPT) plus the optimizer's moments
// (optimizer.safetensors) and the trainer's state (trainer-state.json), replaced as a whole.
//
// Atomicity: the new checkpoint is written complete into `<dir>.tmp-<pid>`, then `<dir>` is renamed
// to `<dir>.prev`, the new folder to `<dir>`, and `<dir>.prev` is removed. A crash at any point
// leaves either `<dir>` complete (old or new) or, between the two renames, `<dir>.prev` complete;
// findCheckpoint looks at both. A folder is never half-written.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IngotError, Tensor } from "../tensor/index.js";
import { loadSafetensors, saveSafetensors } from "../io/safetensors.js";
import type { Optimizer, OptimizerState, OptimizerStateDict } from "../optim/index.js";
import { type GPT, type LoadedGPT, loadGPT, saveGPT } from "../models/index.js";
import type { Tokenizer } from "../text/index.js";

/** The trainer-state file's name; its presence (with config.json) marks a resumable checkpoint. */
export const TRAINER_STATE_FILE = "trainer-state.json";
export const OPTIMIZER_FILE = "optimizer.safetensors";

/** One evaluation: the estimated losses at an iteration. */
export interface EvalRecord {
  iter: number;
  train_loss: number;
  val_loss: number;
  lr: number;
}

/** What the trainer needs, besides weights and optimizer moments, to continue where it stopped. */
export interface TrainerState {
  /** The next iteration to run (the number of optimizer steps taken). */
  iter: number;
  /** Every evaluation so far. */
  history: EvalRecord[];
  /** Training tokens processed and seconds spent so far (for tokens/s across resumes). */
  tokens: number;
  seconds: number;
  /** The options the run was started with (checked on resume). */
  options: Record<string, unknown>;
}

export interface SaveCheckpointOptions {
  model: GPT;
  optimizer: Optimizer<any>;
  state: TrainerState;
  tokenizer?: Tokenizer;
  card?: Record<string, unknown>;
  extraConfig?: Record<string, unknown>;
}

export interface LoadedCheckpoint extends LoadedGPT {
  /** The folder it was read from (`dir`, or `dir.prev` after a crash between renames). */
  dir: string;
  optimizer: OptimizerStateDict;
  state: TrainerState;
}

/** Writes a checkpoint folder at `dir`, replacing any previous one only once the new one is complete. */
export function saveCheckpoint(dir: string, o: SaveCheckpointOptions): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  const prev = `${dir}.prev`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    saveGPT(tmp, o.model, { tokenizer: o.tokenizer, card: o.card, extraConfig: o.extraConfig });
    const { tensors, meta } = splitOptimizerState(o.optimizer.stateDict());
    saveSafetensors(join(tmp, OPTIMIZER_FILE), tensors);
    writeFileSync(join(tmp, TRAINER_STATE_FILE), JSON.stringify({ ...o.state, optimizer: meta }) + "\n");
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  // A `.prev` left by an earlier crash is complete, but `dir` is newer when both exist.
  if (existsSync(dir)) {
    rmSync(prev, { recursive: true, force: true });
    renameSync(dir, prev);
  }
  renameSync(tmp, dir);
  rmSync(prev, { recursive: true, force: true });
}

/** The folder holding the latest complete checkpoint for `dir` (`dir` itself or `dir.prev`), or null. */
export function findCheckpoint(dir: string): string | null {
  for (const d of [dir, `${dir}.prev`]) if (existsSync(join(d, TRAINER_STATE_FILE)) && existsSync(join(d, "config.json"))) return d;
  return null;
}

/** Reads a checkpoint written by saveCheckpoint: the model (see loadGPT), the optimizer's state dict and the trainer's state. */
export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const found = findCheckpoint(dir);
  if (!found) throw new IngotError(`loadCheckpoint: ${dir} holds no training checkpoint (no ${TRAINER_STATE_FILE}); train without resume first`);
  const loaded = loadGPT(found);
  const { optimizer: meta, ...state } = JSON.parse(readFileSync(join(found, TRAINER_STATE_FILE), "utf8")) as TrainerState & { optimizer: OptimizerMeta };
  const { tensors } = loadSafetensors(join(found, OPTIMIZER_FILE));
  return { ...loaded, dir: found, optimizer: joinOptimizerState(meta, tensors), state };
}

/** The optimizer state dict's numbers and groups (JSON) apart from its tensors (safetensors `<param>.<key>`). */
interface OptimizerMeta {
  paramGroups: OptimizerStateDict["paramGroups"];
  scalars: Record<string, Record<string, number>>;
}

function splitOptimizerState(sd: OptimizerStateDict): { tensors: Record<string, Tensor>; meta: OptimizerMeta } {
  const tensors: Record<string, Tensor> = {};
  const scalars: OptimizerMeta["scalars"] = {};
  for (const [i, s] of Object.entries(sd.state))
    for (const [k, v] of Object.entries(s)) {
      if (v instanceof Tensor) tensors[`${i}.${k}`] = v;
      else (scalars[i] ??= {})[k] = v;
    }
  return { tensors, meta: { paramGroups: sd.paramGroups, scalars } };
}

function joinOptimizerState(meta: OptimizerMeta, tensors: Record<string, Tensor>): OptimizerStateDict {
  const state: Record<number, OptimizerState> = {};
  for (const [i, s] of Object.entries(meta.scalars)) state[Number(i)] = { ...s };
  for (const [name, t] of Object.entries(tensors)) {
    const dot = name.indexOf(".");
    (state[Number(name.slice(0, dot))] ??= {})[name.slice(dot + 1)] = t;
  }
  return { state, paramGroups: meta.paramGroups };
}
