// Keras losses by name, computed per sample ([N]) so that sample and class weights can scale them.
// The cross-entropies take probabilities, as in Keras; when the predictions come straight out of a
// softmax/sigmoid activation they use its logits instead (fused and stable), else they clamp the
// probabilities to [1e-7, 1 − 1e-7] before the log, as Keras does.
import { IndexError, isFloatDType, ShapeError, shapeStr, type Tensor, ValueError } from "../tensor/index.js";
import {
  abs,
  binaryCrossEntropyWithLogits,
  clamp,
  crossEntropy,
  div,
  log,
  logSoftmax,
  mean,
  mul,
  neg,
  nllLoss,
  permute,
  reshape,
  square,
  sub,
  sum,
  to,
  add,
  where,
  lt,
} from "../ops/index.js";
import { logitsOf } from "./activations.js";

/** A loss: (targets, predictions) → one value per sample [N] (or a 0-d mean, which cannot be weighted). */
export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

export const EPSILON = 1e-7;

/** yTrue as a float tensor shaped like yPred (a [N] target for a [N, 1] output is reshaped). */
function likePred(name: string, yTrue: Tensor, yPred: Tensor): Tensor {
  let t = yTrue;
  if (t.shape.join() !== yPred.shape.join()) {
    if (t.size === yPred.size && Math.abs(t.ndim - yPred.ndim) === 1) t = reshape(t, [...yPred.shape]);
    else throw new ShapeError(`${name}: targets have shape ${shapeStr(yTrue.shape)} but the predictions have shape ${shapeStr(yPred.shape)}; they must match`);
  }
  return t.dtype === yPred.dtype ? t : to(t, yPred.dtype);
}

/** Mean over every dim but the batch: [N, …] → [N]. */
export function perSample(l: Tensor): Tensor {
  return l.ndim <= 1 ? l : mean(l, l.shape.slice(1).map((_, i) => i + 1));
}

/** Class-index targets for sparse losses: int32, with a trailing dim of 1 dropped. */
export function sparseLabels(name: string, yTrue: Tensor, yPred: Tensor): Tensor {
  let t = yTrue;
  if (t.ndim === yPred.ndim && t.shape[t.ndim - 1] === 1) t = reshape(t, t.shape.slice(0, -1));
  const want = yPred.shape.slice(0, -1);
  if (t.shape.join() !== want.join())
    throw new ShapeError(
      `${name}: expected integer class labels of shape ${shapeStr(want)} for predictions ${shapeStr(yPred.shape)}, got ${shapeStr(yTrue.shape)}` +
        (yTrue.shape.join() === yPred.shape.join() ? "; these look one-hot: use categoricalCrossentropy" : ""),
    );
  if (t.dtype !== "int32") t = to(t, "int32");
  const classes = yPred.shape[yPred.ndim - 1];
  const v = t.dataSync();
  for (let i = 0; i < v.length; i++)
    if (v[i] < 0 || v[i] >= classes)
      throw new IndexError(`${name}: label ${v[i]} is out of range for ${classes} classes (labels must be 0..${classes - 1}); fix the labels or the number of output units`);
  return t;
}

/** Moves the class dim (last) to dim 1, where crossEntropy and nllLoss expect it. */
function classesFirst(x: Tensor): Tensor {
  return x.ndim <= 2 ? x : permute(x, [0, x.ndim - 1, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 1)]);
}

export function sparseCategoricalCrossentropy(yTrue: Tensor, yPred: Tensor): Tensor {
  const name = "sparseCategoricalCrossentropy";
  if (yPred.ndim < 2) throw new ShapeError(`${name}: predictions must be [batch, …, classes], got ${shapeStr(yPred.shape)}`);
  const labels = sparseLabels(name, yTrue, yPred);
  const tag = logitsOf(yPred);
  if (tag?.kind === "softmax") return perSample(crossEntropy(classesFirst(tag.logits), labels, { reduction: "none" }));
  const logp = log(clamp(yPred, EPSILON, 1 - EPSILON));
  return perSample(nllLoss(classesFirst(logp), labels, { reduction: "none" }));
}

export function categoricalCrossentropy(yTrue: Tensor, yPred: Tensor): Tensor {
  const name = "categoricalCrossentropy";
  if (yTrue.shape.join() !== yPred.shape.join())
    throw new ShapeError(
      `${name}: targets have shape ${shapeStr(yTrue.shape)} but the predictions have shape ${shapeStr(yPred.shape)}` +
        (yTrue.ndim === yPred.ndim - 1 || yTrue.shape[yTrue.ndim - 1] === 1
          ? "; for integer labels use sparseCategoricalCrossentropy, or one-hot encode them with keras.utils.toCategorical"
          : "; they must match"),
    );
  const t = yTrue.dtype === yPred.dtype ? yTrue : to(yTrue, yPred.dtype);
  const tag = logitsOf(yPred);
  if (tag?.kind === "softmax") return perSample(neg(sum(mul(t, logSoftmax(tag.logits, -1)), -1)));
  // Keras renormalizes the probabilities before the clamped log.
  const p = clamp(div(yPred, sum(yPred, -1, true)), EPSILON, 1 - EPSILON);
  return perSample(neg(sum(mul(t, log(p)), -1)));
}

export function binaryCrossentropy(yTrue: Tensor, yPred: Tensor): Tensor {
  const t = likePred("binaryCrossentropy", yTrue, yPred);
  const tag = logitsOf(yPred);
  if (tag?.kind === "sigmoid") return perSample(binaryCrossEntropyWithLogits(tag.logits, t, { reduction: "none" }));
  const p = clamp(yPred, EPSILON, 1 - EPSILON);
  // −(y·log p + (1 − y)·log(1 − p))
  return perSample(neg(add(mul(t, log(p)), mul(sub(1, t), log(sub(1, p))))));
}

export function meanSquaredError(yTrue: Tensor, yPred: Tensor): Tensor {
  return perSample(square(sub(yPred, likePred("meanSquaredError", yTrue, yPred))));
}

export function meanAbsoluteError(yTrue: Tensor, yPred: Tensor): Tensor {
  return perSample(abs(sub(yPred, likePred("meanAbsoluteError", yTrue, yPred))));
}

/** ½d² for |d| ≤ delta, delta·(|d| − ½delta) beyond (delta 1). */
export function huber(yTrue: Tensor, yPred: Tensor, delta = 1): Tensor {
  const d = abs(sub(yPred, likePred("huber", yTrue, yPred)));
  return perSample(where(lt(d, delta), mul(square(d), 0.5), mul(sub(d, 0.5 * delta), delta)));
}

const BY_NAME: Record<string, [string, LossFn]> = {
  sparsecategoricalcrossentropy: ["sparseCategoricalCrossentropy", sparseCategoricalCrossentropy],
  categoricalcrossentropy: ["categoricalCrossentropy", categoricalCrossentropy],
  binarycrossentropy: ["binaryCrossentropy", binaryCrossentropy],
  meansquarederror: ["meanSquaredError", meanSquaredError],
  mse: ["meanSquaredError", meanSquaredError],
  meanabsoluteerror: ["meanAbsoluteError", meanAbsoluteError],
  mae: ["meanAbsoluteError", meanAbsoluteError],
  huber: ["huber", (t, p) => huber(t, p)],
};

export type LossId = string | LossFn;

/** A resolved loss: the canonical name (null for a user function) and the function. */
export interface LossEntry {
  name: string | null;
  fn: LossFn;
}

/** Resolves a loss name in Keras' or TF.js' spelling ('sparse_categorical_crossentropy', 'mse') or a function. */
export function getLoss(id: LossId): LossEntry {
  if (typeof id === "function") return { name: null, fn: id };
  const hit = typeof id === "string" ? BY_NAME[id.toLowerCase().replace(/_/g, "")] : undefined;
  if (!hit)
    throw new ValueError(
      `compile: unknown loss ${JSON.stringify(id)}; use 'sparseCategoricalCrossentropy', 'categoricalCrossentropy', 'binaryCrossentropy', 'mse', 'mae', 'huber' or a function (yTrue, yPred) => Tensor`,
    );
  return { name: hit[0], fn: hit[1] };
}

/**
 * The batch loss from per-sample losses: Σ wᵢ·lᵢ / N with sample weights (Keras'
 * sum_over_batch_size), the mean without. A 0-d loss from a user function is used as it is.
 */
export function reduceLoss(perSampleLoss: Tensor, weights: Tensor | null, what = "loss"): Tensor {
  if (!isFloatDType(perSampleLoss.dtype)) throw new ValueError(`${what}: the loss must be a float tensor, got ${perSampleLoss.dtype}`);
  if (perSampleLoss.ndim === 0) {
    if (weights) throw new ValueError(`${what}: the loss function returned one number for the batch, so sample or class weights cannot apply; return one value per sample`);
    return perSampleLoss;
  }
  const l = perSample(perSampleLoss);
  if (!weights) return mean(l);
  if (weights.size !== l.size) throw new ShapeError(`${what}: ${weights.size} sample weights for a batch of ${l.size} samples`);
  return div(sum(mul(l, to(reshape(weights, [...l.shape]), l.dtype))), l.shape[0]);
}
