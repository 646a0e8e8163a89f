// Small helpers shared by the layers.
import type { DType, Tensor } from "../tensor/index.js";
import { zeros } from "../ops/index.js";

/** A float tensor to be filled by an initializer (zeros until then). */
export function empty(shape: number[], dtype: DType = "float32"): Tensor {
  return zeros(shape, { dtype });
}

/** A number or n numbers, as n numbers (PyTorch's _pair/_single). */
export function ntuple(v: number | readonly number[], n: number): number[] {
  return typeof v === "number" ? new Array<number>(n).fill(v) : [...v];
}
