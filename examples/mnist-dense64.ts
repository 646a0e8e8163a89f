// Seed 002 §5.2 as runnable TypeScript: a Sequential model built with add() (Dense 64 relu on 784
// inputs → Dense 10 softmax), one-hot labels with categorical cross-entropy, batch 128, 10 epochs,
// 10% of the training images held out for validation.
//   INGOT_DATA=../shared/data node dist/examples/mnist-dense64.js [--epochs 10] [--limit N] [--data DIR]
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as ingot from "../src/index.js";
const { keras } = ingot;
const { Sequential } = keras;
const { dense } = keras.layers;

const { values: args } = parseArgs({
  options: { epochs: { type: "string", default: "10" }, limit: { type: "string" }, data: { type: "string" } },
});

// 创建一个简单的神经网络模型 — the model
const model = new Sequential();
model.add(dense({ units: 64, activation: "relu", inputShape: [784] }));
model.add(dense({ units: 10, activation: "softmax" }));

// 编译模型 — compile
model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });

// 加载MNIST数据集 — load MNIST from INGOT_DATA or --data
const dir = args.data && existsSync(join(args.data, "mnist")) ? join(args.data, "mnist") : args.data;
const mnist = await ingot.data.mnist({ dir }).catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
let { images: xTrain, labels: yTrain } = mnist.train;
let { images: xTest, labels: yTest } = mnist.test;
if (args.limit) [xTrain, yTrain] = [xTrain.slice(0, 0, Number(args.limit)), yTrain.slice(0, 0, Number(args.limit))];

// 数据预处理 — scale to [0, 1].
// NOTE: the seed feeds the 28×28 images to a Dense layer declared with input_shape=(784,), which
// Keras refuses; the images are flattened to 784 values per row here.
xTrain = xTrain.div(255.0).reshape([-1, 784]);
xTest = xTest.div(255.0).reshape([-1, 784]);

// 转换为one-hot编码 — one-hot labels
yTrain = keras.utils.toCategorical(yTrain, 10);
yTest = keras.utils.toCategorical(yTest, 10);

// 训练模型 — train
await model.fit(xTrain, yTrain, { batchSize: 128, epochs: Number(args.epochs), validationSplit: 0.1 });

// The seed stops after fit; the test accuracy shows what the model learned.
const [testLoss, testAcc] = model.evaluate(xTest, yTest, { verbose: 0 }) as number[];
console.log(`Test accuracy: ${testAcc}`);
console.log(JSON.stringify({ test_loss: testLoss, test_accuracy: testAcc }));
