// `ingot eval <modelDir>`: the test metrics of a saved model, computed again with the dataset,
// preprocessing and evaluation batch size its card.json records, next to the numbers saved there.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import * as ingot from "../index.js";
import { CliError, type EvalResult, firstN, parseCli, reportError, isImageDataset, loadImageDataset, type Preprocessing, prepareImages, prepareLabels, UsageError } from "./recipes/common.js";
import { EVAL_BATCH_SIZE } from "./recipes/keras-classifier.js";
import { evaluateRegressionDir } from "./recipes/regression-mlp.js";
import { formatPairs, formatTable, grouped, percent } from "./progress-table.js";

export const EVAL_HELP = `Usage: ingot eval <modelDir> [options]

Computes the test loss (and accuracy) of a model folder written by 'ingot train' or a keras
model's save(), with the preprocessing recorded in its card.json, and compares with the saved numbers.
A folder encrypted by 'ingot encrypt' is decrypted in memory with INGOT_MODEL_KEY (the key, hex or
base64) or INGOT_MODEL_PASSPHRASE; a folder with a manifest.json is checked against it first.

Options:
  --dataset NAME     evaluate on this dataset (default: the one in card.json)
  --data DIR         the data root or the dataset folder (default INGOT_DATA, else the folder in card.json)
  --test-limit N     the first N test samples (default: as recorded in card.json, else all)
  --json             print one JSON object as the last line
  -h, --help         show this help
`;

type Json = Record<string, unknown>;

/** A model folder's JSON file from its text (null: the file is absent), with errors naming the file. */
function parseJsonFile(path: string, text: string | null, required: boolean): Json | null {
  if (text === null) {
    if (required) throw new CliError(`${path} does not exist; pass a model folder written by 'ingot train' or model.save(dir)`);
    return null;
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("not a JSON object");
    return v as Json;
  } catch (e) {
    throw new CliError(`${path} is not valid JSON (${(e as Error).message})`);
  }
}

/** A JSON file of a model folder on disk, with errors naming the file. */
export function readJson(dir: string, file: string, required: boolean): Json | null {
  const p = join(dir, file);
  return parseJsonFile(p, existsSync(p) ? readFileSync(p, "utf8") : null, required);
}

/** A JSON file of a folder opened with openFolder (plain or decrypted in memory), with errors naming the file. */
export function readFolderJson(files: ingot.security.ModelFiles, file: string, required: boolean): Json | null {
  return parseJsonFile(join(files.dir, file), files.has(file) ? files.text(file) : null, required);
}

/**
 * Opens a model folder as `ingot serve` does: an encrypted one ('ingot encrypt') is decrypted in
 * memory with INGOT_MODEL_KEY or INGOT_MODEL_PASSPHRASE, a plain one with a manifest.json is checked
 * against it, any other is read from disk.
 */
export function openFolder(cmd: string, dir: string): ingot.security.ModelFiles {
  checkModelDir(cmd, dir);
  try {
    return ingot.security.openModelFiles(dir);
  } catch (e) {
    throw new CliError(`${cmd}: ${(e as Error).message}`);
  }
}

/** Checks that dir is a folder with config.json. */
export function checkModelDir(cmd: string, dir: string): void {
  if (!existsSync(dir)) throw new CliError(`${cmd}: ${dir} does not exist; pass a model folder written by 'ingot train' (e.g. runs/mnist-mlp)`);
  if (!statSync(dir).isDirectory()) throw new CliError(`${cmd}: ${dir} is a file; pass the model folder that holds config.json and model.safetensors`);
}

/** The preprocessing in card.json, or what a keras model's shapes and loss imply (divide by 255). */
function preprocessingOf(model: ingot.keras.Model, card: Json): Preprocessing {
  if (card.preprocessing) return card.preprocessing as Preprocessing;
  const input = (model.inputShapeSeen ?? []).slice(1) as (number | null)[];
  const classes = model.outputShapeSeen?.[model.outputShapeSeen.length - 1];
  if (input.some((d) => d === null) || typeof classes !== "number") throw new CliError("ingot eval: card.json records no preprocessing and the model's input shape is not fixed");
  const oneHot = model.compiled?.losses[0]?.name === "categoricalCrossentropy";
  return { divide: 255, input_shape: input as number[], labels: oneHot ? "one-hot" : "index", classes };
}

export interface EvalOptions {
  dataset?: string;
  data?: string;
  testLimit?: number;
  json: boolean;
}

/** Evaluates a keras model folder on an image dataset. */
async function evalKeras(files: ingot.security.ModelFiles, card: Json, o: EvalOptions, log: ingot.keras.LogStream): Promise<EvalResult & { dataset: string }> {
  const dir = files.dir;
  const dataset = o.dataset ?? (card.dataset as string | undefined);
  if (!dataset) throw new UsageError(`ingot eval: ${join(dir, "card.json")} names no dataset; pass --dataset mnist | fashion-mnist | cifar10`);
  if (!isImageDataset(dataset)) throw new UsageError(`ingot eval: unknown dataset '${dataset}'; pass --dataset mnist | fashion-mnist | cifar10`);
  const model = ingot.keras.loadModelFrom(ingot.security.kerasModelFiles(files));
  const pre = preprocessingOf(model, card);
  if (!model.compiled) model.compile({ loss: pre.labels === "one-hot" ? "categoricalCrossentropy" : "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  const evaluation = (card.evaluation ?? {}) as { batch_size?: number; test_limit?: number | null };
  // --data, else INGOT_DATA, else the folder the model was trained from (when it is the same dataset).
  const fallback = !process.env.INGOT_DATA && dataset === card.dataset && typeof card.data_dir === "string" ? card.data_dir : undefined;
  const data = await loadImageDataset("ingot eval", dataset, o.data ?? fallback);
  const test = firstN(data.test, o.testLimit ?? evaluation.test_limit ?? null);
  const x = prepareImages(test.images, pre);
  const y = prepareLabels(test.labels, pre);
  const logs = model.evaluate(x, y, { batchSize: evaluation.batch_size ?? EVAL_BATCH_SIZE, verbose: o.json ? 0 : 1, returnDict: true, stream: log });
  return { dataset, test_loss: logs.loss, test_accuracy: logs.accuracy, test_samples: x.shape[0] };
}

export function parseEvalArgs(args: string[]): { dir: string; opts: EvalOptions } | "help" {
  const parsed = parseCli("ingot eval", args, {
    dataset: { type: "string" },
    data: { type: "string" },
    "test-limit": { type: "string" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  });
  const { values: v, positionals } = parsed;
  if (v.help) return "help";
  if (positionals.length !== 1) throw new UsageError(`ingot eval: pass one model folder, e.g. ingot eval runs/mnist-mlp (got ${positionals.length})`);
  const limit = v["test-limit"];
  if (limit !== undefined && !(Number.isInteger(Number(limit)) && Number(limit) >= 1)) throw new UsageError(`ingot eval: --test-limit must be an integer ≥ 1, got '${limit}'`);
  return { dir: positionals[0], opts: { dataset: v.dataset, data: v.data, testLimit: limit === undefined ? undefined : Number(limit), json: v.json } };
}

export async function run(args: string[]): Promise<number> {
  try {
    const parsed = parseEvalArgs(args);
    if (parsed === "help") {
      process.stdout.write(EVAL_HELP);
      return 0;
    }
    const { dir, opts } = parsed;
    const log = opts.json ? process.stderr : process.stdout;
    const files = openFolder("ingot eval", dir);
    const config = readFolderJson(files, "config.json", true)!;
    const card = readFolderJson(files, "card.json", false) ?? {};
    const t0 = performance.now();
    let result: EvalResult & { dataset: string };
    if (card.recipe === "regression-mlp" || config.recipe === "regression-mlp") {
      if (opts.dataset && opts.dataset !== "synthetic") throw new UsageError(`ingot eval: a regression-mlp model is evaluated on its synthetic task, not '${opts.dataset}'`);
      const saved = ingot.security.readSavedModel(files);
      result = { dataset: "synthetic", ...evaluateRegressionDir(config, saved.weights, card) };
    } else if (config.format === "ingot.keras") result = await evalKeras(files, card, opts, log);
    else
      throw new CliError(
        `ingot eval: ${join(dir, "config.json")} is neither a keras model nor a recipe of 'ingot train' (format ${JSON.stringify(config.format ?? config.architecture ?? null)}); eval reads folders written by 'ingot train' or a keras model's save()`,
      );
    const seconds = (performance.now() - t0) / 1000;
    const saved = (card.metrics ?? {}) as Record<string, number>;
    // The saved numbers are comparable when the same data was evaluated.
    const cardSamples = ((card.evaluation ?? card.data) as Json | undefined)?.test_samples;
    const sameData = result.dataset === card.dataset && (cardSamples === undefined || cardSamples === result.test_samples);
    const keys = (["test_loss", "test_accuracy"] as const).filter((k) => result[k] !== undefined);
    const matches = sameData && keys.every((k) => saved[k] !== undefined) ? keys.every((k) => saved[k] === result[k]) : null;
    const cardBackend = typeof card.backend === "string" ? card.backend : null;
    const out = {
      model: dir,
      recipe: (card.recipe as string | undefined) ?? null,
      dataset: result.dataset,
      test_samples: result.test_samples,
      test_loss: result.test_loss,
      ...(result.test_accuracy !== undefined ? { test_accuracy: result.test_accuracy } : {}),
      ...Object.fromEntries(keys.filter((k) => saved[k] !== undefined).map((k) => [`card_${k}`, saved[k]])),
      matches_card: matches,
      seconds,
      backend: ingot.getBackend(),
      card_backend: cardBackend,
    };
    if (opts.json) {
      process.stdout.write(JSON.stringify(out) + "\n");
      return 0;
    }
    const fmt = (k: string, v: number | undefined) => (v === undefined ? "—" : k === "test_accuracy" ? `${percent(v)} (${v})` : String(v));
    const same = (k: (typeof keys)[number]) => (!sameData || saved[k] === undefined ? "—" : saved[k] === result[k] ? "same" : `differs by ${(result[k]! - saved[k]).toExponential(2)}`);
    const verdict =
      matches === null
        ? "card.json has no numbers for this data to compare with"
        : matches
          ? "reproduces the saved metrics exactly"
          : cardBackend && cardBackend !== out.backend
            ? `differs from the saved metrics: trained on ${cardBackend}, evaluated on ${out.backend} (float32 sums in another order move the last digits)`
            : "differs from the saved metrics";
    process.stdout.write(
      `\n${formatPairs([
        ["model", `${dir}${out.recipe ? ` (recipe ${out.recipe})` : ""}`],
        ["dataset", `${result.dataset}, ${grouped(result.test_samples)} test samples`],
      ])}\n` +
        formatTable(
          ["metric", "now", "card.json", ""],
          keys.map((k) => [k, fmt(k, result[k]), fmt(k, saved[k]), same(k)]),
        ) +
        `\n${verdict} · ${seconds.toFixed(1)} s on ${out.backend}\n`,
    );
    return 0;
  } catch (e) {
    return reportError("ingot eval", e);
  }
}
