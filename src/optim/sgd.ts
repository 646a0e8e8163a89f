// Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (torch.optim.SGD).
import { ValueError, type Tensor } from "../tensor/index.js";
import { add, clone, copy_, neg, sub } from "../ops/index.js";
import { checkRange, Optimizer, type OptimizerOptions, type ParamGroup, type ParamsInput } from "./optimizer.js";

export interface SGDOptions extends OptimizerOptions {
  momentum: number;
  /** Scales down the gradient's share in the momentum buffer: buf ← μ·buf + (1 − dampening)·g. */
  dampening: number;
  /** L2 penalty added to the gradient: g ← g + wd·p. */
  weightDecay: number;
  nesterov: boolean;
  /** Ascend instead of descend. */
  maximize: boolean;
}

/**
 * SGD, PyTorch's formula: g ← ∇ + wd·p; buf ← μ·buf + (1 − τ)·g (buf = g on the first step);
 * g ← g + μ·buf (Nesterov) or buf; p ← p − lr·g.
 * @example const opt = new SGD(model.parameters(), {lr: 0.1, momentum: 0.9});
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, opts: Partial<SGDOptions> = {}) {
    super(params, { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...opts });
  }

  protected override validate(g: ParamGroup<SGDOptions>): void {
    checkRange("SGD", "momentum", g.momentum, 0);
    checkRange("SGD", "weightDecay", g.weightDecay, 0);
    checkRange("SGD", "dampening", g.dampening, -Infinity);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0))
      throw new ValueError(`SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum ${g.momentum}, dampening ${g.dampening}`);
  }

  protected override updateGroup(group: ParamGroup<SGDOptions>): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    for (const p of group.params) {
      if (!p.grad) continue;
      let d: Tensor = maximize ? neg(p.grad) : p.grad;
      if (weightDecay !== 0) d = add(d, p, weightDecay);
      if (momentum !== 0) {
        const state = this.stateOf(p);
        let buf = state.momentumBuffer as Tensor | undefined;
        if (!buf) state.momentumBuffer = buf = clone(d);
        else copy_(buf, add(buf.mul(momentum), d, 1 - dampening));
        d = nesterov ? add(d, buf, momentum) : buf;
      }
      copy_(p, sub(p, d, lr));
    }
  }
}
