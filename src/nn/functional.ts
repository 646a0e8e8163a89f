// ingot.nn.functional: the stateless forms of the layers (PyTorch's torch.nn.functional), re-exported
// from the ops that define them, plus normalize.
import type { Tensor } from "../tensor/index.js";
import { abs, pow } from "../ops/index.js";
import { clamp } from "../ops/activation.js";
import { div } from "../ops/binary.js";
import { sum } from "../ops/reduce.js";

export { relu, leakyRelu, elu, gelu, silu, softplus, clamp } from "../ops/activation.js";
export { sigmoid, tanh } from "../ops/unary.js";
export { softmax, logSoftmax } from "../ops/softmax.js";
export { linear } from "../ops/matmul.js";
export { conv1d, conv2d, type Conv1dOptions, type Conv2dOptions } from "../ops/conv.js";
export { maxPool2d, maxPool2dWithIndices, avgPool2d, adaptiveAvgPool2d, type MaxPool2dOptions, type AvgPool2dOptions } from "../ops/pool.js";
export { dropout } from "../ops/dropout.js";
export { layerNorm, batchNorm } from "../ops/norm.js";
export { embedding, oneHot } from "../ops/indexing.js";
export { pad, type PadMode } from "../ops/movement.js";
export { crossEntropy, nllLoss, type CrossEntropyOptions, type NLLLossOptions } from "../ops/loss.js";
export {
  mseLoss,
  l1Loss,
  huberLoss,
  smoothL1Loss,
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  klDiv,
  type Reduction,
  type KLDivReduction,
  type LossOptions,
} from "../ops/loss-elementwise.js";

/** x / max(‖x‖_p, eps) along dim (default 1), like F.normalize. */
export function normalize(x: Tensor, p = 2, dim = 1, eps = 1e-12): Tensor {
  const norm = p === 1 ? sum(abs(x), dim, true) : pow(sum(pow(abs(x), p), dim, true), 1 / p);
  return div(x, clamp(norm, eps, null));
}
export { scaledDotProductAttention, type ScaledDotProductAttentionOptions } from "./attention.js";
