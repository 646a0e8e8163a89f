// `ingot compress <modelDir>`: quantizes, prunes, factorizes or distills a saved model, fine-tunes it
// on its recipe's dataset where asked, saves the new folder (card.json records the lineage), and
// reports size, test accuracy and forward latency before and after (a table, report.md, --json).
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as ingot from "../index.js";
import { CliError, firstN, isImageDataset, loadImageDataset, type Log, parseCli, prepareImages, prepareLabels, type Preprocessing, reportError, UsageError } from "./recipes/common.js";
import { EVAL_BATCH_SIZE } from "./recipes/keras-classifier.js";
import { checkModelDir, readJson } from "./eval.js";
import { formatPairs, formatTable } from "./progress-table.js";

const { compress, keras } = ingot;
type Summary = ingot.compress.CompressionSummary;

export const COMPRESS_HELP = `Usage: ingot compress <modelDir> <method> [options] --out DIR

Methods (one):
  --quantize int8|int4   quantize the weights (int4: group-wise, --group 32|64|128)
  --prune FRACTION       set FRACTION of the weights to zero (magnitude; --scope global|layer)
  --prune FRACTION --structured
                         remove FRACTION of the neurons/channels of each hidden layer (L1 norm)
  --low-rank FRACTION    factorize Dense/Conv weights by truncated SVD until the model keeps FRACTION of its parameters
  --distill --teacher DIR
                         train the model folder given (the student) on DIR's softened outputs;
                         --student-size half trains a fresh student with half the hidden units of the teacher instead

Options:
  --out DIR              where the compressed model folder goes (required)
  --finetune-epochs N    epochs of fine-tuning on the recipe's dataset (default 0; distillation: 5)
  --lr X                 fine-tuning learning rate, Adam (default 0.0005; distillation 0.001)
  --batch-size N         fine-tuning batch size (default 32)
  --scope global|layer   unstructured pruning: one threshold over all weights (default) or per layer
  --schedule gradual|oneshot
                         unstructured pruning with fine-tuning: Zhu & Gupta's cubic schedule over the
                         first half of the fine-tuning steps (default), or all at once
  --norm l1|l2           structured pruning: the norm that ranks neurons/channels (default l1)
  --temperature T        distillation temperature (default 4)
  --alpha A              distillation: weight of the hard-label loss (default 0.1)
  --group N              int4 group size (default 32)
  --calibrate N          quantization: N training samples for static activation ranges
  --data DIR             the data root or dataset folder (default INGOT_DATA, else the folder in card.json);
                         for a GPT, the text it was trained on (default: the file card.json names);
                         metric_before/after are then the val loss on its last 10 %
  --limit N              fine-tune on the first N training samples
  --test-limit N         evaluate on the first N test samples
  --seed N               seeds the fine-tuning order and a fresh student (default 0)
  --json                 print one JSON object as the last line (progress goes to stderr)
  -h, --help             show this help

Example: ingot compress runs/lenet300 --prune 0.9 --finetune-epochs 3 --out runs/lenet300-p90
`;

interface Options {
  dir: string;
  out: string;
  method: "quantize" | "prune" | "structured" | "low-rank" | "distill";
  quantize?: "int8" | "int4";
  fraction?: number;
  teacher?: string;
  studentSize?: "half";
  finetuneEpochs: number;
  lr: number;
  batchSize: number;
  scope: "global" | "layer";
  schedule: "gradual" | "oneshot";
  norm: "l1" | "l2";
  temperature: number;
  alpha: number;
  group: number;
  calibrate: number | null;
  data?: string;
  limit: number | null;
  testLimit: number | null;
  seed: number;
  json: boolean;
  command: string;
}

function num(name: string, raw: string | undefined, check: (n: number) => boolean, want: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || !check(n)) throw new UsageError(`ingot compress: --${name} must be ${want}, got '${raw}'`);
  return n;
}

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[], dflt: T): T {
  if (raw === undefined) return dflt;
  if (!allowed.includes(raw as T)) throw new UsageError(`ingot compress: --${name} must be ${allowed.join(" or ")}, got '${raw}'`);
  return raw as T;
}

/** Parses `ingot compress` arguments; throws UsageError on mistakes. */
export function parseCompressArgs(args: string[]): Options | "help" {
  const { values: v, positionals } = parseCli("ingot compress", args, {
    quantize: { type: "string" },
    prune: { type: "string" },
    structured: { type: "boolean", default: false },
    "low-rank": { type: "string" },
    distill: { type: "boolean", default: false },
    teacher: { type: "string" },
    "student-size": { type: "string" },
    "finetune-epochs": { type: "string" },
    lr: { type: "string" },
    "batch-size": { type: "string" },
    scope: { type: "string" },
    schedule: { type: "string" },
    norm: { type: "string" },
    temperature: { type: "string" },
    alpha: { type: "string" },
    group: { type: "string" },
    calibrate: { type: "string" },
    out: { type: "string" },
    data: { type: "string" },
    limit: { type: "string" },
    "test-limit": { type: "string" },
    seed: { type: "string" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  });
  if (v.help) return "help";
  if (positionals.length !== 1) throw new UsageError(`ingot compress: pass one model folder, e.g. ingot compress runs/mnist-mlp --prune 0.9 --out runs/mnist-mlp-p90 (got ${positionals.length})`);
  const methods = [v.quantize !== undefined && "--quantize", v.prune !== undefined && "--prune", v["low-rank"] !== undefined && "--low-rank", v.distill && "--distill"].filter(Boolean);
  if (methods.length !== 1)
    throw new UsageError(`ingot compress: choose one method: --quantize int8|int4, --prune FRACTION [--structured], --low-rank FRACTION or --distill --teacher DIR${methods.length ? ` (got ${methods.join(" and ")})` : ""}`);
  if (!v.out) throw new UsageError("ingot compress: --out DIR is required (the compressed model folder)");
  if (resolve(v.out) === resolve(positionals[0])) throw new UsageError(`ingot compress: --out must differ from the source folder ${positionals[0]}`);
  const int = (n: number) => Number.isInteger(n);
  let method: Options["method"];
  let fraction: number | undefined;
  if (v.quantize !== undefined) {
    method = "quantize";
    oneOf("quantize", v.quantize, ["int8", "int4"] as const, "int8");
  } else if (v.prune !== undefined) {
    method = v.structured ? "structured" : "prune";
    fraction = num("prune", v.prune, (n) => n >= 0 && n < 1, "a fraction in [0, 1) (the share of weights removed, e.g. 0.9)");
  } else if (v["low-rank"] !== undefined) {
    method = "low-rank";
    fraction = num("low-rank", v["low-rank"], (n) => n > 0 && n <= 1, "a fraction in (0, 1] (the share of parameters kept, e.g. 0.5)");
  } else method = "distill";
  if (v.structured && method !== "structured") throw new UsageError("ingot compress: --structured goes with --prune FRACTION");
  const studentSize = v["student-size"] === undefined ? undefined : oneOf("student-size", v["student-size"], ["half"] as const, "half");
  if (method === "distill" && !v.teacher && !studentSize) throw new UsageError("ingot compress: --distill needs --teacher DIR (the model to learn from)");
  if (method !== "distill" && (v.teacher || studentSize)) throw new UsageError("ingot compress: --teacher and --student-size go with --distill");
  return {
    dir: positionals[0],
    out: v.out,
    method,
    quantize: v.quantize as Options["quantize"],
    fraction,
    teacher: v.teacher ?? (studentSize ? positionals[0] : undefined),
    studentSize,
    finetuneEpochs: num("finetune-epochs", v["finetune-epochs"], (n) => int(n) && n >= 0, "an integer ≥ 0") ?? (method === "distill" ? 5 : 0),
    lr: num("lr", v.lr, (n) => n > 0, "a positive number") ?? (method === "distill" ? 1e-3 : 5e-4),
    batchSize: num("batch-size", v["batch-size"], (n) => int(n) && n >= 1, "an integer ≥ 1") ?? 32,
    scope: oneOf("scope", v.scope, ["global", "layer"] as const, "global"),
    schedule: oneOf("schedule", v.schedule, ["gradual", "oneshot"] as const, "gradual"),
    norm: oneOf("norm", v.norm, ["l1", "l2"] as const, "l1"),
    temperature: num("temperature", v.temperature, (n) => n > 0, "a positive number") ?? 4,
    alpha: num("alpha", v.alpha, (n) => n >= 0 && n <= 1, "in [0, 1]") ?? 0.1,
    group: num("group", v.group, (n) => [32, 64, 128].includes(n), "32, 64 or 128") ?? 32,
    calibrate: num("calibrate", v.calibrate, (n) => int(n) && n >= 1, "an integer ≥ 1") ?? null,
    data: v.data,
    limit: num("limit", v.limit, (n) => int(n) && n >= 1, "an integer ≥ 1") ?? null,
    testLimit: num("test-limit", v["test-limit"], (n) => int(n) && n >= 1, "an integer ≥ 1") ?? null,
    seed: num("seed", v.seed, (n) => int(n) && n >= 0, "an integer ≥ 0") ?? 0,
    json: v.json,
    command: ["ingot", "compress", ...args].join(" "),
  };
}

/** The test split and training split of a keras classifier folder, prepared as its card.json says. */
async function classifierData(dir: string, card: Record<string, unknown>, o: Options) {
  const dataset = card.dataset as string | undefined;
  const pre = card.preprocessing as Preprocessing | undefined;
  if (!dataset || !isImageDataset(dataset) || !pre)
    throw new CliError(`ingot compress: ${join(dir, "card.json")} records no image dataset and preprocessing; compress folders written by 'ingot train' (mnist-mlp, lenet300, cnn)`);
  const fallback = !process.env.INGOT_DATA && typeof card.data_dir === "string" ? card.data_dir : undefined;
  const data = await loadImageDataset("ingot compress", dataset, o.data ?? fallback);
  const train = firstN(data.train, o.limit);
  const test = firstN(data.test, o.testLimit);
  return { dataset, pre, dataDir: data.dir, xTrain: prepareImages(train.images, pre), yTrain: prepareLabels(train.labels, pre), xTest: prepareImages(test.images, pre), yTest: prepareLabels(test.labels, pre) };
}

type Data = Awaited<ReturnType<typeof classifierData>>;

function accuracy(model: ingot.keras.Model, d: Data): number {
  return model.evaluate(d.xTest, d.yTest, { batchSize: EVAL_BATCH_SIZE, verbose: 0, returnDict: true }).accuracy;
}

/** Latencies [before, after] at batch 1 and at batch 64, the two models timed alternately. */
function latencies(before: ingot.nn.Module, after: ingot.nn.Module, x: ingot.Tensor): { b1: [number, number]; b64: [number, number] } {
  const at = (n: number) => x.slice(0, 0, Math.min(n, x.shape[0]));
  return { b1: compress.pairedLatency(before, after, at(1)), b64: compress.pairedLatency(before, after, at(64)) };
}

/** Compiles for fine-tuning with Adam at --lr, keeping the model's loss. */
function compileForFinetune(model: ingot.keras.Model, pre: Preprocessing, lr: number): void {
  const loss = pre.labels === "one-hot" ? "categoricalCrossentropy" : "sparseCategoricalCrossentropy";
  model.compile({ optimizer: keras.optimizers.adam({ learningRate: lr }), loss, metrics: ["accuracy"] });
}

async function finetune(model: ingot.keras.Model, d: Data, o: Options, log: Log, callbacks: ingot.keras.Callback[] = []): Promise<void> {
  if (o.finetuneEpochs === 0) return;
  compileForFinetune(model, d.pre, o.lr);
  ingot.manualSeed(o.seed);
  await model.fit(d.xTrain, d.yTrain, { epochs: o.finetuneEpochs, batchSize: o.batchSize, verbose: o.json ? 0 : 1, callbacks, stream: log });
}

/** Applies the method to a keras classifier; returns the new model, its settings and per-layer details. */
async function applyKeras(model: ingot.keras.Model, d: Data, o: Options, log: Log): Promise<{ model: ingot.keras.Model; parameters: Record<string, unknown>; layers: Record<string, unknown> }> {
  const steps = Math.ceil(d.xTrain.shape[0] / o.batchSize) * o.finetuneEpochs;
  if (o.method === "prune") {
    const gradual = o.schedule === "gradual" && steps > 0;
    // Gradual: reach the final sparsity half-way through fine-tuning, then train at that sparsity.
    const end = Math.max(1, Math.floor(steps / 2));
    const pruner = gradual
      ? compress.gradualPruning(model, { initialSparsity: 0, finalSparsity: o.fraction!, endStep: end, frequency: Math.max(1, Math.floor(end / 20)), scope: o.scope })
      : compress.magnitudePrune(model, { sparsity: o.fraction!, scope: o.scope });
    await finetune(model, d, o, log, [pruner.callback()]);
    const s = pruner.sparsity();
    compress.removePruning(pruner);
    return { model, parameters: { sparsity: o.fraction, scope: o.scope, schedule: gradual ? "gradual" : "oneshot" }, layers: s.layers };
  }
  if (!(model instanceof keras.Sequential)) throw new CliError(`ingot compress: --${o.method === "low-rank" ? "low-rank" : "prune --structured"} works on keras Sequential models; ${o.dir} holds a ${model.className}`);
  if (o.method === "structured") {
    const { model: small, report } = compress.pruneStructuredWithReport(model, { fraction: o.fraction!, norm: o.norm });
    await finetune(small as ingot.keras.Model, d, o, log);
    return { model: small as ingot.keras.Model, parameters: { fraction: o.fraction, norm: o.norm, structured: true }, layers: report };
  }
  if (o.method === "low-rank") {
    const { model: f, report } = compress.lowRank(model, { paramFraction: o.fraction! });
    await finetune(f, d, o, log);
    return { model: f, parameters: { param_fraction: o.fraction }, layers: report };
  }
  // Distillation: the student learns from the teacher's softened outputs and the labels.
  const teacher = keras.loadModel(o.teacher!);
  ingot.manualSeed(o.seed);
  const student = o.studentSize === "half" ? compress.halfStudent(teacher as ingot.keras.Sequential) : model;
  compileForFinetune(student, d.pre, o.lr);
  const labels = d.pre.labels === "one-hot" ? ingot.argmax(d.yTrain, -1) : d.yTrain;
  const epochs: Record<string, unknown> = {};
  await compress.distill(student, teacher, d.xTrain, labels, {
    epochs: o.finetuneEpochs,
    batchSize: o.batchSize,
    temperature: o.temperature,
    alpha: o.alpha,
    onEpochEnd: (e, loss) => {
      epochs[`epoch ${e + 1}`] = { loss };
      if (!o.json) log.write(`distill epoch ${e + 1}/${o.finetuneEpochs}: loss ${loss.toFixed(4)}\n`);
    },
  });
  return { model: student, parameters: { teacher: o.teacher, student_size: o.studentSize ?? "as given", temperature: o.temperature, alpha: o.alpha }, layers: epochs };
}

/** Quantization by compress.quantize: int8 (dynamic, or static with --calibrate N samples) or int4 group-wise. */
function applyQuantize(model: ingot.nn.Module, o: Options, calibration: ingot.Tensor | null): { model: ingot.nn.Module; parameters: Record<string, unknown> } {
  const bits = o.quantize === "int4" ? 4 : 8;
  const parameters: Record<string, unknown> = { bits, ...(bits === 4 ? { group: o.group } : { mode: calibration ? "static" : "dynamic" }), ...(calibration ? { calibration_samples: calibration.shape[0] } : {}) };
  const opts: ingot.compress.QuantizeOptions = bits === 4 ? { bits: 4, group: o.group as 32 | 64 | 128 } : calibration ? { bits: 8, mode: "static", calibration } : { bits: 8 };
  return { model: compress.quantize(model, opts), parameters };
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Runs one compression and returns its summary (also used by tests and the must-show script). */
export async function compressFolder(o: Options, log: Log): Promise<{ summary: Summary; layers: Record<string, unknown> }> {
  checkModelDir("ingot compress", o.dir);
  const config = readJson(o.dir, "config.json", true)!;
  const card = readJson(o.dir, "card.json", false) ?? {};
  if (o.teacher) checkModelDir("ingot compress", o.teacher);
  const t0 = performance.now();
  if (config.architecture === ingot.models.GPT_ARCHITECTURE) return compressGpt(o, card, log, t0);
  if (config.format !== "ingot.keras") throw new CliError(`ingot compress: ${join(o.dir, "config.json")} is neither a keras model nor a GPT folder; compress reads folders written by 'ingot train'`);
  const model = keras.loadModel(o.dir);
  const d = await classifierData(o.dir, card, o);
  if (!model.compiled) compileForFinetune(model, d.pre, o.lr);
  const before = { acc: accuracy(model, d), w: compress.countWeights(model), size: compress.weightsBytes(o.dir) };
  let result: { model: ingot.keras.Model; parameters: Record<string, unknown>; layers: Record<string, unknown> };
  if (o.method === "quantize") {
    const cal = o.calibrate ? d.xTrain.slice(0, 0, Math.min(o.calibrate, d.xTrain.shape[0])) : null;
    const q = applyQuantize(model, o, cal);
    result = { model: q.model as ingot.keras.Model, parameters: q.parameters, layers: {} };
  } else result = await applyKeras(model, d, o, log);
  const m = result.model;
  if (!m.compiled) compileForFinetune(m, d.pre, o.lr);
  // The source is loaded again for timing: pruning and quantization may have changed `model` in place.
  const lat = latencies(keras.loadModel(o.dir), m, d.xTest);
  const after = { acc: accuracy(m, d), w: compress.countWeights(m) };
  const summary: Summary = {
    method: o.method === "structured" ? "prune-structured" : o.method,
    parameters: result.parameters,
    source: o.dir,
    out: o.out,
    size_bytes_before: before.size,
    size_bytes_after: 0,
    params_before: before.w.params,
    params_after: after.w.params,
    nonzero_before: before.w.nonzero,
    nonzero_after: after.w.nonzero,
    metric: "test_accuracy",
    metric_before: before.acc,
    metric_after: after.acc,
    latency_ms_before: lat.b1[0],
    latency_ms_after: lat.b1[1],
    latency_ms_b64_before: lat.b64[0],
    latency_ms_b64_after: lat.b64[1],
    finetune_epochs: o.method === "quantize" ? 0 : o.finetuneEpochs,
    seconds: 0,
  };
  const lineage = [...((card.compression as unknown[]) ?? []), { method: summary.method, parameters: result.parameters, source: resolve(o.dir), finetune_epochs: summary.finetune_epochs, command: o.command, date: new Date().toISOString() }];
  const metrics = { test_accuracy: after.acc, test_loss: m.evaluate(d.xTest, d.yTest, { batchSize: EVAL_BATCH_SIZE, verbose: 0, returnDict: true }).loss };
  m.save(o.out, { card: { ...card, metrics, source: resolve(o.dir), compression: lineage, evaluation: { ...((card.evaluation as object) ?? {}), test_samples: d.xTest.shape[0], test_limit: o.testLimit } } });
  summary.size_bytes_after = compress.weightsBytes(o.out);
  summary.seconds = (performance.now() - t0) / 1000;
  writeAtomic(join(o.out, "report.md"), compress.markdownReport(summary, { command: o.command, backend: ingot.getBackend(), layers: result.layers }));
  return { summary, layers: result.layers };
}

/** Validation windows measured per GPT (nanoGPT's eval uses 200 random batches; fixed windows make before/after comparable). */
const LM_VAL_WINDOWS = 64;

/**
 * The validation text of a GPT folder: --data (a text file, or a folder holding input.txt), else the
 * text its card.json records (`ingot train char-gpt` writes `data`). Its last 10 %, encoded with the
 * folder's tokenizer, is the split char-gpt trained without. Null when there is no text or tokenizer.
 */
function lmValidation(o: Options, card: Record<string, unknown>, tokenizer: ingot.text.Tokenizer | null): { path: string; ids: Int32Array; tokens: number } | null {
  let path = o.data ?? (typeof card.data === "string" ? card.data : undefined);
  if (!path || !tokenizer) return null;
  if (existsSync(path) && statSync(path).isDirectory()) path = join(path, "input.txt");
  if (!existsSync(path)) throw new CliError(`ingot compress: the validation text ${path} does not exist; pass --data <text file> (the text the GPT was trained on)`);
  const ids = Int32Array.from(tokenizer.encode(readFileSync(path, "utf8")));
  const val = ids.subarray(Math.floor(ids.length * 0.9));
  if (val.length < 2) throw new CliError(`ingot compress: the last 10 % of ${path} holds ${val.length} tokens; a val loss needs at least 2`);
  return { path, ids: val, tokens: val.length };
}

/**
 * Mean next-token cross-entropy over up to LM_VAL_WINDOWS consecutive, non-overlapping windows of
 * the model's context (one shorter window when the text is shorter than that), in eval mode.
 */
function lmValLoss(model: ingot.models.GPT, ids: Int32Array, windows = LM_VAL_WINDOWS): number {
  const T = Math.min(model.config.blockSize, ids.length - 1);
  const n = Math.max(1, Math.min(windows, Math.floor((ids.length - 1) / T)));
  const wasTraining = model.training;
  model.eval();
  try {
    return ingot.noGrad(() => {
      let sum = 0;
      for (let b = 0; b < n; b += 16) {
        const k = Math.min(16, n - b);
        const xs = new Int32Array(k * T);
        const ys = new Int32Array(k * T);
        for (let w = 0; w < k; w++) {
          xs.set(ids.subarray((b + w) * T, (b + w) * T + T), w * T);
          ys.set(ids.subarray((b + w) * T + 1, (b + w) * T + T + 1), w * T);
        }
        sum += model.forward(ingot.tensor(xs, { shape: [k, T] }), ingot.tensor(ys, { shape: [k, T] })).loss!.item() * k;
      }
      return sum / n;
    });
  } finally {
    model.train(wasTraining);
  }
}

/** GPT folders: quantization (the other methods need an LM fine-tuning loop that is not here yet). */
async function compressGpt(o: Options, card: Record<string, unknown>, log: Log, t0: number): Promise<{ summary: Summary; layers: Record<string, unknown> }> {
  if (o.method !== "quantize" && o.method !== "prune")
    throw new CliError(`ingot compress: a GPT folder can be quantized (--quantize) or magnitude-pruned (--prune without fine-tuning) here; --${o.method} works on keras classifiers for now`);
  if (o.method === "prune" && o.finetuneEpochs > 0) throw new CliError("ingot compress: fine-tuning a GPT is not supported here yet; prune it with --finetune-epochs 0");
  const { model, tokenizer, config } = ingot.models.loadGPT(o.dir);
  const T = Math.min(64, model.config.blockSize);
  ingot.manualSeed(o.seed);
  const x = ingot.randint(0, model.config.vocabSize, [64, T]);
  const before = { w: compress.countWeights(model), size: compress.weightsBytes(o.dir) };
  let parameters: Record<string, unknown>;
  let m: ingot.nn.Module = model;
  if (o.method === "quantize") ({ model: m, parameters } = applyQuantize(model, o, o.calibrate ? x.slice(0, 0, Math.min(o.calibrate, 64)) : null));
  else {
    compress.removePruning(compress.magnitudePrune(model, { sparsity: o.fraction!, scope: o.scope }));
    parameters = { sparsity: o.fraction, scope: o.scope };
  }
  // The source is loaded again (pruning and quantization changed `model` in place) for both timing and val loss.
  const source = ingot.models.loadGPT(o.dir).model;
  const lat = latencies(source, m, x);
  const after = { w: compress.countWeights(m) };
  const val = lmValidation(o, card, tokenizer);
  const metricBefore = val ? lmValLoss(source, val.ids) : null;
  const metricAfter = val ? lmValLoss(m as ingot.models.GPT, val.ids) : null;
  const { gpt: _gpt, architecture: _a, ...extra } = config;
  const lineage = [...((card.compression as unknown[]) ?? []), { method: o.method, parameters, source: resolve(o.dir), command: o.command, date: new Date().toISOString() }];
  ingot.models.saveGPT(o.out, m as ingot.models.GPT, { tokenizer: tokenizer ?? undefined, extraConfig: extra, card: { ...card, source: resolve(o.dir), compression: lineage } });
  if (!o.json && !val) log.write(`ingot compress: ${o.dir} is a GPT whose card.json names no text (and --data gave none); no val loss is measured (metric_before/after are null)\n`);
  if (!o.json && val) log.write(`ingot compress: val loss on ${val.tokens} tokens of the last 10 % of ${val.path}: ${metricBefore!.toFixed(4)} → ${metricAfter!.toFixed(4)}\n`);
  const summary: Summary = {
    method: o.method,
    parameters,
    source: o.dir,
    out: o.out,
    size_bytes_before: before.size,
    size_bytes_after: compress.weightsBytes(o.out),
    params_before: before.w.params,
    params_after: after.w.params,
    nonzero_before: before.w.nonzero,
    nonzero_after: after.w.nonzero,
    metric: "val_loss",
    metric_before: metricBefore,
    metric_after: metricAfter,
    latency_ms_before: lat.b1[0],
    latency_ms_after: lat.b1[1],
    latency_ms_b64_before: lat.b64[0],
    latency_ms_b64_after: lat.b64[1],
    finetune_epochs: 0,
    seconds: (performance.now() - t0) / 1000,
  };
  writeAtomic(join(o.out, "report.md"), compress.markdownReport(summary, { command: o.command, backend: ingot.getBackend() }));
  return { summary, layers: {} };
}

export async function run(args: string[]): Promise<number> {
  try {
    const o = parseCompressArgs(args);
    if (o === "help") {
      process.stdout.write(COMPRESS_HELP);
      return 0;
    }
    const log: Log = o.json ? process.stderr : process.stdout;
    if (!existsSync(o.dir)) throw new CliError(`ingot compress: ${o.dir} does not exist; pass a model folder written by 'ingot train' (e.g. runs/mnist-mlp)`);
    const { summary } = await compressFolder(o, log);
    // The run store's record (lineage from the source's run; the dashboard shows report.md).
    (await import("./compress-track.js")).recordCompression(o, summary);
    if (o.json) {
      process.stdout.write(JSON.stringify(summary) + "\n");
      return 0;
    }
    const rows = compress.summaryRows(summary);
    process.stdout.write(
      `\n${formatPairs([
        ["method", `${summary.method} ${JSON.stringify(summary.parameters)}`],
        ["source", summary.source],
        ["saved", `${summary.out}/ (report.md has this table)`],
      ])}\n${formatTable(["", "before", "after", "change"], rows)}\n${summary.seconds.toFixed(1)} s on ${ingot.getBackend()}\n`,
    );
    return 0;
  } catch (e) {
    return reportError("ingot compress", e);
  }
}
