// Gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_): rescales or clamps the
// .grad of parameters in place, before optimizer.step().
import { IngotError, Tensor, ValueError } from "../tensor/index.js";
import { abs, clamp, copy_, max, mul, pow, scalar, sqrt, stack, sum } from "../ops/index.js";
import { noGrad } from "../autograd/index.js";

function gradsOf(params: Iterable<Tensor> | Tensor): Tensor[] {
  const list = params instanceof Tensor ? [params] : [...params];
  return list.filter((p) => p.grad).map((p) => p.grad!);
}

/** The p-norm of all values of t (p = Infinity for the largest magnitude). */
function vectorNorm(t: Tensor, p: number): Tensor {
  if (p === Infinity) return t.size ? max(abs(t)) : scalar(0, t.dtype);
  if (p === 2) return sqrt(sum(mul(t, t)));
  if (p === 1) return sum(abs(t));
  return pow(sum(pow(abs(t), p)), 1 / p);
}

export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or infinite (the gradients are then left as they are). */
  errorIfNonfinite?: boolean;
}

/**
 * Rescales the gradients so that their joint p-norm is at most maxNorm (each grad is multiplied by
 * min(1, maxNorm/(total + 1e-6))) and returns the total norm before clipping, as a 0-d tensor.
 * @example clipGradNorm(model.parameters(), 1.0);
 */
export function clipGradNorm(params: Iterable<Tensor> | Tensor, maxNorm: number, normType = 2, opts: ClipGradNormOptions = {}): Tensor {
  if (!(maxNorm >= 0)) throw new ValueError(`clipGradNorm: maxNorm must be a number ≥ 0, got ${maxNorm}`);
  if (!(normType > 0)) throw new ValueError(`clipGradNorm: normType must be positive (or Infinity), got ${normType}`);
  const grads = gradsOf(params);
  if (grads.length === 0) return scalar(0, "float32");
  return noGrad(() => {
    const dtype = grads[0].dtype;
    const norms = grads.map((g) => vectorNorm(g, normType).to(dtype));
    const total = vectorNorm(stack(norms), normType);
    const t = total.item();
    if (!Number.isFinite(t) && opts.errorIfNonfinite)
      throw new IngotError(
        `clipGradNorm: the total norm of order ${normType} of the gradients is ${t}, so they cannot be clipped; check the loss for NaN/inf or pass errorIfNonfinite: false`,
      );
    // NOTE: 1e-6 keeps the division finite for zero gradients, as in PyTorch.
    const coef = Math.min(1, maxNorm / (t + 1e-6));
    for (const g of grads) copy_(g, mul(g, coef));
    return total;
  });
}

/** Clamps every gradient value into [−clipValue, clipValue], in place. */
export function clipGradValue(params: Iterable<Tensor> | Tensor, clipValue: number): void {
  if (!(clipValue >= 0)) throw new ValueError(`clipGradValue: clipValue must be a number ≥ 0, got ${clipValue}`);
  noGrad(() => {
    for (const g of gradsOf(params)) copy_(g, clamp(g, -clipValue, clipValue));
  });
}
