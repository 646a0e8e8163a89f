// Autograd: grad mode, the recorded nodes, backward and the finite-difference checker.
import { Tensor } from "../tensor/index.js";
import { backward, type BackwardOptions } from "./backward.js";

export * from "./grad-mode.js";
export * from "./node.js";
export * from "./backward.js";
export * from "./gradcheck.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    /** Backpropagates from this tensor; gradients accumulate in the leaves' `.grad`. */
    backward(gradient?: Tensor, opts?: BackwardOptions): void;
    /** Sets `.grad` to null (PyTorch's default `zero_grad(set_to_none=True)`). */
    zeroGrad_(): this;
  }
}

Tensor.prototype.backward = function (this: Tensor, gradient?: Tensor, opts?: BackwardOptions) {
  backward(this, gradient, opts);
};
Tensor.prototype.zeroGrad_ = function <T extends Tensor>(this: T): T {
  this.grad = null;
  return this;
};

/** Clears `.grad` of every tensor given (for loops written without an optimizer). */
export function zeroGrad(tensors: Iterable<Tensor>): void {
  for (const t of tensors) t.grad = null;
}
