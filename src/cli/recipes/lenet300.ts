// Recipe `lenet300`: LeNet-300-100 (LeCun et al. 1998; the MLP Han et al. 2015 prune to 8 % of its
// weights): Flatten → Dense 300 relu → Dense 100 relu → Dense 10 softmax on MNIST, Adam 1e-3, batch 32.
import * as ingot from "../../index.js";
import type { Recipe } from "./common.js";
import { trainClassifier } from "./keras-classifier.js";

const { keras } = ingot;

export const lenet300: Recipe = {
  name: "lenet300",
  summary: "LeNet-300-100: Flatten → Dense 300 relu → Dense 100 relu → Dense 10 softmax, Adam, 10 epochs (mnist | fashion-mnist)",
  datasets: ["mnist", "fashion-mnist"],
  defaults: { dataset: "mnist", epochs: 10, batchSize: 32, lr: 1e-3 },
  train: (opts) =>
    trainClassifier(opts, {
      recipe: "lenet300",
      dataset: opts.dataset as "mnist" | "fashion-mnist",
      preprocessing: { divide: 255, input_shape: [28, 28], labels: "index", classes: 10 },
      validateEachEpoch: false,
      build() {
        const model = keras.sequential([
          keras.flatten({ inputShape: [28, 28] }),
          keras.dense({ units: 300, activation: "relu" }),
          keras.dense({ units: 100, activation: "relu" }),
          keras.dense({ units: 10, activation: "softmax" }),
        ]);
        model.compile({ optimizer: keras.optimizers.adam({ learningRate: opts.lr }), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
        return model;
      },
    }),
};
