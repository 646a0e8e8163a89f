// Recipe `mnist-mlp`: seed 001 §4.4's Keras MLP (Flatten → Dense 128 relu → Dense 10 softmax) on
// MNIST (or Fashion-MNIST), Adam 1e-3, 5 epochs of batch 32, sparse categorical cross-entropy.
import * as ingot from "../../index.js";
import type { Recipe } from "./common.js";
import { trainClassifier } from "./keras-classifier.js";

const { keras } = ingot;

export const mnistMlp: Recipe = {
  name: "mnist-mlp",
  summary: "seed 001 §4.4: Flatten → Dense 128 relu → Dense 10 softmax, Adam, 5 epochs (mnist | fashion-mnist)",
  datasets: ["mnist", "fashion-mnist"],
  defaults: { dataset: "mnist", epochs: 5, batchSize: 32, lr: 1e-3 },
  train: (opts) =>
    trainClassifier(opts, {
      recipe: "mnist-mlp",
      dataset: opts.dataset as "mnist" | "fashion-mnist",
      preprocessing: { divide: 255, input_shape: [28, 28], labels: "index", classes: 10 },
      validateEachEpoch: false,
      build() {
        const model = keras.sequential([
          keras.flatten({ inputShape: [28, 28] }),
          keras.dense({ units: 128, activation: "relu" }),
          keras.dense({ units: 10, activation: "softmax" }),
        ]);
        model.compile({ optimizer: keras.optimizers.adam({ learningRate: opts.lr }), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
        return model;
      },
    }),
};
