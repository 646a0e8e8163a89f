// Trains models.Seq2SeqTransformer on the date-rewriting task ("Thu 5 Mar 1987" → "1987-03-05") and
// reports exact-match accuracy on held-out dates. Usage:
//   node dist/examples/seq2seq-dates.js [--steps 1500] [--seconds 0] [--d-model 64] [--layers 2] [--seed 0]
import * as ig from "../src/index.js";
import { Seq2SeqTransformer } from "../src/models/seq2seq.js";
import { dateBatch, dateTask, DateVocab, type DatePair } from "../src/data/date-task.js";

export interface DateTrainOptions {
  steps?: number;
  /** Stop after this many seconds as well (0 = no limit). */
  seconds?: number;
  dModel?: number;
  layers?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  trainSize?: number;
  testSize?: number;
  log?: (line: string) => void;
}

/** Fraction of pairs whose greedy decoding equals the target exactly. */
export function exactMatch(model: Seq2SeqTransformer, pairs: readonly DatePair[], vocab: DateVocab): number {
  model.eval();
  let hits = 0;
  for (let i = 0; i < pairs.length; i += 256) {
    const chunk = pairs.slice(i, i + 256);
    const { src } = dateBatch(chunk, vocab);
    const out = model.greedyDecode(src, { bos: DateVocab.BOS, eos: DateVocab.EOS, maxLen: 12 });
    out.forEach((ids, n) => (hits += vocab.decode(ids) === chunk[n].target && ids[ids.length - 1] === DateVocab.EOS ? 1 : 0));
  }
  model.train();
  return pairs.length ? hits / pairs.length : 0;
}

/** Trains a model on the date task; returns it with its accuracy before and after, steps and seconds. */
export function trainDates(o: DateTrainOptions = {}) {
  const seed = o.seed ?? 0;
  ig.manualSeed(seed);
  const { train, test, vocab } = dateTask({ trainSize: o.trainSize ?? 20000, testSize: o.testSize ?? 500, seed });
  const d = o.dModel ?? 64;
  const model = new Seq2SeqTransformer({
    srcVocabSize: vocab.size,
    tgtVocabSize: vocab.size,
    dModel: d,
    nhead: 4,
    numEncoderLayers: o.layers ?? 2,
    numDecoderLayers: o.layers ?? 2,
    dimFeedforward: 2 * d,
    dropout: 0,
    maxLen: 64,
  });
  const before = exactMatch(model, test.slice(0, 100), vocab);
  const opt = new ig.optim.AdamW(model.parameters(), { lr: o.lr ?? 2e-3, weightDecay: 0.01 });
  const B = o.batchSize ?? 64;
  const steps = o.steps ?? 1500;
  const g = new ig.Generator(seed + 1);
  const t0 = performance.now();
  let step = 0;
  let loss = NaN;
  for (; step < steps; step++) {
    if (o.seconds && (performance.now() - t0) / 1000 > o.seconds) break;
    const batch = Array.from({ length: B }, () => train[Math.floor(g.random() * train.length)]);
    const { src, tgtIn, tgtOut } = dateBatch(batch, vocab);
    // Linear warm-up over 100 steps, then constant (short runs; no decay needed).
    for (const group of opt.paramGroups) group.lr = (o.lr ?? 2e-3) * Math.min(1, (step + 1) / 100);
    opt.zeroGrad();
    const out = model.forward(src, tgtIn, tgtOut);
    out.loss!.backward();
    ig.optim.clipGradNorm(model.parameters(), 1.0);
    opt.step();
    if (step % 100 === 0 || step === steps - 1) {
      loss = out.loss!.item();
      o.log?.(`step ${step} loss ${loss.toFixed(4)} ${((performance.now() - t0) / 1000).toFixed(1)}s`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return { model, vocab, test, before, after: exactMatch(model, test, vocab), steps: step, seconds, loss };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, dflt: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const r = trainDates({
    steps: arg("steps", 1500),
    seconds: arg("seconds", 0),
    dModel: arg("d-model", 64),
    layers: arg("layers", 2),
    seed: arg("seed", 0),
    testSize: arg("test-size", 1000),
    log: console.log,
  });
  const shown = r.test.slice(0, 8);
  const outs = r.model.eval().greedyDecode(dateBatch(shown, r.vocab).src, { bos: DateVocab.BOS, eos: DateVocab.EOS, maxLen: 12 });
  shown.forEach((p, n) => {
    const got = r.vocab.decode(outs[n]);
    console.log(`${p.source.padEnd(32)} → ${got}  (${got === p.target ? "ok" : `want ${p.target}`})`);
  });
  console.log(JSON.stringify({ exact_match: r.after, exact_match_before: r.before, test_size: r.test.length, steps: r.steps, seconds: Number(r.seconds.toFixed(1)) }));
}
