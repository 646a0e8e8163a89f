// End to end: `ingot export <modelDir> --format onnx` on model folders as Ingot saves them (model.save,
// saveGPT with a tokenizer, and — where INGOT_DATA has the data — folders from `ingot train
// mnist-mlp`, `ingot train cnn` and `ingot train char-gpt`), the file run in onnxruntime-node and
// compared with the folder loaded back into Ingot; --json, --verify, and the one-line errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import ort from "onnxruntime-node";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { maxAbsDiff, ortFloat, ortInt64 } from "../unit/onnx-helpers.js";
import { withoutSetupNotices } from "../unit/requirements.js";

const { keras, models } = ig;
const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "ingot-export-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
// Runs `ingot train` records go to a throw-away run store.
const env = { ...process.env, INGOT_HOME: join(tmp, "home") };

const DATA = process.env.INGOT_DATA ? resolve(process.env.INGOT_DATA) : null;
const hasMnist = !!DATA && existsSync(join(DATA, "mnist", "train-images-idx3-ubyte.gz"));
const skipMnist = hasMnist ? false : `no MNIST in ${DATA ?? "INGOT_DATA (unset)"}: set INGOT_DATA=../shared/data to export trained recipes`;
const hasText = !!DATA && existsSync(join(DATA, "tinyshakespeare", "input.txt"));
const skipText = hasText ? false : `no tinyshakespeare in ${DATA ?? "INGOT_DATA (unset)"}: set INGOT_DATA=../shared/data`;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env, maxBuffer: 1 << 26 });
  return { ...r, stderr: withoutSetupNotices(r.stderr) };
}

/** Exports a keras folder with the CLI and compares the file's output with loadModel(dir).predict. */
async function checkKerasFolder(dir: string, out: string, batch: number): Promise<void> {
  const r = cli(["export", dir, "--format", "onnx", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^wrote ${out} \\(ONNX opset 17, `));
  assert.match(r.stdout, /inputs: {2}'input' float32 \[batch, /);
  const model = keras.loadModel(dir);
  const shape = (model.inputShapeSeen as (number | null)[]).slice(1) as number[];
  ig.manualSeed(0);
  const x = ig.rand([batch, ...shape]); // pixels scaled to [0, 1), as the recipes feed them
  const s = await ort.InferenceSession.create(out);
  const got = (await s.run({ input: ortFloat(x) })).output;
  const want = model.predict(x) as Tensor;
  assert.deepEqual(got.dims, want.shape);
  const d = maxAbsDiff(got.data as Float32Array, want.dataSync() as Float32Array);
  assert.ok(d <= 1e-4, `max |onnx − ingot| = ${d}`);
}

/** Exports a GPT folder with the CLI (--json) and compares logits at two (batch, seq) shapes. */
async function checkGptFolder(dir: string, out: string): Promise<void> {
  const r = cli(["export", dir, "--format", "onnx", "--out", out, "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout.trim()) as Record<string, any>;
  assert.equal(res.kind, "gpt");
  assert.equal(res.opset, 17);
  assert.deepEqual(res.inputs, [{ name: "input_ids", dtype: "int64", shape: ["batch", "seq"] }]);
  assert.equal(res.bytes, readFileSync(out).length);
  const { model } = models.loadGPT(dir);
  const V = model.config.vocabSize;
  const s = await ort.InferenceSession.create(out);
  ig.manualSeed(1);
  for (const [B, T] of [
    [1, 3],
    [4, Math.min(11, model.config.blockSize)],
  ]) {
    const ids = ig.randint(0, V, [B, T], { dtype: "int32" });
    const got = (await s.run({ input_ids: ortInt64(ids) })).logits;
    assert.deepEqual(got.dims, [B, T, V]);
    const d = maxAbsDiff(got.data as Float32Array, model.forward(ids).logits.dataSync() as Float32Array);
    assert.ok(d <= 1e-4, `(${B}, ${T}): max |onnx − ingot| = ${d}`);
  }
}

test("a saved keras CNN folder → model.onnx next to it by default; --verify reports the difference", async () => {
  ig.manualSeed(2);
  const m = keras.sequential([
    keras.conv2d({ filters: 4, kernelSize: 3, activation: "relu", inputShape: [12, 12, 1] }),
    keras.batchNormalization(),
    keras.maxPooling2d({ poolSize: 2 }),
    keras.dropout({ rate: 0.2 }),
    keras.flatten(),
    keras.dense({ units: 5, activation: "softmax" }),
  ]);
  const dir = join(tmp, "cnn");
  m.save(dir);
  const r = cli(["export", dir, "--format", "onnx", "--verify"]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(dir, "model.onnx")), "default --out is <modelDir>/model.onnx");
  const diff = /verify: onnxruntime-node vs Ingot on a random input: max \|diff\| (\S+)/.exec(r.stdout);
  assert.ok(diff, r.stdout);
  assert.ok(Number(diff[1]) <= 1e-4, `verify diff ${diff[1]}`);
  await checkKerasFolder(dir, join(tmp, "cnn.onnx"), 3);
});

test("a saved GPT folder (saveGPT with a tokenizer) → logits at two batch sizes and lengths", async () => {
  ig.manualSeed(3);
  const tok = ig.text.trainChar("hello onnx world");
  const gpt = new models.GPT({ vocabSize: tok.vocabSize, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 });
  ig.noGrad(() => {
    for (const p of gpt.parameters()) p.copy_(p.add(ig.randn([...p.shape]).mul(0.2)));
  });
  const dir = join(tmp, "gpt");
  models.saveGPT(dir, gpt, { tokenizer: tok });
  await checkGptFolder(dir, join(tmp, "gpt.onnx"));
});

test("ingot train mnist-mlp and cnn folders export and match", { skip: skipMnist }, async () => {
  for (const [recipe, extra] of [
    ["mnist-mlp", ["--limit", "500"]],
    ["cnn", ["--dataset", "mnist", "--limit", "200"]],
  ] as const) {
    const dir = join(tmp, recipe);
    const t = cli(["train", recipe, "--data", DATA!, "--epochs", "1", "--test-limit", "100", ...extra, "--json", "--out", dir]);
    assert.equal(t.status, 0, t.stderr);
    await checkKerasFolder(dir, join(tmp, `${recipe}.onnx`), 4);
  }
});

test("ingot train char-gpt folder exports and matches", { skip: skipText }, async () => {
  const dir = join(tmp, "char-gpt");
  const t = cli(["train", "char-gpt", "--size", "tiny", "--max-iters", "5", "--data", join(DATA!, "tinyshakespeare", "input.txt"), "--json", "--out", dir]);
  assert.equal(t.status, 0, t.stderr);
  await checkGptFolder(dir, join(tmp, "char-gpt.onnx"));
});

test("one-line errors: missing folder, not a model, unsupported architecture and layer, bad options", () => {
  const missing = cli(["export", join(tmp, "nope"), "--format", "onnx"]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^ingot export: \S+nope does not exist; pass a model folder written by 'ingot train' or model\.save\(dir\)\n$/);

  const bert = join(tmp, "bert");
  mkdirSync(bert, { recursive: true });
  writeFileSync(join(bert, "config.json"), JSON.stringify({ architecture: "bert" }));
  const b = cli(["export", bert]);
  assert.equal(b.status, 1);
  assert.match(b.stderr, /^ingot export: \S+config\.json describes a model of architecture 'bert'; ONNX export covers keras models .* and GPT folders\n$/);

  const rnn = join(tmp, "rnn");
  keras.sequential([keras.gru({ units: 3, inputShape: [4, 2] })]).save(rnn);
  const g = cli(["export", rnn, "--format", "onnx"]);
  assert.equal(g.status, 1);
  assert.match(g.stderr, /^ingot export: layer 'gru_1' \(GRU\): this layer type cannot be exported to ONNX; the exportable layers are InputLayer, Dense, /);
  assert.ok(!existsSync(join(rnn, "model.onnx")), "nothing written on failure");

  const toDir = cli(["export", rnn, "--out", tmp]);
  assert.equal(toDir.status, 2);
  assert.match(toDir.stderr, /--out \S+ is a folder; give the file to write, e\.g\. --out \S+model\.onnx/);
  const fmt = cli(["export", rnn, "--format", "tflite"]);
  assert.equal(fmt.status, 2);
  assert.equal(fmt.stderr, "ingot export: unknown --format 'tflite'; the formats are: onnx\n");
  const opset = cli(["export", rnn, "--opset", "11"]);
  assert.equal(opset.status, 2);
  assert.match(opset.stderr, /--opset must be one of 17, 18, 19, 20, 21, got '11'/);
  assert.equal(cli(["export"]).status, 2);
  const help = cli(["export", "--help"]);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: ingot export <modelDir> --format onnx/);
});
