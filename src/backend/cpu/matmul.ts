// cpu kernels for matmul (batched SGEMM, every transpose read in place) and linear (one GEMM with
// the bias fused into its epilogue), on native/cpu/gemm.cc.
import type { Tensor } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { native, P } from "./native.js";
import { dense, MAX_DIMS, refKernel } from "./util.js";

/** Writes the gemm header for one (possibly batched) product; see native/cpu/matmul.cc. */
function putGemm(M: number, N: number, K: number, a: [number, number, number], b: [number, number, number], outOffset: number, batch?: { shape: readonly number[]; as: readonly number[]; bs: readonly number[] }): number {
  let i = 0;
  P[i++] = M;
  P[i++] = N;
  P[i++] = K;
  const nb = batch ? batch.shape.length : 0;
  P[i++] = nb;
  for (let d = 0; d < nb; d++) P[i++] = batch!.shape[d];
  P[i++] = a[0];
  P[i++] = a[1];
  P[i++] = a[2];
  for (let d = 0; d < nb; d++) P[i++] = batch!.as[d];
  P[i++] = b[0];
  P[i++] = b[1];
  P[i++] = b[2];
  for (let d = 0; d < nb; d++) P[i++] = batch!.bs[d];
  P[i++] = outOffset;
  P[i++] = 0; // accumulate
  return i;
}

// a [...B, M, K] · b [...B, K, N]: identical batch shapes, each matrix row- or column-major.
registerKernel("matmul", "cpu", ["float32"], ([a, b], [out]) => {
  const nd = a.ndim;
  if (nd > MAX_DIMS + 2) return refKernel("matmul", [a, b], [out], {});
  const [M, K, N] = [a.shape[nd - 2], a.shape[nd - 1], b.shape[nd - 1]];
  const i = putGemm(M, N, K, [a.offset, a.strides[nd - 2], a.strides[nd - 1]], [b.offset, b.strides[nd - 2], b.strides[nd - 1]], out.offset, {
    shape: a.shape.slice(0, nd - 2),
    as: a.strides.slice(0, nd - 2),
    bs: b.strides.slice(0, nd - 2),
  });
  P[i] = -1; // no bias
  P[i + 1] = 1;
  P[i + 2] = 0; // no activation
  native.gemm(a.storage.data, b.storage.data, out.storage.data);
}, { overwrites: true });

/** [rows, cols, rowStride, colStride] of t's leading dims folded into one, or null when they cannot fold. */
function asMatrix(t: Tensor): [number, number, number, number] | null {
  const nd = t.ndim;
  const cols = t.shape[nd - 1];
  const cs = t.strides[nd - 1];
  if (nd === 1) return [1, cols, cols * cs, cs];
  // The leading dims collapse into rows when, skipping size-1 dims (whose strides are arbitrary,
  // e.g. after transpose), each is laid out as a whole multiple of the next one in.
  let rows = 1;
  let rs = 0;
  let inner = -1;
  for (let d = nd - 2; d >= 0; d--) {
    if (t.shape[d] === 1) continue;
    if (inner >= 0 && t.strides[d] !== t.strides[inner] * t.shape[inner]) return null;
    if (inner < 0) rs = t.strides[d];
    inner = d;
    rows *= t.shape[d];
  }
  if (inner < 0) rs = Math.max(1, cols * cs);
  return [rows, cols, rs, cs];
}

// y = x·Wᵀ + b: x [..., in] as an [R, in] matrix, W [out, in] read transposed in place, bias fused.
registerKernel("linear", "cpu", ["float32"], (inputs, [out]) => {
  const [x0, w] = inputs;
  const x = asMatrix(x0) ? x0 : dense(x0);
  const [R, K, rs, cs] = asMatrix(x)!;
  const N = w.shape[0];
  const bias = inputs[2] ? dense(inputs[2]) : undefined;
  const i = putGemm(R, N, K, [x.offset, rs, cs], [w.offset, w.strides[1], w.strides[0]], out.offset);
  P[i] = bias ? bias.offset : -1;
  P[i + 1] = 1; // bias per column (output feature)
  P[i + 2] = 0;
  if (bias) native.gemm(x.storage.data, w.storage.data, out.storage.data, bias.storage.data);
  else native.gemm(x.storage.data, w.storage.data, out.storage.data);
}, { overwrites: true });
