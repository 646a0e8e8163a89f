// ingot.keras training pieces: losses (the fused softmax/sigmoid paths), metrics, regularization
// in the loss, the callbacks (modelCheckpoint, csvLogger, reduceLROnPlateau, learningRateScheduler,
// terminateOnNaN, custom hooks) and the progress display.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { sink, vals } from "./helpers.js";

const { keras } = ig;
const quiet = { verbose: 0 as const };

// ------------------------------------------------------------------ losses and metrics

test("softmax + sparseCategoricalCrossentropy uses the logits: exact and finite where clamped probabilities would not be", () => {
  const logits = ig.tensor([[1000, 0, -1000], [2, 1, 0.5]], { dtype: "float64" });
  const probs = keras.activation({ activation: "softmax" }).apply(logits);
  const l = vals(keras.losses.sparseCategoricalCrossentropy(ig.tensor([2, 0], { dtype: "int32" }), probs));
  const lse = Math.log(Math.exp(2) + Math.exp(1) + Math.exp(0.5));
  assert.ok(Math.abs(l[0] - 2000) < 1e-9, `${l[0]} (clamping would give ${-Math.log(1e-7)})`);
  assert.ok(Math.abs(l[1] - (lse - 2)) < 1e-12);
  // From probabilities that did not come from a softmax layer: the clamped log, as Keras does.
  const p = ig.tensor([[0, 0.25, 0.75]], { dtype: "float64" });
  assert.ok(Math.abs(vals(keras.losses.sparseCategoricalCrossentropy(ig.tensor([0], { dtype: "int32" }), p))[0] + Math.log(1e-7)) < 1e-9);
  // The gradient through the fused path stays finite.
  const z = ig.tensor([[1000, 0, -1000]], { dtype: "float64" }).requiresGrad_();
  ig.mean(keras.losses.sparseCategoricalCrossentropy(ig.tensor([1], { dtype: "int32" }), keras.activation({ activation: "softmax" }).apply(z))).backward();
  assert.deepEqual(vals(z.grad!), [1, -1, 0]);
  assert.throws(() => keras.losses.sparseCategoricalCrossentropy(ig.tensor([3], { dtype: "int32" }), p), /label 3 is out of range for 3 classes/);
});

test("categorical and binary cross-entropy, mse, mae, huber per sample; weights give Σwl/N", () => {
  const t = ig.tensor([[0, 1, 0], [1, 0, 0]], { dtype: "float64" });
  const p = ig.tensor([[0.2, 0.5, 0.3], [0.6, 0.2, 0.2]], { dtype: "float64" });
  const cce = vals(keras.losses.categoricalCrossentropy(t, p));
  assert.ok(Math.abs(cce[0] + Math.log(0.5)) < 1e-12 && Math.abs(cce[1] + Math.log(0.6)) < 1e-12);
  assert.throws(() => keras.losses.categoricalCrossentropy(ig.tensor([1, 0], { dtype: "int32" }), p), /for integer labels use sparseCategoricalCrossentropy/);
  const z = ig.tensor([[0.3], [-2]], { dtype: "float64" });
  const yb = ig.tensor([1, 0], { dtype: "float64" });
  const viaLogits = vals(keras.losses.binaryCrossentropy(yb, keras.activation({ activation: "sigmoid" }).apply(z)));
  assert.ok(Math.abs(viaLogits[0] + Math.log(sig(0.3))) < 1e-12 && Math.abs(viaLogits[1] + Math.log(1 - sig(-2))) < 1e-12);
  const a = ig.tensor([[1, 2], [3, 5]], { dtype: "float64" });
  const b = ig.tensor([[1.5, 2], [0, 5]], { dtype: "float64" });
  assert.deepEqual(vals(keras.losses.meanSquaredError(a, b)), [0.125, 4.5]);
  assert.deepEqual(vals(keras.losses.meanAbsoluteError(a, b)), [0.25, 1.5]);
  assert.deepEqual(vals(keras.losses.huber(a, b)), [0.0625, 1.25]);
  const w = keras.losses.reduceLoss(ig.tensor([1, 2, 3], { dtype: "float64" }), ig.tensor([0, 1, 2]));
  assert.ok(Math.abs(w.item() - 8 / 3) < 1e-12);
  assert.throws(() => keras.getLoss("hinge-ish"), /unknown loss "hinge-ish"/);
  assert.equal(keras.getLoss("sparse_categorical_crossentropy").name, "sparseCategoricalCrossentropy");
});

function sig(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

test("accuracy resolves to binary, sparse or categorical from the shapes; metrics average over samples", () => {
  const m = keras.getMetric("accuracy", null);
  m.update(ig.tensor([[0, 1], [1, 0], [1, 0]]), ig.tensor([[0.3, 0.7], [0.2, 0.8], [0.9, 0.1]]));
  assert.ok(Math.abs(m.result() - 2 / 3) < 1e-12, "categorical");
  m.update(ig.tensor([[1, 0]]), ig.tensor([[0.6, 0.4]]));
  assert.equal(m.result(), 0.75, "running mean over samples");
  const s = keras.getMetric("acc", "sparseCategoricalCrossentropy");
  s.update(ig.tensor([1, 0], { dtype: "int32" }), ig.tensor([[0.3, 0.7], [0.2, 0.8]]));
  assert.equal(s.result(), 0.5, "sparse");
  const bin = keras.getMetric("accuracy", null);
  bin.update(ig.tensor([[1], [0], [1], [0]]), ig.tensor([[0.9], [0.2], [0.4], [0.7]]));
  assert.equal(bin.result(), 0.5, "binary");
  assert.throws(() => keras.getMetric("f7", null), /unknown metric "f7"/);
});

test("regularization penalties join the training and evaluation loss", async () => {
  const m = keras.sequential([keras.dense({ units: 2, inputShape: [3], kernelRegularizer: keras.l2({ l2: 0.5 }), biasRegularizer: keras.l1({ l1: 0.25 }), biasInitializer: "ones" })]);
  m.compile({ optimizer: "sgd", loss: "mse" });
  const x = ig.zeros([4, 3]);
  const y = ig.ones([4, 2]); // x = 0, so the output is the bias 1 and the data loss is 0
  const k = vals((m.getLayer(0) as ig.keras.Dense).kernel!);
  const penalty = 0.5 * k.reduce((s, v) => s + v * v, 0) + 0.25 * 2;
  assert.ok(Math.abs((m.evaluate(x, y, quiet) as number) - penalty) < 1e-6);
  assert.ok(Math.abs(m.regularizationLoss()!.item() - penalty) < 1e-6);
  const h = await m.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false, ...quiet });
  assert.ok(Math.abs(h.history.loss[0] - penalty) < 1e-6, "the logged loss includes the penalty");
  assert.ok(vals((m.getLayer(0) as ig.keras.Dense).kernel!).every((v, i) => Math.abs(v) < Math.abs(k[i])), "weight decay pulled the kernel in");
});

// ------------------------------------------------------------------ callbacks

test("modelCheckpoint saves only improving epochs (formatted paths, complete folders); csvLogger writes one row per epoch", async () => {
  const { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "ingot-keras-"));
  try {
    // The validation target sits between start and training target: val_loss improves, then worsens.
    const m = keras.sequential([keras.dense({ units: 1, inputShape: [1], kernelInitializer: "zeros" })]);
    m.compile({ optimizer: keras.optimizers.sgd({ learningRate: 0.02 }), loss: "mse" });
    const ckpt = keras.modelCheckpoint({ filepath: join(dir, "ckpt-{epoch:02d}-{val_loss:.3f}"), monitor: "val_loss", saveBestOnly: true });
    const csv = join(dir, "logs", "train.csv");
    const h = await m.fit(ig.ones([4, 1]), ig.full([4, 1], 2), { epochs: 8, batchSize: 4, validationData: [ig.ones([1, 1]), ig.full([1, 1], 0.8)], callbacks: [ckpt, keras.csvLogger(csv)], ...quiet });
    const vl = h.history.val_loss;
    const improving = vl.map((v, i) => vl.slice(0, i).every((u) => v < u));
    assert.ok(improving.includes(false) && improving.filter(Boolean).length >= 2, `val_loss ${vl}`);
    assert.equal(ckpt.saved.length, improving.filter(Boolean).length);
    improving.forEach((imp, e) => {
      const p = join(dir, `ckpt-${String(e + 1).padStart(2, "0")}-${vl[e].toFixed(3)}`);
      assert.equal(existsSync(p), imp, p);
      if (imp) assert.deepEqual(readdirSync(p).sort(), ["card.json", "config.json", "model.safetensors"]);
    });
    const best = keras.loadModel(ckpt.saved.at(-1)!);
    assert.ok(Math.abs((best.evaluate(ig.ones([1, 1]), ig.full([1, 1], 0.8), quiet) as number) - Math.min(...vl)) < 1e-6);
    const rows = readFileSync(csv, "utf8").trim().split("\n");
    assert.equal(rows[0], "epoch,loss,val_loss");
    assert.equal(rows.length, 9);
    assert.deepEqual(rows[3].split(",").map(Number), [2, h.history.loss[2], vl[2]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("reduceLROnPlateau multiplies the lr by factor after `patience` epochs without improvement; learningRateScheduler sets it per epoch", async () => {
  const x = ig.ones([4, 1]);
  const m = keras.sequential([keras.dense({ units: 1, inputShape: [1] })]);
  m.compile({ optimizer: keras.optimizers.sgd({ learningRate: 0.1 }), loss: "mse" });
  // A loss that never improves: lr 0 (scheduler) freezes the weights; the plateau callback then cuts it... from the scheduler's value.
  const seen: number[] = [];
  const h = await m.fit(x, ig.zeros([4, 1]), {
    epochs: 4,
    callbacks: [keras.learningRateScheduler((epoch) => (epoch < 2 ? 0.1 : 0.05)), { onEpochBegin: () => void seen.push(m.optimizer!.paramGroups[0].lr) }],
    ...quiet,
  });
  assert.deepEqual(seen, [0.1, 0.1, 0.05, 0.05]);
  assert.deepEqual(h.history.lr, [0.1, 0.1, 0.05, 0.05]);

  const frozen = keras.sequential([keras.dense({ units: 1, inputShape: [1], trainable: false })]);
  frozen.compile({ optimizer: "sgd", loss: "mse" });
  const plateau = keras.reduceLROnPlateau({ monitor: "loss", factor: 0.5, patience: 2 });
  // With no trainable weights the loss stays put; give the plateau callback an optimizer to adjust.
  const opt = new ig.optim.SGD([new ig.nn.Parameter(ig.zeros([1]))], { lr: 0.8 });
  frozen.optimizer = opt;
  const hp = await frozen.fit(x, ig.ones([4, 1]), { epochs: 7, callbacks: [plateau], ...quiet });
  // Epoch 0 sets the best; epochs 1, 2 are bad → cut at 2; 3, 4 → cut at 4; 5, 6 → cut at 6.
  assert.deepEqual(hp.history.lr, [0.8, 0.8, 0.8, 0.4, 0.4, 0.2, 0.2]);
  assert.equal(opt.paramGroups[0].lr, 0.1);
});

test("terminateOnNaN stops at the first non-finite batch loss; custom object callbacks see every hook", async () => {
  const m = keras.sequential([keras.dense({ units: 1, inputShape: [1] })]);
  m.compile({ optimizer: "sgd", loss: (yt: Tensor, yp: Tensor) => ig.mul(keras.losses.meanSquaredError(yt, yp), NaN) });
  const calls: string[] = [];
  const out = sink();
  const h = await m.fit(ig.ones([8, 1]), ig.ones([8, 1]), {
    epochs: 3,
    batchSize: 2,
    verbose: 0,
    stream: out.stream,
    callbacks: [
      keras.terminateOnNaN(),
      {
        onTrainBegin: () => void calls.push("trainBegin"),
        onEpochBegin: (e: number) => void calls.push(`epochBegin ${e}`),
        onBatchEnd: async (b: number) => void calls.push(`batch ${b}`),
        onEpochEnd: (e: number) => void calls.push(`epochEnd ${e}`),
        onTrainEnd: () => void calls.push("trainEnd"),
      },
    ],
  });
  assert.deepEqual(calls, ["trainBegin", "epochBegin 0", "batch 0", "epochEnd 0", "trainEnd"]);
  assert.equal(h.epoch.length, 1);
  assert.match(out.text(), /Batch 0: invalid loss, terminating training/);
});

test("progress bar: one updating line with ETA on a terminal, plain lines elsewhere, one line per epoch with verbose 2", async () => {
  const tty = sink(true);
  const bar = new keras.ProgressBar(4, { stream: tty.stream, interval: 0 });
  bar.update(1, { loss: 0.5 });
  bar.update(2, { loss: 0.25 });
  bar.finish(4, { loss: 0.125, val_loss: 0.0001 });
  const t = tty.text();
  assert.match(t, /^\r1\/4 \[={6}>\.{23}\] - ETA: \d+s - loss: 0\.5000\r2\/4 \[={14}>\.{15}\] - ETA: \d+s - loss: 0\.2500\r4\/4 \[={30}\] - \d+s \d+(us|ms|s)\/step - loss: 0\.1250 - val_loss: 1\.0000e-4 *\n$/);
  const plain = sink(false);
  const m = keras.sequential([keras.dense({ units: 1, inputShape: [1] })]);
  m.compile({ optimizer: "sgd", loss: "mse" });
  await m.fit(ig.ones([4, 1]), ig.ones([4, 1]), { epochs: 2, batchSize: 2, verbose: 2, stream: plain.stream });
  assert.match(plain.text(), /^Epoch 1\/2\n2\/2 - \d+s \d+(us|ms|s)\/step - loss: \d\.\d{4}\nEpoch 2\/2\n2\/2 - \d+s \d+(us|ms|s)\/step - loss: \d\.\d{4}\n$/);
  assert.ok(!plain.text().includes("\r"));
});

