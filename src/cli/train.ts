// `ingot train <recipe>`: runs one of the recipes in ./recipes (the seed examples as trainings),
// saves the model folder, and reports a progress bar and tables, or one JSON line with --json.
import { existsSync, readFileSync, statSync } from "node:fs";
import { RECIPES } from "./recipes/index.js";
import * as ingot from "../index.js";
import { datasetDir, isImageDataset, type Log, parseCli, reportError, type TrainOptions, type TrainResult, UsageError } from "./recipes/common.js";
import { bytes, epochTable, formatNumber, formatPairs, grouped, percent } from "./progress-table.js";

export const TRAIN_HELP = `Usage: ingot train <recipe> [options]

Recipes:
${Object.values(RECIPES)
  .map((r) => `  ${r.name.padEnd(16)} ${r.summary}`)
  .join("\n")}
  char-gpt         a character-level GPT on a text file (nanoGPT's shakespeare_char; --size tiny|small|baby);
                   see 'ingot train char-gpt --help'

Options:
  --dataset NAME     the dataset (see the recipe; default its first)
  --data DIR         the data root (holding mnist/, …) or the dataset folder itself (default INGOT_DATA)
  --epochs N         epochs (recipe default: mnist-mlp 5, cnn 10, regression-mlp 100)
  --batch-size N     samples per batch (default 32)
  --lr X             Adam's learning rate (default 0.001)
  --seed N           seeds the weights, the shuffling and the augmentation (default 0)
  --out DIR          where the model folder goes (default runs/<recipe>[-<dataset>])
  --limit N          train on the first N training samples (quick runs)
  --test-limit N     evaluate on the first N test samples
  --download         fetch a missing MNIST / Fashion-MNIST into ~/.cache/ingot
  --json             print one JSON object as the last line (progress goes to stderr)
  --logdir DIR       also write TensorBoard event files (DIR/train, DIR/validation): tensorboard --logdir DIR
  --no-track         do not record the run in the run store (INGOT_HOME/runs.db, default ~/.ingot; see ingot runs)
  --nproc N          train data-parallel in N processes (Gloo, DistributedDataParallel; mnist-mlp, lenet300, cnn);
                     --batch-size is per process; rank 0 reports and saves
  --profile FILE     profile the training: the heaviest ops at the end, Chrome trace JSON in FILE (see ingot profile)
  --dp-epsilon E     train with DP-SGD (ingot.privacy; mnist-mlp, lenet300, cnn): Poisson batches, per-sample
                     clipping and Gaussian noise sized to spend ε = E over the epochs; ε is printed every epoch
  --dp-delta D       δ of the (ε, δ) guarantee (default 1e-5)
  --dp-clip C        per-sample gradient norm bound (default 1.0)
  -h, --help         show this help

Example: ingot train mnist-mlp --data ../shared/data/mnist --json
`;

/** Parses `ingot train` arguments (defaults from the recipe); throws UsageError on mistakes. */
export function parseTrainArgs(args: string[]): { recipe: string; opts: Omit<TrainOptions, "log"> & Observation } | "help" {
  const parsed = parseCli("ingot train", args, {
    dataset: { type: "string" },
    data: { type: "string" },
    epochs: { type: "string" },
    "batch-size": { type: "string" },
    lr: { type: "string" },
    seed: { type: "string" },
    out: { type: "string" },
    limit: { type: "string" },
    "test-limit": { type: "string" },
    download: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    logdir: { type: "string" },
    "no-track": { type: "boolean", default: false },
    "dp-epsilon": { type: "string" },
    "dp-delta": { type: "string" },
    "dp-clip": { type: "string" },
    profile: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  });
  const { values: v, positionals } = parsed;
  if (v.help) return "help";
  const names = [...Object.keys(RECIPES), "char-gpt"].join(", ");
  if (positionals.length === 0) throw new UsageError(`ingot train: name a recipe (${names}); e.g. ingot train mnist-mlp --json`);
  if (positionals.length > 1) throw new UsageError(`ingot train: one recipe at a time, got ${positionals.map((p) => `'${p}'`).join(" ")}`);
  const recipe = RECIPES[positionals[0]];
  if (!recipe) throw new UsageError(`ingot train: unknown recipe '${positionals[0]}'; the recipes are ${names}`);
  const dataset = v.dataset ?? recipe.defaults.dataset;
  if (!recipe.datasets.includes(dataset))
    throw new UsageError(`ingot train: recipe ${recipe.name} trains on ${recipe.datasets.join(" | ")}, not '${dataset}'; pass --dataset ${recipe.datasets[0]}`);
  const lr = v.lr === undefined ? recipe.defaults.lr : Number(v.lr);
  if (!(lr > 0) || !Number.isFinite(lr)) throw new UsageError(`ingot train: --lr must be a positive number, got '${v.lr}'`);
  const limit = optInt("limit", v.limit, 1);
  const testLimit = optInt("test-limit", v["test-limit"], 1);
  return {
    recipe: recipe.name,
    opts: {
      dataset,
      data: v.data,
      epochs: optInt("epochs", v.epochs, 1) ?? recipe.defaults.epochs,
      batchSize: optInt("batch-size", v["batch-size"], 1) ?? recipe.defaults.batchSize,
      lr,
      seed: optInt("seed", v.seed, 0) ?? 0,
      out: v.out ?? `runs/${recipe.name}${dataset === recipe.defaults.dataset ? "" : `-${dataset}`}`,
      limit,
      testLimit,
      download: v.download,
      json: v.json,
      command: ["ingot", "train", ...args].join(" "),
      logdir: v.logdir ?? null,
      track: !v["no-track"],
      dp: parseDpArgs(recipe.name, v["dp-epsilon"], v["dp-delta"], v["dp-clip"]),
      profile: v.profile ?? null,
    },
  };
}

/** How a run is observed: TensorBoard logs (--logdir) and the run store (unless --no-track). */
export interface Observation {
  logdir: string | null;
  track: boolean;
  /** --profile FILE: the Chrome trace of the whole training. */
  profile: string | null;
}

/** --dp-epsilon/--dp-delta/--dp-clip: the DP-SGD settings of a Keras classifier recipe, or null. */
function parseDpArgs(recipe: string, eps?: string, delta?: string, clip?: string): TrainOptions["dp"] {
  if (eps === undefined) {
    if (delta !== undefined || clip !== undefined) throw new UsageError("ingot train: --dp-delta and --dp-clip need --dp-epsilon (the privacy budget)");
    return null;
  }
  if (!["mnist-mlp", "lenet300", "cnn"].includes(recipe)) throw new UsageError(`ingot train: --dp-epsilon works with mnist-mlp, lenet300 and cnn, not ${recipe}`);
  const num = (name: string, raw: string | undefined, dflt: number, ok: (x: number) => boolean, want: string) => {
    const x = raw === undefined ? dflt : Number(raw);
    if (!Number.isFinite(x) || !ok(x)) throw new UsageError(`ingot train: --${name} must be ${want}, got '${raw}'`);
    return x;
  };
  return {
    targetEpsilon: num("dp-epsilon", eps, 0, (x) => x > 0, "a number > 0 (e.g. 3)"),
    targetDelta: num("dp-delta", delta, 1e-5, (x) => x > 0 && x < 1, "in (0, 1), e.g. 1e-5"),
    maxGradNorm: num("dp-clip", clip, 1, (x) => x > 0, "a number > 0 (e.g. 1.0)"),
  };
}

/** An integer option ≥ min, or null when absent. */
function optInt(name: string, raw: string | undefined, min: number): number | null {
  if (raw === undefined) return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`ingot train: --${name} must be an integer ≥ ${min}, got '${raw}'`);
  return n;
}

/** The JSON line: every result field except the per-epoch history. */
export function resultJson(r: TrainResult): string {
  const { history: _history, ...rest } = r;
  return JSON.stringify(rest);
}

/** The human report after training: the epochs, then the results. */
export function resultReport(r: TrainResult, files: string): string {
  const pairs: [string, string][] = [
    ["recipe", `${r.recipe} on ${r.dataset} (${grouped(r.train_samples)} train / ${grouped(r.test_samples)} test samples, ${grouped(r.params)} parameters)`],
    ["train loss", formatNumber(r.train_loss) + (r.train_accuracy !== undefined ? `, accuracy ${percent(r.train_accuracy)}` : "")],
    ["test loss", r.test_accuracy === undefined ? `${formatNumber(r.test_loss)} (mean squared error)` : formatNumber(r.test_loss)],
  ];
  if (r.test_accuracy !== undefined) pairs.push(["test accuracy", percent(r.test_accuracy)]);
  pairs.push(
    ["time", `${r.seconds.toFixed(1)} s for ${r.epochs} epoch(s), ${grouped(r.samples_per_second)} samples/s on ${r.backend}`],
    ["saved", `${r.out}/ (${files})`],
    ["check it", `ingot eval ${r.out}   ·   ingot info ${r.out}`],
    // NOTE: say plainly that the HTTP server is not built yet, and how to serve the model meanwhile.
    ["serve it", `\`ingot serve\` is not built yet; in your own server: ${loadHint(r.out)}`],
  );
  return `\n${epochTable(r.history)}\n${formatPairs(pairs)}`;
}

/** How to load the saved folder in code: Keras models rebuild themselves; nn recipes load their weights. */
function loadHint(dir: string): string {
  const keras = existsSync(`${dir}/config.json`) && readFileSync(`${dir}/config.json`, "utf8").includes('"ingot.keras"');
  return keras
    ? `const m = ingot.keras.loadModel("${dir}"); m.predict(x)`
    : `const { weights } = ingot.loadModelDir("${dir}"); model.loadStateDict(weights); model.call(x)`;
}

function filesText(dir: string): string {
  return ["config.json", "model.safetensors", "card.json"].map((f) => `${f} ${bytes(fileSize(`${dir}/${f}`))}`).join(", ");
}

/** The run store's run and the TensorBoard callback for one `ingot train` (tracking failures only warn). */
function observe(recipe: string, opts: Omit<TrainOptions, "log">, logdir: string | null, track: boolean): ingot.tracking.TrainingObserver {
  let dir: string | null = null;
  try {
    if (isImageDataset(opts.dataset)) dir = datasetDir("ingot train", opts.dataset, opts.data);
  } catch {
    // The recipe reports missing data itself.
  }
  const config = { recipe, dataset: opts.dataset, epochs: opts.epochs, batch_size: opts.batchSize, lr: opts.lr, seed: opts.seed, limit: opts.limit, test_limit: opts.testLimit, out: opts.out, backend: ingot.getBackend() };
  return new ingot.tracking.TrainingObserver(
    { name: recipe, kind: "train", command: opts.command, config, seed: opts.seed, dataset: opts.dataset },
    { track, logdir, datasetDir: dir, warn: (m) => process.stderr.write(`ingot train: ${m}\n`) },
  );
}

function fileSize(p: string): number {
  return existsSync(p) ? statSync(p).size : 0;
}

export async function run(args: string[]): Promise<number> {
  // char-gpt has options of its own (src/cli/train-lm.ts): the recipe name may come after flags.
  const lmAt = args.findIndex((a, i) => a === "char-gpt" && (i === 0 || !args[i - 1].startsWith("-") || /^--(json|resume|download)$/.test(args[i - 1])));
  if (lmAt >= 0) {
    const lm = await import("./train-lm.js");
    return lm.run(args.filter((_, i) => i !== lmAt));
  }
  try {
    const nprocAt = args.findIndex((a) => a === "--nproc" || a.startsWith("--nproc="));
    if (nprocAt >= 0) return await (await import("./train-dist.js")).launchTrain(args, nprocAt);
    const parsed = parseTrainArgs(args);
    if (parsed === "help") {
      process.stdout.write(TRAIN_HELP);
      return 0;
    }
    const { logdir, track, profile, ...opts } = parsed.opts;
    // A worker of `ingot train --nproc` (./train-dist.ts): only rank 0 prints, records and saves.
    const dist = await import("./train-dist.js");
    const worker = await dist.joinTrainWorkers();
    const quiet = worker !== null && worker.rank !== 0;
    const log: Log = quiet ? dist.silentLog : opts.json ? process.stderr : process.stdout;
    const observer = observe(parsed.recipe, opts, quiet ? null : logdir, track && !quiet);
    let result: TrainResult;
    const prof = profile ? (await import("./profile.js")).startTrainProfile(profile) : null;
    try {
      result = await RECIPES[parsed.recipe].train({ ...opts, log, callbacks: observer.callbacks } as TrainOptions);
    } catch (e) {
      observer.fail(e);
      throw e;
    } finally {
      prof?.finish(log);
    }
    // The dashboard shows a run's profile from this artefact.
    if (profile && existsSync(profile)) observer.run?.logArtifact("profile", profile, { kind: "profile" });
    await worker?.finish();
    if (quiet) return 0;
    const r = result;
    const metrics = { train_loss: r.train_loss, train_accuracy: r.train_accuracy, test_loss: r.test_loss, test_accuracy: r.test_accuracy, epochs: r.epochs, seconds: r.seconds, samples_per_second: r.samples_per_second, params: r.params };
    observer.end({ modelDir: r.out, metrics, history: r.history });
    const runId = observer.run?.id ?? null;
    if (opts.json) process.stdout.write(resultJson({ ...result, run_id: runId, logdir } as TrainResult) + "\n");
    else {
      const extra: [string, string][] = [];
      if (runId) extra.push(["run", `${runId} recorded: ingot runs show ${runId}`]);
      if (logdir) extra.push(["tensorboard", `tensorboard --logdir ${logdir}`]);
      process.stdout.write(resultReport(result, filesText(result.out)) + (extra.length ? formatPairs(extra) : ""));
    }
    return 0;
  } catch (e) {
    return reportError("ingot train", e);
  }
}
