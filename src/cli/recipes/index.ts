// The recipes `ingot train` knows, by name.
import type { Recipe } from "./common.js";
import { cnn } from "./cnn.js";
import { lenet300 } from "./lenet300.js";
import { mnistMlp } from "./mnist-mlp.js";
import { regressionMlp } from "./regression-mlp.js";

export const RECIPES: Readonly<Record<string, Recipe>> = {
  [mnistMlp.name]: mnistMlp,
  [cnn.name]: cnn,
  [regressionMlp.name]: regressionMlp,
  [lenet300.name]: lenet300,
};
