// `ingot train` / `ingot eval` / `ingot info <modelDir>` without real data: argument parsing, the
// dataset folder rules and their errors, the tables, and whole runs on a tiny generated MNIST.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as ingot from "../../src/index.js";
import { parseTrainArgs } from "../../src/cli/train.js";
import { parseEvalArgs } from "../../src/cli/eval.js";
import { CliError, datasetDir, UsageError } from "../../src/cli/recipes/common.js";
import { syntheticRegression, DATA_SEED, TARGET } from "../../src/cli/recipes/regression-mlp.js";
import { epochTable, formatTable } from "../../src/cli/progress-table.js";
import { withoutSetupNotices } from "./requirements.js";

const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "ingot-cli-train-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

/** Runs the CLI; INGOT_DATA is removed unless given, so the host's data never leaks in. */
function cli(args: string[], env: Record<string, string> = {}) {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!("INGOT_DATA" in env)) delete e.INGOT_DATA;
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: e });
  return { ...r, stderr: withoutSetupNotices(r.stderr) };
}

/** The last stdout line as JSON. */
function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

/** An IDX file (uint8 data) as MNIST stores it, gzipped. */
function idx(shape: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * shape.length);
  head[2] = 0x08;
  head[3] = shape.length;
  shape.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return gzipSync(Buffer.concat([head, Buffer.from(data)]));
}

/**
 * A tiny MNIST in <root>/mnist: class k is a bright horizontal bar at row 2 + 2k plus noise, so a
 * small model learns it in one epoch.
 */
function fakeMnist(root: string, nTrain = 400, nTest = 100): string {
  const dir = join(root, "mnist");
  mkdirSync(dir, { recursive: true });
  const g = new ingot.Generator(7);
  const split = (n: number, prefix: string) => {
    const images = new Uint8Array(n * 784);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const k = g.int(0, 10);
      labels[i] = k;
      for (let p = 0; p < 784; p++) images[i * 784 + p] = Math.floor(p / 28) === 2 + 2 * k ? 200 + g.int(0, 56) : g.int(0, 60);
    }
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte.gz`), idx([n, 28, 28], images));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte.gz`), idx([n], labels));
  };
  split(nTrain, "train");
  split(nTest, "t10k");
  return dir;
}

const dataRoot = join(tmp, "data");
const mnistDir = fakeMnist(dataRoot);

test("parseTrainArgs fills each recipe's defaults", () => {
  const a = parseTrainArgs(["mnist-mlp"]);
  assert.notEqual(a, "help");
  if (a === "help") return;
  assert.equal(a.recipe, "mnist-mlp");
  assert.deepEqual(
    { dataset: a.opts.dataset, epochs: a.opts.epochs, batchSize: a.opts.batchSize, lr: a.opts.lr, seed: a.opts.seed, out: a.opts.out, json: a.opts.json },
    { dataset: "mnist", epochs: 5, batchSize: 32, lr: 0.001, seed: 0, out: "runs/mnist-mlp", json: false },
  );
  const c = parseTrainArgs(["cnn", "--dataset", "fashion-mnist", "--epochs", "2", "--batch-size", "64", "--lr", "0.01", "--seed", "3", "--limit", "100", "--json"]);
  if (c === "help") return assert.fail();
  assert.deepEqual(
    { dataset: c.opts.dataset, epochs: c.opts.epochs, batchSize: c.opts.batchSize, lr: c.opts.lr, seed: c.opts.seed, out: c.opts.out, limit: c.opts.limit, json: c.opts.json },
    { dataset: "fashion-mnist", epochs: 2, batchSize: 64, lr: 0.01, seed: 3, out: "runs/cnn-fashion-mnist", limit: 100, json: true },
  );
  const r = parseTrainArgs(["regression-mlp"]);
  if (r === "help") return assert.fail();
  assert.equal(r.opts.epochs, 100);
  assert.equal(r.opts.dataset, "synthetic");
  assert.equal(parseTrainArgs(["--help"]), "help");
});

test("parseTrainArgs refuses mistakes with messages that say what to do", () => {
  const bad: [string[], RegExp][] = [
    [[], /ingot train: name a recipe \(mnist-mlp, cnn, regression-mlp, lenet300, char-gpt\)/],
    [["resnet"], /unknown recipe 'resnet'; the recipes are mnist-mlp, cnn, regression-mlp, lenet300, char-gpt/],
    [["mnist-mlp", "cnn"], /one recipe at a time/],
    [["mnist-mlp", "--epochs", "0"], /--epochs must be an integer ≥ 1, got '0'/],
    [["mnist-mlp", "--epochs", "2.5"], /--epochs must be an integer ≥ 1/],
    [["mnist-mlp", "--lr", "0"], /--lr must be a positive number, got '0'/],
    [["mnist-mlp", "--lr", "fast"], /--lr must be a positive number/],
    [["mnist-mlp", "--dataset", "cifar10"], /recipe mnist-mlp trains on mnist \| fashion-mnist, not 'cifar10'/],
    [["regression-mlp", "--dataset", "mnist"], /trains on synthetic/],
    [["mnist-mlp", "--frobnicate"], /unknown option '--frobnicate'; run 'ingot train --help'/],
  ];
  for (const [args, msg] of bad) assert.throws(() => parseTrainArgs(args), (e: unknown) => e instanceof UsageError && msg.test((e as Error).message), args.join(" "));
});

test("parseEvalArgs takes one folder and the data options", () => {
  const a = parseEvalArgs(["runs/x", "--dataset", "mnist", "--test-limit", "10", "--json"]);
  assert.deepEqual(a, { dir: "runs/x", opts: { dataset: "mnist", data: undefined, testLimit: 10, json: true } });
  assert.throws(() => parseEvalArgs([]), /pass one model folder/);
  assert.throws(() => parseEvalArgs(["a", "--test-limit", "0"]), /--test-limit must be an integer ≥ 1/);
});

test("datasetDir accepts the data root or the dataset folder, and names INGOT_DATA and --data when files are missing", () => {
  const saved = process.env.INGOT_DATA;
  try {
    delete process.env.INGOT_DATA;
    assert.equal(datasetDir("ingot train", "mnist", dataRoot), mnistDir);
    assert.equal(datasetDir("ingot train", "mnist", mnistDir), mnistDir);
    assert.throws(() => datasetDir("ingot train", "mnist", undefined), (e: unknown) => e instanceof CliError && /set INGOT_DATA .* or pass --data DIR/.test((e as Error).message));
    const empty = join(tmp, "empty");
    mkdirSync(join(empty, "mnist"), { recursive: true });
    assert.throws(
      () => datasetDir("ingot train", "mnist", join(empty, "mnist")),
      /^Error: ingot train: no MNIST files in .*empty\/mnist or .*empty\/mnist\/mnist; set INGOT_DATA or pass --data/,
    );
    process.env.INGOT_DATA = empty;
    assert.throws(() => datasetDir("ingot train", "fashion-mnist", undefined), /no Fashion-MNIST files in .*empty\/fashion-mnist; set INGOT_DATA or pass --data/);
    assert.throws(() => datasetDir("ingot train", "cifar10", undefined), /no CIFAR-10 files in .*empty\/cifar10; set INGOT_DATA or pass --data .*binary version/);
    process.env.INGOT_DATA = dataRoot;
    assert.equal(datasetDir("ingot train", "mnist", undefined), mnistDir);
  } finally {
    if (saved === undefined) delete process.env.INGOT_DATA;
    else process.env.INGOT_DATA = saved;
  }
});

test("the synthetic regression task repeats, and its test set does not depend on the training size", () => {
  const spec = { target: TARGET, features: 10, train_samples: 50, test_samples: 20, seed: DATA_SEED };
  const a = syntheticRegression(spec);
  const b = syntheticRegression(spec);
  const c = syntheticRegression({ ...spec, train_samples: 80 });
  assert.deepEqual(a.xTrain.toFlatArray(), b.xTrain.toFlatArray());
  assert.deepEqual(a.xTest.toFlatArray(), c.xTest.toFlatArray());
  assert.deepEqual(a.yTest.toFlatArray(), c.yTest.toFlatArray());
  assert.deepEqual(a.xTrain.shape, [50, 10]);
  assert.deepEqual(a.yTrain.shape, [50, 1]);
  // y = 0.5·tanh(z) + 0.1·z with z = x·w: check one sample by hand.
  const w = [0.5, -0.3, 0.8, 0.1, -0.6, 0.4, -0.2, 0.7, -0.5, 0.3];
  const x0 = a.xTrain.toFlatArray().slice(0, 10);
  const z = x0.reduce((s, v, i) => s + v * w[i], 0);
  assert.ok(Math.abs(a.yTrain.toFlatArray()[0] - (0.5 * Math.tanh(z) + 0.1 * z)) < 1e-5);
});

test("formatTable right-aligns numeric columns; epochTable samples long runs", () => {
  const t = formatTable(["name", "value"], [["a", 1.5], ["bbb", 10]]);
  assert.deepEqual(t.split("\n").slice(0, 4), ["name   value", "────  ──────", "a     1.5000", "bbb       10"]);
  const rows = Array.from({ length: 100 }, (_, i) => ({ epoch: i + 1, loss: 1 / (i + 1), seconds: 0.5 }));
  const epochs = epochTable(rows)
    .trim()
    .split("\n")
    .slice(2)
    .map((l) => Number(l.trim().split(/\s+/)[0]));
  assert.deepEqual(epochs, [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  assert.equal(epochTable(rows.slice(0, 5)).trim().split("\n").length, 7);
});

test("train mnist-mlp on a tiny MNIST (--data is the dataset folder), eval reproduces it exactly, info lists the layers", () => {
  const out = join(tmp, "mlp");
  const r = cli(["train", "mnist-mlp", "--data", mnistDir, "--epochs", "2", "--json", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  const res = lastJson(r.stdout);
  for (const k of ["recipe", "dataset", "epochs", "train_loss", "test_loss", "test_accuracy", "seconds", "samples_per_second", "out"]) assert.ok(k in res, `--json lacks ${k}`);
  assert.equal(r.stdout.trim().split("\n").length, 1, "with --json stdout holds only the JSON line");
  assert.match(r.stderr, /epoch 1\/2: loss .* accuracy/);
  assert.equal(res.recipe, "mnist-mlp");
  assert.equal(res.epochs, 2);
  assert.equal(res.train_samples, 400);
  assert.equal(res.test_samples, 100);
  assert.ok((res.test_accuracy as number) >= 0.9, `bars of 10 rows are easy; got ${res.test_accuracy}`);
  const card = JSON.parse(readFileSync(join(out, "card.json"), "utf8"));
  assert.equal(card.metrics.test_accuracy, res.test_accuracy);
  assert.deepEqual(card.preprocessing, { divide: 255, input_shape: [28, 28], labels: "index", classes: 10 });

  // The card remembers the data folder, so eval needs no --data.
  const e = cli(["eval", out, "--json"]);
  assert.equal(e.status, 0, e.stderr);
  const ev = lastJson(e.stdout);
  assert.equal(ev.test_accuracy, res.test_accuracy);
  assert.equal(ev.test_loss, res.test_loss);
  assert.equal(ev.matches_card, true);
  const human = cli(["eval", out, "--data", dataRoot]);
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /test_accuracy .* same/);
  assert.match(human.stdout, /reproduces the saved metrics exactly/);

  const i = cli(["info", out]);
  assert.equal(i.status, 0, i.stderr);
  assert.match(i.stdout, /dense_1\s+Dense\s+\(None, 128\)\s+100,480/);
  assert.match(i.stdout, /params\s+101,770 \(trainable 101,770\)/);
  assert.match(i.stdout, /model\.safetensors 407\.\d kB/);
  const ij = lastJson(cli(["info", out, "--json"]).stdout);
  assert.deepEqual(ij.params, { total: 101770, trainable: 101770 });
  assert.deepEqual((ij.layers as { name: string; params: number }[]).map((l) => l.params), [0, 100480, 1290]);
});

test("eval and info read an encrypted copy with INGOT_MODEL_KEY, as serve does, and the same numbers come out", () => {
  const out = join(tmp, "mlp-enc-src");
  const r = cli(["train", "mnist-mlp", "--data", mnistDir, "--epochs", "1", "--json", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  const res = lastJson(r.stdout);
  const keyFile = join(tmp, "mlp.key");
  const enc = join(tmp, "mlp-enc");
  const k = cli(["encrypt", out, "--new-key-file", keyFile, "--out", enc]);
  assert.equal(k.status, 0, k.stderr);
  const key = readFileSync(keyFile, "utf8").trim();

  // No key: one line naming what to set.
  const nokey = cli(["eval", enc, "--json"], { INGOT_MODEL_KEY: "" });
  assert.equal(nokey.status, 1);
  assert.match(nokey.stderr, /^ingot eval: .*mlp-enc is encrypted; set INGOT_MODEL_KEY .* or INGOT_MODEL_PASSPHRASE/);
  assert.match(cli(["info", enc], { INGOT_MODEL_KEY: "" }).stderr, /^ingot info: .*is encrypted; set INGOT_MODEL_KEY/);
  // A wrong key is refused as such.
  assert.match(cli(["eval", enc], { INGOT_MODEL_KEY: "00".repeat(32) }).stderr, /the key is wrong/);

  const ev = cli(["eval", enc, "--json"], { INGOT_MODEL_KEY: key });
  assert.equal(ev.status, 0, ev.stderr);
  const e = lastJson(ev.stdout);
  assert.equal(e.test_accuracy, res.test_accuracy);
  assert.equal(e.test_loss, res.test_loss);
  assert.equal(e.matches_card, true);

  const plain = lastJson(cli(["info", out, "--json"]).stdout);
  const ij = cli(["info", enc, "--json"], { INGOT_MODEL_KEY: key });
  assert.equal(ij.status, 0, ij.stderr);
  const info = lastJson(ij.stdout);
  assert.equal(info.encrypted, true);
  assert.equal(plain.encrypted, false);
  for (const f of ["layers", "params", "tensors", "class_name", "card"] as const) assert.deepEqual(info[f], plain[f], f);
  assert.ok("model.safetensors.enc" in (info.files as Record<string, number>));
  assert.match(cli(["info", enc], { INGOT_MODEL_KEY: key }).stdout, /\(encrypted; read with the key\)/);
});

test("train without --json shows a progress bar, the epoch table and a summary", () => {
  const r = cli(["train", "mnist-mlp", "--epochs", "1", "--out", join(tmp, "mlp-human")], { INGOT_DATA: dataRoot });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /13\/13 \[=+\]/);
  assert.match(r.stdout, /epoch\s+loss\s+accuracy\s+seconds/);
  assert.match(r.stdout, /test accuracy\s+\d+\.\d\d%/);
  assert.match(r.stdout, /ingot eval .*mlp-human/);
});

test("train cnn on the tiny MNIST: augmented batches, validation each epoch, one-hot labels that eval repeats", () => {
  const out = join(tmp, "cnn");
  const r = cli(["train", "cnn", "--data", dataRoot, "--epochs", "1", "--limit", "200", "--test-limit", "50", "--json", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  const res = lastJson(r.stdout);
  assert.equal(res.train_samples, 200);
  assert.equal(res.test_samples, 50);
  assert.match(r.stderr, /val_loss .* val_accuracy/);
  const card = JSON.parse(readFileSync(join(out, "card.json"), "utf8"));
  assert.equal(card.preprocessing.labels, "one-hot");
  assert.deepEqual(card.augmentation, { rotationRange: 10, widthShiftRange: 0.1, heightShiftRange: 0.1 });
  const ev = lastJson(cli(["eval", out, "--json"]).stdout);
  assert.equal(ev.test_samples, 50);
  assert.equal(ev.test_accuracy, res.test_accuracy);
  assert.equal(ev.matches_card, true);
});

test("regression-mlp end to end: 100 epochs reach test MSE < 0.01, eval regenerates the test set and agrees", () => {
  const out = join(tmp, "reg");
  const r = cli(["train", "regression-mlp", "--json", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  const res = lastJson(r.stdout);
  assert.equal(res.dataset, "synthetic");
  assert.equal(res.epochs, 100);
  assert.ok(!("test_accuracy" in res));
  assert.ok((res.test_loss as number) < 0.01, `test MSE ${res.test_loss}`);
  const ev = lastJson(cli(["eval", out, "--json"]).stdout);
  assert.equal(ev.test_loss, res.test_loss);
  assert.equal(ev.matches_card, true);
  const i = cli(["info", out]);
  assert.match(i.stdout, /fc1\s+weight \[50,10\], bias \[50\]\s+550/);
  assert.match(i.stdout, /params\s+601/);
});

test("missing data, a missing folder and a folder that is not a model give one-line errors", () => {
  const empty = join(tmp, "nodata");
  mkdirSync(empty, { recursive: true });
  const r = cli(["train", "mnist-mlp", "--json"], { INGOT_DATA: empty });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^ingot train: no MNIST files in .*nodata\/mnist; set INGOT_DATA or pass --data/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  const u = cli(["train", "mnist-mlp"]);
  assert.match(u.stderr, /INGOT_DATA.*--data/);
  assert.equal(cli(["train", "nope"]).status, 2);
  const e = cli(["eval", join(tmp, "absent")]);
  assert.equal(e.status, 1);
  assert.match(e.stderr, /^ingot eval: .*absent does not exist/);
  const n = cli(["eval", empty]);
  assert.match(n.stderr, /config\.json does not exist/);
  const i = cli(["info", empty]);
  assert.equal(i.status, 1);
  assert.match(i.stderr, /^ingot info: .*config\.json does not exist/);
});

test("ingot info without a folder still describes the backend; --help lists the new commands", () => {
  assert.match(cli(["info"]).stdout, /backend: (ref|cpu)/);
  const h = cli(["--help"]).stdout;
  assert.match(h, /train <recipe>/);
  assert.match(h, /eval <modelDir>/);
  assert.match(cli(["train", "--help"]).stdout, /mnist-mlp .*cnn|Recipes:[\s\S]*mnist-mlp[\s\S]*cnn[\s\S]*regression-mlp/);
  assert.match(cli(["eval", "--help"]).stdout, /Usage: ingot eval <modelDir>/);
});
