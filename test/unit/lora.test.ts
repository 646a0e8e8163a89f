// LoRA (nn.applyLora): few trainable parameters, a start equal to the base model, merge/unmerge that
// keep the logits, training that moves only the adapters, adapter-only files (PEFT's format) that load
// back; freezing by name pattern; adapters exchanged with Hugging Face PEFT in both directions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { fileURLToPath } from "node:url";
import { type Arr, fromArr, readGolden } from "./golden-compare.js";

const { nn } = ig;
const { BertForSequenceClassification, BERT_SIZES } = ig.models;

const tinyCfg = { vocabSize: 60, hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 32, maxPositions: 16 };
const ids = ig.tensor([[2, 17, 33, 9, 3, 0], [2, 40, 3, 0, 0, 0]], { dtype: "int32" });
const attentionMask = ig.tensor([[1, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0]], { dtype: "int32" });
const logitsOf = (m: InstanceType<typeof BertForSequenceClassification>) => [...ig.noGrad(() => m.forward(ids, { attentionMask }).logits).dataSync()];
const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

function model(seed = 1) {
  ig.manualSeed(seed);
  return new BertForSequenceClassification(tinyCfg, 3).eval();
}

/** Gives every lora_B a nonzero value (it starts at zero), as after some training. */
function perturb(m: ig.nn.Module): void {
  ig.manualSeed(9);
  ig.noGrad(() => nn.loraLayers(m).forEach((l) => ig.copy_(l.lora_B.weight, ig.randn(l.lora_B.weight.shape).mul(0.5))));
}

test("applyLora on the small BERT: trainable parameters < 2 % of the base; only adapters and the head train", () => {
  ig.manualSeed(0);
  const m = new BertForSequenceClassification({ vocabSize: 8000, ...BERT_SIZES.small }, 5);
  const base = m.numParameters();
  nn.applyLora(m, { rank: 8, alpha: 16, targetModules: ["query", "value"], modulesToSave: ["classifier"] });
  const trainable = m.numParameters(true);
  assert.equal(m.numParameters() - base, 4 * 2 * (8 * 256 + 256 * 8), "r·(in + out) per adapted layer, 2 layers × 4 blocks");
  assert.ok(trainable / base < 0.02, `${trainable} of ${base} = ${((100 * trainable) / base).toFixed(2)} %`);
  const names = m.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n);
  assert.ok(names.every((n) => n.includes(".lora_") || n.startsWith("classifier.")), names.join(", "));
  assert.deepEqual(nn.loraConfigOf(m)!.wrapped.length, 8);
});

test("LoRA starts at the base model; merged logits equal unmerged to 1e-5; unmerge restores the base weights", () => {
  const m = model();
  const before = logitsOf(m);
  const w0 = [...m.namedParameters().find(([n]) => n === "bert.encoder.layer.0.attention.self.query.weight")![1].dataSync()];
  nn.applyLora(m, { rank: 4, alpha: 8, targetModules: ["query", "key", "value", "attention.output.dense"] });
  assert.equal(nn.loraLayers(m).length, 8);
  assert.ok(maxDiff(logitsOf(m), before) === 0, "B = 0: the adapted model is the base model");
  perturb(m);
  const unmerged = logitsOf(m);
  assert.ok(maxDiff(unmerged, before) > 1e-3, "a nonzero B changes the logits");
  nn.mergeLora(m);
  const layer = nn.loraLayers(m)[0];
  assert.ok(layer.merged);
  const merged = logitsOf(m);
  assert.ok(maxDiff(merged, unmerged) < 1e-5, `merged vs unmerged: ${maxDiff(merged, unmerged)}`);
  nn.unmergeLora(m);
  assert.ok(maxDiff([...layer.weight.dataSync()], w0) < 1e-6, "unmerge restores W");
  assert.ok(maxDiff(logitsOf(m), unmerged) < 1e-5);
  assert.throws(() => nn.applyLora(m, { targetModules: ["query"] }), /already has LoRA adapters/);
  assert.throws(() => nn.applyLora(model(), { targetModules: ["nothing"] }), /no nn.Linear matches targetModules \["nothing"\]/);
});

test("training with LoRA moves only the adapters and the saved modules", () => {
  const m = model();
  const frozen0 = Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, [...t.dataSync()]]));
  nn.applyLora(m, { rank: 2, alpha: 4, targetModules: /attention\.self\.(query|value)$/, modulesToSave: ["classifier"] });
  m.train();
  const opt = new ig.optim.AdamW(m.parameters().filter((p) => p.requiresGrad), { lr: 1e-2 });
  for (let i = 0; i < 3; i++) {
    opt.zeroGrad();
    m.forward(ids, { attentionMask, labels: ig.tensor([0, 2], { dtype: "int32" }) }).loss!.backward();
    opt.step();
  }
  for (const [k, t] of Object.entries(m.stateDict()) as [string, Tensor][]) {
    const moved = k in frozen0 ? maxDiff([...t.dataSync()], frozen0[k]) > 0 : true;
    if (k.includes(".lora_B.") || k.startsWith("classifier.")) assert.ok(moved, `${k} should train`);
    else if (!k.includes(".lora_")) assert.ok(!moved, `${k} is frozen but changed`);
  }
});

test("saveLoraAdapter writes only adapter weights (PEFT names) and loadLoraAdapter restores the outputs", () => {
  const m = model();
  nn.applyLora(m, { rank: 4, alpha: 8, dropout: 0.1, targetModules: ["query", "value"], modulesToSave: ["classifier"] });
  perturb(m);
  const want = logitsOf(m);
  const dir = mkdtempSync(join(tmpdir(), "ingot-lora-"));
  try {
    nn.saveLoraAdapter(dir, m, { baseModel: "tiny", taskType: "SEQ_CLS" });
    const keys = Object.keys(ig.loadSafetensors(join(dir, "adapter_model.safetensors")).tensors).sort();
    assert.ok(keys.length === 2 * 2 * 2 + 2, keys.join(", "));
    for (const k of keys) assert.match(k, /^base_model\.model\.(bert\.encoder\.layer\.\d\.attention\.self\.(query|value)\.lora_[AB]\.weight|classifier\.(weight|bias))$/);
    const cfg = JSON.parse(readFileSync(join(dir, "adapter_config.json"), "utf8"));
    assert.deepEqual([cfg.peft_type, cfg.r, cfg.lora_alpha, cfg.lora_dropout, cfg.target_modules, cfg.modules_to_save], ["LORA", 4, 8, 0.1, ["query", "value"], ["classifier"]]);
    const fresh = model(); // the same base weights (same seed), no adapters
    assert.ok(maxDiff(logitsOf(fresh), want) > 1e-3);
    nn.loadLoraAdapter(dir, fresh);
    fresh.eval();
    assert.ok(maxDiff(logitsOf(fresh), want) < 1e-6, "the adapter brings the outputs back");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("freeze / unfreeze by name: prefixes, globs, RegExps; an unmatched pattern is an error", () => {
  const m = model();
  const total = m.numParameters();
  const emb = nn.freeze(m, "bert.embeddings");
  assert.deepEqual(emb, ["bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight", "bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight", "bert.embeddings.LayerNorm.bias"]);
  assert.equal(nn.freeze(m, "bert.encoder.layer.*.attention.self.*.weight").length, 2 * 3);
  assert.equal(nn.freeze(m, /^bert\.encoder\.layer\.1\./).length, 16);
  assert.ok(!nn.matchesName("bert.embeddingsX.weight", "bert.embeddings"), "a prefix ends at a dot");
  const { trainable } = nn.countParameters(m);
  assert.ok(trainable < total && m.parameters().filter((p) => !p.requiresGrad).length === 5 + 6 + 16 - 3);
  nn.unfreeze(m);
  assert.equal(nn.countParameters(m).trainable, total);
  assert.throws(() => nn.freeze(m, "encoder.layer.7"), /freeze: no parameter name matches encoder.layer.7/);
});

// ---- Interchange with Hugging Face PEFT (fixtures from test/golden/transformers_golden.py, PEFT 0.21) ----
const peftGolden = readGolden<{ versions: Record<string, string>; baseLogits: Arr; ingotAdapterLogits: Arr; peftAdapterLogits: Arr; peftMergedLogits: Arr }>("lora_peft.json");
const bertGolden = readGolden<{ config: Record<string, number>; numLabels: number; params: Record<string, Arr>; ids: Arr; tokenTypeIds: Arr; attentionMask: Arr }>("bert.json");
const goldenDir = (p: string) => fileURLToPath(new URL(`../../../test/golden/${p}`, import.meta.url));

/** bert.json's classifier in float64 with its weights, and its logits on bert.json's batch. */
function bertJsonClassifier() {
  const m = new BertForSequenceClassification({ ...bertGolden.config, dtype: "float64" }, bertGolden.numLabels);
  ig.noGrad(() => m.namedParameters().forEach(([n, p]) => ig.copy_(p, fromArr(bertGolden.params[n]))));
  m.eval();
  const logits = () => [...(ig.noGrad(() => m.forward(fromArr(bertGolden.ids), { attentionMask: fromArr(bertGolden.attentionMask), tokenTypeIds: fromArr(bertGolden.tokenTypeIds) }).logits).dataSync() as Float64Array)];
  return { m, logits };
}

test(`PEFT ${peftGolden.versions.peft} reads Ingot's adapter files as Ingot does, and Ingot reads PEFT's: the same logits`, () => {
  const ours = bertJsonClassifier();
  assert.ok(maxDiff(ours.logits(), peftGolden.baseLogits.data as number[]) < 1e-12, "the base model agrees before any adapter");
  nn.loadLoraAdapter(goldenDir("lora_ingot"), ours.m);
  assert.ok(maxDiff(ours.logits(), peftGolden.ingotAdapterLogits.data as number[]) < 1e-12, "PEFT's logits on the adapter Ingot wrote");
  assert.ok(maxDiff(ours.logits(), peftGolden.baseLogits.data as number[]) > 0.1, "the adapter changes the logits");

  const theirs = bertJsonClassifier();
  nn.loadLoraAdapter(goldenDir("lora_peft"), theirs.m);
  assert.deepEqual(nn.loraConfigOf(theirs.m)!.wrapped.length, 6, "query, value and attention.output.dense in both layers");
  assert.ok(maxDiff(theirs.logits(), peftGolden.peftAdapterLogits.data as number[]) < 1e-12, "the adapter PEFT wrote");
  nn.mergeLora(theirs.m);
  assert.ok(maxDiff(theirs.logits(), peftGolden.peftMergedLogits.data as number[]) < 1e-12, "merged as PEFT's merge_and_unload");
  nn.unmergeLora(theirs.m);
  const dir = mkdtempSync(join(tmpdir(), "ingot-peft-"));
  try {
    nn.saveLoraAdapter(dir, theirs.m);
    const names = (p: string) => Object.keys(ig.loadSafetensors(join(p, "adapter_model.safetensors")).tensors).sort();
    assert.deepEqual(names(dir), names(goldenDir("lora_peft")), "saved again under PEFT's tensor names");
    const cfg = JSON.parse(readFileSync(join(goldenDir("lora_peft"), "adapter_config.json"), "utf8"));
    for (const [key, value] of [["use_dora", true], ["use_rslora", true], ["rank_pattern", { query: 8 }], ["fan_in_fan_out", true]] as const) {
      writeFileSync(join(dir, "adapter_config.json"), JSON.stringify({ ...cfg, [key]: value }));
      assert.throws(() => nn.loadLoraAdapter(dir, bertJsonClassifier().m), new RegExp(`does not implement \\(${key}: `), key);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
