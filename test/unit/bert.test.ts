// models.BERT / BertForMaskedLM / BertForSequenceClassification against Hugging Face's BERT written with
// plain torch ops (test/golden/bert.json from bert_golden.py: hidden states, pooled output, MLM logits,
// loss and every gradient, classifier logits) and against transformers' own BertForMaskedLM /
// BertForSequenceClassification on the same weights (test/golden/bert_transformers.json from
// transformers_golden.py); padding masks; MLM masking; model folders.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { type Arr, fromArr, readGolden } from "./golden-compare.js";

const { BertForMaskedLM, BertForSequenceClassification, BERT, saveBert, loadBert, loadBertForSequenceClassification } = ig.models;
const { maskTokens, mlmBatch } = ig.finetune;

interface Golden {
  torch: string;
  config: Record<string, number>;
  numLabels: number;
  params: Record<string, Arr>;
  ids: Arr;
  tokenTypeIds: Arr;
  attentionMask: Arr;
  labels: Arr;
  clsLabels: Arr;
  hidden: Arr;
  pooled: Arr;
  mlmLogits: Arr;
  mlmLoss: number;
  mlmGrads: Record<string, Arr>;
  clsLogits: Arr;
  clsLoss: number;
}
const g = readGolden<Golden>("bert.json");
type HfGolden = Pick<Golden, "hidden" | "pooled" | "mlmLogits" | "mlmLoss" | "mlmGrads" | "clsLogits" | "clsLoss"> & { versions: Record<string, string> };
const hf = readGolden<HfGolden>("bert_transformers.json");

function close(what: string, got: Tensor | number[], want: Arr | number[], atol: number, rtol = atol): void {
  const a = Array.isArray(got) ? got : [...(got.dataSync() as Float64Array)];
  const w = Array.isArray(want) ? want : (want.data as number[]);
  if (!Array.isArray(got) && !Array.isArray(want)) assert.deepEqual([...got.shape], want.shape, `${what}: shape`);
  assert.equal(a.length, w.length, `${what}: length`);
  a.forEach((v, i) => assert.ok(Math.abs(v - w[i]) <= atol + rtol * Math.abs(w[i]), `${what}[${i}] is ${v}, PyTorch gives ${w[i]}`));
}

function load(m: ig.nn.Module): void {
  ig.noGrad(() => m.namedParameters().forEach(([n, p]) => ig.copy_(p, fromArr(g.params[n]))));
}

const inputs = () => ({ attentionMask: fromArr(g.attentionMask), tokenTypeIds: fromArr(g.tokenTypeIds) });

type Expected = Pick<Golden, "hidden" | "pooled" | "mlmLogits" | "mlmLoss" | "mlmGrads" | "clsLogits" | "clsLoss">;

/** BertForMaskedLM on bert.json's weights and batch against `want`: hidden states, all logits, loss, every gradient. */
function checkMlm(want: Expected): InstanceType<typeof BertForMaskedLM> {
  const m = new BertForMaskedLM({ ...g.config, dtype: "float64" });
  assert.deepEqual(m.namedParameters().map(([n]) => n).sort(), Object.keys(want.mlmGrads).sort(), "Hugging Face's parameter names");
  load(m);
  m.eval();
  close("hidden", m.bert.forward(fromArr(g.ids), inputs()).lastHiddenState, want.hidden, 1e-12, 1e-10);
  const full = m.forward(fromArr(g.ids), { ...inputs(), labels: fromArr(g.labels), allLogits: true });
  close("logits", full.logits, want.mlmLogits, 1e-12, 1e-10);
  close("loss", [full.loss!.item()], [want.mlmLoss], 1e-12, 1e-12);
  full.loss!.backward();
  for (const [n, p] of m.namedParameters()) close(`grad of ${n}`, p.grad!, want.mlmGrads[n], 1e-12, 1e-9);
  return m;
}

/** BertForSequenceClassification on bert.json's weights against `want`: pooled output, logits, loss. */
function checkClassifier(want: Expected): void {
  const m = new BertForSequenceClassification({ ...g.config, dtype: "float64" }, g.numLabels);
  load(m);
  m.eval();
  const out = m.forward(fromArr(g.ids), { ...inputs(), labels: fromArr(g.clsLabels) });
  close("pooled", m.bert.forward(fromArr(g.ids), inputs()).poolerOutput!, want.pooled, 1e-12, 1e-10);
  close("classifier logits", out.logits, want.clsLogits, 1e-12, 1e-10);
  close("classifier loss", [out.loss!.item()], [want.clsLoss], 1e-12, 1e-12);
}

test(`BertForMaskedLM matches Hugging Face's BERT in PyTorch ${g.torch}: hidden states, MLM logits, loss, every gradient (float64)`, () => {
  const m = checkMlm(g);
  assert.equal(m.cls.predictions.decoder.weight, m.bert.embeddings.word_embeddings.weight, "decoder tied to the word embeddings");

  // The default path runs the decoder on the labelled positions only: the same loss, the same rows.
  m.zeroGrad();
  const sparse = m.forward(fromArr(g.ids), { ...inputs(), labels: fromArr(g.labels) });
  close("masked-only loss", [sparse.loss!.item()], [g.mlmLoss], 1e-12, 1e-12);
  const lab = g.labels.data as number[];
  const V = g.config.vocabSize;
  const rows = lab.flatMap((l, i) => (l === -100 ? [] : (g.mlmLogits.data as number[]).slice(i * V, (i + 1) * V)));
  assert.deepEqual(sparse.logits.shape, [lab.filter((l) => l !== -100).length, V]);
  close("masked-only logits", sparse.logits, rows, 1e-12, 1e-10);
  sparse.loss!.backward();
  for (const [n, p] of m.namedParameters()) close(`masked-only grad of ${n}`, p.grad!, g.mlmGrads[n], 1e-12, 1e-9);
});

test("BertForSequenceClassification matches PyTorch: pooler ([CLS] → dense → tanh) and classifier logits and loss", () => checkClassifier(g));

test(`BERT matches transformers ${hf.versions.transformers} itself on bert.json's weights: states, logits, losses, every MLM gradient (float64)`, () => {
  checkMlm(hf);
  checkClassifier(hf);
});

test("BERT: padding does not change the real tokens' states; float32 follows float64", () => {
  ig.manualSeed(3);
  const m = new BERT({ vocabSize: 50, hiddenSize: 16, numLayers: 2, numHeads: 4, intermediateSize: 32, maxPositions: 16 }).eval();
  const ids = ig.tensor([[2, 9, 14, 3]], { dtype: "int32" });
  const short = m.forward(ids).lastHiddenState;
  const padded = m.forward(ig.tensor([[2, 9, 14, 3, 0, 0]], { dtype: "int32" }), { attentionMask: ig.tensor([[1, 1, 1, 1, 0, 0]], { dtype: "int32" }) }).lastHiddenState;
  close("real positions", padded.slice(1, 0, 4), [...short.dataSync()], 1e-5, 1e-5);
  const unmasked = m.forward(ig.tensor([[2, 9, 14, 3, 0, 0]], { dtype: "int32" })).lastHiddenState.slice(1, 0, 4);
  assert.ok(Math.max(...[...unmasked.sub(short).abs().dataSync()]) > 1e-3, "without the mask the padding is attended to");
  const m64 = new BERT(m.config).to("float64").eval();
  m64.loadStateDict(Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, t.to("float64")])));
  close("float64", m64.forward(ids).lastHiddenState, [...short.dataSync()], 1e-5, 1e-4);
});

test("BERT: errors name the problem", () => {
  assert.throws(() => new BERT({ vocabSize: 10, hiddenSize: 10, numHeads: 3 }), /hiddenSize \(10\) must be divisible by numHeads \(3\)/);
  const m = new BERT({ vocabSize: 10, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 8, maxPositions: 4 });
  assert.throws(() => m.forward(ig.tensor([[1, 2, 3, 4, 5]], { dtype: "int32" })), /5 tokens exceed maxPositions 4/);
  assert.throws(() => m.forward(ig.tensor([1, 2], { dtype: "int32" })), /input ids must be int32 of shape \(B, T\)/);
  assert.throws(() => m.forward(ig.tensor([[1, 2]], { dtype: "int32" }), { attentionMask: ig.tensor([[1, 1, 1]], { dtype: "int32" }) }), /attentionMask must have the ids' shape \[1,2\]/);
});

test("maskTokens: 15 % of the ordinary tokens, of which 80 % [MASK], 10 % random, 10 % kept; specials never; seeded", () => {
  const specials = [0, 1, 2, 3, 4];
  const rows = Array.from({ length: 200 }, (_, i) => [2, ...Array.from({ length: 98 }, (_, j) => 5 + ((i * 31 + j * 7) % 95)), 3, 0, 0]);
  const opts = { vocabSize: 100, maskId: 4, specialIds: specials, seed: 7 };
  const { inputIds, labels } = maskTokens(rows, opts);
  let eligible = 0, chosen = 0, masked = 0, random = 0, kept = 0;
  rows.forEach((r, i) =>
    r.forEach((tok, j) => {
      const l = labels[i][j];
      if (specials.includes(tok)) {
        assert.equal(l, -100, "a special token is never a target");
        assert.equal(inputIds[i][j], tok, "a special token is never changed");
        return;
      }
      eligible++;
      if (l === -100) return assert.equal(inputIds[i][j], tok, "a non-target is unchanged");
      chosen++;
      assert.equal(l, tok, "the label is the original token");
      const x = inputIds[i][j];
      if (x === 4) masked++;
      else if (x === tok) kept++;
      else {
        random++;
        assert.ok(x >= 5 && x < 100, "random tokens are ordinary tokens");
      }
    }),
  );
  const share = chosen / eligible;
  assert.ok(Math.abs(share - 0.15) < 0.01, `chosen share ${share}`);
  assert.ok(Math.abs(masked / chosen - 0.8) < 0.03, `[MASK] share ${masked / chosen}`);
  assert.ok(Math.abs(random / chosen - 0.1) < 0.025, `random share ${random / chosen}`); // a random draw equal to the token counts as kept
  assert.ok(Math.abs(kept / chosen - 0.1) < 0.025, `kept share ${kept / chosen}`);
  assert.deepEqual(maskTokens(rows, opts), { inputIds, labels }, "the same seed, the same masks");
  assert.notDeepEqual(maskTokens(rows, { ...opts, seed: 8 }).labels, labels);
  const b = mlmBatch([[2, 7, 3], [2, 3]], { ...opts, padId: 0, seed: 1 });
  assert.deepEqual(b.labels.shape, [2, 3]);
  assert.equal(b.labels.dataSync()[5], -100, "padding gets −100");
  assert.ok([...b.labels.dataSync()].some((l) => l !== -100), "a batch always has a target");
});

test("saveBert / loadBert: the tied decoder is not stored; a classifier takes the encoder of an MLM folder", () => {
  ig.manualSeed(5);
  const cfg = { vocabSize: 40, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxPositions: 12 };
  const mlm = new BertForMaskedLM(cfg).eval();
  const dir = mkdtempSync(join(tmpdir(), "ingot-bert-"));
  try {
    saveBert(dir, mlm);
    const keys = Object.keys(ig.loadSafetensors(join(dir, "model.safetensors")).tensors);
    assert.ok(!keys.includes("cls.predictions.decoder.weight") && keys.includes("bert.embeddings.word_embeddings.weight"));
    const { model, head } = loadBert(dir);
    assert.equal(head, "mlm");
    const ids = ig.tensor([[2, 11, 7, 3]], { dtype: "int32" });
    close("reloaded logits", (model as InstanceType<typeof BertForMaskedLM>).forward(ids).logits, [...mlm.forward(ids).logits.dataSync()], 0, 0);
    const { model: clf, freshKeys } = loadBertForSequenceClassification(dir, 4);
    assert.deepEqual(freshKeys.sort(), ["bert.pooler.dense.bias", "bert.pooler.dense.weight", "classifier.bias", "classifier.weight"]);
    close("encoder weights", clf.bert.embeddings.word_embeddings.weight, [...mlm.bert.embeddings.word_embeddings.weight.dataSync()], 0, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
