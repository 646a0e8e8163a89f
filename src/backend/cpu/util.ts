// Small helpers of the cpu kernels: falling back to ref for what the native code does not cover
// (more than 8 dims, an attribute combination it lacks), and native contiguous copies.
import { allocArray, Storage, Tensor } from "../../tensor/index.js";
import { findKernel } from "../registry.js";
import { native, putElementwise } from "./native.js";

/** The native code handles up to this many dims (MAXD in native/cpu/binding.h). */
export const MAX_DIMS = 8;

/** Runs ref's kernel for this op instead (declared, like the backend's inheritance, not guessed). */
export function refKernel(op: string, inputs: Tensor[], outputs: Tensor[], attrs: unknown): void {
  const dtype = inputs[0]?.dtype ?? outputs[0].dtype;
  const k = findKernel(op, "ref", dtype);
  if (!k) throw new Error(`${op}: no ref kernel for ${dtype} (an Ingot bug; please report)`);
  k.fn(inputs, outputs, attrs);
}

/** The elements of a contiguous tensor as a typed array starting at its first element (a view, not a copy). */
export function flat(t: Tensor): Tensor["storage"]["data"] {
  const d = t.storage.data;
  return t.offset === 0 ? d : (d.subarray(t.offset, t.offset + t.size) as typeof d);
}

/** t itself when contiguous, else a contiguous native copy (not recorded by autograd). */
export function dense(t: Tensor): Tensor {
  if (t.isContiguous()) return t;
  const out = new Tensor(new Storage(t.dtype, allocArray(t.dtype, t.size)), t.shape);
  putElementwise(0, [t], out);
  native.copy(t.storage.data, out.storage.data);
  return out;
}
