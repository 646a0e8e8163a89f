// Packing float weights into the low-bit layouts the quantized ops read: int8 symmetric per output
// channel, and int4 group-wise asymmetric (4-bit values, a float32 scale and a 4-bit zero point per group).
import { allocArray, DTypeError, shapeStr, ShapeError, Storage, Tensor, ValueError } from "../tensor/index.js";
import { INT4_GROUPS } from "../ops/quant.js";
import { roundHalfEven } from "../backend/ref/elementwise.js";
import { int4At, int4ZeroAt } from "../backend/ref/quant.js";

function make(dtype: "int8" | "uint8" | "float32", data: ArrayLike<number>, shape: number[]): Tensor {
  const arr = allocArray(dtype, data.length);
  arr.set(data);
  return new Tensor(new Storage(dtype, arr), shape);
}

/** The values of a 2-d float weight [N, K] as float64, row-major. */
function rows(where: string, w: Tensor): { N: number; K: number; d: Float64Array } {
  if (w.ndim !== 2) throw new ShapeError(`${where}: the weight must be 2-D [out, in], got ${shapeStr(w.shape)}`);
  if (w.dtype !== "float32" && w.dtype !== "float64") throw new DTypeError(`${where}: the weight has dtype ${w.dtype}; expected float32 or float64`);
  return { N: w.shape[0], K: w.shape[1], d: Float64Array.from(w.contiguous().dataSync() as ArrayLike<number>) };
}

export interface Int8Weight {
  /** int8 [N, K], values in [-127, 127]. */
  q: Tensor;
  /** float32 [N]: row n is q[n]·scale[n]. */
  scale: Tensor;
}

/**
 * Symmetric int8 per output channel: scale = max|w_n| / 127 (a zero row gets scale 1), q = round(w / scale)
 * (ties to even) — the largest weight of each row maps to ±127 exactly.
 */
export function quantizeWeightInt8(w: Tensor): Int8Weight {
  const { N, K, d } = rows("quantizeWeightInt8", w);
  const q = new Int8Array(N * K);
  const scale = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let amax = 0;
    for (let k = 0; k < K; k++) amax = Math.max(amax, Math.abs(d[n * K + k]));
    if (!Number.isFinite(amax)) throw new ValueError(`quantizeWeightInt8: row ${n} of the weight holds NaN or ±∞`);
    const s = Math.fround(amax > 0 ? amax / 127 : 1);
    scale[n] = s;
    for (let k = 0; k < K; k++) q[n * K + k] = Math.max(-127, Math.min(127, roundHalfEven(d[n * K + k] / s)));
  }
  return { q: make("int8", q, [N, K]), scale: make("float32", scale, [N]) };
}

export interface Int4Weight {
  /** uint8 [N, K/2]: 16 bytes per block of 32 weights, weight j low nibble, weight j + 16 high nibble. */
  q: Tensor;
  /** float32 [N, K/group]. */
  scale: Tensor;
  /** uint8 [N, ceil(G/2)]: 4-bit zero points, group 2i low nibble, 2i + 1 high. */
  zero: Tensor;
}

/** Throws unless `group` is 32, 64 or 128 and divides the in features; the message names the layer. */
export function checkInt4Group(layer: string, inFeatures: number, group: number): void {
  if (!(INT4_GROUPS as readonly number[]).includes(group)) throw new ValueError(`quantize: group must be 32, 64 or 128, got ${JSON.stringify(group)}`);
  if (inFeatures % group !== 0)
    throw new ShapeError(
      `quantize: layer '${layer}' has ${inFeatures} input features, which is not divisible by the int4 group ${group}; choose a group that divides ${inFeatures}${[32, 64, 128].filter((g) => inFeatures % g === 0).map((g) => ` (${g} does)`).join("") || " (none of 32, 64, 128 does: leave this layer in float with {skip: ['" + layer + "']})"}`,
    );
}

/**
 * Asymmetric int4 per group of `group` weights along K: the range [min(w, 0), max(w, 0)] maps onto
 * 0..15, scale = range / 15, zero point z = round(−min / scale) ∈ [0, 15] (so 0 is exact), q = clamp(round(w / scale) + z, 0, 15).
 */
export function quantizeWeightInt4(w: Tensor, group: number, layer = "weight"): Int4Weight {
  const { N, K, d } = rows("quantizeWeightInt4", w);
  checkInt4Group(layer, K, group);
  const G = K / group;
  const Gz = Math.ceil(G / 2);
  const q = new Uint8Array(N * (K / 2));
  const scale = new Float32Array(N * G);
  const zero = new Uint8Array(N * Gz);
  for (let n = 0; n < N; n++)
    for (let g = 0; g < G; g++) {
      let lo = 0;
      let hi = 0;
      for (let k = g * group; k < (g + 1) * group; k++) {
        lo = Math.min(lo, d[n * K + k]);
        hi = Math.max(hi, d[n * K + k]);
      }
      if (!Number.isFinite(hi - lo)) throw new ValueError(`quantizeWeightInt4: row ${n} of the '${layer}' weight holds NaN or ±∞`);
      const s = Math.fround(hi > lo ? (hi - lo) / 15 : 1);
      const z = Math.max(0, Math.min(15, roundHalfEven(-lo / s)));
      scale[n * G + g] = s;
      zero[n * Gz + (g >> 1)] |= z << ((g & 1) * 4);
      for (let k = g * group; k < (g + 1) * group; k++) {
        const v = Math.max(0, Math.min(15, roundHalfEven(d[n * K + k] / s) + z));
        const byte = n * (K / 2) + (k >> 5) * 16 + (k & 15);
        q[byte] |= (k & 16) === 0 ? v : v << 4;
      }
    }
  return { q: make("uint8", q, [N, K / 2]), scale: make("float32", scale, [N, G]), zero: make("uint8", zero, [N, Gz]) };
}

/** The float32 weight [N, K] that an int4 layout stands for (for checks and reports). */
export function dequantizeInt4(p: Int4Weight, group: number): Tensor {
  const N = p.q.shape[0];
  const K = 2 * p.q.shape[1];
  const G = K / group;
  const [qd, sd, zd] = [p.q.contiguous().dataSync(), p.scale.contiguous().dataSync(), p.zero.contiguous().dataSync()];
  const out = new Float32Array(N * K);
  for (let n = 0; n < N; n++)
    for (let k = 0; k < K; k++) {
      const g = Math.floor(k / group);
      out[n * K + k] = (int4At(qd, n * (K / 2), k) - int4ZeroAt(zd, n * p.zero.shape[1], g)) * sd[n * G + g];
    }
  return make("float32", out, [N, K]);
}

/** The float32 weight [N, K] that an int8 layout stands for. */
export function dequantizeInt8(p: Int8Weight): Tensor {
  const [N, K] = p.q.shape;
  const [qd, sd] = [p.q.contiguous().dataSync(), p.scale.contiguous().dataSync()];
  const out = new Float32Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) out[n * K + k] = qd[n * K + k] * sd[n];
  return make("float32", out, [N, K]);
}
