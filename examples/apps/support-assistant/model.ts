// The support assistant's model: a byte-level BPE GPT pretrained briefly on the FAQ and some general
// English (recent State of the Union addresses), then fine-tuned with LoRA on chat-formatted FAQ
// exchanges (the retrieved FAQ answer as a system message, the question, the answer), merged and saved
// as a plain GPT folder that `ingot serve` loads. Retrieval embeds questions with the same model.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as ingot from "../../../src/index.js";
import type { FaqEntry } from "./faq.js";

const { models, nn, text, serve } = ingot;

/** A training configuration: `ci` trains in well under a minute on 2 cores, `full` takes a few minutes. */
export interface AssistantSize {
  gpt: { nLayer: number; nHead: number; nEmbd: number; blockSize: number };
  vocabSize: number;
  /** Characters of general English (SOTU) mixed into pretraining, when INGOT_DATA has it. */
  englishChars: number;
  /** How many times the FAQ documents repeat in the pretraining stream (its weight against the English). */
  faqRepeats: number;
  pretrain: { iters: number; batchSize: number; blockSize: number; lr: number };
  sft: { epochs: number; batchSize: number; lr: number; rank: number; alpha: number; withoutContext: boolean };
}

/** One line describing a size, from its numbers (for --help). */
export function sizeSummary(s: AssistantSize): string {
  return `${s.gpt.nLayer} layers, ${s.gpt.nHead} heads, ${s.gpt.nEmbd} wide; ${s.pretrain.iters} pretraining steps, ${s.sft.epochs} LoRA epochs`;
}

export const SIZES: Readonly<Record<"ci" | "full", AssistantSize>> = {
  ci: {
    gpt: { nLayer: 2, nHead: 4, nEmbd: 128, blockSize: 160 },
    vocabSize: 768,
    englishChars: 10_000,
    faqRepeats: 20,
    pretrain: { iters: 300, batchSize: 8, blockSize: 64, lr: 5e-3 },
    sft: { epochs: 12, batchSize: 16, lr: 5e-3, rank: 16, alpha: 32, withoutContext: false },
  },
  full: {
    gpt: { nLayer: 4, nHead: 4, nEmbd: 192, blockSize: 192 },
    vocabSize: 1024,
    englishChars: 400_000,
    faqRepeats: 16,
    pretrain: { iters: 1500, batchSize: 12, blockSize: 96, lr: 2e-3 },
    sft: { epochs: 12, batchSize: 8, lr: 2e-3, rank: 16, alpha: 32, withoutContext: true },
  },
};

/** The system message that carries the retrieved FAQ entry (the same text in training and serving). */
export function contextMessage(entry: FaqEntry): ingot.serve.ChatMessage {
  return { role: "system", content: faqDocument(entry).trimEnd() };
}

/** One FAQ entry as a document: the form the model reads in pretraining and, retrieved, in its prompt. */
export function faqDocument(e: FaqEntry): string {
  return `Question: ${e.question}\nAnswer: ${e.answer}\n\n`;
}

/** The chat prompt for a question with its retrieved entry, in `ingot serve`'s chat template. */
export function promptFor(question: string, entry: FaqEntry | null): string {
  const user: ingot.serve.ChatMessage = { role: "user", content: question };
  return serve.chatPrompt(entry ? [contextMessage(entry), user] : [user]);
}

/** The FAQ as plain documents (question, answer) for pretraining and for the tokenizer. */
function faqDocuments(faq: readonly FaqEntry[]): string {
  return faq.map(faqDocument).join("");
}

/** Up to `chars` characters of the most recent State of the Union addresses in INGOT_DATA (empty when absent). */
export function englishText(chars: number, dataRoot = process.env.INGOT_DATA): string {
  if (!dataRoot || chars <= 0) return "";
  const dir = join(dataRoot, "text-corpora", "sotu");
  if (!existsSync(dir)) return "";
  let out = "";
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".txt")).sort().reverse()) {
    out += readFileSync(join(dir, f), "utf8").replace(/\s+/g, " ").trim() + "\n\n";
    if (out.length >= chars) break;
  }
  return out.slice(0, chars);
}

export interface TrainReport {
  size: string;
  tokenizer_vocab: number;
  params: number;
  lora_params: number;
  english_chars: number;
  pretrain: { iters: number; train_loss: number; val_loss: number; seconds: number; tokens_per_second: number };
  sft: { examples: number; epochs: number; steps: number; first_loss: number; last_loss: number; seconds: number };
  seconds: number;
}

type Log = (line: string) => void;

/** The supervised examples: every question and training paraphrase with its entry's answer. */
function sftPairs(faq: readonly FaqEntry[]): { question: string; entry: FaqEntry }[] {
  return faq.flatMap((e) => [e.question, ...e.paraphrases].map((question) => ({ question, entry: e })));
}

/**
 * Fine-tunes the LoRA adapters on prompt → answer, the loss on the answer tokens (and the end-of-text
 * token) only. With `withoutContext` each example also appears without the context message, so that
 * the model answers from its own memory too when retrieval brings nothing.
 */
function sft(gpt: ingot.models.GPT, tok: ingot.text.Tokenizer, faq: readonly FaqEntry[], s: AssistantSize["sft"], seed: number, log: Log) {
  const withoutContext = s.withoutContext;
  const eos = tok.eosTokenId;
  if (eos === undefined) throw new Error("support-assistant: the tokenizer has no end-of-text token");
  const rows: { ids: number[]; start: number }[] = [];
  for (const { question, entry } of sftPairs(faq))
    for (const withContext of withoutContext ? [true, false] : [true]) {
      const p = tok.encode(promptFor(question, withContext ? entry : null));
      const a = tok.encode(" " + entry.answer);
      const ids = [...p, ...a, eos];
      if (ids.length > gpt.config.blockSize + 1) throw new Error(`support-assistant: the example for '${question}' has ${ids.length} tokens, more than the context of ${gpt.config.blockSize}; shorten the FAQ answer or use a bigger --size`);
      rows.push({ ids, start: p.length });
    }
  const opt = gpt.configureOptimizers({ lr: s.lr, weightDecay: 0, betas: [0.9, 0.99] });
  const g = new ingot.Generator(seed);
  const stepsPerEpoch = Math.ceil(rows.length / s.batchSize);
  const total = s.epochs * stepsPerEpoch;
  const losses: number[] = [];
  gpt.train();
  let step = 0;
  for (let epoch = 0; epoch < s.epochs; epoch++) {
    const order = ingot.finetune.shuffle([...rows.keys()], g);
    for (let b = 0; b < order.length; b += s.batchSize) {
      const batch = order.slice(b, b + s.batchSize).map((i) => rows[i]);
      const T = Math.max(...batch.map((r) => r.ids.length)) - 1;
      const x = new Int32Array(batch.length * T).fill(eos);
      const y = new Int32Array(batch.length * T).fill(-1);
      batch.forEach((r, i) => {
        for (let t = 0; t < r.ids.length - 1; t++) {
          x[i * T + t] = r.ids[t];
          // Position t predicts token t + 1: only answer tokens are targets.
          if (t + 1 >= r.start) y[i * T + t] = r.ids[t + 1];
        }
      });
      // Cosine decay to lr / 10 over the run (no warm-up: the adapters start at zero).
      const lr = s.lr * (0.1 + 0.45 * (1 + Math.cos((Math.PI * step) / total)));
      for (const grp of opt.paramGroups) grp.lr = lr;
      opt.zeroGrad();
      const { loss } = gpt.forward(ingot.tensor(x, { dtype: "int32", shape: [batch.length, T] }), ingot.tensor(y, { dtype: "int32", shape: [batch.length, T] }));
      loss!.backward();
      ingot.optim.clipGradNorm(gpt.parameters().filter((p) => p.requiresGrad), 1.0);
      opt.step();
      losses.push(loss!.item());
      step++;
    }
    log(`support-assistant: LoRA epoch ${epoch + 1}/${s.epochs}: loss ${losses[losses.length - 1].toFixed(4)}`);
  }
  gpt.eval();
  return { examples: rows.length, steps: step, first_loss: losses[0], last_loss: losses[losses.length - 1] };
}

/**
 * Trains the assistant's model and saves it to `dir` as a GPT folder (LoRA merged into the weights),
 * with card.json recording the run. Returns the figures of the run.
 */
export function trainAssistant(dir: string, faq: readonly FaqEntry[], size: keyof typeof SIZES, opts: { seed?: number; dataRoot?: string; log?: Log } = {}): TrainReport {
  const s = SIZES[size];
  const seed = opts.seed ?? 0;
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  const docs = faqDocuments(faq);
  const english = englishText(s.englishChars, opts.dataRoot);
  const tok = text.trainBpe([docs, english], { vocabSize: s.vocabSize });
  log(`support-assistant: BPE tokenizer of ${tok.vocabSize} tokens; ${english.length} characters of English${english ? "" : " (none: INGOT_DATA has no text-corpora/sotu)"}`);

  ingot.manualSeed(seed);
  const gpt = new models.GPT({ ...s.gpt, vocabSize: tok.vocabSize, dropout: 0 });
  const faqIds = tok.encode(docs);
  const englishIds = english ? tok.encode(english) : [];
  // The FAQ repeated faqRepeats times, then the English.
  const stream = new Int32Array(faqIds.length * s.faqRepeats + englishIds.length);
  for (let r = 0; r < s.faqRepeats; r++) stream.set(faqIds, r * faqIds.length);
  stream.set(englishIds, faqIds.length * s.faqRepeats);
  const pre = ingot.train.trainLM({
    model: gpt,
    trainData: stream,
    // The FAQ itself: how well the pretrained model knows the product's documents.
    valData: Int32Array.from(faqIds),
    blockSize: s.pretrain.blockSize,
    batchSize: s.pretrain.batchSize,
    maxIters: s.pretrain.iters,
    lr: s.pretrain.lr,
    warmupIters: Math.min(20, s.pretrain.iters),
    evalInterval: s.pretrain.iters,
    evalIters: 4,
    seed,
    log: (e) => {
      if (e.kind === "eval") log(`support-assistant: pretraining step ${e.iter}: train loss ${e.train_loss.toFixed(3)}, FAQ loss ${e.val_loss.toFixed(3)}`);
    },
  });

  nn.applyLora(gpt, { rank: s.sft.rank, alpha: s.sft.alpha, targetModules: ["c_attn", "c_proj", "c_fc"] });
  const loraParams = gpt.parameters().filter((p) => p.requiresGrad).reduce((a, p) => a + p.size, 0);
  const s0 = performance.now();
  const ft = sft(gpt, tok, faq, s.sft, seed, log);
  const sftSeconds = (performance.now() - s0) / 1000;
  nn.mergeLora(gpt);

  // A plain GPT with the merged weights: what `ingot serve` and models.loadGPT read.
  const plain = new models.GPT({ ...gpt.config });
  const merged: Record<string, ingot.Tensor> = {};
  for (const [k, v] of Object.entries(gpt.stateDict())) if (!k.includes(".lora_")) merged[k] = v;
  plain.loadStateDict(merged);
  const report: TrainReport = {
    size,
    tokenizer_vocab: tok.vocabSize,
    params: plain.parameters().reduce((a, p) => a + p.size, 0),
    lora_params: loraParams,
    english_chars: english.length,
    pretrain: { iters: pre.iters, train_loss: pre.trainLoss, val_loss: pre.valLoss, seconds: pre.seconds, tokens_per_second: pre.tokensPerSecond },
    sft: { ...ft, epochs: s.sft.epochs, seconds: sftSeconds },
    seconds: (performance.now() - t0) / 1000,
  };
  models.saveGPT(dir, plain, { tokenizer: tok, card: { app: "support-assistant", ...report, lora: { rank: s.sft.rank, alpha: s.sft.alpha, targets: ["c_attn", "c_proj", "c_fc"], merged: true } } });
  return report;
}
