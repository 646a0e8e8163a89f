// cpu kernels of the low-bit ops on native/cpu/quant.cc: intMm and int8Linear (integer GEMM with
// int32 accumulation; AVX-512 VNNI, AVX2 or portable), int4Linear (fused dequantizing GEMV/GEMM).
// int8Linear's weights may hold any int8; its activations are quantized into [-127, 127] natively.
import type { Tensor } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { native, P } from "./native.js";
import { refKernel } from "./util.js";
import type { Int4LinearAttrs, Int8LinearAttrs } from "../../ops/quant.js";

/** True when an int8 tensor holds -128, which the native product takes in b (weights) but not in a (see quant.cc). */
function hasMinus128(t: Tensor): boolean {
  const d = t.storage.data;
  for (let i = t.offset, e = t.offset + t.size; i < e; i++) if (d[i] === -128) return true;
  return false;
}

/** A contiguous copy of t (t itself when already contiguous). */
function dense(t: Tensor): Tensor {
  return t.isContiguous() ? t : t.contiguous();
}

// a [M, K] · b [K, N]: the kernel takes b as bᵀ [N, K] row-major (the weight layout), so a
// transposed view of a contiguous [N, K] is read in place and anything else is copied once.
registerKernel("intMm", "cpu", ["int8"], ([a0, b], [out], attrs) => {
  const a = dense(a0);
  const [M, K] = a.shape;
  const N = b.shape[1];
  const bt = b.strides[0] === 1 && (b.strides[1] === K || N <= 1) ? b : dense(b.t()).t();
  if (hasMinus128(a)) return refKernel("intMm", [a, b], [out], attrs);
  P[0] = M;
  P[1] = N;
  P[2] = K;
  P[3] = a.offset;
  P[4] = bt.offset;
  P[5] = out.offset;
  native.int8Gemm(a.storage.data, bt.storage.data, out.storage.data);
});

registerKernel(
  "int8Linear",
  "cpu",
  ["float32"],
  (inputs, [out], a: Int8LinearAttrs) => {
    const [x, wq, ws, bias] = inputs;
    const [N, K] = wq.shape;
    P[0] = N === 0 ? 0 : out.size / N;
    P[1] = K;
    P[2] = N;
    P[3] = x.offset;
    P[4] = wq.offset;
    P[5] = ws.offset;
    P[6] = out.offset;
    P[7] = bias ? bias.offset : -1;
    P[8] = a.actScale ?? 0;
    if (bias) native.int8Linear(x.storage.data, wq.storage.data, ws.storage.data, out.storage.data, bias.storage.data);
    else native.int8Linear(x.storage.data, wq.storage.data, ws.storage.data, out.storage.data);
  },
  { contiguous: true },
);

registerKernel(
  "int4Linear",
  "cpu",
  ["float32"],
  (inputs, [out], a: Int4LinearAttrs) => {
    const [x, wq, sc, zp, bias] = inputs;
    const N = wq.shape[0];
    P[0] = N === 0 ? 0 : out.size / N;
    P[1] = 2 * wq.shape[1];
    P[2] = N;
    P[3] = a.group;
    P[4] = x.offset;
    P[5] = wq.offset;
    P[6] = sc.offset;
    P[7] = zp.offset;
    P[8] = out.offset;
    P[9] = bias ? bias.offset : -1;
    const args = [x.storage.data, wq.storage.data, sc.storage.data, zp.storage.data, out.storage.data];
    if (bias) native.int4Linear(...args, bias.storage.data);
    else native.int4Linear(...args);
  },
  { contiguous: true },
);

/** The instruction set of the integer kernels ("avx512-vnni", "avx2" or "portable"). */
export function quantIsa(): string {
  return typeof native?.quantIsa === "string" ? native.quantIsa : "ref";
}

