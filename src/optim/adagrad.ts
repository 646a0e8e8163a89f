// Adagrad (Duchi et al.): per-coordinate step sizes from the sum of squared gradients (torch.optim.Adagrad).
import { type Tensor } from "../tensor/index.js";
import { add, copy_, div, fullLike, mul, neg, sqrt, sub } from "../ops/index.js";
import { checkRange, Optimizer, type OptimizerOptions, type ParamGroup, type ParamsInput } from "./optimizer.js";

export interface AdagradOptions extends OptimizerOptions {
  /** The step size decays as lr / (1 + (t − 1)·lrDecay). */
  lrDecay: number;
  weightDecay: number;
  /** Starting value of the sum of squared gradients. */
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}

/**
 * Adagrad, PyTorch's formula: g ← ∇ + wd·p; clr ← lr/(1 + (t−1)·lrDecay); s ← s + g²;
 * p ← p − clr·g/(√s + eps). Defaults lr 1e-2, eps 1e-10.
 */
export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: ParamsInput<AdagradOptions>, opts: Partial<AdagradOptions> = {}) {
    super(params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, ...opts });
    // PyTorch creates the state eagerly, so a state dict taken before the first step already has it.
    for (const group of this.paramGroups)
      for (const p of group.params) {
        const s = this.stateOf(p);
        s.step = 0;
        s.sum = fullLike(p, group.initialAccumulatorValue);
      }
  }

  protected override validate(g: ParamGroup<AdagradOptions>): void {
    checkRange("Adagrad", "lrDecay", g.lrDecay, 0);
    checkRange("Adagrad", "weightDecay", g.weightDecay, 0);
    checkRange("Adagrad", "initialAccumulatorValue", g.initialAccumulatorValue, 0);
    checkRange("Adagrad", "eps", g.eps, 0);
  }

  protected override updateGroup(group: ParamGroup<AdagradOptions>): void {
    const { lr, lrDecay, weightDecay, eps, maximize } = group;
    for (const p of group.params) {
      if (!p.grad) continue;
      let g: Tensor = maximize ? neg(p.grad) : p.grad;
      const s = this.stateOf(p);
      s.step = ((s.step as number | undefined) ?? 0) + 1;
      const sum = (s.sum ??= fullLike(p, group.initialAccumulatorValue)) as Tensor;
      if (weightDecay !== 0) g = add(g, p, weightDecay);
      const clr = lr / (1 + (s.step - 1) * lrDecay);
      copy_(sum, add(sum, mul(g, g)));
      copy_(p, sub(p, div(g, add(sqrt(sum), eps)), clr));
    }
  }
}
