// Each example in examples/ runs to the end (with options for a quick run) and prints what it
// should. The MNIST examples skip, saying why, without INGOT_DATA/mnist; cifar-cnn runs on its
// labelled synthetic stand-in where CIFAR-10 is absent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

const examples = new URL("../../examples/", import.meta.url).pathname;
const DATA = process.env.INGOT_DATA ? resolve(process.env.INGOT_DATA) : null;
const hasMnist = !!DATA && existsSync(join(DATA, "mnist", "train-images-idx3-ubyte.gz"));
const skipMnist = hasMnist ? false : `no MNIST in ${DATA ? join(DATA, "mnist") : "INGOT_DATA (unset)"}: set INGOT_DATA=../shared/data to run the MNIST examples`;

function example(name: string, args: string[] = []) {
  const r = spawnSync(process.execPath, [join(examples, `${name}.js`), ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `${name} failed:\n${r.stderr}`);
  return r.stdout;
}

function lastJson(stdout: string): Record<string, any> {
  const lines = stdout.trimEnd().split("\n");
  return JSON.parse(lines[lines.length - 1]) as Record<string, any>;
}

test("basics.ts prints the seed's ReLU outputs, the correct ½·Σ MSE (0.26, not 0.375) and the right gradient step", () => {
  const out = example("basics");
  assert.match(out, /^relu: \[ 0, 0, 0, 1, 2 \]$/m);
  assert.match(out, /^ingot\.relu: \[ 0, 0, 0, 1, 2 \]$/m);
  assert.match(out, /^mse: 0\.26$/m);
  assert.match(out, /^mean squared error: 0\.13$/m);
  assert.match(out, /^loss: 7 dL\/dw: -14 dL\/db: -6$/m);
  assert.match(out, /^w: 1\.14 b: 0\.06$/m);
  assert.match(out, /^autograd dL\/dw: -14 dL\/db: -6$/m);
});

test("regression-mlp.ts trains the seed's MLP (100 epochs) to a test loss below 0.01", () => {
  const out = example("regression-mlp");
  assert.match(out, /^Epoch \[1\/100\], Loss: \d\.\d{4}$/m);
  assert.match(out, /^Epoch \[100\/100\], Loss: \d\.\d{4}$/m);
  const m = /^Test Loss: (\d\.\d{4})$/m.exec(out);
  assert.ok(m, "prints the test loss");
  assert.ok(Number(m[1]) < 0.01, `test loss ${m[1]}`);
});

test("mnist-keras.ts (seed 001 §4.4) trains and prints the test accuracy", { skip: skipMnist }, () => {
  const out = example("mnist-keras", ["--epochs", "1", "--limit", "6000", "--data", DATA!]);
  assert.match(out, /Epoch 1\/1/);
  assert.match(out, /^Test accuracy: 0\.\d+$/m);
  assert.ok(lastJson(out).test_accuracy > 0.85);
});

test("mnist-dense64.ts (seed 002 §5.2) trains with one-hot labels and a 10% validation split", { skip: skipMnist }, () => {
  const out = example("mnist-dense64", ["--epochs", "2", "--limit", "6000", "--data", join(DATA!, "mnist")]);
  assert.match(out, /val_loss: .* val_accuracy: /);
  assert.match(out, /^Test accuracy: 0\.\d+$/m);
  assert.ok(lastJson(out).test_accuracy > 0.8);
});

test("cifar-cnn.ts (seed 001 §5.2) runs the augmented CNN, on a labelled synthetic stand-in where CIFAR-10 is absent", () => {
  const out = example("cifar-cnn", ["--epochs", "1", "--limit", "320"]);
  const res = lastJson(out);
  if (res.synthetic) assert.match(out, /running on a SYNTHETIC stand-in of the same shape/);
  assert.match(out, /val_accuracy: /);
  assert.match(out, /^Test accuracy: /m);
  assert.ok(res.test_accuracy >= 0 && res.test_accuracy <= 1);
});
