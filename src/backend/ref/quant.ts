// Reference kernels of the low-bit ops (src/ops/quant.ts): the definition the native kernels match.
// Integer sums are exact (|Σ| < 2^53 in float64); activation quantization follows the float32
// arithmetic of the native code step by step (Math.fround after each operation) for float32 inputs.
import type { Tensor } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { roundHalfEven } from "./elementwise.js";
import type { FakeQuantizeAttrs, Int4LinearAttrs, Int8LinearAttrs } from "../../ops/quant.js";

const F = ["float32", "float64"] as const;
const at = (t: Tensor) => t.offset;

// a [M, K] · b [K, N] → int32, b read through its strides (any layout).
registerKernel("intMm", "ref", ["int8"], ([a, b], [out]) => {
  const [M, K] = a.shape;
  const N = b.shape[1];
  const ad = a.storage.data;
  const bd = b.storage.data;
  const o = out.storage.data;
  const [sam, sak] = a.strides;
  const [sbk, sbn] = b.strides;
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += ad[a.offset + i * sam + k * sak] * bd[b.offset + k * sbk + j * sbn];
      o[i * N + j] = s;
    }
});

/**
 * Quantizes row x[off .. off+K) into q; returns the row's scale (0 for a zero row, NaN when the row
 * holds NaN or ±∞). `f` is Math.fround for float32 inputs (every step rounded as the native
 * float32 code does) and the identity for float64.
 */
export function quantizeRow(x: ArrayLike<number>, off: number, K: number, actScale: number | null, f: (v: number) => number, q: Int32Array): number {
  let amax = 0;
  for (let k = 0; k < K; k++) {
    const v = Math.abs(x[off + k]);
    if (!Number.isFinite(v)) return NaN;
    if (v > amax) amax = v;
  }
  let inv: number;
  let scale: number;
  if (actScale === null) {
    if (amax === 0) {
      q.fill(0, 0, K);
      return 0;
    }
    inv = f(127 / amax);
    scale = f(amax / 127);
  } else {
    scale = f(actScale);
    inv = f(1 / scale);
  }
  for (let k = 0; k < K; k++) q[k] = Math.max(-127, Math.min(127, roundHalfEven(f(x[off + k] * inv))));
  return scale;
}

registerKernel(
  "int8Linear",
  "ref",
  F,
  ([x, wq, ws, bias], [out], a: Int8LinearAttrs) => {
    const [N, K] = wq.shape;
    const R = N === 0 ? 0 : out.size / N;
    const f = x.dtype === "float32" ? Math.fround : (v: number) => v;
    const xd = x.storage.data;
    const wd = wq.storage.data;
    const sd = ws.storage.data;
    const bd = bias?.storage.data;
    const o = out.storage.data;
    const q = new Int32Array(K);
    for (let r = 0; r < R; r++) {
      const s = quantizeRow(xd, at(x) + r * K, K, a.actScale, f, q);
      for (let n = 0; n < N; n++) {
        let acc = 0;
        const wo = at(wq) + n * K;
        for (let k = 0; k < K; k++) acc += q[k] * wd[wo + k];
        o[r * N + n] = acc * (s * sd[at(ws) + n]) + (bd ? bd[at(bias!) + n] : 0);
      }
    }
  },
  { contiguous: true },
);

/** The 4-bit value of weight k of a packed row starting at byte `off` (see int4Linear's contract). */
export function int4At(wd: ArrayLike<number>, off: number, k: number): number {
  const byte = wd[off + (k >> 5) * 16 + (k & 15)];
  return (k & 16) === 0 ? byte & 15 : byte >> 4;
}

/** The 4-bit zero point of group g of a row starting at byte `off`. */
export function int4ZeroAt(zd: ArrayLike<number>, off: number, g: number): number {
  const byte = zd[off + (g >> 1)];
  return (g & 1) === 0 ? byte & 15 : byte >> 4;
}

registerKernel(
  "int4Linear",
  "ref",
  F,
  ([x, wq, sc, zp, bias], [out], a: Int4LinearAttrs) => {
    const N = wq.shape[0];
    const K = 2 * wq.shape[1];
    const G = K / a.group;
    const Gz = zp.shape[1];
    const R = out.size / Math.max(N, 1);
    const xd = x.storage.data;
    const wd = wq.storage.data;
    const sd = sc.storage.data;
    const zd = zp.storage.data;
    const bd = bias?.storage.data;
    const o = out.storage.data;
    const w = new Float64Array(K);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        const g = Math.floor(k / a.group);
        w[k] = (int4At(wd, at(wq) + n * (K / 2), k) - int4ZeroAt(zd, at(zp) + n * Gz, g)) * sd[at(sc) + n * G + g];
      }
      for (let r = 0; r < R; r++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += xd[at(x) + r * K + k] * w[k];
        o[r * N + n] = acc + (bd ? bd[at(bias!) + n] : 0);
      }
    }
  },
  { contiguous: true },
);

// x, scale and zeroPoint broadcast to out; the second output is the straight-through mask.
registerKernel("fakeQuantize", "ref", F, ([x, s, z], [out, mask], a: FakeQuantizeAttrs) => {
  const f = x.dtype === "float32" ? Math.fround : (v: number) => v;
  const shape = out.shape;
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  const strides = (t: Tensor) => shape.map((d, i) => {
    const j = i - (nd - t.ndim);
    return j < 0 || t.shape[j] === 1 ? 0 : t.strides[j];
  });
  const [xs, ss, zs] = [strides(x), strides(s), strides(z)];
  const [xd, sd, zd, o, m] = [x.storage.data, s.storage.data, z.storage.data, out.storage.data, mask.storage.data];
  for (let i = 0; i < out.size; i++) {
    let px = x.offset;
    let ps = s.offset;
    let pz = z.offset;
    for (let d = 0; d < nd; d++) {
      px += idx[d] * xs[d];
      ps += idx[d] * ss[d];
      pz += idx[d] * zs[d];
    }
    const scale = sd[ps];
    const zero = Math.round(zd[pz]);
    const q = roundHalfEven(f(xd[px] * f(1 / scale))) + zero;
    m[i] = q >= a.quantMin && q <= a.quantMax ? 1 : 0;
    o[i] = (Math.max(a.quantMin, Math.min(a.quantMax, q)) - zero) * scale;
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
});
