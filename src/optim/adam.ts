// Adam and AdamW (decoupled weight decay), both through the fused in-place op adamUpdate_.
import { type Tensor, ValueError } from "../tensor/index.js";
import { zerosLike } from "../ops/index.js";
import { adamUpdate_ } from "./adam-kernel.js";
import { checkRange, Optimizer, type OptimizerOptions, type ParamGroup, type ParamsInput } from "./optimizer.js";

export interface AdamOptions extends OptimizerOptions {
  /** Decay rates of the first and second moment estimates. */
  betas: [number, number];
  /** Added to the denominator after the bias correction. */
  eps: number;
  /** Adam: L2 penalty added to the gradient; AdamW: decoupled decay p ← p·(1 − lr·wd). */
  weightDecay: number;
  /** Use the maximum of past second moments (AMSGrad). */
  amsgrad: boolean;
  maximize: boolean;
}

abstract class AdamBase extends Optimizer<AdamOptions> {
  protected abstract readonly decoupled: boolean;

  protected override validate(g: ParamGroup<AdamOptions>): void {
    const name = this.constructor.name;
    if (!Array.isArray(g.betas) || g.betas.length !== 2) throw new ValueError(`${name}: betas must be [beta1, beta2], got ${JSON.stringify(g.betas)}`);
    checkRange(name, "betas[0]", g.betas[0], 0, 1, true);
    checkRange(name, "betas[1]", g.betas[1], 0, 1, true);
    checkRange(name, "eps", g.eps, 0);
    checkRange(name, "weightDecay", g.weightDecay, 0);
  }

  protected override updateGroup(group: ParamGroup<AdamOptions>): void {
    const { lr, betas, eps, weightDecay, amsgrad, maximize } = group;
    for (const p of group.params) {
      if (!p.grad) continue;
      const s = this.stateOf(p);
      if (s.step === undefined) {
        s.step = 0;
        s.expAvg = zerosLike(p);
        s.expAvgSq = zerosLike(p);
        if (amsgrad) s.maxExpAvgSq = zerosLike(p);
      }
      s.step = (s.step as number) + 1;
      if (amsgrad && !s.maxExpAvgSq) s.maxExpAvgSq = zerosLike(p);
      adamUpdate_(
        p,
        p.grad,
        s.expAvg as Tensor,
        s.expAvgSq as Tensor,
        { lr, beta1: betas[0], beta2: betas[1], eps, weightDecay, step: s.step, decoupled: this.decoupled, maximize },
        amsgrad ? (s.maxExpAvgSq as Tensor) : undefined,
      );
    }
  }
}

/**
 * Adam (Kingma & Ba), PyTorch's formula: g ← ∇ + wd·p; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
 * p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + eps). Defaults lr 1e-3, betas [0.9, 0.999], eps 1e-8.
 */
export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...opts });
  }
}

/**
 * AdamW (Loshchilov & Hutter): Adam with the weight decay applied to the parameter,
 * p ← p·(1 − lr·wd), instead of to the gradient. Default weightDecay 1e-2.
 */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, ...opts });
  }
}
