// `ingot finetune <modelDir> --task classify --data FILE.jsonl|sotu-halfcentury`: a BERT classifier on
// the pretrained encoder (or from scratch), fully, with frozen parts, or with LoRA adapters.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { finetuneClassifier } from "../finetune/classify.js";
import { type ClassificationTask, readClassificationJsonl, sotuHalfCenturyTask, writeJsonl } from "../finetune/corpus.js";
import { parseCli, reportError, UsageError } from "./recipes/common.js";

export const FINETUNE_HELP = `Usage: ingot finetune <modelDir> --task classify --data FILE.jsonl|sotu-halfcentury [options]

Adds a classification head (as many classes as the data has) to a BERT folder (e.g. from
'ingot pretrain mlm') and trains it; reports the test accuracy.

Data:
  --data FILE.jsonl  one JSON object per line with the text and the label (string or integer) and an
                     optional "split" (train | val | test; lines without one are split 80/10/10, seeded)
  --data sotu-halfcentury
                     passages of the State of the Union addresses labelled with their half-century
                     (1790-1849, 1850-1899, 1900-1949, 1950-1999, 2000-2021), split by address (test
                     passages come from unseen addresses, the same split as 'ingot pretrain');
                     written to <out>/task.jsonl; the corpus is --corpus DIR or INGOT_DATA/text-corpora/sotu
  --text-field NAME  (default text)     --label-field NAME  (default label)

Options:
  --task classify    the task (sequence classification; the only one so far)
  --lora SPEC        LoRA adapters instead of full fine-tuning, e.g. r=8,alpha=16,dropout=0.1,targets=attn
                     (targets: attn = query,key,value,attention.output.dense; qv = query,value; or
                     module names separated by commas); only the adapter is saved
  --freeze PATTERN   freeze parameters by name (a prefix such as bert.embeddings, or a glob with *);
                     may be repeated
  --from-scratch     the same architecture and tokenizer with fresh weights (the baseline)
  --epochs N         (default 3)   --batch-size N (default 32)   --seq-len N (default 64)
  --lr X             peak learning rate (default 2e-4; 1e-3 with --lora)
  --seed N           (default 0)
  --out DIR          (default <modelDir>-classify)
  --json             print one JSON object as the last line (progress goes to stderr)
  -h, --help         show this help
`;

const TARGET_PRESETS: Record<string, string[]> = {
  attn: ["query", "key", "value", "attention.output.dense"],
  qv: ["query", "value"],
  all: ["query", "key", "value", "dense"],
};

/** Parses r=8,alpha=16,dropout=0.1,targets=query,value (a comma-separated piece without '=' continues targets). */
export function parseLoraSpec(spec: string): { rank: number; alpha: number; dropout: number; targetModules: string[] } {
  const o: Record<string, string[]> = {};
  let key = "";
  for (const piece of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const eq = piece.indexOf("=");
    if (eq >= 0) {
      key = piece.slice(0, eq).trim();
      o[key] = [piece.slice(eq + 1).trim()];
    } else if (key === "targets") o.targets.push(piece);
    else throw new UsageError(`ingot finetune: --lora '${spec}': '${piece}' is not key=value (keys: r, alpha, dropout, targets)`);
  }
  for (const k of Object.keys(o)) if (!["r", "rank", "alpha", "dropout", "targets"].includes(k)) throw new UsageError(`ingot finetune: --lora: unknown key '${k}' (keys: r, alpha, dropout, targets)`);
  const rank = Number((o.r ?? o.rank ?? ["8"])[0]);
  const alpha = Number((o.alpha ?? [String(2 * rank)])[0]);
  const dropout = Number((o.dropout ?? ["0"])[0]);
  if (!Number.isInteger(rank) || rank < 1) throw new UsageError(`ingot finetune: --lora r must be a positive integer, got '${(o.r ?? o.rank)?.[0]}'`);
  if (!(alpha > 0)) throw new UsageError(`ingot finetune: --lora alpha must be positive`);
  if (!(dropout >= 0 && dropout < 1)) throw new UsageError(`ingot finetune: --lora dropout must be in [0, 1)`);
  const t = o.targets ?? ["qv"];
  const targetModules = t.length === 1 && TARGET_PRESETS[t[0]] ? TARGET_PRESETS[t[0]] : t.flatMap((x) => x.split("|"));
  return { rank, alpha, dropout, targetModules };
}

function num(name: string, raw: string | undefined, integer: boolean, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) throw new UsageError(`ingot finetune: --${name} must be ${integer ? "an integer" : "a number"} ≥ ${min}, got '${raw}'`);
  return n;
}

export async function run(args: string[]): Promise<number> {
  try {
    const { values: v, positionals } = parseCli("ingot finetune", args, {
      task: { type: "string", default: "classify" },
      data: { type: "string" },
      corpus: { type: "string" },
      "text-field": { type: "string" },
      "label-field": { type: "string" },
      lora: { type: "string" },
      freeze: { type: "string", multiple: true },
      "from-scratch": { type: "boolean", default: false },
      epochs: { type: "string" },
      "batch-size": { type: "string" },
      "seq-len": { type: "string" },
      lr: { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (v.help) {
      process.stdout.write(FINETUNE_HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError("ingot finetune: name one model folder, e.g. ingot finetune runs/bert-mlm --task classify --data sotu-halfcentury");
    const modelDir = positionals[0];
    if (!existsSync(join(modelDir, "config.json"))) throw new UsageError(`ingot finetune: ${modelDir} is not a model folder (no config.json); pretrain one with 'ingot pretrain mlm'`);
    if (v.task !== "classify") throw new UsageError(`ingot finetune: --task '${v.task}' is not supported; the task is classify`);
    if (!v.data) throw new UsageError("ingot finetune: pass --data FILE.jsonl or --data sotu-halfcentury");
    const out = v.out ?? `${modelDir.replace(/\/+$/, "")}-classify`;
    const seed = num("seed", v.seed, true, 0) ?? 0;
    let task: ClassificationTask;
    if (v.data === "sotu-halfcentury") {
      const corpus = v.corpus ?? (process.env.INGOT_DATA ? join(process.env.INGOT_DATA, "text-corpora", "sotu") : undefined);
      if (!corpus) throw new UsageError("ingot finetune: --data sotu-halfcentury needs --corpus DIR or INGOT_DATA (INGOT_DATA/text-corpora/sotu)");
      task = sotuHalfCenturyTask(corpus);
      writeJsonl(join(out, "task.jsonl"), task);
    } else {
      if (!existsSync(v.data)) throw new UsageError(`ingot finetune: the data file ${v.data} does not exist`);
      task = readClassificationJsonl(v.data, { textField: v["text-field"], labelField: v["label-field"], seed });
    }
    const log = (line: string) => (v.json ? process.stderr : process.stdout).write(line + "\n");
    const r = finetuneClassifier({
      modelDir,
      task,
      fromScratch: v["from-scratch"],
      epochs: num("epochs", v.epochs, true, 1),
      batchSize: num("batch-size", v["batch-size"], true, 1),
      seqLen: num("seq-len", v["seq-len"], true, 4),
      lr: num("lr", v.lr, false, 0),
      seed,
      lora: v.lora ? parseLoraSpec(v.lora) : null,
      freeze: v.freeze,
      out,
      log,
      command: ["ingot", "finetune", ...args].join(" "),
    });
    const { model: _m, tokenizer: _t, history: _h, ...json } = r;
    if (v.json) process.stdout.write(JSON.stringify(json) + "\n");
    else log(`test accuracy ${(100 * r.test_accuracy).toFixed(2)} %; saved ${out}/`);
    return 0;
  } catch (e) {
    return reportError("ingot finetune", e);
  }
}
