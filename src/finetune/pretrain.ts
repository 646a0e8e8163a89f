// Masked-LM pretraining of a BERT on a folder of text: a WordPiece tokenizer trained on the training
// documents, passages as sequences, dynamic masking every step, AdamW with warm-up and linear decay, and
// the masked-token loss on passages of held-out documents (the same document split as the derived task).
import { noGrad } from "../autograd/index.js";
import { Generator, manualSeed, ValueError } from "../tensor/index.js";
import { clipGradNorm } from "../optim/index.js";
import { trainWordPiece, type Tokenizer } from "../text/index.js";
import { BERT_SIZES, BertForMaskedLM } from "../models/bert.js";
import { saveBert } from "../models/bert-io.js";
import { corpusSplit, readCorpus, shuffle, splitPassages } from "./corpus.js";
import { type MaskOptions, mlmBatch, type MlmBatch } from "./mlm.js";
import { adamwFor, type LogFn, round4, since, warmupLinear } from "./loop.js";

export interface PretrainMlmOptions {
  /** A folder of .txt documents. */
  corpus: string;
  /** WordPiece vocabulary size (default 8000). */
  vocabSize?: number;
  size?: "tiny" | "small";
  /** Optimizer steps (default 1000). */
  maxIters?: number;
  /** Tokens per sequence, [CLS] and [SEP] included (default 64). */
  seqLen?: number;
  batchSize?: number;
  /** Peak learning rate (default 1e-3: small BERTs take large rates). */
  lr?: number;
  seed?: number;
  /** The seed of the document split (default 0; the fine-tuning task uses the same). */
  splitSeed?: number;
  /** Held-out sequences in the validation loss (default 256). */
  evalSequences?: number;
  /** Steps between validation losses (default maxIters / 5). */
  evalInterval?: number;
  /** Use only the first N training passages (quick runs and tests). */
  limitPassages?: number;
  /** Where the model folder goes (not saved when absent). */
  out?: string;
  log?: LogFn;
  /** Recorded in card.json. */
  command?: string;
}

export interface PretrainMlmResult {
  train_loss: number;
  val_loss: number;
  /** The validation masked-token loss before the first step (≈ ln V for a fresh model). */
  initial_val_loss: number;
  iters: number;
  tokens: number;
  tokens_per_second: number;
  seconds: number;
  parameters: number;
  vocab_size: number;
  train_passages: number;
  val_passages: number;
  out: string | null;
  history: { iter: number; train_loss: number; val_loss: number }[];
}

/** The masked-token loss over fixed batches (weighted by the number of targets). */
export function maskedLoss(model: BertForMaskedLM, batches: readonly MlmBatch[]): number {
  const wasTraining = model.training;
  model.eval();
  let sum = 0;
  let n = 0;
  noGrad(() => {
    for (const b of batches) {
      const k = (b.labels.dataSync() as Int32Array).reduce((c, l) => c + (l !== -100 ? 1 : 0), 0);
      if (!k) continue;
      sum += model.forward(b.inputIds, { attentionMask: b.attentionMask, labels: b.labels }).loss!.item() * k;
      n += k;
    }
  });
  model.train(wasTraining);
  return sum / n;
}

/** The masking settings of a BERT tokenizer. */
export function maskOptionsOf(tok: Tokenizer): MaskOptions & { padId: number } {
  const maskId = tok.maskTokenId;
  const padId = tok.padTokenId;
  if (maskId === undefined || padId === undefined) throw new ValueError("masked-LM: the tokenizer has no [MASK] or [PAD] token; train it with BERT's special tokens (text.BERT_SPECIAL_TOKENS)");
  return { vocabSize: tok.vocabSize, maskId, padId, specialIds: tok.specialIds };
}

/** Pretrains a BertForMaskedLM on a corpus folder; saves it (with its tokenizer) when `out` is given. */
export function pretrainMlm(o: PretrainMlmOptions): PretrainMlmResult & { model: BertForMaskedLM; tokenizer: Tokenizer } {
  const { vocabSize = 8000, size = "tiny", maxIters = 1000, seqLen = 64, batchSize = 32, lr = 1e-3, seed = 0, splitSeed = 0, evalSequences = 256 } = o;
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  const docs = readCorpus(o.corpus);
  const split = corpusSplit(docs, splitSeed);
  const trainDocs = docs.filter((d) => split.get(d) === "train");
  const valDocs = docs.filter((d) => split.get(d) === "val");
  const tok = trainWordPiece(trainDocs.map((d) => d.text), { vocabSize });
  log(`tokenizer: WordPiece, ${tok.vocabSize} tokens, trained on ${trainDocs.length} documents (${since(t0).toFixed(1)} s)`);
  // ~0.75 words per WordPiece token in English prose: passages of this many words mostly fit seqLen.
  const maxWords = Math.max(4, Math.floor((seqLen - 2) * 0.75));
  const encode = (ds: typeof docs) => ds.flatMap((d) => splitPassages(d.text, maxWords)).map((p) => tok.encode(p, { truncation: true, maxLength: seqLen }));
  let train = encode(trainDocs).filter((r) => r.length > 4);
  if (o.limitPassages) train = train.slice(0, o.limitPassages);
  const val = shuffle(encode(valDocs).filter((r) => r.length > 4), new Generator(1234)).slice(0, evalSequences);
  log(`data: ${train.length} training passages from ${trainDocs.length} documents, ${val.length} validation passages from ${valDocs.length} held-out documents`);

  manualSeed(seed);
  const model = new BertForMaskedLM({ vocabSize: tok.vocabSize, ...BERT_SIZES[size], maxPositions: Math.max(seqLen, BERT_SIZES[size].maxPositions) });
  const mask = maskOptionsOf(tok);
  const valBatches: MlmBatch[] = [];
  const gVal = new Generator(4321); // the same masks at every evaluation
  for (let i = 0; i < val.length; i += batchSize) valBatches.push(mlmBatch(val.slice(i, i + batchSize), { ...mask, generator: gVal }));
  const initial = maskedLoss(model, valBatches);
  log(`model: BERT ${size}, ${model.numParameters().toLocaleString("en-US")} parameters; initial masked-token loss ${initial.toFixed(4)} (ln V = ${Math.log(tok.vocabSize).toFixed(4)})`);

  const opt = adamwFor(model, lr);
  const sched = warmupLinear(opt, maxIters);
  const g = new Generator(seed + 1);
  const evalInterval = o.evalInterval ?? Math.max(1, Math.round(maxIters / 5));
  const history: PretrainMlmResult["history"] = [];
  let tokens = 0;
  let recent: number[] = [];
  let valLoss = initial;
  const tTrain = performance.now();
  model.train();
  for (let it = 1; it <= maxIters; it++) {
    const rows = Array.from({ length: batchSize }, () => train[g.int(0, train.length)]);
    const b = mlmBatch(rows, { ...mask, generator: g });
    opt.zeroGrad();
    const { loss } = model.forward(b.inputIds, { attentionMask: b.attentionMask, labels: b.labels });
    loss!.backward();
    clipGradNorm(model.parameters(), 1.0);
    opt.step();
    sched.step();
    tokens += rows.reduce((n, r) => n + r.length, 0);
    recent.push(loss!.item());
    if (it % evalInterval === 0 || it === maxIters) {
      valLoss = maskedLoss(model, valBatches);
      const trainLoss = recent.reduce((a, c) => a + c, 0) / recent.length;
      history.push({ iter: it, train_loss: round4(trainLoss), val_loss: round4(valLoss) });
      const s = since(tTrain);
      log(`iter ${it}/${maxIters}  train loss ${trainLoss.toFixed(4)}  val loss ${valLoss.toFixed(4)}  ${Math.round(tokens / s)} tokens/s  ${s.toFixed(0)} s`);
      recent = [];
    }
  }
  const seconds = since(tTrain);
  const last = history[history.length - 1];
  const result: PretrainMlmResult = {
    train_loss: last?.train_loss ?? NaN,
    val_loss: round4(valLoss),
    initial_val_loss: round4(initial),
    iters: maxIters,
    tokens,
    tokens_per_second: Math.round(tokens / seconds),
    seconds: Math.round(since(t0) * 10) / 10,
    parameters: model.numParameters(),
    vocab_size: tok.vocabSize,
    train_passages: train.length,
    val_passages: val.length,
    out: o.out ?? null,
    history,
  };
  if (o.out) {
    const { history: _h, out: _o, ...metrics } = result;
    saveBert(o.out, model, {
      tokenizer: tok,
      extraConfig: { training: { task: "mlm", corpus: o.corpus, size, seq_len: seqLen, batch_size: batchSize, lr, max_iters: maxIters, seed, split_seed: splitSeed } },
      card: { task: "masked-lm pretraining", corpus: o.corpus, command: o.command ?? null, metrics, history },
    });
  }
  return { ...result, model, tokenizer: tok };
}
