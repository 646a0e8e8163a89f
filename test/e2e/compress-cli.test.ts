// End to end: `ingot train` a tiny MNIST MLP (--limit), then `ingot compress` it with each method:
// the --json line, the saved folder (card.json lineage, report.md) that `ingot eval` reads, the
// exact sparsity, smaller structured and low-rank models, a half-size distilled student, and the
// errors. Skips, saying why, without MNIST in INGOT_DATA.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as ig from "../../src/index.js";

const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "ingot-compress-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

const DATA = process.env.INGOT_DATA ? resolve(process.env.INGOT_DATA) : null;
const hasMnist = !!DATA && existsSync(join(DATA, "mnist", "train-images-idx3-ubyte.gz"));
const skip = hasMnist ? false : `no MNIST in ${DATA ? join(DATA, "mnist") : "INGOT_DATA (unset)"}: set INGOT_DATA=../shared/data to run the compress end-to-end tests`;
const LIMITS = ["--limit", "1000", "--test-limit", "300"];

function cli(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, INGOT_DATA: DATA ?? "" }, maxBuffer: 1 << 26 });
}

function lastJson(stdout: string): Record<string, any> {
  const lines = stdout.trimEnd().split("\n");
  return JSON.parse(lines[lines.length - 1]) as Record<string, any>;
}

const REQUIRED = ["method", "size_bytes_before", "size_bytes_after", "metric_before", "metric_after", "latency_ms_before", "latency_ms_after"];
const src = join(tmp, "tiny");
let trained = false;

function trainTiny(): void {
  if (trained) return;
  const r = cli(["train", "mnist-mlp", "--epochs", "1", ...LIMITS, "--out", src, "--json"]);
  assert.equal(r.status, 0, r.stderr);
  trained = true;
}

test("ingot compress --prune 0.75: exact global sparsity, lineage in card.json, report.md, and ingot eval reads the folder", { skip }, () => {
  trainTiny();
  const out = join(tmp, "p75");
  const r = cli(["compress", src, "--prune", "0.75", "--finetune-epochs", "1", ...LIMITS, "--out", out, "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const j = lastJson(r.stdout);
  for (const k of REQUIRED) assert.ok(k in j, `--json lacks ${k}`);
  assert.equal(j.method, "prune");
  assert.ok(j.metric_before > 0.5 && j.metric_after > 0.5, `accuracy ${j.metric_before} → ${j.metric_after}`);
  assert.ok(j.latency_ms_before > 0 && j.latency_ms_after > 0);
  // 0.75 of the 784·128 + 128·10 kernel weights are zero, exactly.
  const kernels = ig.keras.loadModel(out).parameters().filter((p) => p.ndim === 2);
  const zeros = kernels.reduce((n, p) => n + Array.from(p.dataSync() as Float32Array).filter((v) => v === 0).length, 0);
  assert.equal(zeros, Math.round(0.75 * (784 * 128 + 128 * 10)));
  const card = JSON.parse(readFileSync(join(out, "card.json"), "utf8"));
  assert.equal(card.source, resolve(src));
  assert.equal(card.compression.length, 1);
  assert.equal(card.compression[0].method, "prune");
  assert.deepEqual(card.compression[0].parameters, { sparsity: 0.75, scope: "global", schedule: "gradual" });
  assert.match(readFileSync(join(out, "report.md"), "utf8"), /\| test accuracy \| \d+\.\d\d% \| \d+\.\d\d% \|/);
  const e = cli(["eval", out, "--json"]);
  assert.equal(e.status, 0, e.stderr);
  assert.equal(lastJson(e.stdout).test_accuracy, j.metric_after, "ingot eval repeats the accuracy after compression");
});

test("ingot compress --prune 0.5 --structured and --low-rank 0.5 make smaller files; a table without --json", { skip }, () => {
  trainTiny();
  const s = cli(["compress", src, "--prune", "0.5", "--structured", ...LIMITS, "--out", join(tmp, "s50"), "--json"]);
  assert.equal(s.status, 0, s.stderr);
  const js = lastJson(s.stdout);
  assert.equal(js.method, "prune-structured");
  assert.equal(js.params_after, 784 * 64 + 64 + 64 * 10 + 10);
  assert.ok(js.size_bytes_after < 0.55 * js.size_bytes_before);
  const l = cli(["compress", src, "--low-rank", "0.5", "--finetune-epochs", "1", ...LIMITS, "--out", join(tmp, "lr50")]);
  assert.equal(l.status, 0, l.stderr);
  assert.match(l.stdout, /parameters\s+101,770\s+50,666/);
  assert.match(l.stdout, /latency, batch 64/);
  assert.ok(existsSync(join(tmp, "lr50", "report.md")));
});

test("ingot compress --distill --student-size half trains a half-size student from the teacher", { skip }, () => {
  trainTiny();
  const r = cli(["compress", src, "--distill", "--student-size", "half", "--finetune-epochs", "1", ...LIMITS, "--out", join(tmp, "half"), "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const j = lastJson(r.stdout);
  assert.equal(j.method, "distill");
  assert.equal(j.params_after, 784 * 64 + 64 + 64 * 10 + 10);
  assert.ok(j.metric_after > 0.5, `student accuracy ${j.metric_after}`);
});

test("ingot compress errors: a fraction out of range, two methods, a teacher with another output size", { skip }, () => {
  trainTiny();
  const a = cli(["compress", src, "--prune", "1.2", "--out", join(tmp, "x")]);
  assert.equal(a.status, 2);
  assert.match(a.stderr, /--prune must be a fraction in \[0, 1\) .*got '1\.2'/);
  const b = cli(["compress", src, "--prune", "0.5", "--low-rank", "0.5", "--out", join(tmp, "x")]);
  assert.equal(b.status, 2);
  assert.match(b.stderr, /choose one method.*got --prune and --low-rank/);
  // A teacher with 5 outputs for a 10-class student.
  const bad = ig.keras.sequential([ig.keras.flatten({ inputShape: [28, 28] }), ig.keras.dense({ units: 5, activation: "softmax" })]);
  bad.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy" });
  bad.save(join(tmp, "bad-teacher"));
  const c = cli(["compress", src, "--distill", "--teacher", join(tmp, "bad-teacher"), ...LIMITS, "--out", join(tmp, "x")]);
  assert.equal(c.status, 1);
  assert.match(c.stderr, /the teacher outputs 5 values per sample .* but the student outputs 10/);
});

test("ingot compress on a GPT folder: magnitude pruning without fine-tuning keeps the tokenizer-free folder loadable", () => {
  ig.manualSeed(1);
  const gpt = new ig.models.GPT({ vocabSize: 13, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 8 });
  const dir = join(tmp, "gpt");
  ig.models.saveGPT(dir, gpt, { card: { note: "test" } });
  const out = join(tmp, "gpt-p50");
  const r = cli(["compress", dir, "--prune", "0.5", "--out", out, "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const j = lastJson(r.stdout);
  assert.equal(j.method, "prune");
  assert.equal(j.metric, "val_loss");
  assert.equal(j.metric_before, null);
  // The Linear weights (c_attn 24×8, attn c_proj 8×8, c_fc 32×8, mlp c_proj 8×32) lose half; the tied head/embedding is kept.
  assert.equal(j.nonzero_before - j.nonzero_after, (24 * 8 + 8 * 8 + 32 * 8 + 8 * 32) / 2);
  const back = ig.models.loadGPT(out);
  assert.equal(JSON.parse(readFileSync(join(out, "card.json"), "utf8")).compression[0].method, "prune");
  assert.deepEqual([...back.model.forward(ig.tensor([[1, 2, 3]], { dtype: "int32" })).logits.shape], [1, 3, 13]);
  const f = cli(["compress", dir, "--low-rank", "0.5", "--out", join(tmp, "gpt-lr")]);
  assert.equal(f.status, 1);
  assert.match(f.stderr, /a GPT folder can be quantized .* or magnitude-pruned/);
});

test("ingot compress on a char GPT: metric_before/after are the val loss on the last 10 % of the text card.json names (or --data)", () => {
  ig.manualSeed(2);
  const text = Array.from({ length: 3000 }, (_, i) => "abcdefgh \n"[(i * 7 + (i >> 3)) % 10]).join("");
  const textPath = join(tmp, "tiny.txt");
  writeFileSync(textPath, text);
  const tokenizer = ig.text.trainChar(text);
  const gpt = new ig.models.GPT({ vocabSize: tokenizer.vocabSize, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 32 });
  const dir = join(tmp, "char-gpt");
  ig.models.saveGPT(dir, gpt, { tokenizer, card: { recipe: "char-gpt", data: textPath } });
  // The expected loss, computed here from the logits: windows of 16 over the last 300 characters.
  const ids = tokenizer.encode(text).slice(2700);
  const want = (m: ig.models.GPT) => ig.noGrad(() => {
    m.eval();
    const n = Math.floor((ids.length - 1) / 16);
    let s = 0;
    for (let w = 0; w < n; w++) {
      const logits = m.forward(ig.tensor([ids.slice(w * 16, w * 16 + 16)], { dtype: "int32" })).logits.reshape([16, tokenizer.vocabSize]);
      const logp = ig.nn.functional.logSoftmax(logits, -1).dataSync() as Float32Array;
      for (let t = 0; t < 16; t++) s -= logp[t * tokenizer.vocabSize + ids[w * 16 + t + 1]];
    }
    return s / (n * 16);
  });
  const r = cli(["compress", dir, "--quantize", "int8", "--out", join(tmp, "char-gpt-int8"), "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const j = lastJson(r.stdout);
  assert.equal(j.metric, "val_loss");
  assert.ok(Math.abs(j.metric_before - want(gpt)) < 1e-4, `val loss before ${j.metric_before}, computed here ${want(gpt)}`);
  assert.ok(Math.abs(j.metric_after - want(ig.models.loadGPT(join(tmp, "char-gpt-int8")).model)) < 1e-4, `val loss after ${j.metric_after}`);
  assert.notEqual(j.metric_after, j.metric_before, "int8 changes the logits a little");
  assert.match(readFileSync(join(tmp, "char-gpt-int8", "report.md"), "utf8"), /val loss/);
  // --data overrides the card; a missing text is an error naming what to pass.
  const p = cli(["compress", dir, "--prune", "0.9", "--data", textPath, "--out", join(tmp, "char-gpt-p90"), "--json"]);
  assert.equal(p.status, 0, p.stderr);
  assert.ok(lastJson(p.stdout).metric_after > lastJson(p.stdout).metric_before, "90 % sparsity without fine-tuning raises the val loss");
  const e = cli(["compress", dir, "--quantize", "int8", "--data", join(tmp, "nope.txt"), "--out", join(tmp, "x2")]);
  assert.equal(e.status, 1);
  assert.match(e.stderr, /nope\.txt does not exist; pass --data <text file>/);
});
