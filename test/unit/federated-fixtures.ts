// Shared by the federated tests: labelled Gaussian blobs (3 classes) and a logits loss.
import * as ingot from "../../src/index.js";
import type * as fl from "../../src/federated/index.js";

/** n samples of 3 Gaussian blobs in `dims` dimensions (class i % 3), centres drawn from `seed`. */
export function blobs(n: number, seed: number, dims = 8): fl.ClientData {
  const g = new ingot.Generator(seed);
  const centers = [0, 1, 2].map(() => Array.from({ length: dims }, () => 2 * g.normal()));
  const x = new Float32Array(n * dims);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < dims; j++) x[i * dims + j] = centers[y[i]][j] + g.normal();
  }
  return { x: ingot.tensor(x, { shape: [n, dims] }), y: ingot.tensor(y, { dtype: "int32" }) };
}

/** Cross-entropy on logits (the nn models in these tests end without softmax). */
export const ce: fl.LossFn = (y, logits) => ingot.crossEntropy(logits, y);
