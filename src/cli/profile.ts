// `ingot profile <recipe|script.js>`: runs training steps of a recipe (or a whole script) under the
// profiler and prints the per-op table; --out writes the Chrome trace JSON (open it in Perfetto).
// Also the `--profile FILE` of `ingot train` (startTrainProfile).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as ingot from "../index.js";
import { Profiler, ProfilerCallback, type SortKey } from "../profiler/index.js";
import { RECIPES } from "./recipes/index.js";
import { MLP, syntheticRegression, TARGET, DATA_SEED } from "./recipes/regression-mlp.js";
import { CliError, type Log, parseCli, reportError, type TrainOptions, UsageError } from "./recipes/common.js";

export const PROFILE_HELP = `Usage: ingot profile <recipe> [options]
       ingot profile <script.js> [-- script args]

Runs training steps of a recipe under the profiler (every op call, autograd node and optimizer
step, with self time, FLOPs and bytes) and prints a table sorted by self time, like
torch.profiler's key_averages().table(). A script (.js/.mjs) is profiled from start to end.

Recipes: ${[...Object.keys(RECIPES)].join(", ")}

Options:
  --steps N          training steps to record (default 3)
  --warmup N         steps run first and not recorded (default 1: the first allocates optimizer state)
  --batch-size N     samples per step (default: the recipe's)
  --dataset NAME     the recipe's dataset (default its first)
  --data DIR         the data root or dataset folder (default INGOT_DATA)
  --out FILE         write the Chrome trace JSON here (open in https://ui.perfetto.dev or chrome://tracing)
  --sort KEY         self | total | count | flops | bytes | name (default self)
  --row-limit N      at most N rows (default 25)
  --group-by-shape   one row per op and input shapes
  --json             print one JSON object (rows, wall and self time) instead of the table
  -h, --help         show this help

Example: ingot profile mnist-mlp --steps 5 --out trace.json
         ingot train mnist-mlp --epochs 1 --profile trace.json   (the whole training)
`;

const SORTS: SortKey[] = ["self", "total", "count", "flops", "bytes", "name"];

interface ProfileArgs {
  target: string;
  scriptArgs: string[];
  steps: number;
  warmup: number;
  batchSize: number | null;
  dataset: string | null;
  data: string | undefined;
  out: string | null;
  sort: SortKey;
  rowLimit: number;
  groupByShape: boolean;
  json: boolean;
}

export function parseProfileArgs(args: string[]): ProfileArgs | "help" {
  const cmd = "ingot profile";
  const dd = args.indexOf("--");
  const own = dd >= 0 ? args.slice(0, dd) : args;
  const { values: v, positionals } = parseCli(cmd, own, {
    steps: { type: "string" },
    warmup: { type: "string" },
    "batch-size": { type: "string" },
    dataset: { type: "string" },
    data: { type: "string" },
    out: { type: "string" },
    sort: { type: "string" },
    "row-limit": { type: "string" },
    "group-by-shape": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  });
  if (v.help) return "help";
  if (positionals.length === 0) throw new UsageError(`${cmd}: name a recipe (${Object.keys(RECIPES).join(", ")}) or a script.js; e.g. ingot profile mnist-mlp --steps 3`);
  if (positionals.length > 1) throw new UsageError(`${cmd}: one recipe or script at a time, got ${positionals.map((p) => `'${p}'`).join(" ")}; pass script arguments after --`);
  const int = (name: string, raw: string | undefined, min: number, dflt: number | null) => {
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${cmd}: --${name} must be an integer ≥ ${min}, got '${raw}'`);
    return n;
  };
  const sort = (v.sort ?? "self") as SortKey;
  if (!SORTS.includes(sort)) throw new UsageError(`${cmd}: --sort must be one of ${SORTS.join(", ")}, got '${v.sort}'`);
  return {
    target: positionals[0],
    scriptArgs: dd >= 0 ? args.slice(dd + 1) : [],
    steps: int("steps", v.steps, 1, 3)!,
    warmup: int("warmup", v.warmup, 0, 1)!,
    batchSize: int("batch-size", v["batch-size"], 1, null),
    dataset: v.dataset ?? null,
    data: v.data,
    out: v.out ?? null,
    sort,
    rowLimit: int("row-limit", v["row-limit"], 1, 25)!,
    groupByShape: v["group-by-shape"],
    json: v.json,
  };
}

const quiet: Log = { write: () => true };

/** The steps of a keras recipe, recorded by a fit callback that stops training after them. */
async function profileKerasRecipe(a: ProfileArgs): Promise<Profiler> {
  const recipe = RECIPES[a.target];
  const dataset = a.dataset ?? recipe.defaults.dataset;
  if (!recipe.datasets.includes(dataset)) throw new UsageError(`ingot profile: recipe ${recipe.name} trains on ${recipe.datasets.join(" | ")}, not '${dataset}'`);
  const batchSize = a.batchSize ?? recipe.defaults.batchSize;
  const cb = new ProfilerCallback({ wait: a.warmup, active: a.steps, stopAfter: true, recordShapes: true });
  const out = mkdtempSync(join(tmpdir(), "ingot-profile-"));
  try {
    const opts: TrainOptions & { callbacks: ingot.keras.Callback[] } = {
      dataset,
      data: a.data,
      epochs: 1,
      batchSize,
      lr: recipe.defaults.lr,
      seed: 0,
      out,
      limit: (a.warmup + a.steps) * batchSize,
      testLimit: batchSize,
      download: false,
      json: true,
      command: "ingot profile",
      log: quiet,
      callbacks: [cb],
    };
    await recipe.train(opts);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  if (!cb.done) throw new CliError(`ingot profile: ${a.target} ran fewer than ${a.warmup + a.steps} batches; lower --steps or --warmup`);
  return cb.profiler;
}

/** regression-mlp trains with a loop of its own (no fit callbacks): the same model, loss, optimizer and batches, stepped here. */
function profileRegression(a: ProfileArgs): Profiler {
  const batchSize = a.batchSize ?? RECIPES["regression-mlp"].defaults.batchSize;
  const n = (a.warmup + a.steps) * batchSize;
  const { xTrain, yTrain } = syntheticRegression({ target: TARGET, features: 10, train_samples: n, test_samples: 1, seed: DATA_SEED });
  ingot.manualSeed(0);
  const model = new MLP(10, 50, 1);
  const criterion = new ingot.nn.MSELoss();
  const optimizer = new ingot.optim.Adam(model.parameters(), { lr: RECIPES["regression-mlp"].defaults.lr });
  const loader = new ingot.data.DataLoader(new ingot.data.TensorDataset(xTrain, yTrain), { batchSize, shuffle: true });
  const prof = new Profiler();
  let i = 0;
  for (const [inputs, targets] of loader) {
    if (i === a.warmup) prof.start();
    if (i >= a.warmup) prof.step();
    optimizer.zeroGrad();
    const loss = criterion.call(model.call(inputs), targets);
    loss.backward();
    optimizer.step();
    loss.item();
    i++;
  }
  return prof.stop();
}

/** A script, imported (so it runs) under the profiler; it must import this Ingot (the same dist/). */
async function profileScript(a: ProfileArgs): Promise<Profiler> {
  const file = resolve(a.target);
  if (!existsSync(file)) throw new CliError(`ingot profile: no recipe or script '${a.target}'; the recipes are ${Object.keys(RECIPES).join(", ")}`);
  const argv = process.argv;
  process.argv = [argv[0], file, ...a.scriptArgs];
  const prof = new Profiler().start();
  try {
    await import(pathToFileURL(file).href);
  } finally {
    prof.stop();
    process.argv = argv;
  }
  return prof;
}

/** The table (or JSON) and the trace file. */
function report(prof: Profiler, a: Pick<ProfileArgs, "out" | "sort" | "rowLimit" | "groupByShape" | "json">, title: string, log: Log): void {
  if (a.out) prof.exportChromeTrace(a.out);
  const rows = prof.keyAverages({ sortBy: a.sort, groupByInputShape: a.groupByShape });
  if (a.json) {
    const selfMs = rows.reduce((s, r) => s + r.selfMs, 0);
    log.write(JSON.stringify({ target: title, backend: ingot.getBackend(), wall_ms: prof.wallMs, self_ms: selfMs, trace: a.out, rows: rows.map((r) => ({ name: r.name, kind: r.category, shapes: r.shapes, calls: r.count, self_ms: r.selfMs, total_ms: r.totalMs, flops: r.flops, bytes: r.bytes })) }) + "\n");
    return;
  }
  log.write(`${title} on ${ingot.getBackend()}\n${prof.table({ sortBy: a.sort, rowLimit: a.rowLimit, groupByInputShape: a.groupByShape })}`);
  if (a.out) log.write(`trace: ${a.out} (open in https://ui.perfetto.dev or chrome://tracing)\n`);
}

/**
 * `ingot train --profile FILE`: profiles the whole training; call the returned finish() when it ends
 * (writes the trace, prints the 15 heaviest rows on `log`).
 */
export function startTrainProfile(file: string): { finish(log: Log): void } {
  const prof = new Profiler().start();
  return {
    finish(log: Log) {
      prof.stop();
      report(prof, { out: file, sort: "self", rowLimit: 15, groupByShape: false, json: false }, "profile of the training", log);
    },
  };
}

export async function run(args: string[]): Promise<number> {
  try {
    const a = parseProfileArgs(args);
    if (a === "help") {
      process.stdout.write(PROFILE_HELP);
      return 0;
    }
    let prof: Profiler;
    let title: string;
    if (a.target === "regression-mlp") {
      prof = profileRegression(a);
      title = `regression-mlp: ${a.steps} step(s) after ${a.warmup} warm-up`;
    } else if (Object.hasOwn(RECIPES, a.target)) {
      prof = await profileKerasRecipe(a);
      title = `${a.target}: ${a.steps} step(s) after ${a.warmup} warm-up`;
    } else if (/\.(c|m)?js$/.test(a.target)) {
      prof = await profileScript(a);
      title = `script ${a.target}`;
    } else if (a.target === "char-gpt") throw new UsageError("ingot profile: char-gpt is profiled with 'ingot train char-gpt --profile trace.json --max-iters N'");
    else throw new UsageError(`ingot profile: unknown recipe '${a.target}'; the recipes are ${Object.keys(RECIPES).join(", ")}, or give a script.js`);
    report(prof, a, title, process.stdout);
    return 0;
  } catch (e) {
    return reportError("ingot profile", e);
  }
}
