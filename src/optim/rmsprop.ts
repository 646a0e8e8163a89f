// RMSprop (Hinton's lecture 6e, PyTorch's variant with centering and momentum).
import { type Tensor } from "../tensor/index.js";
import { add, copy_, div, mul, neg, sqrt, sub, zerosLike } from "../ops/index.js";
import { checkRange, Optimizer, type OptimizerOptions, type ParamGroup, type ParamsInput } from "./optimizer.js";

export interface RMSpropOptions extends OptimizerOptions {
  /** Smoothing constant of the squared-gradient average. */
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  /** Normalize by the estimated variance (subtract the squared mean gradient). */
  centered: boolean;
  maximize: boolean;
}

/**
 * RMSprop, PyTorch's formula: g ← ∇ + wd·p; s ← αs + (1−α)g²; avg ← √(s − ḡ²) + eps with
 * ḡ ← αḡ + (1−α)g when centered, else √s + eps; buf ← μ·buf + g/avg and p ← p − lr·buf with
 * momentum, else p ← p − lr·g/avg. Defaults lr 1e-2, alpha 0.99, eps 1e-8.
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParamsInput<RMSpropOptions>, opts: Partial<RMSpropOptions> = {}) {
    super(params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, ...opts });
  }

  protected override validate(g: ParamGroup<RMSpropOptions>): void {
    checkRange("RMSprop", "alpha", g.alpha, 0);
    checkRange("RMSprop", "eps", g.eps, 0);
    checkRange("RMSprop", "momentum", g.momentum, 0);
    checkRange("RMSprop", "weightDecay", g.weightDecay, 0);
  }

  protected override updateGroup(group: ParamGroup<RMSpropOptions>): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
    for (const p of group.params) {
      if (!p.grad) continue;
      let g: Tensor = maximize ? neg(p.grad) : p.grad;
      const s = this.stateOf(p);
      if (s.step === undefined) {
        s.step = 0;
        s.squareAvg = zerosLike(p);
        if (momentum > 0) s.momentumBuffer = zerosLike(p);
        if (centered) s.gradAvg = zerosLike(p);
      }
      s.step = (s.step as number) + 1;
      if (weightDecay !== 0) g = add(g, p, weightDecay);
      const sq = s.squareAvg as Tensor;
      copy_(sq, add(mul(sq, alpha), mul(g, g), 1 - alpha));
      let avg: Tensor;
      if (centered) {
        const ga = (s.gradAvg ??= zerosLike(p)) as Tensor;
        copy_(ga, add(ga, sub(g, ga), 1 - alpha));
        // NOTE: eps is added after the square root, as in PyTorch.
        avg = add(sqrt(sub(sq, mul(ga, ga))), eps);
      } else avg = add(sqrt(sq), eps);
      if (momentum > 0) {
        const buf = (s.momentumBuffer ??= zerosLike(p)) as Tensor;
        copy_(buf, add(mul(buf, momentum), div(g, avg)));
        copy_(p, sub(p, buf, lr));
      } else copy_(p, sub(p, div(g, avg), lr));
    }
  }
}
