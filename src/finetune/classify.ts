// Fine-tuning a BERT sequence classifier on labelled texts: from a pretrained folder (transfer), or the
// same architecture from scratch (the baseline); optionally LoRA adapters or frozen parameters. AdamW
// with warm-up and linear decay; loss on the val split each epoch, accuracy on the test split at the end.
import { noGrad } from "../autograd/index.js";
import { Generator, manualSeed, type Tensor, ValueError } from "../tensor/index.js";
import { argmax, tensor } from "../ops/index.js";
import { clipGradNorm } from "../optim/index.js";
import { applyLora, freeze, type LoraOptions, saveLoraAdapter } from "../nn/index.js";
import type { Tokenizer } from "../text/index.js";
import { BertForSequenceClassification } from "../models/bert.js";
import { loadBert, loadBertForSequenceClassification, saveBert } from "../models/bert-io.js";
import type { ClassificationTask, TextExample } from "./corpus.js";
import { shuffle } from "./corpus.js";
import { adamwFor, type LogFn, round4, since, warmupLinear } from "./loop.js";

export interface FinetuneOptions {
  /** The pretrained model folder (any BERT folder with a tokenizer.json). */
  modelDir: string;
  task: ClassificationTask;
  /** Same architecture and tokenizer as modelDir, but fresh random weights (the from-scratch baseline). */
  fromScratch?: boolean;
  epochs?: number;
  batchSize?: number;
  /** Peak learning rate (default 2e-4; 1e-3 with LoRA). */
  lr?: number;
  /** Tokens per sequence, [CLS] and [SEP] included (default 64). */
  seqLen?: number;
  seed?: number;
  /** LoRA on the encoder (the classifier head stays fully trainable, as PEFT's modules_to_save). */
  lora?: Omit<LoraOptions, "modulesToSave"> | null;
  /** Parameter-name patterns to freeze (see nn.freeze). */
  freeze?: string[];
  out?: string;
  log?: LogFn;
  command?: string;
}

export interface FinetuneResult {
  train_loss: number;
  val_loss: number;
  val_accuracy: number;
  test_loss: number;
  test_accuracy: number;
  trainable_parameters: number;
  total_parameters: number;
  epochs: number;
  iters: number;
  train_examples: number;
  val_examples: number;
  test_examples: number;
  tokens_per_second: number;
  seconds: number;
  from_scratch: boolean;
  out: string | null;
  history: { epoch: number; train_loss: number; val_loss: number; val_accuracy: number }[];
}

interface Encoded {
  ids: number[];
  label: number;
}

/** Loss and accuracy over examples (eval mode, no gradients). */
export function evaluateClassifier(model: BertForSequenceClassification, data: readonly Encoded[], padId: number, batchSize = 64): { loss: number; accuracy: number } {
  if (!data.length) return { loss: NaN, accuracy: NaN };
  const was = model.training;
  model.eval();
  let loss = 0;
  let correct = 0;
  noGrad(() => {
    for (let i = 0; i < data.length; i += batchSize) {
      const part = data.slice(i, i + batchSize);
      const b = batchOf(part, padId);
      const out = model.forward(b.ids, { attentionMask: b.mask, labels: b.labels });
      loss += out.loss!.item() * part.length;
      const pred = argmax(out.logits, 1).dataSync();
      part.forEach((e, j) => (correct += pred[j] === e.label ? 1 : 0));
    }
  });
  model.train(was);
  return { loss: loss / data.length, accuracy: correct / data.length };
}

function batchOf(part: readonly Encoded[], padId: number): { ids: Tensor; mask: Tensor; labels: Tensor } {
  const T = Math.max(...part.map((e) => e.ids.length));
  const ids = new Int32Array(part.length * T).fill(padId);
  const mask = new Int32Array(part.length * T);
  part.forEach((e, i) => e.ids.forEach((t, j) => ((ids[i * T + j] = t), (mask[i * T + j] = 1))));
  return {
    ids: tensor(ids, { dtype: "int32", shape: [part.length, T] }),
    mask: tensor(mask, { dtype: "int32", shape: [part.length, T] }),
    labels: tensor(part.map((e) => e.label), { dtype: "int32", shape: [part.length] }),
  };
}

/** Fine-tunes (or trains from scratch) a BERT classifier on a task; saves it when `out` is given. */
export function finetuneClassifier(o: FinetuneOptions): FinetuneResult & { model: BertForSequenceClassification; tokenizer: Tokenizer } {
  const { epochs = 3, batchSize = 32, seqLen = 64, seed = 0 } = o;
  const lr = o.lr ?? (o.lora ? 1e-3 : 2e-4);
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  const numLabels = o.task.labels.length;
  manualSeed(seed);
  const loaded = loadBertForSequenceClassification(o.modelDir, numLabels);
  const tok = loaded.tokenizer;
  if (!tok) throw new ValueError(`finetune: ${o.modelDir} has no tokenizer.json; the texts cannot be tokenized as the model was trained`);
  let model = loaded.model;
  if (o.fromScratch) {
    manualSeed(seed);
    model = new BertForSequenceClassification(model.config, numLabels);
  } else log(`loaded ${o.modelDir}: encoder weights from the folder; fresh: ${loaded.freshKeys.join(", ") || "nothing"}`);
  if (o.lora) applyLora(model, { ...o.lora, modulesToSave: ["classifier"] });
  for (const pattern of o.freeze ?? []) freeze(model, pattern);
  const padId = tok.padTokenId ?? 0;
  const enc = (split: string): Encoded[] =>
    o.task.examples.filter((e: TextExample) => e.split === split).map((e) => ({ ids: tok.encode(e.text, { truncation: true, maxLength: seqLen }), label: e.label }));
  const train = enc("train");
  const val = enc("val");
  const test = enc("test");
  if (!train.length) throw new ValueError("finetune: the task has no training examples");
  const trainable = model.numParameters(true);
  const total = model.numParameters();
  log(`task: ${numLabels} classes (${o.task.labels.join(", ")}); ${train.length} train / ${val.length} val / ${test.length} test examples`);
  log(`parameters: ${trainable.toLocaleString("en-US")} trainable of ${total.toLocaleString("en-US")} (${((100 * trainable) / total).toFixed(2)} %)${o.fromScratch ? "; from scratch" : ""}`);

  const steps = epochs * Math.ceil(train.length / batchSize);
  const opt = adamwFor(model, lr);
  const sched = warmupLinear(opt, steps);
  const g = new Generator(seed + 7);
  const history: FinetuneResult["history"] = [];
  let tokens = 0;
  let trainLoss = NaN;
  const tTrain = performance.now();
  model.train();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const order = shuffle([...train], g);
    let sum = 0;
    for (let i = 0; i < order.length; i += batchSize) {
      const part = order.slice(i, i + batchSize);
      const b = batchOf(part, padId);
      opt.zeroGrad();
      const { loss } = model.forward(b.ids, { attentionMask: b.mask, labels: b.labels });
      loss!.backward();
      clipGradNorm(opt.paramGroups.flatMap((pg) => pg.params), 1.0);
      opt.step();
      sched.step();
      sum += loss!.item() * part.length;
      tokens += part.reduce((n, e) => n + e.ids.length, 0);
    }
    trainLoss = sum / order.length;
    const v = evaluateClassifier(model, val, padId);
    history.push({ epoch, train_loss: round4(trainLoss), val_loss: round4(v.loss), val_accuracy: round4(v.accuracy) });
    log(`epoch ${epoch}/${epochs}  train loss ${trainLoss.toFixed(4)}  val loss ${v.loss.toFixed(4)}  val accuracy ${(100 * v.accuracy).toFixed(2)} %  ${since(tTrain).toFixed(0)} s`);
  }
  const trainSeconds = since(tTrain);
  const last = history[history.length - 1];
  const t = evaluateClassifier(model, test, padId);
  log(`test: loss ${t.loss.toFixed(4)}, accuracy ${(100 * t.accuracy).toFixed(2)} % on ${test.length} examples`);
  const result: FinetuneResult = {
    train_loss: round4(trainLoss),
    val_loss: last.val_loss,
    val_accuracy: last.val_accuracy,
    test_loss: round4(t.loss),
    test_accuracy: round4(t.accuracy),
    trainable_parameters: trainable,
    total_parameters: total,
    epochs,
    iters: steps,
    train_examples: train.length,
    val_examples: val.length,
    test_examples: test.length,
    tokens_per_second: Math.round(tokens / trainSeconds),
    seconds: Math.round(since(t0) * 10) / 10,
    from_scratch: !!o.fromScratch,
    out: o.out ?? null,
    history,
  };
  if (o.out) saveFinetuned(o, model, tok, result, lr);
  return { ...result, model, tokenizer: tok };
}

/** A LoRA run writes the adapter only (adapter/); otherwise the whole classifier folder. */
function saveFinetuned(o: FinetuneOptions, model: BertForSequenceClassification, tok: Tokenizer, r: FinetuneResult, lr: number): void {
  const { history, out: _out, ...metrics } = r;
  const card = { task: "sequence classification", base_model: o.modelDir, labels: o.task.labels, command: o.command ?? null, metrics, history };
  const training = { epochs: r.epochs, lr, batch_size: o.batchSize ?? 32, seq_len: o.seqLen ?? 64, seed: o.seed ?? 0, from_scratch: r.from_scratch, freeze: o.freeze ?? [], lora: o.lora ?? null };
  if (o.lora) {
    saveLoraAdapter(o.out!, model, { baseModel: o.modelDir, taskType: "SEQ_CLS" });
    return;
  }
  saveBert(o.out!, model, { tokenizer: tok, card, extraConfig: { labels: o.task.labels, training } });
}

/** Predicted class ids of texts with a saved classifier folder. */
export function classifyTexts(modelDir: string, texts: readonly string[], seqLen = 64): number[] {
  const { model, tokenizer } = loadBert(modelDir);
  if (!(model instanceof BertForSequenceClassification) || !tokenizer) throw new ValueError(`classifyTexts: ${modelDir} is not a BERT classifier folder with a tokenizer`);
  const rows = texts.map((t) => ({ ids: tokenizer.encode(t, { truncation: true, maxLength: seqLen }), label: 0 }));
  const b = batchOf(rows, tokenizer.padTokenId ?? 0);
  return Array.from(noGrad(() => argmax(model.forward(b.ids, { attentionMask: b.mask }).logits, 1)).dataSync());
}
