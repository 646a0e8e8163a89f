// Recipe `lenet300`: LeNet-300-100 (LeCun et al. 1998; the MLP Han et al. 2015 prune to 8 % of its
// weights): Flatten → Dense 300 relu → Dense 100 relu → Dense 10 softmax on MNIST, Adam 1e-3, batch 32.
import { denseMnistRecipe } from "./keras-classifier.js";

export const lenet300 = denseMnistRecipe({
  name: "lenet300",
  summary: "LeNet-300-100: Flatten → Dense 300 relu → Dense 100 relu → Dense 10 softmax, Adam, 10 epochs (mnist | fashion-mnist)",
  hidden: [300, 100],
  epochs: 10,
});
