// cpu kernels of scaledDotProductAttention and its backward (native/cpu/attention.cc): float32, any
// strides, masks read through their (broadcast) views; float64 is served by ref through inheritance.
import type { Tensor } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { native, P } from "./native.js";
import { dense, flat } from "./util.js";

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
