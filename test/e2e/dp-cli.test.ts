// DP-SGD end to end: `ingot train mnist-mlp --dp-epsilon 3` on a subset of MNIST (the short CI
// version of bench/dp-mnist.ts): it learns, ε is reported every epoch and recorded in card.json, the
// final ε is the accountant's for the steps taken and stays within the budget; bad flags are refused.
// The full accuracy run (≥ 95 % at ε ≤ 3, δ = 1e-5) is bench/dp-mnist.ts → bench/results/dp-mnist.json.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { computeEpsilon, getNoiseMultiplier } from "../../src/privacy/index.js";

const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "ingot-dp-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const DATA = process.env.INGOT_DATA ? resolve(process.env.INGOT_DATA) : null;
const hasMnist = !!DATA && existsSync(join(DATA, "mnist", "train-images-idx3-ubyte.gz"));
const skip = hasMnist ? false : `no MNIST in ${DATA ? join(DATA, "mnist") : "INGOT_DATA (unset)"}: set INGOT_DATA=../shared/data`;

function cli(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, INGOT_DATA: DATA ?? "" }, maxBuffer: 1 << 26 });
}

test("ingot train mnist-mlp --dp-epsilon 3: learns on 2000 samples; ε per epoch, in --json and card.json, is the accountant's and ≤ 3", { skip, timeout: 180_000 }, () => {
  const out = join(tmp, "dp-mlp");
  const r = cli(["train", "mnist-mlp", "--dp-epsilon", "3", "--dp-clip", "1.0", "--limit", "2000", "--test-limit", "1000", "--epochs", "2", "--batch-size", "64", "--lr", "0.005", "--no-track", "--json", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  const res = JSON.parse(lines[lines.length - 1]);
  // ε after each epoch in the progress lines (stderr with --json).
  const perEpoch = [...r.stderr.matchAll(/epoch (\d)\/2: .*epsilon ([0-9.]+)/g)].map((m) => Number(m[2]));
  assert.equal(perEpoch.length, 2, r.stderr);
  assert.ok(perEpoch[0] < perEpoch[1], `ε grows with the epochs: ${perEpoch}`);
  const p = res.privacy;
  assert.ok(p, "the JSON line carries the privacy record");
  const q = 64 / 2000;
  const steps = 2 * Math.ceil(2000 / 64);
  assert.equal(p.steps, steps);
  assert.equal(p.sample_rate, q);
  assert.equal(p.noise_multiplier, getNoiseMultiplier({ targetEpsilon: 3, targetDelta: 1e-5, sampleRate: q, steps }));
  assert.ok(Math.abs(p.epsilon - computeEpsilon({ noiseMultiplier: p.noise_multiplier, sampleRate: q, delta: 1e-5, steps })) < 1e-12);
  assert.ok(p.epsilon <= 3 && p.epsilon > 2.9, `ε ${p.epsilon}`);
  assert.ok(Math.abs(perEpoch[1] - p.epsilon) < 1e-3);
  // It learns (chance is 10 %), despite clipping and noise.
  assert.ok(res.test_accuracy > 0.4, `test accuracy ${res.test_accuracy}`);
  const card = JSON.parse(readFileSync(join(out, "card.json"), "utf8"));
  assert.equal(card.privacy.epsilon, p.epsilon);
  assert.equal(card.privacy.delta, 1e-5);
  assert.equal(card.privacy.max_grad_norm, 1);
});

test("ingot train: --dp-* flags are checked", () => {
  let r = cli(["train", "mnist-mlp", "--dp-epsilon", "0"]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--dp-epsilon must be a number > 0/);
  r = cli(["train", "mnist-mlp", "--dp-clip", "1"]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /need --dp-epsilon/);
  r = cli(["train", "regression-mlp", "--dp-epsilon", "3"]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /works with mnist-mlp, lenet300 and cnn/);
});
