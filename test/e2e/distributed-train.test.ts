// `ingot train <recipe> --nproc 2`: two workers through the launcher, DistributedDataParallel inside
// Keras fit, one --json line from rank 0, the model folder saved once and loadable, metrics averaged.
// Skips without MNIST in INGOT_DATA or without the Gloo addon.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isGlooAvailable } from "../../src/distributed/index.js";

const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "ingot-dist-train-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const DATA = process.env.INGOT_DATA ? resolve(process.env.INGOT_DATA) : null;
const hasMnist = !!DATA && existsSync(join(DATA, "mnist", "train-images-idx3-ubyte.gz"));
const skip = !isGlooAvailable() ? "the Gloo addon is not built" : hasMnist ? false : "no MNIST in INGOT_DATA: set INGOT_DATA=../shared/data";

test("ingot train mnist-mlp --nproc 2 --json: one JSON line from rank 0, one model folder", { skip, timeout: 60000 }, () => {
  const out = join(tmp, "mlp");
  const r = spawnSync(process.execPath, [bin, "train", "mnist-mlp", "--nproc", "2", "--limit", "2000", "--test-limit", "500", "--epochs", "2", "--json", "--no-track", "--out", out], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 1, `stdout is exactly one line: ${r.stdout}`);
  const j = JSON.parse(lines[0]) as Record<string, number | string>;
  assert.equal(j.world_size, 2);
  assert.equal(j.train_samples, 2000);
  assert.ok((j.test_accuracy as number) > 0.7, `test accuracy ${j.test_accuracy} after 2 epochs on 2000 samples`);
  const card = JSON.parse(readFileSync(join(out, "card.json"), "utf8")) as { metrics: { test_accuracy: number } };
  assert.equal(card.metrics.test_accuracy, j.test_accuracy);
  // The saved folder evaluates to the reported accuracy (the ranks' weights were the same, rank 0 saved).
  const e = spawnSync(process.execPath, [bin, "eval", out, "--json"], { encoding: "utf8" });
  assert.equal(e.status, 0, e.stderr);
  assert.equal((JSON.parse(e.stdout.trim().split("\n").pop()!) as { test_accuracy: number }).test_accuracy, j.test_accuracy);
});

test("ingot train --nproc: clear errors for a recipe it does not run and a bad count", { skip: isGlooAvailable() ? false : "the Gloo addon is not built" }, () => {
  const a = spawnSync(process.execPath, [bin, "train", "regression-mlp", "--nproc", "2"], { encoding: "utf8" });
  assert.equal(a.status, 2);
  assert.match(a.stderr, /--nproc trains the Keras image recipes \(mnist-mlp, lenet300, cnn\), not 'regression-mlp'/);
  const b = spawnSync(process.execPath, [bin, "train", "cnn", "--nproc", "zero"], { encoding: "utf8" });
  assert.equal(b.status, 2);
  assert.match(b.stderr, /--nproc must be an integer ≥ 1, got 'zero'/);
});
