// BERT model folders: config.json ({architecture: "bert", bert: BertConfig, head, numLabels?, labels?}),
// model.safetensors (the state dict without the tied decoder weight, as Hugging Face writes BERT),
// tokenizer.json, card.json. Written like GPT folders (gpt-io.ts), atomically.
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { IngotError, type Tensor } from "../tensor/index.js";
import { loadModelDir, saveModelDir } from "../io/model-dir.js";
import { loadTokenizer, type Tokenizer } from "../text/index.js";
import { BERT, type BertConfig, BertForMaskedLM, BertForSequenceClassification } from "./bert.js";

/** The name config.json's `architecture` field carries for a BERT folder. */
export const BERT_ARCHITECTURE = "bert";

/** Which head the saved model has: none (BertModel), masked-LM, or sequence classification. */
export type BertHead = "none" | "mlm" | "classify";
export type AnyBert = BERT | BertForMaskedLM | BertForSequenceClassification;

const TIED = "cls.predictions.decoder.weight";

export interface SaveBertOptions {
  /** Written as tokenizer.json next to the weights. */
  tokenizer?: Tokenizer;
  /** Metrics and lineage (card.json). */
  card?: Record<string, unknown>;
  /** Extra fields kept in config.json (training hyper-parameters, the class names as `labels`). */
  extraConfig?: Record<string, unknown>;
}

export interface LoadedBert<M extends AnyBert = AnyBert> {
  model: M;
  head: BertHead;
  tokenizer: Tokenizer | null;
  config: Record<string, unknown>;
  card: Record<string, unknown>;
}

function headOf(model: AnyBert): BertHead {
  return model instanceof BertForMaskedLM ? "mlm" : model instanceof BertForSequenceClassification ? "classify" : "none";
}

/** Writes a JSON file atomically (a temporary name, then rename). */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Saves a BERT (any head) and its tokenizer as a model folder; every file is written atomically. */
export function saveBert(dir: string, model: AnyBert, opts: SaveBertOptions = {}): void {
  const weights = model.stateDict();
  delete weights[TIED]; // tied: the same tensor as bert.embeddings.word_embeddings.weight
  const head = headOf(model);
  if (opts.tokenizer) {
    // The tokenizer goes first: config.json, written last by saveModelDir, marks a complete folder.
    mkdirSync(dir, { recursive: true });
    writeAtomic(join(dir, "tokenizer.json"), JSON.stringify(opts.tokenizer.toJSON()) + "\n");
  }
  const numLabels = model instanceof BertForSequenceClassification ? { numLabels: model.numLabels } : {};
  saveModelDir(dir, {
    config: { ...opts.extraConfig, architecture: BERT_ARCHITECTURE, head, ...numLabels, bert: { ...model.config } },
    weights,
    card: opts.card ?? {},
  });
}

/** The config.json and weights of a BERT folder, checked. */
function readBertDir(dir: string): { config: Record<string, unknown>; weights: Record<string, Tensor>; card: Record<string, unknown>; bert: Partial<BertConfig> } {
  const { config, weights, card } = loadModelDir(dir);
  if (config.architecture !== BERT_ARCHITECTURE || typeof config.bert !== "object" || config.bert === null)
    throw new IngotError(`loadBert: ${dir}/config.json is not a BERT folder (architecture is '${String(config.architecture)}', expected '${BERT_ARCHITECTURE}')`);
  return { config, weights, card, bert: config.bert as Partial<BertConfig> };
}

function tokenizerOf(dir: string): Tokenizer | null {
  const p = join(dir, "tokenizer.json");
  return existsSync(p) ? loadTokenizer(p) : null;
}

/** Loads a folder written by saveBert with the head it was saved with (in eval mode). */
export function loadBert(dir: string): LoadedBert {
  const { config, weights, card, bert } = readBertDir(dir);
  const head = (config.head as BertHead | undefined) ?? "none";
  let model: AnyBert;
  if (head === "mlm") {
    model = new BertForMaskedLM(bert);
    weights[TIED] = weights["bert.embeddings.word_embeddings.weight"];
  } else if (head === "classify") model = new BertForSequenceClassification(bert, Number(config.numLabels));
  else model = new BERT(bert);
  model.loadStateDict(weights);
  model.eval();
  return { model, head, tokenizer: tokenizerOf(dir), config, card };
}

/**
 * A classifier with `numLabels` classes built on the encoder of any BERT folder (transfer learning):
 * the encoder weights come from the folder; the pooler (when the folder has none, as after masked-LM
 * pretraining) and the classification head start fresh. Returns the names that started fresh.
 */
export function loadBertForSequenceClassification(dir: string, numLabels: number): LoadedBert<BertForSequenceClassification> & { freshKeys: string[] } {
  const { config, weights, card, bert } = readBertDir(dir);
  const model = new BertForSequenceClassification(bert, numLabels);
  const head = (config.head as BertHead | undefined) ?? "none";
  // A BertModel folder's keys have no "bert." prefix; a classifier with another class count keeps only its encoder.
  const mine: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(weights)) {
    const key = head === "none" ? `bert.${k}` : k;
    if (key.startsWith("bert.")) mine[key] = t;
  }
  const { missingKeys } = model.loadStateDict(mine, { strict: false });
  const unexpected = Object.keys(mine).filter((k) => !(k in model.stateDict()));
  if (unexpected.length) throw new IngotError(`loadBertForSequenceClassification: ${dir} has weights the encoder does not know: ${unexpected.slice(0, 5).join(", ")}`);
  model.train();
  return { model, head: "classify", tokenizer: tokenizerOf(dir), config, card, freshKeys: missingKeys };
}
