// Reference kernel for batched matmul: a [...B, M, K] · b [...B, K, N] with identical batch shapes
// (batch strides may be 0) and any strides in the last two dims. i-k-j loop order over a packed
// float64 copy of b, so the innermost loop runs over contiguous memory; sums accumulate in float64.
import type { Tensor } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { forEachOffset } from "./iter.js";

/** The storage offset of each matrix of t (its batch dims in row-major order). */
function matrixOffsets(t: Tensor): Int32Array {
  const nb = t.ndim - 2;
  const shape = t.shape.slice(0, nb);
  let n = 1;
  for (const d of shape) n *= d;
  const offs = new Int32Array(n);
  forEachOffset(shape, t.strides.slice(0, nb), t.offset, (i, p) => (offs[i] = p));
  if (nb === 0) offs[0] = t.offset;
  return offs;
}

registerKernel("matmul", "ref", ["float32", "float64", "int32"], ([a, b], [out]) => {
  const nd = a.ndim;
  const [M, K, N] = [a.shape[nd - 2], a.shape[nd - 1], b.shape[nd - 1]];
  const [sam, sak] = [a.strides[nd - 2], a.strides[nd - 1]];
  const [sbk, sbn] = [b.strides[nd - 2], b.strides[nd - 1]];
  const ad = a.storage.data;
  const bd = b.storage.data;
  const o = out.storage.data;
  const aOffs = matrixOffsets(a);
  const bOffs = matrixOffsets(b);
  const packed = new Float64Array(K * N);
  const acc = new Float64Array(N);
  let packedAt = -1;
  for (let batch = 0; batch < aOffs.length; batch++) {
    // Pack b row-major; a batch-broadcast b (stride 0) is packed once.
    const bo = bOffs[batch];
    if (bo !== packedAt) {
      for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) packed[k * N + j] = bd[bo + k * sbk + j * sbn];
      packedAt = bo;
    }
    const ao = aOffs[batch];
    const oo = batch * M * N;
    for (let i = 0; i < M; i++) {
      acc.fill(0);
      const ai = ao + i * sam;
      let k = 0;
      // Four rows of b per pass: a quarter of the loads and stores of acc (about 2x faster in V8).
      for (; k + 4 <= K; k += 4) {
        const a0 = ad[ai + k * sak];
        const a1 = ad[ai + (k + 1) * sak];
        const a2 = ad[ai + (k + 2) * sak];
        const a3 = ad[ai + (k + 3) * sak];
        const r0 = k * N;
        const r1 = r0 + N;
        const r2 = r1 + N;
        const r3 = r2 + N;
        for (let j = 0; j < N; j++) acc[j] += a0 * packed[r0 + j] + a1 * packed[r1 + j] + a2 * packed[r2 + j] + a3 * packed[r3 + j];
      }
      for (; k < K; k++) {
        const aik = ad[ai + k * sak];
        const row = k * N;
        for (let j = 0; j < N; j++) acc[j] += aik * packed[row + j];
      }
      const oRow = oo + i * N;
      for (let j = 0; j < N; j++) o[oRow + j] = acc[j];
    }
  }
});
