// Autograd: grad mode, the recorded nodes, backward and the finite-difference checker.
import { Tensor } from "../tensor/index.js";
import { backward, type BackwardOptions } from "./backward.js";
import { type PostAccumulateGradHook, registerPostAccumulateGradHook, type RemovableHandle } from "./hooks.js";

export * from "./grad-mode.js";
export * from "./node.js";
export * from "./backward.js";
export * from "./gradcheck.js";
export * from "./hooks.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    /** Backpropagates from this tensor; gradients accumulate in the leaves' `.grad`. */
    backward(gradient?: Tensor, opts?: BackwardOptions): void;
    /** Sets `.grad` to null (PyTorch's default `zero_grad(set_to_none=True)`). */
    zeroGrad_(): this;
    /** Runs `hook(this)` after each backward has accumulated this leaf's gradient (PyTorch's register_post_accumulate_grad_hook). */
    registerPostAccumulateGradHook(hook: PostAccumulateGradHook): RemovableHandle;
  }
}

Tensor.prototype.backward = function (this: Tensor, gradient?: Tensor, opts?: BackwardOptions) {
  backward(this, gradient, opts);
};
Tensor.prototype.registerPostAccumulateGradHook = function (this: Tensor, hook: PostAccumulateGradHook) {
  return registerPostAccumulateGradHook(this, hook);
};
Tensor.prototype.zeroGrad_ = function <T extends Tensor>(this: T): T {
  this.grad = null;
  return this;
};

/** Clears `.grad` of every tensor given (for loops written without an optimizer). */
export function zeroGrad(tensors: Iterable<Tensor>): void {
  for (const t of tensors) t.grad = null;
}
