// The shape of an op's conformance cases. The suite in test/conformance runs each case on every
// backend, compares the forward with ref in float64, and checks gradients by central differences.
import type { DType, Tensor } from "../tensor/index.js";

export interface InputSpec {
  shape: number[];
  /** 'float' means the dtype under test (float32, float64); otherwise a fixed dtype. Default 'float'. */
  dtype?: "float" | "int32" | "bool";
  /** Uniform range: [lo, hi) for floats, integers in [lo, hi) for int32. Default [-2, 2) / [0, 5). */
  range?: [number, number];
  /** Explicit values (row-major), overriding the random ones. */
  values?: number[];
  /** Never differentiate w.r.t. this input (indices, masks, targets). */
  noGrad?: boolean;
}

export interface OpCase {
  name: string;
  inputs: InputSpec[];
  /** Calls the public function(s) under test. */
  call(...xs: Tensor[]): Tensor;
  /** Check gradients by finite differences (default: when any input is 'float' and not noGrad). */
  grad?: boolean;
  /** An error case: the call must throw this class with a message matching (every backend alike). */
  throws?: { error: abstract new (...a: any[]) => Error; message: RegExp };
  /** dtypes substituted for 'float' inputs; default ['float32', 'float64']. */
  dtypes?: DType[];
  /** Extra forward tolerance for float32 (defaults: atol 1e-5, rtol 1e-4). */
  atol?: number;
  rtol?: number;
  /** The output is random (dropout): compare only shape/dtype and the given property. */
  random?: boolean;
}
