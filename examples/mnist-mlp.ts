// Ingot's main job, end to end: the seed's Keras MNIST MLP (Flatten → Dense 128 relu → Dense 10)
// trained with Adam, evaluated on the test set, saved as a model folder, and loaded back.
//   INGOT_DATA=../shared/data node dist/examples/mnist-mlp.js [--epochs 2] [--batch-size 32] [--out runs/mnist-mlp-nn]
import { parseArgs } from "node:util";
import * as ingot from "../src/index.js";
const { nn, optim } = ingot;

const { values: args } = parseArgs({
  options: {
    epochs: { type: "string", default: "2" },
    "batch-size": { type: "string", default: "32" },
    lr: { type: "string", default: "0.001" },
    out: { type: "string", default: "runs/mnist-mlp-nn" },
    data: { type: "string" },
    seed: { type: "string", default: "0" },
  },
});
const epochs = Number(args.epochs);
const batchSize = Number(args["batch-size"]);

ingot.manualSeed(Number(args.seed));
const { train, test } = ingot.loadMnist({ root: args.data });
const toFloat = (images: ingot.Tensor) => images.to("float32").div(255); // (N, 28, 28) in [0, 1]
const xTrain = toFloat(train.images);
const xTest = toFloat(test.images);

const model = new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
const lossFn = new nn.CrossEntropyLoss();
const opt = new optim.Adam(model.parameters(), { lr: Number(args.lr) });
console.log(`backend ${ingot.getBackend()}; model:\n${model.toString()}`);

const evaluate = (x: ingot.Tensor, y: ingot.Tensor) =>
  ingot.noGrad(() => {
    model.eval();
    let correct = 0;
    let loss = 0;
    for (let i = 0; i < x.shape[0]; i += 1000) {
      const logits = model.call(x.slice(0, i, i + 1000));
      const yb = y.slice(0, i, i + 1000);
      loss += ingot.crossEntropy(logits, yb, { reduction: "sum" }).item();
      correct += ingot.eq(logits.argmax(1), yb).sum().item();
    }
    model.train();
    return { loss: loss / x.shape[0], accuracy: correct / x.shape[0] };
  });

const n = xTrain.shape[0];
const t0 = performance.now();
for (let epoch = 1; epoch <= epochs; epoch++) {
  const perm = ingot.randperm(n);
  let sum = 0;
  let batches = 0;
  const e0 = performance.now();
  for (let i = 0; i < n; i += batchSize) {
    const idx = perm.slice(0, i, i + batchSize);
    const xb = ingot.indexSelect(xTrain, 0, idx);
    const yb = ingot.indexSelect(train.labels, 0, idx);
    const loss = lossFn.call(model.call(xb), yb);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    sum += loss.item();
    batches++;
  }
  const secs = (performance.now() - e0) / 1000;
  const val = evaluate(xTest, test.labels);
  console.log(
    `epoch ${epoch}/${epochs}: loss ${(sum / batches).toFixed(4)}, test loss ${val.loss.toFixed(4)}, test accuracy ${(val.accuracy * 100).toFixed(2)}% (${Math.round(n / secs)} samples/s)`,
  );
}
const result = evaluate(xTest, test.labels);
const seconds = (performance.now() - t0) / 1000;

ingot.saveModelDir(args.out, {
  config: { architecture: "mlp", layers: [784, 128, 10], activation: "relu", input_shape: [28, 28] },
  weights: model.stateDict(),
  card: {
    dataset: "mnist",
    metrics: { test_accuracy: result.accuracy, test_loss: result.loss },
    training: { epochs, batch_size: batchSize, optimizer: "adam", lr: Number(args.lr), seed: Number(args.seed), seconds },
    backend: ingot.getBackend(),
    command: `node dist/examples/mnist-mlp.js ${process.argv.slice(2).join(" ")}`.trim(),
    ingot_version: ingot.VERSION,
  },
});

// Load it back into a fresh model and check it predicts the same.
const saved = ingot.loadModelDir(args.out);
const again = new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
again.loadStateDict(saved.weights);
again.eval();
model.eval();
const probe = xTest.slice(0, 0, 100);
const same = ingot.noGrad(() => ingot.eq(again.call(probe).argmax(1), model.call(probe).argmax(1)).sum().item());
console.log(`test accuracy ${(result.accuracy * 100).toFixed(2)}% after ${epochs} epoch(s), ${seconds.toFixed(1)} s`);
console.log(`saved ${args.out}/ (config.json, model.safetensors, card.json); reloaded model agrees on ${same}/100 test images`);
console.log(`serve it: an HTTP server (ingot serve ${args.out}) is not built yet — load it in your own server with`);
console.log(`  const { weights } = ingot.loadModelDir("${args.out}"); model.loadStateDict(weights); model.call(x)`);
console.log(JSON.stringify({ test_accuracy: result.accuracy, test_loss: result.loss, seconds, backend: ingot.getBackend() }));
