// Helpers shared by the ONNX export tests (unit and end to end). Not a test file itself.
import assert from "node:assert/strict";
import ort from "onnxruntime-node";
import type { Tensor } from "../../src/index.js";

/** max |got − want| (Infinity when either has a NaN where the other does not), after a length check. */
export function maxAbsDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length, "output sizes differ");
  let d = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= d)) d = Number.isNaN(e) ? Infinity : e;
  }
  return d;
}

/** An onnxruntime float32 tensor of an Ingot float32 tensor. */
export const ortFloat = (t: Tensor) => new ort.Tensor("float32", Float32Array.from(t.dataSync() as Float32Array), [...t.shape]);

/** An onnxruntime int64 tensor of Ingot int32 token ids. */
export const ortInt64 = (t: Tensor) => new ort.Tensor("int64", BigInt64Array.from(Array.from(t.dataSync() as Int32Array, (v) => BigInt(v))), [...t.shape]);
