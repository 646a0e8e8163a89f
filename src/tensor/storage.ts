// Storage: the memory behind one or more tensors (views share it). On the CPU it is a typed array
// owned by JavaScript, so the garbage collector frees it and native kernels work on it in place.
import type { DType, TypedArray } from "./dtype.js";

export type Device = "cpu" | "cuda";

export class Storage {
  constructor(
    readonly dtype: DType,
    /** Host memory for device 'cpu'. */
    readonly data: TypedArray,
    readonly device: Device = "cpu",
  ) {}
}
