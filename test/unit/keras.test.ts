// ingot.keras models and training: the must-shows of issue #3 (validationSplit, earlyStopping with
// restoreBestWeights and classWeight each change behaviour; a wrong input shape names the layer and
// both shapes; save → loadModel predicts identically; small models train to low loss), the seed
// examples' code paths, summary, the sequential and functional APIs, data sources and weights.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { sink, vals } from "./helpers.js";

const { keras } = ig;
const quiet = { verbose: 0 as const };

// ------------------------------------------------------------------ must-shows

test("validationSplit holds out the last samples: the model never trains on them (fails if the split is ignored)", async () => {
  ig.manualSeed(1);
  // Constant input; the first 30 targets are 0, the last 10 are 10. Trained on the first 30 only, the
  // model predicts 0 and the validation MSE is 100; trained on all 40 it would predict 2.5.
  const x = ig.ones([40, 1]);
  const y = ig.cat([ig.zeros([30, 1]), ig.full([10, 1], 10)]);
  const m = keras.sequential([keras.dense({ units: 1, inputShape: [1] })]);
  m.compile({ optimizer: keras.optimizers.sgd({ learningRate: 0.1 }), loss: "mse" });
  const h = await m.fit(x, y, { epochs: 40, batchSize: 40, validationSplit: 0.25, ...quiet });
  assert.equal(h.history.val_loss.length, 40);
  assert.equal(h.epoch.length, 40);
  const p = vals(m.predict(ig.ones([1, 1])) as Tensor)[0];
  assert.ok(Math.abs(p) < 0.05, `prediction ${p}`);
  assert.ok(Math.abs(h.history.val_loss[39] - 100) < 2, `val_loss ${h.history.val_loss[39]}`);
  assert.ok(h.history.loss[39] < 0.01);
  await assert.rejects(m.fit(x, y, { validationSplit: 1, ...quiet }), /validationSplit must be in \[0, 1\), got 1/);
});

test("earlyStopping({restoreBestWeights: true}) stops after `patience` bad epochs and puts back the best weights", async () => {
  // The training target is 2 and the validation target 1: the prediction walks from 0 to 2, so
  // the validation loss falls, then rises.
  const x = ig.ones([8, 1]);
  const run = async (restoreBestWeights: boolean) => {
    const m = keras.sequential([keras.dense({ units: 1, inputShape: [1], kernelInitializer: "zeros" })]);
    m.compile({ optimizer: keras.optimizers.sgd({ learningRate: 0.05 }), loss: "mse" });
    const es = keras.earlyStopping({ monitor: "val_loss", patience: 2, restoreBestWeights });
    const h = await m.fit(x, ig.full([8, 1], 2), { epochs: 60, batchSize: 8, validationData: [ig.ones([2, 1]), ig.ones([2, 1])], callbacks: [es], ...quiet });
    const finalVal = m.evaluate(ig.ones([2, 1]), ig.ones([2, 1]), quiet) as number;
    return { h, es, finalVal };
  };
  const kept = await run(true);
  const vl = kept.h.history.val_loss;
  const best = Math.min(...vl);
  assert.ok(kept.h.epoch.length < 60, "stopped early");
  assert.equal(kept.es.stoppedEpoch, kept.h.epoch.length - 1);
  assert.equal(vl.indexOf(best), kept.es.bestEpoch);
  assert.equal(kept.h.epoch.length - 1 - kept.es.bestEpoch, 2, "patience 2");
  assert.ok(Math.abs(kept.finalVal - best) < 1e-6, `restored: ${kept.finalVal} vs best ${best}`);
  assert.ok(vl[vl.length - 1] > best + 1e-4);
  const notKept = await run(false);
  assert.ok(Math.abs(notKept.finalVal - notKept.h.history.val_loss.at(-1)!) < 1e-6);
  assert.ok(notKept.finalVal > best + 1e-4, "without restoreBestWeights the last weights stay");
});

test("classWeight reweights the loss: a bias-only classifier learns the weighted class prior", async () => {
  // 10% positives and zero inputs, so the output is sigmoid(bias): it converges to the (weighted)
  // fraction of positives, 0.1 without class weights and 0.5 with {0: 1, 1: 9}.
  const x = ig.zeros([20, 1]);
  const y = ig.tensor([1, 1, ...new Array(18).fill(0)], { shape: [20, 1] });
  const train = async (classWeight?: Record<number, number>) => {
    const m = keras.sequential([keras.dense({ units: 1, activation: "sigmoid", inputShape: [1] })]);
    m.compile({ optimizer: keras.optimizers.adam({ learningRate: 0.1 }), loss: "binaryCrossentropy", metrics: ["accuracy"] });
    await m.fit(x, y, { epochs: 150, batchSize: 20, classWeight, ...quiet });
    return vals(m.predict(ig.zeros([1, 1])) as Tensor)[0];
  };
  const plain = await train();
  const weighted = await train({ 0: 1, 1: 9 });
  assert.ok(Math.abs(plain - 0.1) < 0.02, `without classWeight ${plain}`);
  assert.ok(Math.abs(weighted - 0.5) < 0.02, `with classWeight ${weighted}`);
  const m = keras.sequential([keras.dense({ units: 1, activation: "sigmoid", inputShape: [1] })]);
  m.compile({ optimizer: "adam", loss: "binaryCrossentropy" });
  await assert.rejects(m.fit(x, y, { classWeight: { 0: 1 }, ...quiet }), /classWeight has no weight for class 1/);
});

test("a wrong input shape to fit names the layer and both shapes (seed 002's Dense on unflattened images)", async () => {
  const m = keras.sequential();
  m.add(keras.dense({ units: 64, activation: "relu", inputShape: [784] }));
  m.add(keras.dense({ units: 10, activation: "softmax" }));
  m.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  await assert.rejects(m.fit(ig.zeros([40, 28, 28]), ig.zeros([40, 10]), quiet), {
    name: "ShapeError",
    message: "dense_1: expected input with last dimension 784, got shape [32,28,28]; add a flatten() layer or fix inputShape",
  });
  assert.throws(() => m.predict(ig.zeros([3, 100])), { name: "ShapeError", message: /^dense_1: expected input with last dimension 784, got shape \[3,100\]/ });
  // A functional model's input layer checks the whole shape.
  const inp = keras.input({ shape: [4, 4] });
  const f = keras.model({ inputs: inp, outputs: keras.dense({ units: 2 }).apply(keras.flatten().apply(inp)) });
  assert.throws(() => f.predict(ig.zeros([2, 16])), { name: "ShapeError", message: /^input_1: expected input shape \[null,4,4\] \(from inputShape\), got \[2,16\]/ });
  // Mismatched sample counts and a missing compile are clear too.
  await assert.rejects(m.fit(ig.zeros([5, 784]), ig.zeros([4, 10]), quiet), /x has 5 samples but y has 4/);
  await assert.rejects(keras.sequential([keras.dense({ units: 1, inputShape: [2] })]).fit(ig.zeros([2, 2]), ig.zeros([2, 1]), quiet), /the model is not compiled; call model.compile/);
});

test("save → loadModel rebuilds the architecture from config.json and predicts identically", async () => {
  const { mkdtempSync, readFileSync, readdirSync, rmSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "ingot-keras-"));
  try {
    ig.manualSeed(2);
    const m = keras.sequential({
      name: "cnn",
      layers: [
        keras.conv2d({ filters: 3, kernelSize: 3, padding: "same", activation: "relu", inputShape: [6, 6, 1], kernelRegularizer: keras.l2(1e-3) }),
        keras.batchNormalization(),
        keras.maxPooling2d(),
        keras.flatten(),
        keras.dropout({ rate: 0.2 }),
        keras.dense({ units: 4, activation: "softmax" }),
      ],
    });
    m.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
    const x = ig.rand([12, 6, 6, 1]);
    const y = ig.randint(0, 4, [12]);
    await m.fit(x, y, { epochs: 2, batchSize: 4, ...quiet });
    m.save(join(dir, "model"), { card: { dataset: "synthetic" } });
    assert.deepEqual(readdirSync(join(dir, "model")).sort(), ["card.json", "config.json", "model.safetensors"], "no temporary files left");
    const cfg = JSON.parse(readFileSync(join(dir, "model", "config.json"), "utf8"));
    assert.equal(cfg.className, "Sequential");
    assert.deepEqual(
      cfg.config.layers.map((l: { className: string }) => l.className),
      ["Conv2D", "BatchNormalization", "MaxPooling2D", "Flatten", "Dropout", "Dense"],
    );
    const card = JSON.parse(readFileSync(join(dir, "model", "card.json"), "utf8"));
    assert.equal(card.dataset, "synthetic");
    assert.ok(typeof card.metrics.loss === "number");
    const loaded = keras.loadModel(join(dir, "model"));
    assert.equal(loaded.name, "cnn");
    assert.deepEqual(vals(loaded.predict(x) as Tensor), vals(m.predict(x) as Tensor));
    assert.deepEqual(loaded.evaluate(x, y, quiet), m.evaluate(x, y, quiet), "compile settings and regularizers come back too");
    assert.equal(loaded.summary(null), m.summary(null));
    await loaded.fit(x, y, { epochs: 1, ...quiet }); // and it trains on
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("save → loadModel: functional model with two inputs, an embedding and an lstm", async () => {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "ingot-keras-"));
  try {
    ig.manualSeed(3);
    const ids = keras.input({ shape: [5], dtype: "int32", name: "ids" });
    const extra = keras.input({ shape: [2], name: "extra" });
    const seq = keras.lstm({ units: 4 }).apply(keras.embedding({ inputDim: 10, outputDim: 3 }).apply(ids));
    const gru = keras.gru({ units: 2 }).apply(keras.embedding({ inputDim: 10, outputDim: 3 }).apply(ids));
    const out = keras.dense({ units: 1, activation: "sigmoid" }).apply(keras.concatenate().apply([seq, gru, extra]));
    const m = keras.model({ inputs: [ids, extra], outputs: out, name: "two_inputs" });
    m.compile({ optimizer: "rmsprop", loss: "binaryCrossentropy", metrics: ["accuracy"] });
    const xi = ig.randint(0, 10, [6, 5]);
    const xe = ig.rand([6, 2]);
    await m.fit([xi, xe], ig.randint(0, 2, [6, 1]).to("float32"), { epochs: 1, batchSize: 3, ...quiet });
    m.save(join(dir, "f"));
    const loaded = keras.loadModel(join(dir, "f"));
    assert.ok(loaded instanceof keras.Functional);
    assert.deepEqual(loaded.layers.map((l) => l.name), m.layers.map((l) => l.name));
    assert.deepEqual(vals(loaded.predict([xi, xe]) as Tensor), vals(m.predict([xi, xe]) as Tensor));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("loadModel refuses malformed folders with errors that name the file", async () => {
  const { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "ingot-keras-"));
  try {
    assert.throws(() => keras.loadModel(join(dir, "nothing")), /loadModel: .*nothing does not exist/);
    mkdirSync(join(dir, "empty"));
    assert.throws(() => keras.loadModel(join(dir, "empty")), /empty has no config.json/);
    mkdirSync(join(dir, "bad"));
    writeFileSync(join(dir, "bad", "config.json"), "{not json");
    assert.throws(() => keras.loadModel(join(dir, "bad")), /config.json is not valid JSON/);
    writeFileSync(join(dir, "bad", "config.json"), JSON.stringify({ architectures: ["GPT2"] }));
    assert.throws(() => keras.loadModel(join(dir, "bad")), /does not describe a Keras model/);
    const m = keras.sequential([keras.dense({ units: 2, inputShape: [3] })]);
    m.save(join(dir, "ok"));
    const cfg = JSON.parse(readFileSync(join(dir, "ok", "config.json"), "utf8"));
    cfg.config.layers[0].className = "Teleporter";
    writeFileSync(join(dir, "bad", "config.json"), JSON.stringify(cfg));
    assert.throws(() => keras.loadModel(join(dir, "bad")), /unknown layer type 'Teleporter'; known types: .*Dense/);
    cfg.config.layers[0].className = "Dense";
    cfg.config.layers[0].config.units = 5;
    writeFileSync(join(dir, "bad", "config.json"), JSON.stringify(cfg));
    assert.throws(() => keras.loadModel(join(dir, "bad")), /bad has config.json but no model.safetensors/);
    writeFileSync(join(dir, "bad", "model.safetensors"), readFileSync(join(dir, "ok", "model.safetensors")));
    assert.throws(() => keras.loadModel(join(dir, "bad")), /the weights in .*model.safetensors do not match the architecture in config.json: .*dense_1.kernel/s);
    writeFileSync(join(dir, "bad", "model.safetensors"), "xx");
    assert.throws(() => keras.loadModel(join(dir, "bad")), /model.safetensors cannot be read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a small MLP trains to low loss: regression to < 1e-3 MSE and separable classes to accuracy 1", async () => {
  ig.manualSeed(4);
  const x = ig.sub(ig.mul(ig.rand([64, 2]), 2), 1);
  const [a, b] = [x.select(1, 0), x.select(1, 1)];
  const y = ig.add(ig.sub(ig.mul(a, 3), ig.mul(b, 2)), 1).reshape([64, 1]);
  const reg = keras.sequential([keras.dense({ units: 1, inputShape: [2] })]);
  reg.compile({ optimizer: keras.optimizers.adam({ learningRate: 0.1 }), loss: "mse", metrics: ["mae"] });
  const h = await reg.fit(x, y, { epochs: 60, batchSize: 16, ...quiet });
  assert.ok(h.history.loss.at(-1)! < 1e-3, `mse ${h.history.loss.at(-1)}`);
  assert.ok(h.history.loss[0] > 10 * h.history.loss.at(-1)!);
  const k = vals((reg.getLayer(0) as ig.keras.Dense).kernel!);
  assert.ok(Math.abs(k[0] - 3) < 0.05 && Math.abs(k[1] + 2) < 0.05, `kernel ${k}`);

  const labels = ig.tensor(Array.from({ length: 64 }, (_, i) => (vals(a)[i] > 0 ? 1 : 0) + (vals(b)[i] > 0 ? 2 : 0)), { dtype: "int32" });
  const clf = keras.sequential([keras.dense({ units: 16, activation: "relu", inputShape: [2] }), keras.dense({ units: 4, activation: "softmax" })]);
  clf.compile({ optimizer: keras.optimizers.adam({ learningRate: 0.05 }), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  const hc = await clf.fit(x, labels, { epochs: 60, batchSize: 16, ...quiet });
  assert.equal(hc.history.accuracy.at(-1), 1);
  const [loss, acc] = clf.evaluate(x, labels, quiet) as number[];
  assert.ok(loss < 0.15 && acc === 1, `loss ${loss} acc ${acc}`);
});

// ------------------------------------------------------------------ the seed examples

test("seed 001 §4.4: Flatten(28×28) → Dense 128 relu → Dense 10 softmax, adam, sparse labels; summary counts as Keras", async () => {
  ig.manualSeed(5);
  const m = keras.sequential([keras.flatten({ inputShape: [28, 28] }), keras.dense({ units: 128, activation: "relu" }), keras.dense({ units: 10, activation: "softmax" })]);
  m.compile({ optimizer: "adam", loss: "sparse_categorical_crossentropy", metrics: ["accuracy"] });
  const lines: string[] = [];
  m.summary((l) => lines.push(l));
  const text = lines.join("\n");
  assert.match(text, /flatten_1 \(Flatten\)\s+\(None, 784\)\s+0/);
  assert.match(text, /dense_1 \(Dense\)\s+\(None, 128\)\s+100,480/);
  assert.match(text, /dense_2 \(Dense\)\s+\(None, 10\)\s+1,290/);
  assert.match(text, /Total params: 101,770\nTrainable params: 101,770\nNon-trainable params: 0/);
  const x = ig.rand([32, 28, 28]);
  const y = ig.randint(0, 10, [32]);
  const out = sink();
  const h = await m.fit(x, y, { epochs: 2, stream: out.stream });
  assert.deepEqual(Object.keys(h.history), ["loss", "accuracy"]);
  assert.match(out.text(), /^Epoch 1\/2\n1\/1 \[==============================\] - \d+s \d+(us|ms|s)\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}\nEpoch 2\/2\n/);
  const ev = sink();
  const [testLoss, testAcc] = m.evaluate(x, y, { verbose: 2, stream: ev.stream }) as number[];
  assert.ok(Number.isFinite(testLoss) && testAcc >= 0 && testAcc <= 1);
  assert.match(ev.text(), /^1\/1 - \d+s \d+(us|ms|s)\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}\n$/);
});

test("seed 001 §5.2: the CIFAR-style CNN with augmentation layers, one-hot labels and validationData", async () => {
  ig.manualSeed(6);
  const m = keras.sequential([
    keras.randomFlip({ mode: "horizontal", inputShape: [12, 12, 3] }),
    keras.randomRotation({ factor: 20 / 360 }),
    keras.randomTranslation({ heightFactor: 0.2, widthFactor: 0.2 }),
    keras.conv2d({ filters: 4, kernelSize: [3, 3], activation: "relu" }),
    keras.maxPooling2d({ poolSize: [2, 2] }),
    keras.conv2d({ filters: 8, kernelSize: [3, 3], activation: "relu" }),
    keras.flatten(),
    keras.dense({ units: 8, activation: "relu" }),
    keras.dense({ units: 10, activation: "softmax" }),
  ]);
  m.compile({ optimizer: "adam", loss: "categorical_crossentropy", metrics: ["accuracy"] });
  const x = ig.rand([8, 12, 12, 3]);
  const y = keras.utils.toCategorical(ig.randint(0, 10, [8]), 10);
  assert.deepEqual([...y.shape], [8, 10]);
  const h = await m.fit(x, y, { epochs: 1, batchSize: 4, validationData: [x, y], ...quiet });
  assert.deepEqual(Object.keys(h.history), ["loss", "accuracy", "val_loss", "val_accuracy"]);
  // Inference skips the augmentation, so predictions repeat.
  assert.deepEqual(vals(m.predict(x) as Tensor), vals(m.predict(x) as Tensor));
  // The seed's own form: fit on ImageDataGenerator.flow batches (ingot.data), validated on tensors.
  const datagen = ig.data.imageDataGenerator({ rotationRange: 20, widthShiftRange: 0.2, heightShiftRange: 0.2, horizontalFlip: true });
  datagen.fit(x);
  let steps = 0;
  const hf = await m.fit(datagen.flow(x, y, { batchSize: 4 }), { epochs: 2, validationData: [x, y], callbacks: [{ onBatchEnd: () => void steps++ }], ...quiet });
  assert.equal(steps, 4);
  assert.equal(hf.history.val_accuracy.length, 2);
  const [testLoss, testAcc] = m.evaluate(x, y, quiet) as number[];
  assert.ok(Number.isFinite(testLoss) && testAcc >= 0 && testAcc <= 1);
});

// ------------------------------------------------------------------ API shapes

test("functional API: shared layers, several outputs with their own losses, summary with connections", async () => {
  ig.manualSeed(8);
  const inp = keras.input({ shape: [3] });
  const shared = keras.dense({ units: 4, activation: "relu", name: "shared" });
  const h1 = shared.apply(inp);
  const h2 = shared.apply(keras.dense({ units: 3 }).apply(h1));
  const reg = keras.dense({ units: 1, name: "reg" }).apply(h2);
  const cls = keras.dense({ units: 2, activation: "softmax", name: "cls" }).apply(h1);
  const m = keras.model({ inputs: inp, outputs: [reg, cls] });
  m.compile({ optimizer: "adam", loss: ["mse", "sparseCategoricalCrossentropy"], metrics: ["accuracy"], lossWeights: [1, 0.5] });
  const x = ig.rand([6, 3]);
  const h = await m.fit(x, [ig.rand([6, 1]), ig.randint(0, 2, [6])], { epochs: 2, ...quiet });
  assert.deepEqual(Object.keys(h.history), ["loss", "reg_loss", "cls_loss", "reg_accuracy", "cls_accuracy"]);
  assert.ok(Math.abs(h.history.loss[1] - (h.history.reg_loss[1] + 0.5 * h.history.cls_loss[1])) < 1e-5);
  const text = m.summary(null);
  assert.match(text, /shared \(Dense\)\s+\(None, 4\)\s+16\s+input_1\[0\]/);
  assert.match(text, /shared \(Dense\)\s+\(None, 4\)\s+16\s+dense_1\[0\]/);
  assert.match(text, /Total params: 46\n/, "the shared layer counts once");
  const [r, c] = m.predict(x) as Tensor[];
  assert.deepEqual([...r.shape, ...c.shape], [6, 1, 6, 2]);
  assert.throws(() => keras.model({ inputs: keras.input({ shape: [2] }), outputs: reg }), /the outputs depend on an input .* that is not in inputs/);
});

test("sequential API: add/pop, lazy build from the first data, getLayer, nested models, input() first, compile errors", async () => {
  const m = keras.sequential();
  m.add(keras.dense({ units: 3, activation: "relu" }));
  m.add(keras.dense({ units: 2 }));
  assert.throws(() => m.summary(null), /the model is not built yet; give the first layer an inputShape/);
  const y = m.predict(ig.ones([5, 4])) as Tensor;
  assert.deepEqual([...y.shape], [5, 2]);
  assert.equal(m.countParams(), 4 * 3 + 3 + 3 * 2 + 2);
  assert.equal(m.getLayer("dense_2"), m.getLayer(-1));
  assert.throws(() => m.getLayer("nope"), /no layer named 'nope'; the layers are dense_1, dense_2/);
  m.pop();
  assert.deepEqual([...(m.predict(ig.ones([1, 4])) as Tensor).shape], [1, 3]);
  assert.throws(() => m.add(new ig.nn.Linear(2, 2) as never), /got an ingot.nn Linear; nn modules go in nn.Sequential/);
  assert.throws(() => keras.sequential([keras.dense({ units: 1, name: "a" }), keras.dense({ units: 1, name: "a" })]), /two layers are named 'a'/);

  const inner = keras.sequential([keras.dense({ units: 4, activation: "relu", inputShape: [2] }), keras.dense({ units: 4 })]);
  const outer = keras.sequential([keras.input({ shape: [2] }), inner, keras.dense({ units: 1 })]);
  assert.deepEqual(outer.layers.map((l) => l.name), ["sequential_1", "dense_1"]);
  assert.ok(Object.keys(outer.getWeights()).includes("sequential_1.dense_1.kernel"));
  outer.compile({ optimizer: "adam", loss: "mse" });
  await outer.fit(ig.rand([4, 2]), ig.rand([4, 1]), { epochs: 1, ...quiet });

  assert.throws(() => outer.compile({ optimizer: "adamax", loss: "mse" }), /unknown optimizer "adamax"/);
  assert.throws(() => outer.compile({ optimizer: "adam", loss: "mse", metrics: ["f1x"] }), /unknown metric "f1x"/);
  assert.throws(() => outer.compile({ loss: ["mse", "mse"] }), /got 2 losses for 1 output/);
});

test("fit from a DataLoader (batches of [x, y]) and from a generator with stepsPerEpoch; initialEpoch resumes", async () => {
  ig.manualSeed(9);
  const x = ig.rand([12, 3]);
  const y = ig.rand([12, 1]);
  const m = keras.sequential([keras.dense({ units: 1, inputShape: [3] })]);
  m.compile({ optimizer: "sgd", loss: "mse" });
  const loader = new ig.data.DataLoader(new ig.data.TensorDataset(x, y), { batchSize: 4 });
  let batches = 0;
  const h = await m.fit(loader, undefined, { epochs: 2, validationData: loader, callbacks: [{ onBatchEnd: () => void batches++ }], ...quiet });
  assert.equal(batches, 6);
  assert.deepEqual(Object.keys(h.history), ["loss", "val_loss"]);
  function* forever() {
    for (;;) yield [x, y];
  }
  const g = await m.fit(forever(), null, { epochs: 5, initialEpoch: 3, stepsPerEpoch: 2, ...quiet });
  assert.deepEqual(g.epoch, [3, 4]);
  await assert.rejects(m.fit(loader, y, quiet), /x is a data source of \[x, y\] batches, so y must be omitted/);
  assert.deepEqual(m.evaluate(loader, null, quiet), m.evaluate(x, y, { batchSize: 4, ...quiet }));
});

test("weights by name: getWeights/setWeights, saveWeights/loadWeights, freezing with trainable = false", async () => {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "ingot-keras-"));
  try {
    const m = keras.sequential([keras.dense({ units: 2, inputShape: [2], name: "a" }), keras.batchNormalization({ name: "bn" })]);
    assert.deepEqual(Object.keys(m.getWeights()), ["a.kernel", "a.bias", "bn.gamma", "bn.beta", "bn.movingMean", "bn.movingVariance"]);
    const w = m.getWeights();
    m.saveWeights(join(dir, "w.safetensors"));
    m.getLayer("a").trainable = false;
    assert.equal(m.countTrainableParams(), 4);
    m.compile({ optimizer: keras.optimizers.sgd({ learningRate: 1 }), loss: "mse" });
    await m.fit(ig.rand([4, 2]), ig.rand([4, 2]), { epochs: 1, ...quiet });
    assert.deepEqual(vals(m.getWeights()["a.kernel"]), vals(w["a.kernel"]), "frozen");
    assert.notDeepEqual(vals(m.getWeights()["bn.gamma"]), vals(w["bn.gamma"]));
    m.loadWeights(join(dir, "w.safetensors"));
    assert.deepEqual(vals(m.getWeights()["bn.gamma"]), vals(w["bn.gamma"]));
    m.setWeights({ ...w, "a.bias": ig.ones([2]) });
    assert.deepEqual(vals(m.getWeights()["a.bias"]), [1, 1]);
    assert.throws(() => m.setWeights({ "a.kernel": ig.zeros([3, 3]) }), /size mismatch for 'a.kernel'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("save/load of a model built by its first data; compile settings are saved only when they are names", async () => {
  const { mkdtempSync, readFileSync, rmSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "ingot-keras-"));
  try {
    const m = keras.sequential([keras.reshape({ targetShape: [2, 2, 1] }), keras.conv2d({ filters: 2, kernelSize: 2 }), keras.flatten(), keras.dense({ units: 1 })]);
    const x = ig.rand([3, 4]);
    assert.throws(() => m.save(join(dir, "early")), /not built yet/);
    const before = vals(m.predict(x) as Tensor);
    m.compile({ optimizer: new ig.optim.SGD(m.parameters(), { lr: 0.1 }), loss: "mse" });
    m.save(join(dir, "lazy"));
    assert.equal(JSON.parse(readFileSync(join(dir, "lazy", "config.json"), "utf8")).compile, null);
    const loaded = keras.loadModel(join(dir, "lazy"));
    assert.deepEqual(vals(loaded.predict(x) as Tensor), before);
    assert.throws(() => loaded.evaluate(x, ig.zeros([3, 1])), /the model is not compiled/);
    m.compile({ optimizer: keras.optimizers.adam({ learningRate: 0.01 }), loss: "mse", metrics: ["mae"] });
    m.save(join(dir, "named"));
    const cfg = JSON.parse(readFileSync(join(dir, "named", "config.json"), "utf8"));
    assert.deepEqual(cfg.compile, { optimizer: { className: "Adam", config: { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: false } }, loss: ["meanSquaredError"], metrics: ["mae"], lossWeights: [1] });
    const again = keras.loadModel(join(dir, "named"));
    await again.fit(x, ig.zeros([3, 1]), { epochs: 1, ...quiet });
    assert.equal(again.optimizer!.paramGroups[0].lr, 0.01);
    assert.ok(again.optimizer instanceof ig.optim.Adam);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
