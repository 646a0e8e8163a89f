// `ingot pretrain mlm --corpus DIR`: masked-LM pretraining of a BERT on a folder of text (WordPiece
// tokenizer trained on it), saved as a model folder; with --json the last line is one JSON object.
import { join } from "node:path";
import { existsSync } from "node:fs";
import { pretrainMlm } from "../finetune/pretrain.js";
import { parseCli, reportError, UsageError } from "./recipes/common.js";

export const PRETRAIN_HELP = `Usage: ingot pretrain mlm --corpus DIR [options]

Trains a WordPiece tokenizer on the corpus's training documents and pretrains a BERT with masked-LM
(15 % of tokens: 80 % [MASK], 10 % random, 10 % kept). The validation loss is the masked-token loss on
passages of held-out documents (split by document, stratified by half-century for YEAR_… file names).

Options:
  --corpus DIR       a folder of .txt files (default INGOT_DATA/text-corpora/sotu)
  --vocab-size N     WordPiece vocabulary size (default 8000)
  --size S           tiny (2 layers, 128 wide) | small (4 layers, 256 wide) (default tiny)
  --max-iters N      optimizer steps (default 1000)
  --seq-len N        tokens per sequence (default 64)
  --batch-size N     sequences per step (default 32)
  --lr X             peak learning rate, warm-up 10 % then linear decay (default 0.001)
  --seed N           seeds the weights, the batches and the masks (default 0)
  --eval-interval N  steps between validation losses (default max-iters / 5)
  --out DIR          the model folder (default runs/bert-mlm)
  --json             print one JSON object as the last line (progress goes to stderr)
  -h, --help         show this help

Example: ingot pretrain mlm --corpus ../shared/data/text-corpora/sotu --max-iters 300 --json
`;

function int(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`ingot pretrain: --${name} must be an integer ≥ ${min}, got '${raw}'`);
  return n;
}

export async function run(args: string[]): Promise<number> {
  try {
    const { values: v, positionals } = parseCli("ingot pretrain", args, {
      corpus: { type: "string" },
      "vocab-size": { type: "string" },
      size: { type: "string" },
      "max-iters": { type: "string" },
      "seq-len": { type: "string" },
      "batch-size": { type: "string" },
      lr: { type: "string" },
      seed: { type: "string" },
      "eval-interval": { type: "string" },
      out: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (v.help) {
      process.stdout.write(PRETRAIN_HELP);
      return 0;
    }
    if (positionals[0] !== "mlm" || positionals.length !== 1)
      throw new UsageError(`ingot pretrain: the objective is 'mlm' (masked-LM), e.g. ingot pretrain mlm --corpus DIR; got ${positionals.length ? `'${positionals.join(" ")}'` : "nothing"}`);
    const size = v.size ?? "tiny";
    if (size !== "tiny" && size !== "small") throw new UsageError(`ingot pretrain: --size is tiny or small, got '${size}'`);
    const lr = v.lr === undefined ? undefined : Number(v.lr);
    if (lr !== undefined && !(lr > 0 && Number.isFinite(lr))) throw new UsageError(`ingot pretrain: --lr must be a positive number, got '${v.lr}'`);
    const corpus = v.corpus ?? (process.env.INGOT_DATA ? join(process.env.INGOT_DATA, "text-corpora", "sotu") : undefined);
    if (!corpus) throw new UsageError("ingot pretrain: pass --corpus DIR (a folder of .txt files) or set INGOT_DATA (then INGOT_DATA/text-corpora/sotu is used)");
    if (!existsSync(corpus)) throw new UsageError(`ingot pretrain: the corpus folder ${corpus} does not exist`);
    const out = v.out ?? "runs/bert-mlm";
    const log = (line: string) => (v.json ? process.stderr : process.stdout).write(line + "\n");
    const r = pretrainMlm({
      corpus,
      vocabSize: int("vocab-size", v["vocab-size"], 16),
      size,
      maxIters: int("max-iters", v["max-iters"], 1),
      seqLen: int("seq-len", v["seq-len"], 8),
      batchSize: int("batch-size", v["batch-size"], 1),
      lr,
      seed: int("seed", v.seed, 0),
      evalInterval: int("eval-interval", v["eval-interval"], 1),
      out,
      log,
      command: ["ingot", "pretrain", ...args].join(" "),
    });
    const { model: _m, tokenizer: _t, history: _h, ...json } = r;
    if (v.json) process.stdout.write(JSON.stringify(json) + "\n");
    else log(`masked-token loss ${r.initial_val_loss} → ${r.val_loss} (held-out); saved ${out}/ — fine-tune it: ingot finetune ${out} --task classify --data sotu-halfcentury`);
    return 0;
  } catch (e) {
    return reportError("ingot pretrain", e);
  }
}
