// importGPT2: a Hugging Face GPT-2 folder (config.json + model.safetensors in HF's layout, Conv1D
// weights [in, out]) into models.GPT. Two fixtures:
// - test/golden/gpt2_transformers/, written by transformers itself (test/golden/transformers_golden.py,
//   run where transformers is installed): save_pretrained's folder of a small random GPT2LMHeadModel
//   with its tokenizer, the float64 logits, and greedy decoding through transformers' KV cache;
// - test/golden/gpt2_hf/ (gpt2_hf_golden.py, plain PyTorch): the older layout, without the
//   "transformer." prefix and with the attn.bias / attn.masked_bias buffers.
// Also: the errors for folders that are not GPT-2 or not complete.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ig from "../../src/index.js";
import { readGolden } from "./golden-compare.js";

const FIXTURE = fileURLToPath(new URL("../../../test/golden/gpt2_hf", import.meta.url));
const golden = readGolden<{ input_ids: number[][]; logits_shape: number[]; logits: number[] }>("gpt2_hf/golden.json");
const HF = fileURLToPath(new URL("../../../test/golden/gpt2_transformers", import.meta.url));
const hf = readGolden<{
  versions: Record<string, string>;
  input_ids: number[][];
  logits_shape: number[];
  logits: number[];
  prompt: string;
  prompt_ids: number[];
  greedy_ids: number[];
  greedy_text: string;
}>("gpt2_transformers/golden.json");

function worstDiff(got: Float32Array, want: number[]): number {
  assert.equal(got.length, want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  return worst;
}

test("importGPT2: a folder saved by transformers: logits, tokenizer and KV-cached greedy decoding match transformers", () => {
  const { model, config, tokenizer } = ig.models.importGPT2(HF);
  assert.deepEqual([config.vocabSize, config.blockSize, config.nLayer, config.nHead, config.nEmbd], [284, 32, 2, 4, 48]);
  const idx = ig.tensor(hf.input_ids, { dtype: "int32" });
  const logits = ig.noGrad(() => model.forward(idx).logits);
  assert.deepEqual(logits.shape, hf.logits_shape);
  const worst = worstDiff(logits.dataSync() as Float32Array, hf.logits);
  assert.ok(worst < 1e-4, `largest difference from transformers ${hf.versions.transformers}: ${worst}`);
  assert.ok(tokenizer, "save_pretrained's tokenizer.json is read");
  assert.deepEqual(tokenizer!.encode(hf.prompt), hf.prompt_ids);
  const out = ig.noGrad(() => model.generate([hf.prompt_ids], hf.greedy_ids.length - hf.prompt_ids.length, { temperature: 0 }))[0];
  assert.deepEqual(out, hf.greedy_ids, "greedy tokens, KV cache on both sides");
  assert.equal(tokenizer!.decode(out), hf.greedy_text);
});

test("importGPT2: the older layout (no prefix, attention buffers): logits match the HF GPT-2 forward (float64) to 1e-4", () => {
  const { model, config, tokenizer } = ig.models.importGPT2(FIXTURE);
  assert.deepEqual([config.vocabSize, config.blockSize, config.nLayer, config.nHead, config.nEmbd, config.bias], [97, 32, 2, 4, 48, true]);
  assert.equal(tokenizer, null);
  assert.equal(model.lm_head.weight, model.transformer.wte.weight, "the output head stays tied");
  const idx = ig.tensor(golden.input_ids, { dtype: "int32" });
  const { logits } = ig.noGrad(() => model.forward(idx));
  assert.deepEqual(logits.shape, golden.logits_shape);
  const got = logits.dataSync() as Float32Array;
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - golden.logits[i]));
  assert.ok(worst < 1e-4, `largest difference ${worst}`);
  // The KV-cached greedy decode agrees with the full forward's argmax at every step.
  const out = ig.noGrad(() => model.generate([golden.input_ids[0].slice(0, 5)], 6, { temperature: 0 }))[0];
  const full = ig.noGrad(() => model.forward(ig.tensor([out.slice(0, -1)], { dtype: "int32" })).logits);
  const rows = full.dataSync() as Float32Array;
  for (let t = 4; t < out.length - 1; t++) {
    const row = rows.subarray(t * 97, (t + 1) * 97);
    assert.equal(out[t + 1], row.indexOf(Math.max(...row)), `token ${t + 1}`);
  }
});

test("importGPT2: a GPT2LMHeadModel state dict (transformer. prefix, tied lm_head) and a tokenizer are read too", () => {
  const dir = mkdtempSync(join(tmpdir(), "ingot-gpt2-"));
  try {
    const { tensors } = ig.loadSafetensors(join(FIXTURE, "model.safetensors"));
    const prefixed: Record<string, ig.Tensor> = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [`transformer.${k}`, t]));
    prefixed["lm_head.weight"] = tensors["wte.weight"];
    ig.saveSafetensors(join(dir, "model.safetensors"), prefixed);
    cpSync(join(FIXTURE, "config.json"), join(dir, "config.json"));
    cpSync(fileURLToPath(new URL("../../../test/golden/tokenizer_gpt2/vocab.json", import.meta.url)), join(dir, "vocab.json"));
    cpSync(fileURLToPath(new URL("../../../test/golden/tokenizer_gpt2/merges.txt", import.meta.url)), join(dir, "merges.txt"));
    const a = ig.models.importGPT2(dir), b = ig.models.importGPT2(FIXTURE);
    const idx = ig.tensor(golden.input_ids, { dtype: "int32" });
    assert.deepEqual(ig.noGrad(() => a.model.forward(idx).logits).dataSync(), ig.noGrad(() => b.model.forward(idx).logits).dataSync());
    assert.ok(a.tokenizer, "vocab.json + merges.txt become the tokenizer");
    assert.equal(a.tokenizer!.decode(a.tokenizer!.encode("Hello world")), "Hello world");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("importGPT2: clear errors for what is not a complete GPT-2 folder", () => {
  const dir = mkdtempSync(join(tmpdir(), "ingot-gpt2-bad-"));
  const cfg = JSON.parse(readFileSync(join(FIXTURE, "config.json"), "utf8"));
  const err = (re: RegExp) => (e: Error) => e instanceof ig.IngotError && re.test(e.message);
  try {
    assert.throws(() => ig.models.importGPT2(dir), err(/no config\.json/));
    writeFileSync(join(dir, "config.json"), JSON.stringify(cfg));
    writeFileSync(join(dir, "pytorch_model.bin"), "pickle");
    assert.throws(() => ig.models.importGPT2(dir), err(/no model\.safetensors.*pickle/));
    const { tensors } = ig.loadSafetensors(join(FIXTURE, "model.safetensors"));
    const without = { ...tensors };
    delete without["h.1.mlp.c_fc.bias"];
    ig.saveSafetensors(join(dir, "model.safetensors"), without);
    assert.throws(() => ig.models.importGPT2(dir), err(/lacks h\.1\.mlp\.c_fc\.bias/));
    ig.saveSafetensors(join(dir, "model.safetensors"), { ...tensors, "h.0.attn.rotary.weight": tensors["ln_f.bias"] });
    assert.throws(() => ig.models.importGPT2(dir), err(/does not have: h\.0\.attn\.rotary\.weight/));
    ig.saveSafetensors(join(dir, "model.safetensors"), { ...tensors, "lm_head.weight": tensors["wte.weight"].mul(2) });
    assert.throws(() => ig.models.importGPT2(dir), err(/lm_head\.weight .* differs from wte\.weight/));
    ig.saveSafetensors(join(dir, "model.safetensors"), { ...tensors, "h.0.attn.c_attn.weight": tensors["h.0.attn.c_attn.weight"].t().contiguous() });
    assert.throws(() => ig.models.importGPT2(dir), err(/c_attn\.weight has shape \[144,48\] .* implies \[48,144\] \(HF's Conv1D layout/));
    ig.saveSafetensors(join(dir, "model.safetensors"), tensors);
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...cfg, activation_function: "relu" }));
    assert.throws(() => ig.models.importGPT2(dir), err(/activation_function 'relu'/));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...cfg, tie_word_embeddings: false }));
    assert.throws(() => ig.models.importGPT2(dir), err(/tie_word_embeddings false is not supported/));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...cfg, add_cross_attention: true }));
    assert.throws(() => ig.models.importGPT2(dir), err(/add_cross_attention/));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...cfg, model_type: "llama" }));
    assert.throws(() => ig.models.importGPT2(dir), err(/model_type is 'llama'/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("ingot import gpt2 writes a GPT folder that loadGPT reads back with the same logits", async () => {
  const { main } = await import("../../src/cli/main.js");
  const out = mkdtempSync(join(tmpdir(), "ingot-gpt2-cli-"));
  try {
    assert.equal(await main(["import", "gpt2", FIXTURE, "--out", out, "--json"]), 0);
    const { model, card } = ig.models.loadGPT(out);
    assert.equal(card.format, "huggingface-gpt2");
    const idx = ig.tensor(golden.input_ids, { dtype: "int32" });
    const got = ig.noGrad(() => model.forward(idx).logits).dataSync() as Float32Array;
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - golden.logits[i]));
    assert.ok(worst < 1e-4, `largest difference ${worst}`);
    assert.equal(await main(["import", "llama", FIXTURE, "--out", out]), 2);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
