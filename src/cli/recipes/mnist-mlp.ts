// Recipe `mnist-mlp`: seed 001 §4.4's Keras MLP (Flatten → Dense 128 relu → Dense 10 softmax) on
// MNIST (or Fashion-MNIST), Adam 1e-3, 5 epochs of batch 32, sparse categorical cross-entropy.
import { denseMnistRecipe } from "./keras-classifier.js";

export const mnistMlp = denseMnistRecipe({
  name: "mnist-mlp",
  summary: "seed 001 §4.4: Flatten → Dense 128 relu → Dense 10 softmax, Adam, 5 epochs (mnist | fashion-mnist)",
  hidden: [128],
  epochs: 5,
});
