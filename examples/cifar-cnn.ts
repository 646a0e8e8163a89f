// Seed 001 §5.2 as runnable TypeScript: CIFAR-10 scaled to [0, 1] with one-hot labels, an
// ImageDataGenerator (rotation, shifts, horizontal flips), the three-conv CNN, Adam with categorical
// cross-entropy, 10 epochs on augmented batches validated on the test set, then evaluate.
// CIFAR-10 is read from --data / INGOT_DATA (the binary version, cifar10/); where it is absent this
// runs on a SYNTHETIC stand-in of the same shape and says so — its accuracy says nothing about CIFAR.
//   INGOT_DATA=../shared/data node dist/examples/cifar-cnn.js [--epochs 10] [--limit N] [--data DIR]
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as ingot from "../src/index.js";
const { keras } = ingot;
const { layers } = keras;

const { values: args } = parseArgs({
  options: {
    epochs: { type: "string", default: "10" },
    limit: { type: "string" }, // use the first N training (and N/5 test) images
    data: { type: "string" }, // the data root or the cifar10 folder
    seed: { type: "string", default: "0" },
  },
});
ingot.manualSeed(Number(args.seed));
const limit = args.limit ? Number(args.limit) : null;

/**
 * A stand-in with CIFAR-10's shapes and types: uint8 images [N, 32, 32, 3] and int32 labels in
 * 0..9. Class k is a noisy image tinted with its own colour and a bright square at a class-given
 * place, which a small CNN can learn through the augmentation.
 */
function syntheticCifar(n: number, seed: number): { images: ingot.Tensor; labels: ingot.Tensor } {
  const g = new ingot.Generator(seed);
  const palette = [[230, 40, 40], [40, 230, 40], [40, 40, 230], [230, 230, 40], [230, 40, 230], [40, 230, 230], [240, 140, 20], [130, 60, 200], [120, 120, 120], [250, 250, 250]];
  const images = new Uint8Array(n * 32 * 32 * 3);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = g.int(0, 10);
    labels[i] = k;
    const [sy, sx] = [8 + 12 * (k % 2), 4 + 6 * Math.floor(k / 2)];
    for (let p = 0; p < 32 * 32; p++) {
      const [py, px] = [Math.floor(p / 32), p % 32];
      const square = py >= sy && py < sy + 6 && px >= sx && px < sx + 6;
      for (let c = 0; c < 3; c++) {
        const v = (square ? 255 : 0.5 * palette[k][c]) + 40 * g.normal();
        images[(i * 1024 + p) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { images: ingot.tensor(images, { dtype: "uint8", shape: [n, 32, 32, 3] }), labels: ingot.tensor(labels, { dtype: "int32" }) };
}

// 5.2.1 数据准备 — load CIFAR-10 (or the stand-in)
const root = args.data ?? process.env.INGOT_DATA;
const dir = root && existsSync(join(root, "cifar10")) ? join(root, "cifar10") : root;
let xTrain: ingot.Tensor, yTrain: ingot.Tensor, xTest: ingot.Tensor, yTest: ingot.Tensor;
const synthetic = !(dir && (existsSync(join(dir, "data_batch_1.bin")) || existsSync(join(dir, "cifar-10-batches-bin"))));
if (!synthetic) {
  const cifar = ingot.data.cifar10({ dir });
  ({ images: xTrain, labels: yTrain } = cifar.train);
  ({ images: xTest, labels: yTest } = cifar.test);
  if (limit) {
    [xTrain, yTrain] = [xTrain.slice(0, 0, limit), yTrain.slice(0, 0, limit)];
    [xTest, yTest] = [xTest.slice(0, 0, Math.ceil(limit / 5)), yTest.slice(0, 0, Math.ceil(limit / 5))];
  }
  console.log(`CIFAR-10 from ${dir}: ${xTrain.shape[0]} training and ${xTest.shape[0]} test images`);
} else {
  const nTrain = limit ?? 2000;
  ({ images: xTrain, labels: yTrain } = syntheticCifar(nTrain, 1));
  ({ images: xTest, labels: yTest } = syntheticCifar(Math.ceil(nTrain / 5), 2));
  console.log(
    `NOTE: no CIFAR-10 in ${dir ?? "(neither --data nor INGOT_DATA is set)"}; running on a SYNTHETIC stand-in of the same shape ` +
      `(${xTrain.shape[0]} + ${xTest.shape[0]} images [32, 32, 3], 10 classes of tinted noise with a square). Its accuracy says nothing about CIFAR-10.`,
  );
}

// 数据预处理 — scale to [0, 1], one-hot labels
xTrain = xTrain.to("float32").div(255.0);
xTest = xTest.to("float32").div(255.0);
yTrain = keras.utils.toCategorical(yTrain, 10);
yTest = keras.utils.toCategorical(yTest, 10);

// 数据增强 — augmentation
const datagen = ingot.data.imageDataGenerator({
  rotationRange: 20,
  widthShiftRange: 0.2,
  heightShiftRange: 0.2,
  horizontalFlip: true,
});
datagen.fit(xTrain);

// 5.2.2 模型构建 — the model
const model = keras.sequential([
  layers.conv2d({ filters: 32, kernelSize: [3, 3], activation: "relu", inputShape: [32, 32, 3] }),
  layers.maxPooling2d({ poolSize: [2, 2] }),
  layers.conv2d({ filters: 64, kernelSize: [3, 3], activation: "relu" }),
  layers.maxPooling2d({ poolSize: [2, 2] }),
  layers.conv2d({ filters: 64, kernelSize: [3, 3], activation: "relu" }),
  layers.flatten(),
  layers.dense({ units: 64, activation: "relu" }),
  layers.dense({ units: 10, activation: "softmax" }),
]);

// 5.2.3 模型训练 — train on augmented batches, validating on the test set each epoch
model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
await model.fit(datagen.flow(xTrain, yTrain, { batchSize: 32 }), null, { epochs: Number(args.epochs), validationData: [xTest, yTest] });

// 5.2.4 模型评估 — evaluate
const [testLoss, testAcc] = model.evaluate(xTest, yTest, { verbose: 2 }) as number[];
console.log("Test accuracy:", testAcc);
console.log(JSON.stringify({ test_loss: testLoss, test_accuracy: testAcc, synthetic }));
