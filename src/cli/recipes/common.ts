// What the `ingot train` recipes share: their options and results, finding a dataset from --data or
// INGOT_DATA (the data root or the dataset folder itself), and the preprocessing that card.json
// records so `ingot eval` repeats it exactly.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import * as ingot from "../../index.js";

/** A mistake in the command line (exit code 2); the message is printed as it is. */
export class UsageError extends Error {}

/** An error the user can fix (missing data, a folder that is not a model); printed without a stack. */
export class CliError extends Error {}

/** Where progress goes: stdout for humans, stderr with --json (stdout then carries only the JSON). */
export interface Log {
  write(s: string): unknown;
  isTTY?: boolean;
}

/** What `ingot train` passes to a recipe (defaults already filled in). */
export interface TrainOptions {
  dataset: string;
  /** --data: the data root or the dataset folder (default INGOT_DATA). */
  data?: string;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  out: string;
  /** Train on the first N training samples only (quick runs and tests). */
  limit: number | null;
  /** Evaluate on the first N test samples only. */
  testLimit: number | null;
  /** Fetch a missing MNIST/Fashion-MNIST into the cache. */
  download: boolean;
  json: boolean;
  /** The command line, for card.json. */
  command: string;
  log: Log;
  /** --dp-epsilon: train with DP-SGD (src/privacy) spending this budget; null/absent: ordinary training. */
  dp?: { targetEpsilon: number; targetDelta: number; maxGradNorm: number } | null;
}

/** One row of the per-epoch table. */
export type EpochRow = Record<string, number>;

/** What a recipe reports; `ingot train --json` prints it (snake_case keys, as card.json). */
export interface TrainResult {
  recipe: string;
  dataset: string;
  epochs: number;
  batch_size: number;
  lr: number;
  seed: number;
  train_samples: number;
  test_samples: number;
  train_loss: number;
  train_accuracy?: number;
  test_loss: number;
  test_accuracy?: number;
  seconds: number;
  samples_per_second: number;
  params: number;
  backend: string;
  out: string;
  /** Per-epoch logs (not printed in the JSON line). */
  history: EpochRow[];
  /** --dp-epsilon: the privacy spent (ε, δ, σ, …), as in card.json. */
  privacy?: Record<string, unknown>;
  /** Processes that trained it (`ingot train --nproc`); absent for one. */
  world_size?: number;
}

/** What `ingot eval` computes. */
export interface EvalResult {
  test_loss: number;
  test_accuracy?: number;
  test_samples: number;
}

export interface Recipe {
  name: string;
  summary: string;
  datasets: readonly string[];
  defaults: { dataset: string; epochs: number; batchSize: number; lr: number };
  train(opts: TrainOptions): Promise<TrainResult>;
}

/** The image datasets the recipes read. */
export const IMAGE_DATASETS = {
  mnist: { title: "MNIST", folder: "mnist", shape: [28, 28, 1], classes: 10 },
  "fashion-mnist": { title: "Fashion-MNIST", folder: "fashion-mnist", shape: [28, 28, 1], classes: 10 },
  cifar10: { title: "CIFAR-10", folder: "cifar10", shape: [32, 32, 3], classes: 10 },
} as const;
export type ImageDatasetName = keyof typeof IMAGE_DATASETS;

export function isImageDataset(name: string): name is ImageDatasetName {
  return Object.hasOwn(IMAGE_DATASETS, name);
}

/** Whether a folder holds the dataset's files (the training images, or CIFAR's first batch). */
function holds(name: ImageDatasetName, dir: string): boolean {
  if (name === "cifar10") return existsSync(join(dir, "data_batch_1.bin")) || existsSync(join(dir, "cifar-10-batches-bin", "data_batch_1.bin"));
  return existsSync(join(dir, "train-images-idx3-ubyte.gz")) || existsSync(join(dir, "train-images-idx3-ubyte"));
}

/**
 * The folder holding a dataset: --data when it is the dataset folder itself, else <--data>/<name>,
 * else INGOT_DATA/<name>. Throws an error naming INGOT_DATA and --data when the files are absent
 * (unless `allowMissing`, for --download, which fills the cache).
 */
export function datasetDir(cmd: string, name: ImageDatasetName, data: string | undefined, allowMissing = false): string {
  const { title, folder } = IMAGE_DATASETS[name];
  const root = data ?? process.env.INGOT_DATA;
  if (!root) {
    if (allowMissing) return join(ingot.data.cacheDir(), folder);
    throw new CliError(`${cmd}: no dataset folder for ${title}; set INGOT_DATA to the folder holding ${folder}/ (e.g. INGOT_DATA=../shared/data) or pass --data DIR`);
  }
  const tried = data !== undefined ? [root, join(root, folder)] : [join(root, folder)];
  const found = tried.find((d) => holds(name, d));
  if (found) return resolve(found);
  const cache = join(ingot.data.cacheDir(), folder);
  if (allowMissing || (name !== "cifar10" && holds(name, cache))) return tried[tried.length - 1];
  throw new CliError(`${cmd}: no ${title} files in ${tried.join(" or ")}; set INGOT_DATA or pass --data${name === "cifar10" ? " (CIFAR-10's binary version, from https://www.cs.toronto.edu/~kriz/cifar.html)" : " (or --download to fetch it)"}`);
}

/** uint8 images and int32 labels of both splits. */
export interface ImageData {
  train: ingot.data.MnistSplit;
  test: ingot.data.MnistSplit;
  dir: string;
}

/** Reads MNIST, Fashion-MNIST or CIFAR-10 (channels last). */
export async function loadImageDataset(cmd: string, name: ImageDatasetName, data: string | undefined, download = false): Promise<ImageData> {
  const dir = datasetDir(cmd, name, data, download);
  if (name === "cifar10") {
    const { train, test } = ingot.data.cifar10({ dir });
    return { train, test, dir };
  }
  const load = name === "mnist" ? ingot.data.mnist : ingot.data.fashionMnist;
  const { train, test } = await load({ dir, download });
  return { train, test, dir };
}

/** How raw uint8 images become model inputs; stored in card.json as `preprocessing`. */
export interface Preprocessing {
  /** Pixels are divided by this (255: into [0, 1]). */
  divide: number;
  /** The per-sample input shape the images are reshaped to ([28, 28], [28, 28, 1], [784], …). */
  input_shape: number[];
  /** Labels as class indices ('index') or one-hot rows ('one-hot', for categoricalCrossentropy). */
  labels: "index" | "one-hot";
  classes: number;
}

/** The model inputs: float32 in the model's input shape. */
export function prepareImages(images: ingot.Tensor, p: Preprocessing): ingot.Tensor {
  return images.to("float32").div(p.divide).reshape([images.shape[0], ...p.input_shape]);
}

/** The targets the loss expects. */
export function prepareLabels(labels: ingot.Tensor, p: Preprocessing): ingot.Tensor {
  return p.labels === "one-hot" ? ingot.keras.utils.toCategorical(labels, p.classes) : labels;
}

/** The first n samples of a split (all when n is null or larger). */
export function firstN(split: ingot.data.MnistSplit, n: number | null): ingot.data.MnistSplit {
  if (n === null || n >= split.labels.shape[0]) return split;
  return { images: split.images.slice(0, 0, n), labels: split.labels.slice(0, 0, n) };
}

/** Milliseconds since `t0` in seconds. */
export function secondsSince(t0: number): number {
  return (performance.now() - t0) / 1000;
}

/** Prints a user-facing error (no stack) and returns the exit code; rethrows bugs. */
export function reportError(cmd: string, e: unknown): number {
  if (e instanceof UsageError) {
    process.stderr.write(`${e.message}\n`);
    return 2;
  }
  if (e instanceof CliError || e instanceof ingot.IngotError) {
    const msg = (e as Error).message;
    process.stderr.write(`${msg.startsWith(cmd) ? msg : `${cmd}: ${msg}`}\n`);
    return 1;
  }
  throw e;
}

/** node:util parseArgs with positionals allowed and its errors turned into short UsageErrors. */
export function parseCli<O extends NonNullable<ParseArgsConfig["options"]>>(
  cmd: string,
  args: string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(msg);
    const text = unknown ? `unknown option '${unknown[1]}'` : msg.replace(/\.$/, "");
    throw new UsageError(`${cmd}: ${text}; run '${cmd} --help' for the options`);
  }
}
