// Dropout: zeroes each element with probability p in training and scales the rest by 1/(1−p);
// the identity in eval mode.
import { type Tensor, ValueError } from "../tensor/index.js";
import { dropout } from "../ops/dropout.js";
import { Module } from "./module.js";

export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p < 1)) throw new ValueError(`Dropout: p must be in [0, 1), got ${p}; p is the probability of zeroing an element`);
  }

  override forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
