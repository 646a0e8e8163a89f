// Seed 001 §4.4 as runnable TypeScript: the Keras MNIST MLP (Flatten → Dense 128 relu → Dense 10
// softmax), compiled with Adam and sparse categorical cross-entropy, trained for 5 epochs and
// evaluated on the test set. `ingot train mnist-mlp` is the same model as a command.
//   INGOT_DATA=../shared/data node dist/examples/mnist-keras.js [--epochs 5] [--limit N] [--data DIR]
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as ingot from "../src/index.js";
const { keras } = ingot;

const { values: args } = parseArgs({
  options: {
    epochs: { type: "string", default: "5" },
    limit: { type: "string" }, // train on the first N images only (a quick run)
    data: { type: "string" }, // the data root or the mnist folder (default INGOT_DATA/mnist)
  },
});

// 定义模型 — the model
const model = keras.sequential([
  keras.layers.flatten({ inputShape: [28, 28] }),
  keras.layers.dense({ units: 128, activation: "relu" }),
  keras.layers.dense({ units: 10, activation: "softmax" }),
]);

// 编译模型 — compile
model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });

// 加载MNIST数据集 — load MNIST (tf.keras.datasets.mnist.load_data() reads it from the network;
// here it comes from INGOT_DATA or --data)
const dir = args.data && existsSync(join(args.data, "mnist")) ? join(args.data, "mnist") : args.data;
const mnist = await ingot.data.mnist({ dir }).catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
let { images: xTrain, labels: yTrain } = mnist.train;
let xTest = mnist.test.images;
const yTest = mnist.test.labels;
if (args.limit) [xTrain, yTrain] = [xTrain.slice(0, 0, Number(args.limit)), yTrain.slice(0, 0, Number(args.limit))];

// 预处理数据 — scale the pixels into [0, 1]
xTrain = xTrain.div(255.0);
xTest = xTest.div(255.0);

// 训练模型 — train
await model.fit(xTrain, yTrain, { epochs: Number(args.epochs) });

// 测试模型 — test
const [testLoss, testAcc] = model.evaluate(xTest, yTest, { verbose: 2 }) as number[];
console.log("\nTest accuracy:", testAcc);
console.log(JSON.stringify({ test_loss: testLoss, test_accuracy: testAcc }));
