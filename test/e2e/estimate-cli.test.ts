// End to end: `ingot estimate` on saved model folders (a small GPT written by saveGPT, a keras MLP by
// model.save, a BERT by saveBert) reports exactly the loaded model's parameter count; the GPT-2 124M
// preset's H100 time for 10 B tokens is shown with the utilization assumed; --json's last line; errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ingot from "../../src/index.js";

const { models, keras } = ingot;
const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "ingot-estimate-cli-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]) {
  return spawnSync(process.execPath, [bin, "estimate", ...args], { encoding: "utf8", maxBuffer: 1 << 24 });
}
const lastJson = (stdout: string) => JSON.parse(stdout.trimEnd().split("\n").pop()!) as Record<string, any>;
const grouped = (n: number) => n.toLocaleString("en-US");

test("a saved GPT folder: the loaded model's exact parameter count, equal to the formula's", () => {
  ingot.manualSeed(0);
  const gpt = new models.GPT({ vocabSize: 41, blockSize: 24, nLayer: 2, nHead: 2, nEmbd: 16, bias: false });
  const dir = join(tmp, "gpt");
  models.saveGPT(dir, gpt);
  const n = gpt.numParameters();
  const r = cli([dir, "--tokens", "1M", "--device", "cpu-2core", "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const e = lastJson(r.stdout);
  assert.equal(e.parameters, n);
  assert.equal(e.parameters_loaded, n);
  assert.equal(e.parameters_formula, n);
  assert.equal(e.seq, 24, "the default sequence is the model's blockSize");
  for (const k of ["train_flops_per_token", "inference_flops_per_token", "train_memory_bytes", "inference_memory_bytes", "seconds", "cost"]) assert.ok(typeof e[k] === "number" && e[k] > 0, k);
  const human = cli([dir]);
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`parameters +${grouped(n)} \\(loaded from the folder; the formula gives ${grouped(n)}, equal\\)`));
});

test("a saved keras MLP and a BERT folder: exact parameter counts (per sample for keras)", () => {
  const mlp = keras.sequential([keras.flatten({ inputShape: [28, 28] }), keras.dense({ units: 64, activation: "relu" }), keras.batchNormalization(), keras.dense({ units: 10, activation: "softmax" })]);
  mlp.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy" });
  const kdir = join(tmp, "mlp");
  mlp.save(kdir);
  const r = cli([kdir, "--json", "--device", "cpu-2core"]);
  assert.equal(r.status, 0, r.stderr);
  const e = lastJson(r.stdout);
  assert.equal(e.parameters, mlp.countParams());
  assert.equal(e.trainable_parameters, mlp.countTrainableParams());
  assert.equal(e.parameters_formula, mlp.countParams());
  assert.equal(e.unit, "sample");
  assert.equal(e.inference_flops_per_token, 2 * (784 * 64 + 64 * 10));

  const bert = new models.BertForMaskedLM({ vocabSize: 90, hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 32, maxPositions: 20 });
  const bdir = join(tmp, "bert");
  models.saveBert(bdir, bert);
  const b = lastJson(cli([bdir, "--json"]).stdout);
  assert.equal(b.parameters, bert.numParameters());
  assert.equal(b.parameters_formula, bert.numParameters());
});

test("GPT-2 124M on an H100 for 10 B tokens: the time is shown with the utilization assumed", () => {
  const r = cli(["--preset", "gpt2-124m", "--tokens", "10B", "--device", "h100"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /utilization +40\.0 % of peak \(assumed default; set --utilization\)/);
  const j = lastJson(cli(["--preset", "gpt2-124m", "--tokens", "10B", "--device", "h100", "--json"]).stdout);
  const hours = (10e9 * j.train_flops_per_token) / (989.4e12 * 0.4) / 3600;
  assert.ok(Math.abs(j.seconds / 3600 - hours) < 1e-9 * hours);
  assert.match(r.stdout, new RegExp(`time +10,000,000,000 tokens × [\\d.]+ MFLOP = [\\d.e+]+ FLOP at 40\\.0 % of 989\\.4 TFLOP/s → ${hours.toPrecision(3)} h`));
  assert.equal(j.parameters, 124_439_808);
  const palm = 6 * 124_439_808 + 12 * 12 * 12 * 64 * 1024;
  assert.ok(Math.abs(j.train_flops_per_token / palm - 1) < 0.05);
  // A stated utilization and price replace the assumed ones, and the output says so.
  const mine = cli(["--preset", "gpt2-124m", "--tokens", "10B", "--device", "h100", "--utilization", "0.5", "--price-per-hour", "3"]);
  assert.match(mine.stdout, /utilization +50\.0 % of peak \(--utilization\)/);
  assert.match(mine.stdout, /× \$3\.00\/h = \$/);
});

test("--config takes a bare GPT config; bad input exits 2 or 1 with a message naming the problem", () => {
  const cfg = join(tmp, "gpt.json");
  writeFileSync(cfg, JSON.stringify({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128 }));
  const j = lastJson(cli(["--config", cfg, "--json"]).stdout);
  assert.equal(j.parameters, new models.GPT({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128 }).numParameters());
  const none = cli([]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /name one model: a model folder, --config FILE or --preset NAME/);
  const badTokens = cli(["--preset", "gpt2-124m", "--tokens", "lots"]);
  assert.equal(badTokens.status, 2);
  assert.match(badTokens.stderr, /--tokens must be a number such as 10e9, 10B/);
  const badDevice = cli(["--preset", "gpt2-124m", "--device", "abacus"]);
  assert.equal(badDevice.status, 1);
  assert.match(badDevice.stderr, /unknown device 'abacus'; known devices:/);
  const missing = cli([join(tmp, "nope")]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /does not exist/);
});
