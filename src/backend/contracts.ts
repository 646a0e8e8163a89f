// Kernel contracts shared by an op record and every backend that implements it: the attrs the
// kernel receives and small shape helpers, defined once so that records and kernels cannot drift.
import type { Tensor } from "../tensor/index.js";

/** attrs of "layerNorm" / "layerNormBackward". */
export interface LayerNormAttrs {
  normalizedShape: number[];
  eps: number;
  hasWeight: boolean;
  hasBias: boolean;
}

/** Rows × row length of x when its last `normalizedShape.length` dims are normalized together. */
export function layerNormRows(x: Tensor, normalizedShape: readonly number[]): [number, number] {
  const inner = normalizedShape.reduce((a, b) => a * b, 1);
  return [inner === 0 ? 0 : x.size / inner, inner];
}

/** attrs of the in-place "adamUpdate_" on [param, grad, expAvg, expAvgSq, maxExpAvgSq?]. */
export interface AdamUpdateAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** The step number after this update (1 on the first), for the bias corrections. */
  step: number;
  /** AdamW: decay the parameter directly (p ← p·(1 − lr·wd)) instead of adding wd·p to the gradient. */
  decoupled: boolean;
  /** Use the running maximum of expAvgSq (the 5th input) in the denominator. */
  amsgrad?: boolean;
  /** Ascend instead of descend. */
  maximize?: boolean;
}
