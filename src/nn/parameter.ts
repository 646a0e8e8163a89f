// Parameter: a Tensor that requires grad and that a Module registers when it is assigned to one of
// its properties (PyTorch's nn.Parameter).
import { Tensor } from "../tensor/index.js";
import { contiguous, detach } from "../ops/index.js";
import { noGrad } from "../autograd/index.js";

/**
 * A learnable tensor. `new Parameter(t)` shares t's storage (a contiguous copy when t is not
 * contiguous, since optimizers update parameters in place) and starts a fresh leaf of the graph.
 * @example this.weight = new Parameter(zeros([out, in]));
 */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    const src = data.isContiguous() ? data : noGrad(() => contiguous(detach(data)));
    super(src.storage, src.shape, src.strides, src.offset);
    if (requiresGrad) this.requiresGrad_();
  }

  override toString(): string {
    return `Parameter containing:\n${super.toString()}`;
  }
}
