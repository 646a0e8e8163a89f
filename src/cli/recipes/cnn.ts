// Recipe `cnn`: seed 001 §5.2's CNN (Conv 32 → pool → Conv 64 → pool → Conv 64 → Flatten → Dense 64
// → Dense 10 softmax) trained on ImageDataGenerator-augmented batches with one-hot labels and
// categorical cross-entropy, validated on the test split every epoch, as the seed does.
import * as ingot from "../../index.js";
import { IMAGE_DATASETS, type ImageDatasetName, type Recipe } from "./common.js";
import { trainClassifier } from "./keras-classifier.js";

const { keras, data } = ingot;

/**
 * The augmentation per dataset: the seed's settings for CIFAR-10 (rotation 20°, shifts 0.2,
 * horizontal flips). Digits are not mirror-symmetric and fill the frame, so MNIST gets milder
 * rotations and shifts and no flips; clothes may be mirrored.
 */
export function augmentationFor(dataset: ImageDatasetName): ingot.data.ImageDataGeneratorOptions {
  if (dataset === "cifar10") return { rotationRange: 20, widthShiftRange: 0.2, heightShiftRange: 0.2, horizontalFlip: true };
  if (dataset === "fashion-mnist") return { rotationRange: 10, widthShiftRange: 0.1, heightShiftRange: 0.1, horizontalFlip: true };
  return { rotationRange: 10, widthShiftRange: 0.1, heightShiftRange: 0.1 };
}

export const cnn: Recipe = {
  name: "cnn",
  summary: "seed 001 §5.2: 3 conv + 2 pool + Dense 64 + Dense 10 with ImageDataGenerator augmentation (mnist | fashion-mnist | cifar10)",
  datasets: ["mnist", "fashion-mnist", "cifar10"],
  defaults: { dataset: "mnist", epochs: 10, batchSize: 32, lr: 1e-3 },
  train(opts) {
    const dataset = opts.dataset as ImageDatasetName;
    const shape = [...IMAGE_DATASETS[dataset].shape];
    const augmentation = augmentationFor(dataset);
    return trainClassifier(opts, {
      recipe: "cnn",
      dataset,
      preprocessing: { divide: 255, input_shape: shape, labels: "one-hot", classes: 10 },
      validateEachEpoch: true,
      card: { augmentation },
      flow(x, y) {
        const datagen = data.imageDataGenerator(augmentation);
        datagen.fit(x);
        // A private generator seeded from --seed: the order and the transforms repeat run to run.
        return datagen.flow(x, y, { batchSize: opts.batchSize, seed: opts.seed });
      },
      build: () => buildCnn(shape, opts.lr),
    });
  },
};

/** The seed CNN for images of `shape` (channels last), compiled with Adam at `lr` and categorical cross-entropy. */
export function buildCnn(shape: number[], lr: number): ingot.keras.Sequential {
  const model = keras.sequential([
    keras.conv2d({ filters: 32, kernelSize: [3, 3], activation: "relu", inputShape: shape }),
    keras.maxPooling2d({ poolSize: [2, 2] }),
    keras.conv2d({ filters: 64, kernelSize: [3, 3], activation: "relu" }),
    keras.maxPooling2d({ poolSize: [2, 2] }),
    keras.conv2d({ filters: 64, kernelSize: [3, 3], activation: "relu" }),
    keras.flatten(),
    keras.dense({ units: 64, activation: "relu" }),
    keras.dense({ units: 10, activation: "softmax" }),
  ]);
  model.compile({ optimizer: keras.optimizers.adam({ learningRate: lr }), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  return model;
}
