// Loss modules: `new CrossEntropyLoss().call(logits, labels)`; options as in the functional losses.
// Class weights are buffers (saved in stateDict), as in PyTorch.
import type { Tensor } from "../tensor/index.js";
import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  huberLoss,
  klDiv,
  l1Loss,
  mseLoss,
  smoothL1Loss,
  type KLDivReduction,
  type Reduction,
} from "../ops/loss-elementwise.js";
import { crossEntropy, nllLoss } from "../ops/loss.js";
import { Module } from "./module.js";

abstract class Loss extends Module {
  readonly reduction: Reduction;
  constructor(opts: { reduction?: Reduction }) {
    super();
    this.reduction = opts.reduction ?? "mean";
  }
  override extraRepr(): string {
    return this.reduction === "mean" ? "" : `reduction='${this.reduction}'`;
  }
}

abstract class WeightedLoss extends Loss {
  weight!: Tensor | null;
  constructor(opts: { reduction?: Reduction; weight?: Tensor | null }) {
    super(opts);
    this.registerBuffer("weight", opts.weight ?? null);
  }
}

export interface CrossEntropyLossOptions {
  /** Per-class weights [C]. */
  weight?: Tensor | null;
  /** Targets with this class index are skipped (default −100). */
  ignoreIndex?: number;
  reduction?: Reduction;
  /** Mix the one-hot target with the uniform distribution: (1 − ε)·onehot + ε/C. */
  labelSmoothing?: number;
}

/** Cross-entropy of logits [N, C, …] against int32 class indices [N, …] (softmax folded in). */
export class CrossEntropyLoss extends WeightedLoss {
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
  constructor(opts: CrossEntropyLossOptions = {}) {
    super(opts);
    this.ignoreIndex = opts.ignoreIndex ?? -100;
    this.labelSmoothing = opts.labelSmoothing ?? 0;
  }
  override forward(logits: Tensor, target: Tensor): Tensor {
    const { weight, ignoreIndex, reduction, labelSmoothing } = this;
    return crossEntropy(logits, target, { weight, ignoreIndex, reduction, labelSmoothing });
  }
}

/** Negative log-likelihood of log-probabilities [N, C, …] (e.g. from LogSoftmax) and int32 class indices. */
export class NLLLoss extends WeightedLoss {
  readonly ignoreIndex: number;
  constructor(opts: Omit<CrossEntropyLossOptions, "labelSmoothing"> = {}) {
    super(opts);
    this.ignoreIndex = opts.ignoreIndex ?? -100;
  }
  override forward(logProbs: Tensor, target: Tensor): Tensor {
    const { weight, ignoreIndex, reduction } = this;
    return nllLoss(logProbs, target, { weight, ignoreIndex, reduction });
  }
}

/** Mean squared error (input − target)². */
export class MSELoss extends Loss {
  constructor(opts: { reduction?: Reduction } = {}) {
    super(opts);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}

/** Mean absolute error |input − target|. */
export class L1Loss extends Loss {
  constructor(opts: { reduction?: Reduction } = {}) {
    super(opts);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, { reduction: this.reduction });
  }
}

/** Huber loss: ½d² for |d| ≤ delta, delta·(|d| − ½delta) beyond (default delta 1). */
export class HuberLoss extends Loss {
  readonly delta: number;
  constructor(opts: { reduction?: Reduction; delta?: number } = {}) {
    super(opts);
    this.delta = opts.delta ?? 1;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

/** Smooth L1: ½d²/beta for |d| < beta, |d| − ½beta beyond (default beta 1). */
export class SmoothL1Loss extends Loss {
  readonly beta: number;
  constructor(opts: { reduction?: Reduction; beta?: number } = {}) {
    super(opts);
    this.beta = opts.beta ?? 1;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

/** Binary cross-entropy of probabilities in [0, 1] (after a Sigmoid) against targets in [0, 1]. */
export class BCELoss extends WeightedLoss {
  constructor(opts: { reduction?: Reduction; weight?: Tensor | null } = {}) {
    super(opts);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(input, target, { reduction: this.reduction, weight: this.weight });
  }
}

/** Binary cross-entropy on logits (the sigmoid folded in, numerically stable); posWeight scales positives. */
export class BCEWithLogitsLoss extends WeightedLoss {
  posWeight!: Tensor | null;
  constructor(opts: { reduction?: Reduction; weight?: Tensor | null; posWeight?: Tensor | null } = {}) {
    super(opts);
    this.registerBuffer("posWeight", opts.posWeight ?? null);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, { reduction: this.reduction, weight: this.weight, posWeight: this.posWeight });
  }
}

/** KL divergence of target from input, with input as log-probabilities (use reduction 'batchmean' for the true KL). */
export class KLDivLoss extends Module {
  readonly reduction: KLDivReduction;
  readonly logTarget: boolean;
  constructor(opts: { reduction?: KLDivReduction; logTarget?: boolean } = {}) {
    super();
    this.reduction = opts.reduction ?? "mean";
    this.logTarget = opts.logTarget ?? false;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return klDiv(input, target, { reduction: this.reduction, logTarget: this.logTarget });
  }
  override extraRepr(): string {
    return `reduction='${this.reduction}'${this.logTarget ? ", logTarget=true" : ""}`;
  }
}
