// Reference kernels for softmax, logSoftmax and logSumExp: one pass for the max, one for the sum
// of exponentials (float64), one to write. NOTE: every exponent is shifted by the max first.
import type { Tensor } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { reduceOffsets } from "./iter.js";

const FLOAT = ["float32", "float64"] as const;

/** The max of the group (NaN if any is NaN) and log Σ exp(v − max); the max is 0 when infinite. */
function shiftAndLogSum(d: ArrayLike<number>, offs: Int32Array, start: number, n: number): { m: number; logSum: number } {
  let m = -Infinity;
  for (let j = start; j < start + n; j++) {
    const v = d[offs[j]];
    if (v > m || v !== v) m = v;
    if (v !== v) break;
  }
  // NOTE: with m = ±inf, v − m is NaN for the infinite elements; shift by 0 instead so that
  // all −inf gives −inf (log 0) and a +inf gives +inf, as PyTorch does.
  if (m === Infinity || m === -Infinity) m = 0;
  let s = 0;
  for (let j = start; j < start + n; j++) s += Math.exp(d[offs[j]] - m);
  return { m, logSum: Math.log(s) };
}

/** Runs fn over each softmax row (the elements along `dim`) with matching input and output offsets. */
function forEachRow(x: Tensor, out: Tensor, dim: number, fn: (xOffs: Int32Array, oOffs: Int32Array, start: number, n: number) => void): void {
  const axes = x.ndim === 0 ? [] : [dim];
  const { offs, outer, inner } = reduceOffsets(x, axes);
  const { offs: oOffs } = reduceOffsets(out, axes);
  for (let i = 0; i < outer; i++) fn(offs, oOffs, i * inner, inner);
}

registerKernel("softmax", "ref", FLOAT, ([x], [out], a: { dim: number }) => {
  const d = x.storage.data;
  const o = out.storage.data;
  forEachRow(x, out, a.dim, (xo, oo, start, n) => {
    const { m, logSum } = shiftAndLogSum(d, xo, start, n);
    for (let j = start; j < start + n; j++) o[oo[j]] = Math.exp(d[xo[j]] - m - logSum);
  });
});

registerKernel("logSoftmax", "ref", FLOAT, ([x], [out], a: { dim: number }) => {
  const d = x.storage.data;
  const o = out.storage.data;
  forEachRow(x, out, a.dim, (xo, oo, start, n) => {
    const { m, logSum } = shiftAndLogSum(d, xo, start, n);
    for (let j = start; j < start + n; j++) o[oo[j]] = d[xo[j]] - m - logSum;
  });
});

registerKernel("logSumExp", "ref", FLOAT, ([x], [out], a: { axes: number[] }) => {
  const { offs, outer, inner } = reduceOffsets(x, a.axes);
  const d = x.storage.data;
  const o = out.storage.data;
  for (let i = 0; i < outer; i++) {
    const { m, logSum } = shiftAndLogSum(d, offs, i * inner, inner);
    o[i] = m + logSum;
  }
});
