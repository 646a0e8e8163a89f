// keras.utils: small helpers the Keras examples use.
import { type Tensor, ValueError } from "../tensor/index.js";
import { oneHot, reshape, to } from "../ops/index.js";

/**
 * One-hot rows [N, numClasses] (float32) from integer class labels [N] (or [N, 1]), like
 * keras.utils.to_categorical. numClasses defaults to the largest label + 1.
 */
export function toCategorical(y: Tensor, numClasses?: number): Tensor {
  if (numClasses !== undefined && (!Number.isInteger(numClasses) || numClasses < 1))
    throw new ValueError(`toCategorical: numClasses must be a positive integer, got ${numClasses}`);
  let labels = y.dtype === "int32" ? y : to(y, "int32");
  if (labels.ndim >= 2 && labels.shape[labels.ndim - 1] === 1) labels = reshape(labels, labels.shape.slice(0, -1));
  return to(oneHot(labels, numClasses ?? -1), "float32");
}
