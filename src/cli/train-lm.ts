// `ingot train char-gpt`: a character-level GPT on a text file (nanoGPT's shakespeare_char), with
// the sizes of nanoGPT's configs, progress with tokens/s and ETA, checkpoints, --resume and --json.
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import * as ingot from "../index.js";
import { CliError, type Log, parseCli, reportError, UsageError } from "./recipes/common.js";
import { formatPairs, grouped } from "./progress-table.js";
import { cardRunId, recordedRun } from "./compress-track.js";

/** A size: the model and the training defaults (nanoGPT's names in the comments). */
export interface CharGptSize {
  summary: string;
  model: { nLayer: number; nHead: number; nEmbd: number; blockSize: number; dropout: number };
  batchSize: number;
  maxIters: number;
  lr: number;
  minLr: number;
  warmupIters: number;
  evalInterval: number;
  evalIters: number;
}

export const CHAR_GPT_SIZES: Readonly<Record<string, CharGptSize>> = {
  // Trains in seconds, for tests and smoke runs.
  tiny: {
    summary: "2 layers, 2 heads, 32 wide, context 32, batch 8 (seconds; for tests)",
    model: { nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 32, dropout: 0 },
    batchSize: 8,
    maxIters: 200,
    lr: 3e-3,
    minLr: 3e-4,
    warmupIters: 10,
    evalInterval: 50,
    evalIters: 5,
  },
  // nanoGPT README's CPU run: --block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128
  // --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0 --eval_iters=20 on config/train_shakespeare_char.py.
  small: {
    summary: "4 layers, 4 heads, 128 wide, context 64, batch 12, 2000 iters (nanoGPT's CPU config)",
    model: { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, dropout: 0 },
    batchSize: 12,
    maxIters: 2000,
    lr: 1e-3,
    minLr: 1e-4,
    warmupIters: 100,
    evalInterval: 250,
    evalIters: 20,
  },
  // nanoGPT's config/train_shakespeare_char.py ("baby GPT").
  baby: {
    summary: "6 layers, 6 heads, 384 wide, context 256, batch 64, dropout 0.2, 5000 iters (nanoGPT's shakespeare_char)",
    model: { nLayer: 6, nHead: 6, nEmbd: 384, blockSize: 256, dropout: 0.2 },
    batchSize: 64,
    maxIters: 5000,
    lr: 1e-3,
    minLr: 1e-4,
    warmupIters: 100,
    evalInterval: 250,
    evalIters: 200,
  },
};

export const TRAIN_LM_HELP = `Usage: ingot train char-gpt --data FILE [options]

Trains a character-level GPT on a text file (nanoGPT's shakespeare_char): the first 90 % of the
characters for training, the last 10 % for validation. AdamW (betas 0.9, 0.99; weight decay 0.1 on
matrices), linear warm-up then cosine decay to lr/10, gradient clipping at 1.0.

Sizes:
${Object.entries(CHAR_GPT_SIZES)
  .map(([k, s]) => `  ${k.padEnd(7)} ${s.summary}`)
  .join("\n")}

Options:
  --data FILE          the text (default INGOT_DATA/tinyshakespeare/input.txt); a folder means FOLDER/input.txt
  --size NAME          tiny | small | baby (default small)
  --max-iters N        optimizer steps; the cosine decays over them (default: the size's)
  --batch-size N       sequences per micro-batch (default: the size's)
  --lr X               peak learning rate (default 1e-3; the floor is lr/10)
  --eval-interval N    estimate train/val loss and write a checkpoint every N iterations
  --eval-iters N       batches per loss estimate
  --grad-accum N       micro-batches per step (gradient accumulation; default 1)
  --seed N             seeds the weights, the batches and dropout (default 1337)
  --out DIR            the model folder and checkpoint (default runs/char-gpt-<size>)
  --resume             continue from the checkpoint in --out (same results as an uninterrupted run)
  --json               print one JSON object as the last line (progress goes to stderr)
  --logdir DIR         also write TensorBoard event files (DIR/train: loss, lr, train_loss, val_loss)
  --no-track           do not record the run in the run store (INGOT_HOME/runs.db; see ingot runs)
  --profile FILE       profile the training: the heaviest ops at the end, Chrome trace JSON in FILE
  -h, --help           show this help

Example: ingot train char-gpt --size small --data ../shared/data/tinyshakespeare/input.txt --json
Then:    ingot generate runs/char-gpt-small --prompt "ROMEO:" --max-tokens 300
`;

export interface CharGptArgs {
  size: string;
  data: string;
  maxIters: number;
  batchSize: number;
  lr: number;
  evalInterval: number;
  evalIters: number;
  gradAccum: number;
  seed: number;
  out: string;
  resume: boolean;
  json: boolean;
  command: string;
  /** TensorBoard folder (--logdir), or null. */
  logdir: string | null;
  /** Record the run in the run store (default true; --no-track). */
  track: boolean;
  /** --profile FILE, or null. */
  profile: string | null;
}

/** Parses `ingot train char-gpt …` (args after the recipe name); throws UsageError on mistakes. */
export function parseCharGptArgs(args: string[]): CharGptArgs | "help" {
  const cmd = "ingot train char-gpt";
  const { values: v, positionals } = parseCli(cmd, args, {
    data: { type: "string" },
    size: { type: "string" },
    "max-iters": { type: "string" },
    "batch-size": { type: "string" },
    lr: { type: "string" },
    "eval-interval": { type: "string" },
    "eval-iters": { type: "string" },
    "grad-accum": { type: "string" },
    seed: { type: "string" },
    out: { type: "string" },
    resume: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    logdir: { type: "string" },
    "no-track": { type: "boolean", default: false },
    profile: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  });
  if (v.help) return "help";
  if (positionals.length) throw new UsageError(`${cmd}: unexpected argument '${positionals[0]}'; the text file goes after --data`);
  const sizeName = v.size ?? "small";
  const size = Object.hasOwn(CHAR_GPT_SIZES, sizeName) ? CHAR_GPT_SIZES[sizeName] : undefined;
  if (!size) throw new UsageError(`${cmd}: unknown --size '${sizeName}'; the sizes are ${Object.keys(CHAR_GPT_SIZES).join(", ")}`);
  const int = (name: string, raw: string | undefined, min: number, dflt: number) => {
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${cmd}: --${name} must be an integer ≥ ${min}, got '${raw}'`);
    return n;
  };
  const lr = v.lr === undefined ? size.lr : Number(v.lr);
  if (!(lr > 0) || !Number.isFinite(lr)) throw new UsageError(`${cmd}: --lr must be a positive number, got '${v.lr}'`);
  return {
    size: sizeName,
    data: findText(cmd, v.data),
    maxIters: int("max-iters", v["max-iters"], 1, size.maxIters),
    batchSize: int("batch-size", v["batch-size"], 1, size.batchSize),
    lr,
    evalInterval: int("eval-interval", v["eval-interval"], 1, size.evalInterval),
    evalIters: int("eval-iters", v["eval-iters"], 1, size.evalIters),
    gradAccum: int("grad-accum", v["grad-accum"], 1, 1),
    seed: int("seed", v.seed, 0, 1337),
    out: v.out ?? `runs/char-gpt-${sizeName}`,
    resume: v.resume,
    json: v.json,
    command: ["ingot", "train", "char-gpt", ...args].join(" "),
    logdir: v.logdir ?? null,
    track: !v["no-track"],
    profile: v.profile ?? null,
  };
}

/** The text file: --data (a file, or a folder holding input.txt), else INGOT_DATA/tinyshakespeare/input.txt. */
function findText(cmd: string, data: string | undefined): string {
  if (data === undefined) {
    const root = process.env.INGOT_DATA;
    const dflt = root ? join(root, "tinyshakespeare", "input.txt") : null;
    if (dflt && existsSync(dflt)) return resolve(dflt);
    throw new UsageError(`${cmd}: no text to train on; pass --data FILE (e.g. --data ../shared/data/tinyshakespeare/input.txt) or set INGOT_DATA`);
  }
  if (!existsSync(data)) throw new CliError(`${cmd}: --data ${data} does not exist; pass a text file such as ../shared/data/tinyshakespeare/input.txt`);
  if (statSync(data).isDirectory()) {
    const inside = join(data, "input.txt");
    if (!existsSync(inside)) throw new CliError(`${cmd}: --data ${data} is a folder without input.txt; pass the text file itself`);
    return resolve(inside);
  }
  return resolve(data);
}

/** `1h02m`, `3m05s`, `12s`. */
export function duration(s: number): string {
  if (!Number.isFinite(s)) return "?";
  s = Math.round(s);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Iteration losses and lr go to the run store and --logdir every this many iterations (nanoGPT's log_interval). */
const LOG_INTERVAL = 10;

/**
 * Trains, saves runs/char-gpt-<size>, and returns the JSON result. With an observer, the iteration
 * loss and lr (every LOG_INTERVAL iterations and the last) and each evaluation's train/val loss are
 * logged to its run and TensorBoard folder at the iteration's step.
 */
export function trainCharGpt(a: CharGptArgs, log: Log, observer?: ingot.tracking.TrainingObserver): Record<string, unknown> {
  const size = CHAR_GPT_SIZES[a.size];
  const text = readFileSync(a.data, "utf8");
  const ds = ingot.train.charDataset(text);
  if (ds.val.length <= size.model.blockSize)
    throw new CliError(`ingot train char-gpt: ${a.data} has ${text.length} characters; its last 10 % is shorter than the context of ${size.model.blockSize}; use a longer text`);
  ingot.manualSeed(a.seed);
  const model = new ingot.models.GPT({ ...size.model, vocabSize: ds.tokenizer.vocabSize, bias: true });
  const parameters = model.parameters().reduce((n, p) => n + p.size, 0);
  const header: [string, string][] = [
    ["data", `${a.data}: ${grouped(text.length)} characters, vocabulary ${ds.tokenizer.vocabSize}, ${grouped(ds.train.length)} train / ${grouped(ds.val.length)} val tokens`],
    ["model", `GPT ${a.size}: ${size.model.nLayer} layers, ${size.model.nHead} heads, ${size.model.nEmbd} wide, context ${size.model.blockSize}, ${grouped(parameters)} parameters`],
    ["training", `${a.maxIters} iters × ${a.batchSize * a.gradAccum} sequences, lr ${a.lr} → ${Number((a.lr / 10).toPrecision(6))}, on ${ingot.getBackend()}${a.resume ? `, resuming from ${a.out}` : ""}`],
  ];
  log.write(formatPairs(header));
  observer?.run?.updateConfig({ parameters, vocab_size: ds.tokenizer.vocabSize });
  const printer = progressPrinter(log);
  const progress = Object.assign((e: ingot.train.LMTrainEvent) => {
    printer(e);
    if (!observer) return;
    if (e.kind === "iter" && ((e.iter + 1) % LOG_INTERVAL === 0 || e.iter + 1 === e.maxIters)) observer.logStep({ loss: e.loss, lr: e.lr }, e.iter + 1);
    else if (e.kind === "eval") observer.logStep({ train_loss: e.train_loss, val_loss: e.val_loss }, e.iter);
  }, { end: printer.end });
  const r = ingot.train.trainLM({
    model,
    trainData: ds.train,
    valData: ds.val,
    batchSize: a.batchSize,
    maxIters: a.maxIters,
    lr: a.lr,
    minLr: a.lr / 10,
    warmupIters: Math.min(size.warmupIters, a.maxIters),
    lrDecayIters: a.maxIters,
    betas: [0.9, 0.99],
    weightDecay: 0.1,
    gradClip: 1.0,
    gradAccumulationSteps: a.gradAccum,
    evalInterval: a.evalInterval,
    evalIters: a.evalIters,
    seed: a.seed,
    outDir: a.out,
    resume: a.resume,
    tokenizer: ds.tokenizer,
    extraConfig: { training: { recipe: "char-gpt", size: a.size, data: a.data, batch_size: a.batchSize, grad_accum: a.gradAccum, lr: a.lr, max_iters: a.maxIters, seed: a.seed } },
    card: { recipe: "char-gpt", size: a.size, command: a.command, data: a.data, backend: ingot.getBackend(), parameters },
    log: progress,
  });
  progress.end();
  return {
    recipe: "char-gpt",
    size: a.size,
    train_loss: r.trainLoss,
    val_loss: r.valLoss,
    iters: r.iters,
    tokens_per_second: Math.round(r.tokensPerSecond),
    seconds: Number(r.seconds.toFixed(1)),
    parameters,
    vocab_size: ds.tokenizer.vocabSize,
    batch_size: a.batchSize * a.gradAccum,
    block_size: size.model.blockSize,
    backend: ingot.getBackend(),
    out: a.out,
  };
}

/** Progress: evaluations as lines; iterations as one rewritten line on a terminal, else a line every few seconds. */
function progressPrinter(log: Log): ((e: ingot.train.LMTrainEvent) => void) & { end(): void } {
  let lastPrint = 0;
  let open = false; // a \r line is showing
  const line = (s: string) => {
    log.write(open ? `\r${s.padEnd(100)}\n` : `${s}\n`);
    open = false;
  };
  const fn = (e: ingot.train.LMTrainEvent) => {
    if (e.kind === "eval") line(`step ${e.iter}: train loss ${e.train_loss.toFixed(4)}, val loss ${e.val_loss.toFixed(4)}  (${duration(e.seconds)})`);
    else if (e.kind === "resume") line(`resumed at step ${e.iter} from ${e.dir}`);
    else if (e.kind === "iter") {
      const s = `iter ${String(e.iter + 1).padStart(String(e.maxIters).length)}/${e.maxIters}  loss ${e.loss.toFixed(4)}  lr ${e.lr.toExponential(2)}  ${grouped(e.tokensPerSecond)} tok/s  ETA ${duration(e.etaSeconds)}`;
      const now = performance.now();
      if (log.isTTY) {
        log.write(`\r${s.padEnd(100)}`);
        open = true;
      } else if (now - lastPrint > 5000 || e.iter + 1 === e.maxIters) {
        lastPrint = now;
        line(s);
      }
    }
  };
  return Object.assign(fn, { end: () => open && line("") });
}

/** The run store's run (unless --no-track) and the --logdir writer; a resumed run names the run it continues as its parent. */
function observeCharGpt(a: CharGptArgs): ingot.tracking.TrainingObserver {
  const size = CHAR_GPT_SIZES[a.size];
  const config = { recipe: "char-gpt", size: a.size, ...size.model, data: a.data, max_iters: a.maxIters, batch_size: a.batchSize, lr: a.lr, eval_interval: a.evalInterval, eval_iters: a.evalIters, grad_accum: a.gradAccum, seed: a.seed, out: a.out, resume: a.resume, backend: ingot.getBackend() };
  // A resume continues the run card.json names, if the store still holds it.
  const parent = a.resume && a.track ? recordedRun(cardRunId(a.out)) : null;
  const dataset = `${basename(dirname(a.data))}/${basename(a.data)}`;
  const start = { name: "char-gpt", kind: "lm", command: a.command, config, seed: a.seed, dataset, parent, relation: parent ? "resumed-from" : null };
  return new ingot.tracking.TrainingObserver(start, { track: a.track, logdir: a.logdir, batchFreq: 0, datasetDir: a.data, warn: (m: string) => process.stderr.write(`ingot train char-gpt: ${m}\n`) });
}

export async function run(args: string[]): Promise<number> {
  try {
    const a = parseCharGptArgs(args);
    if (a === "help") {
      process.stdout.write(TRAIN_LM_HELP);
      return 0;
    }
    const log: Log = a.json ? process.stderr : process.stdout;
    const observer = observeCharGpt(a);
    const prof = a.profile ? (await import("./profile.js")).startTrainProfile(a.profile) : null;
    let r: Record<string, unknown>;
    try {
      r = trainCharGpt(a, log, observer);
    } catch (e) {
      observer.fail(e);
      throw e;
    } finally {
      prof?.finish(log);
    }
    if (a.profile && existsSync(a.profile)) observer.run?.logArtifact("profile", a.profile, { kind: "profile" });
    const metrics = Object.fromEntries(["train_loss", "val_loss", "iters", "tokens_per_second", "seconds", "parameters"].map((k) => [k, r[k] as number]));
    observer.end({ modelDir: a.out, metrics });
    if (observer.run) r.run_id = observer.run.id;
    if (a.logdir) r.logdir = a.logdir;
    if (a.json) process.stdout.write(JSON.stringify(r) + "\n");
    else
      process.stdout.write(
        "\n" +
          formatPairs([
            ["val loss", `${(r.val_loss as number).toFixed(4)} (train ${(r.train_loss as number).toFixed(4)}) after ${r.iters} iters`],
            ["time", `${duration(r.seconds as number)}, ${grouped(r.tokens_per_second as number)} training tokens/s on ${r.backend}`],
            ["saved", `${r.out}/ (model folder + checkpoint; continue with --resume)`],
            ["sample", `ingot generate ${r.out} --prompt "ROMEO:" --max-tokens 300`],
            ...(r.run_id ? [["run", `${r.run_id as string} recorded: ingot runs show ${r.run_id as string}`] as [string, string]] : []),
            ...(a.logdir ? [["tensorboard", `tensorboard --logdir ${a.logdir}`] as [string, string]] : []),
          ]),
      );
    return 0;
  } catch (e) {
    if (e instanceof ingot.IngotError && /holds no training checkpoint/.test(e.message)) {
      process.stderr.write(`ingot train char-gpt: ${e.message.replace(/^loadCheckpoint: /, "")}; run without --resume\n`);
      return 1;
    }
    return reportError("ingot train char-gpt", e);
  }
}
