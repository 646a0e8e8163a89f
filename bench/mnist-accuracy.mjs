// Is seed 001 §4.4's MNIST MLP result (Flatten → Dense 128 relu → Dense 10 softmax, Adam 1e-3,
// 5 epochs of batch 32) a property of Ingot or of the model? Trains it with Ingot's `ingot train
// mnist-mlp` code path for seeds 0..K-1, with TensorFlow.js Keras (wasm backend) for K runs and with
// PyTorch (bench/peers/torch_mnist_accuracy.py, Keras's initialisation and Adam epsilon) for seeds
// 0..K-1 on the same data, and prints the test-accuracy distributions. Not a test: minutes of CPU.
//   npm run build && INGOT_DATA=../shared/data node bench/mnist-accuracy.mjs [K] [--ingot-only|--tfjs-only|--torch-only]
import { execFileSync } from "node:child_process";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import * as ig from "../dist/src/index.js";

const K = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5);
const only = process.argv.find((a) => a.startsWith("--") && a.endsWith("-only"))?.slice(2, -5);
const runs = (name) => !only || only === name;
const stats = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean: m, sd, min: Math.min(...xs), max: Math.max(...xs), passing_0975: xs.filter((x) => x >= 0.975).length, n: xs.length };
};

const result = { model: "seed 001 §4.4 MLP 784-128-10, Adam 1e-3, 5 epochs, batch 32", date: new Date().toISOString(), cpu: cpus()[0]?.model, command: `node bench/mnist-accuracy.mjs ${process.argv.slice(2).join(" ")}`.trim() };

if (runs("ingot")) {
  const accs = [];
  const out = mkdtempSync(join(tmpdir(), "ingot-mnist-acc-"));
  for (let seed = 0; seed < K; seed++) {
    const line = execFileSync(process.execPath, ["dist/src/cli/main.js", "train", "mnist-mlp", "--seed", String(seed), "--json", "--out", join(out, String(seed))], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim().split("\n").pop();
    const r = JSON.parse(line);
    accs.push(r.test_accuracy);
    console.log(`ingot seed ${seed}: test_accuracy ${r.test_accuracy} (train_loss ${r.train_loss.toFixed(4)})`);
  }
  result.ingot = { accuracies: accs, ...stats(accs) };
}

if (runs("tfjs")) {
  await tf.setBackend("wasm");
  const { train, test } = ig.loadMnist();
  const toX = (s) => tf.tensor(Float32Array.from(s.images.dataSync(), (v) => v / 255), [s.images.shape[0], 28, 28]);
  const toY = (s) => tf.tensor(Float32Array.from(s.labels.dataSync()), [s.labels.shape[0]]);
  const [xTr, yTr, xTe, yTe] = [toX(train), toY(train), toX(test), toY(test)];
  const accs = [];
  for (let run = 0; run < K; run++) {
    const model = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28] }),
        tf.layers.dense({ units: 128, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: run }) }),
        tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 1000 + run }) }),
      ],
    });
    // Keras's Adam defaults (epsilon 1e-7), as `optimizer='adam'` in the seed.
    model.compile({ optimizer: tf.train.adam(1e-3, 0.9, 0.999, 1e-7), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
    const t0 = performance.now();
    await model.fit(xTr, yTr, { epochs: 5, batchSize: 32, shuffle: true, verbose: 0 });
    const [, acc] = model.evaluate(xTe, yTe, { batchSize: 1000 });
    const a = (await acc.data())[0];
    accs.push(Number(a.toFixed(4)));
    console.log(`tfjs run ${run}: test_accuracy ${a.toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    model.dispose();
  }
  result.tfjs = { backend: "wasm", version: tf.version.tfjs, accuracies: accs, ...stats(accs) };
}
if (runs("torch")) {
  const python = process.env.PYTHON ?? "/usr/bin/python3";
  const seeds = Array.from({ length: K }, (_, i) => String(i));
  const lines = execFileSync(python, ["bench/peers/torch_mnist_accuracy.py", ...seeds], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n");
  const rows = lines.map((l) => JSON.parse(l));
  for (const r of rows) console.log(`torch seed ${r.seed}: test_accuracy ${r.test_accuracy} (${r.seconds} s)`);
  const accs = rows.map((r) => r.test_accuracy);
  result.torch = { version: execFileSync(python, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8" }).trim(), threads: 1, accuracies: accs, ...stats(accs) };
}
console.log(JSON.stringify(result));
if (!only) writeFileSync("bench/results/mnist-accuracy.json", JSON.stringify(result, null, 2) + "\n");
