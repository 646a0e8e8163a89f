// cpu kernels of scaledDotProductAttention and its backward (native/cpu/attention.cc): float32, any
// strides, masks read through their (broadcast) views; float64 is served by ref through inheritance.
import { Storage, Tensor } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { native, P, putElementwise } from "./native.js";
import { dense, flat, refKernel } from "./util.js";

interface SdpaAttrs {
  scale: number;
  isCausal: boolean;
  hasMask: boolean;
  hasKeep: boolean;
  dropoutP: number;
}

/** Writes [offset, 4 strides] of a 4-d view at P[i]; returns the next index. */
function put4(i: number, t: Tensor | undefined): number {
  P[i++] = t?.offset ?? 0;
  for (let d = 0; d < 4; d++) P[i++] = t?.strides[d] ?? 0;
  return i;
}

/** The header shared by both kernels: sizes, scalars, then the q, k, v, mask and keep views; returns the next index. */
function putHeader(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | undefined, keep: Tensor | undefined, a: SdpaAttrs): number {
  const [B, H, T, D] = q.shape;
  let i = 0;
  for (const n of [B, H, T, k.shape[2], D, v.shape[3]]) P[i++] = n;
  P[i++] = a.scale;
  P[i++] = a.isCausal ? 1 : 0;
  P[i++] = mask ? (mask.dtype === "bool" ? 1 : 2) : 0;
  P[i++] = keep ? 1 : 0;
  P[i++] = 1 / (1 - a.dropoutP);
  for (const t of [q, k, v, mask, keep]) i = put4(i, t);
  return i;
}

/** The mask and keep inputs that follow v (per the attrs). */
function masksOf(rest: Tensor[], a: SdpaAttrs): [Tensor | undefined, Tensor | undefined] {
  return [a.hasMask ? rest[0] : undefined, a.hasKeep ? rest[a.hasMask ? 1 : 0] : undefined];
}

const data = (t: Tensor | undefined) => (t ? [t.storage.data] : []);

// inputs: q, k, v, mask?, keep?   outputs: out [B,H,T,Dv], lse [B,H,T]
// Dropout is implemented here too: the keep mask arrives as an input, so the kernel stays deterministic.
registerKernel("scaledDotProductAttention", "cpu", ["float32"], ([q, k, v, ...rest], [out, lse], a: SdpaAttrs) => {
  const [mask, keep] = masksOf(rest, a);
  putHeader(q, k, v, mask, keep, a);
  native.sdpa(q.storage.data, k.storage.data, v.storage.data, out.storage.data, lse.storage.data, ...data(mask), ...data(keep));
}, { overwrites: true });

// inputs: g, q, k, v, out, lse, mask?, keep?   outputs: dq, dk, dv (contiguous)
registerKernel("scaledDotProductAttentionBackward", "cpu", ["float32"], ([g, q, k, v, out, lse, ...rest], [dq, dk, dv], a: SdpaAttrs) => {
  const [mask, keep] = masksOf(rest, a);
  let i = putHeader(q, k, v, mask, keep, a);
  i = put4(i, g);
  put4(i, out);
  native.sdpaBackward(
    g.storage.data,
    q.storage.data,
    k.storage.data,
    v.storage.data,
    out.storage.data,
    flat(dense(lse)),
    dq.storage.data,
    dk.storage.data,
    dv.storage.data,
    ...data(mask),
    ...data(keep),
  );
}, { overwrites: true }); // the native kernel zeroes dq, dk, dv before accumulating

interface KvAttrs {
  past: number;
  nHead: number;
  scale?: number;
}

/** dst ← src through the native strided copy (any 4- or 8-byte dtype; dst contiguous). */
function copyView(src: Tensor, dst: Tensor): void {
  putElementwise(0, [src], dst);
  native.copy(src.storage.data, dst.storage.data);
}

// kvCacheWrite_ (in place): qkv [B, T, 3C] (any strides) → positions [past, past + T) of kv [cap, 2, B, H, D].
// Seen as [T, 2, B, H, D], the keys and values of qkv are one strided view and their slot in the
// cache one contiguous block: a single native copy.
registerKernel("kvCacheWrite_", "cpu", ["float32", "float64"], ([kv, qkv], _outs, a: KvAttrs) => {
  const [B, T, C3] = qkv.shape;
  const [sb, st, sc] = qkv.strides;
  const C = C3 / 3, H = a.nHead, D = C / H;
  const shape = [T, 2, B, H, D];
  const src = new Tensor(qkv.storage, shape, [st, C * sc, sb, D * sc, sc], qkv.offset + C * sc);
  copyView(src, new Tensor(kv.storage, shape, undefined, kv.offset + a.past * 2 * B * H * D));
});

let lseScratch = new Float32Array(256);

// kvCacheAttention: the native attention kernel reads q from qkv and k, v from the cache in place
// (views with strides; no packing), so a decoding step is one call. Its output [B, H, T, D] is
// already [B, T, C] when T = 1; a prefill (T > 1, past 0: causal from the top left) is transposed
// by one strided copy. T > 1 after cached positions (causal from the cache's end, which the kernel's
// mask does not express) runs on ref.
registerKernel("kvCacheAttention", "cpu", ["float32"], ([qkv, kv], [out], a: KvAttrs) => {
  const [B, T, C3] = qkv.shape;
  const C = C3 / 3, H = a.nHead, D = C / H, S = a.past + T;
  if (T > 1 && a.past > 0) return refKernel("kvCacheAttention", [qkv, kv], [out], a);
  const [sb, st, sc] = qkv.strides;
  const pos = 2 * B * H * D;
  const header = [B, H, T, S, D, D, a.scale!, T > 1 ? 1 : 0, 0, 0, 1];
  const views = [
    [qkv.offset, sb, D * sc, st, sc], // q [B, H, T, D]
    [kv.offset, H * D, D, pos, 1], // k [B, H, S, D]
    [kv.offset + B * H * D, H * D, D, pos, 1], // v
    [0, 0, 0, 0, 0], // no mask
    [0, 0, 0, 0, 0], // no dropout
  ];
  let i = 0;
  for (const n of header) P[i++] = n;
  for (const v of views) for (const n of v) P[i++] = n;
  if (lseScratch.length < B * H * T) lseScratch = new Float32Array(B * H * T);
  const heads = T === 1 ? (out.storage.data as Float32Array) : new Float32Array(B * H * T * D);
  native.sdpa(qkv.storage.data, kv.storage.data, kv.storage.data, heads, lseScratch);
  if (T > 1) copyView(new Tensor(new Storage("float32", heads), [B, T, H, D], [H * T * D, D, T * D, 1]), new Tensor(out.storage, [B, T, H, D]));
});
