// The models a server holds: keras classifiers/regressors and `ingot train regression-mlp` folders
// (predictors), GPT folders with a tokenizer (language models); loading by folder and reloading.
import { existsSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { IngotError, type Tensor } from "../tensor/index.js";
import { tensor } from "../ops/index.js";
import { noGrad } from "../autograd/index.js";
import { relu } from "../ops/index.js";
import { Linear, Module } from "../nn/index.js";
import { loadModelFrom as loadKerasModel, type Model as KerasModel } from "../keras/index.js";
import { GPT_ARCHITECTURE, gptFromSaved, type GPT } from "../models/index.js";
import { tokenizerFromJSON, type Tokenizer } from "../text/index.js";
import { kerasModelFiles, type ModelFiles, openModelFiles, readSavedModel } from "../security/index.js";

/** A model folder and the name it is served under. */
export interface ModelSource {
  name: string;
  dir: string;
}

/** A classifier or regressor: rows of features in, rows of outputs out. */
export interface Predictor {
  kind: "predictor";
  name: string;
  dir: string;
  /** classification: `predictions` are the argmax (or output ≥ 0.5 for one sigmoid unit). */
  task: "classification" | "regression";
  /** The per-example input shape ([28, 28], [784], [10], …). */
  inputShape: number[];
  /** Numbers per example (the product of inputShape). */
  features: number;
  /** Numbers per output row. */
  outputWidth: number;
  /** Inputs are divided by this before the forward (card.json's preprocessing), or null. */
  divide: number | null;
  /** rows × features float32 in, rows × outputWidth float32 out; one forward, no gradients. */
  forward(x: Float32Array, rows: number): Float32Array;
  /** Unix seconds of loading (OpenAI's `created`). */
  created: number;
}

/** A GPT with its tokenizer. */
export interface LanguageModel {
  kind: "language-model";
  name: string;
  dir: string;
  gpt: GPT;
  tokenizer: Tokenizer;
  blockSize: number;
  created: number;
}

export type ServedModel = Predictor | LanguageModel;

/** `name=dir` or `dir` (the name is then the folder's name). */
export function parseModelArg(arg: string): ModelSource {
  const eq = arg.indexOf("=");
  // A path may contain '=' ; only a name without '/' before it counts as name=dir.
  if (eq > 0 && !arg.slice(0, eq).includes("/")) return { name: arg.slice(0, eq), dir: arg.slice(eq + 1) };
  return { name: basename(resolve(arg)), dir: arg };
}

function fail(src: ModelSource, msg: string): never {
  throw new IngotError(`ingot serve: model '${src.name}' (${src.dir}): ${msg}`);
}

function readJson(src: ModelSource, files: ModelFiles, file: string): Record<string, unknown> | null {
  if (!files.has(file)) return null;
  try {
    return JSON.parse(files.text(file)) as Record<string, unknown>;
  } catch (e) {
    fail(src, `${file} is not valid JSON (${(e as Error).message})`);
  }
}

/** Seed 003's MLP as `ingot train regression-mlp` saves it (fc1 → relu → fc2). */
class RegressionMLP extends Module {
  fc1: Linear;
  fc2: Linear;
  constructor(inputDim: number, hiddenDim: number, outputDim: number) {
    super();
    this.fc1 = new Linear(inputDim, hiddenDim);
    this.fc2 = new Linear(hiddenDim, outputDim);
  }
  override forward(x: Tensor): Tensor {
    return this.fc2.call(relu(this.fc1.call(x)));
  }
}

const now = () => Math.floor(Date.now() / 1000);

function predictorOf(src: ModelSource, task: Predictor["task"], inputShape: number[], divide: number | null, run: (x: Tensor) => Tensor): Predictor {
  if (!inputShape.length || inputShape.some((d) => !Number.isInteger(d) || d < 1)) fail(src, `the input shape ${JSON.stringify(inputShape)} is not fixed; the server needs every dimension but the batch`);
  const features = inputShape.reduce((a, b) => a * b, 1);
  const forward = (x: Float32Array, rows: number): Float32Array => {
    const out = noGrad(() => run(tensor(x, { dtype: "float32", shape: [rows, ...inputShape] })));
    const data = out.to("float32").contiguous().dataSync() as Float32Array;
    if (data.length % rows !== 0) throw new IngotError(`model '${src.name}' returned ${data.length} numbers for ${rows} rows`);
    return data;
  };
  // One forward at load time: checks the model runs, gives the output width and warms the kernels.
  const outputWidth = forward(new Float32Array(features), 1).length;
  return { kind: "predictor", name: src.name, dir: src.dir, task, inputShape, features, outputWidth, divide, forward, created: now() };
}

function kerasPredictor(src: ModelSource, config: Record<string, unknown>, card: Record<string, unknown>, files: ModelFiles): Predictor {
  let model: KerasModel;
  try {
    model = loadKerasModel(kerasModelFiles(files), { compile: false });
  } catch (e) {
    fail(src, (e as Error).message);
  }
  if (model.inputCount !== 1 || model.outputNames.length !== 1) fail(src, `the server predicts with models of one input and one output; this one has ${model.inputCount} and ${model.outputNames.length}`);
  model.eval();
  const pre = (card.preprocessing ?? null) as { divide?: number; input_shape?: number[]; classes?: number } | null;
  const seen = (model.inputShapeSeen ?? []).slice(1) as (number | null)[];
  const inputShape = (pre?.input_shape ?? seen) as number[];
  const loss = String((config.compile as { loss?: unknown } | undefined)?.loss ?? "").toLowerCase();
  const last = model.layers[model.layers.length - 1] as unknown as { activation?: { name?: string } };
  const classifier = typeof pre?.classes === "number" || loss.includes("crossentropy") || last?.activation?.name === "softmax";
  const dtype = model.floatDType;
  return predictorOf(src, classifier ? "classification" : "regression", inputShape, typeof pre?.divide === "number" ? pre.divide : null, (x) => model.runAll([x.to(dtype)])[0]);
}

function regressionPredictor(src: ModelSource, config: Record<string, unknown>, files: ModelFiles): Predictor {
  const dims = [config.input_dim, config.hidden_dim, config.output_dim];
  if (!dims.every((d) => Number.isInteger(d) && (d as number) > 0)) fail(src, `config.json must give input_dim, hidden_dim and output_dim as positive integers`);
  const [i, h, o] = dims as number[];
  const mlp = new RegressionMLP(i, h, o);
  try {
    mlp.loadStateDict(readSavedModel(files).weights);
  } catch (e) {
    fail(src, `the weights do not match config.json: ${(e as Error).message}`);
  }
  mlp.eval();
  return predictorOf(src, "regression", [i], null, (x) => mlp.call(x));
}

function languageModel(src: ModelSource, files: ModelFiles): LanguageModel {
  let loaded;
  try {
    const tokenizer = () => (files.has("tokenizer.json") ? tokenizerFromJSON(readJson(src, files, "tokenizer.json"), join(src.dir, "tokenizer.json")) : null);
    loaded = gptFromSaved(readSavedModel(files), src.dir, tokenizer);
  } catch (e) {
    fail(src, (e as Error).message);
  }
  if (!loaded.tokenizer) fail(src, `has no tokenizer.json; the server needs the model's tokenizer to turn text into tokens (save it with saveGPT(dir, model, {tokenizer}))`);
  return { kind: "language-model", name: src.name, dir: src.dir, gpt: loaded.model, tokenizer: loaded.tokenizer, blockSize: loaded.model.config.blockSize, created: now() };
}

/** Loads a model folder: a keras model, a regression-mlp recipe folder, or a GPT with its tokenizer. */
export function loadServedModel(src: ModelSource): ServedModel {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(src.name)) fail(src, `the name may hold letters, digits, '.', '_', ':' and '-' only; serve it as NAME=${src.dir}`);
  if (!existsSync(src.dir) || !statSync(src.dir).isDirectory()) fail(src, `not a folder; pass a model folder written by 'ingot train', model.save(dir) or saveGPT`);
  // An encrypted folder is decrypted in memory (key from INGOT_MODEL_KEY / INGOT_MODEL_PASSPHRASE); a manifest.json is checked.
  let files: ModelFiles;
  try {
    files = openModelFiles(src.dir);
  } catch (e) {
    fail(src, (e as Error).message);
  }
  const config = readJson(src, files, "config.json");
  if (!config) fail(src, `has no config.json; pass a model folder written by 'ingot train', model.save(dir) or saveGPT`);
  const card = readJson(src, files, "card.json") ?? {};
  if (config.architecture === GPT_ARCHITECTURE) return languageModel(src, files);
  if (config.format === "ingot.keras") return kerasPredictor(src, config, card, files);
  if (config.recipe === "regression-mlp") return regressionPredictor(src, config, files);
  fail(src, `config.json describes neither a keras model, a regression-mlp nor a GPT (format ${JSON.stringify(config.format ?? null)}, architecture ${JSON.stringify(config.architecture ?? null)})`);
}

/**
 * The loaded models by name, each wrapped with what the server attaches to it (a batcher). Reloading
 * loads the folder again beside the old version and swaps it in: requests that hold the old version
 * finish with it, new ones get the new one, and a folder that fails to load leaves the old one serving.
 */
export class ModelRegistry<E extends { model: ServedModel }> {
  private readonly entries = new Map<string, E>();

  constructor(
    private readonly sources: ModelSource[],
    private readonly wrap: (m: ServedModel, old: E | undefined) => E,
  ) {
    const seen = new Set<string>();
    for (const s of sources) {
      if (seen.has(s.name)) throw new IngotError(`ingot serve: two models are named '${s.name}'; serve them as NAME=DIR with different names`);
      seen.add(s.name);
    }
  }

  /** Loads every model (at start). */
  loadAll(): void {
    for (const s of this.sources) this.entries.set(s.name, this.wrap(loadServedModel(s), undefined));
  }

  get(name: string): E | undefined {
    return this.entries.get(name);
  }

  list(): E[] {
    return [...this.entries.values()];
  }

  get names(): string[] {
    return this.sources.map((s) => s.name);
  }

  /** Reloads the named models (all when none are named); reports per model what happened. */
  reload(names?: string[]): { name: string; ok: boolean; error?: string }[] {
    const todo = names?.length ? names : this.names;
    return todo.map((name) => {
      const src = this.sources.find((s) => s.name === name);
      if (!src) return { name, ok: false, error: `no model named '${name}'; loaded: ${this.names.join(", ")}` };
      try {
        const m = loadServedModel(src);
        this.entries.set(name, this.wrap(m, this.entries.get(name)));
        return { name, ok: true };
      } catch (e) {
        return { name, ok: false, error: (e as Error).message };
      }
    });
  }
}
