// Activation modules: thin wrappers over the functional activations, for use in Sequential.
import type { Tensor } from "../tensor/index.js";
import { sigmoid, tanh } from "../ops/unary.js";
import { elu, gelu, leakyRelu, relu, silu, softplus } from "../ops/activation.js";
import { logSoftmax, softmax } from "../ops/softmax.js";
import { Module } from "./module.js";

/** max(x, 0). */
export class ReLU extends Module {
  override forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** x for x ≥ 0, negativeSlope·x below (default slope 0.01). */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/** x for x > 0, alpha·(eˣ − 1) below. */
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** x·Φ(x) (exact, with erf) or its tanh approximation. */
export class GELU extends Module {
  constructor(readonly approximate: "none" | "tanh" = "none") {
    super();
  }
  override forward(x: Tensor): Tensor {
    return gelu(x, this.approximate);
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** x·σ(x) (also called swish). */
export class SiLU extends Module {
  override forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** 1/(1 + e⁻ˣ). */
export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** tanh(x). */
export class Tanh extends Module {
  override forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** log(1 + e^(βx))/β, linear above `threshold` for stability. */
export class Softplus extends Module {
  constructor(
    readonly beta = 1,
    readonly threshold = 20,
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return softplus(x, this.beta, this.threshold);
  }
  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

/** Softmax along dim (default the last). */
export class Softmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** log(softmax(x)) along dim (default the last), computed stably. */
export class LogSoftmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
