// The two primitives of a fused decoding step with a KV cache (inference only, no gradient): one
// in-place op writes the new keys and values straight from the fused q/k/v projection into the cache,
// one op attends from the new queries over the cached positions and returns the heads already merged.
// Together they replace the ~18 view, copy and attention ops a cached step takes when it is written
// with scaledDotProductAttention (models.KVCache uses them when nothing needs a gradient).
//
// Layouts. qkv is [B, T, 3C], C = nHead·D, as a fused projection (GPT's c_attn) produces it: per
// position, C query features, then C key features, then C value features, each head's D together.
// The cache of one layer is one contiguous tensor [cap, 2, B, H, D]: per position, all keys then all
// values, so the slot of new positions is one contiguous block.
import { DTypeError, IngotError, shapeStr, ShapeError, type Tensor, ValueError } from "../tensor/index.js";
import { isGradEnabled } from "../autograd/grad-mode.js";
import { defineOp, runInplace, runOp } from "./op.js";
import { checkDType, FLOATS } from "./util.js";

export interface KvCacheAttrs {
  /** Cached positions before this step: the new ones go to [past, past + T). */
  past: number;
  /** Heads H; D = C / H. */
  nHead: number;
}

export interface KvCacheAttentionAttrs extends KvCacheAttrs {
  /** Multiplies q·kᵀ (default 1/√D). */
  scale: number;
}

/** Checks qkv [B, T, 3·H·D] and the cache [cap, 2, B, H, D] against each other; returns [B, T, H, D, cap]. */
function checkKv(op: string, qkv: Tensor, kv: Tensor, a: KvCacheAttrs): [number, number, number, number, number] {
  if (qkv.ndim !== 3) throw new ShapeError(`${op}: qkv must be 3-d [B, T, 3·C] (a fused q/k/v projection), got ${shapeStr(qkv.shape)}`);
  checkDType(op, "qkv", qkv.dtype, FLOATS);
  if (kv.dtype !== qkv.dtype) throw new DTypeError(`${op}: the cache is ${kv.dtype} but qkv is ${qkv.dtype}; allocate the cache in qkv's dtype`);
  const [B, T, C3] = qkv.shape;
  const H = a.nHead;
  if (!Number.isInteger(H) || H < 1) throw new ValueError(`${op}: nHead must be a positive integer, got ${H}`);
  if (C3 % (3 * H) !== 0) throw new ShapeError(`${op}: qkv's last dim ${C3} is not 3 × nHead (${H}) × a head size`);
  const D = C3 / (3 * H);
  if (kv.ndim !== 5 || kv.shape[1] !== 2 || kv.shape[2] !== B || kv.shape[3] !== H || kv.shape[4] !== D)
    throw new ShapeError(`${op}: the cache must be [capacity, 2, B, H, D] = [capacity, 2, ${B}, ${H}, ${D}] for qkv ${shapeStr(qkv.shape)}, got ${shapeStr(kv.shape)}`);
  if (!kv.isContiguous()) throw new ShapeError(`${op}: the cache must be contiguous, got strides ${shapeStr(kv.strides)}`);
  const cap = kv.shape[0];
  if (!Number.isInteger(a.past) || a.past < 0) throw new ValueError(`${op}: past must be a non-negative integer, got ${a.past}`);
  if (a.past + T > cap) throw new ValueError(`${op}: ${a.past} cached + ${T} new positions exceed the cache's capacity ${cap}; grow the cache first`);
  return [B, T, H, D, cap];
}

const kvCacheWriteOp = defineOp<KvCacheAttrs>({
  name: "kvCacheWrite_",
  meta([kv, qkv], a) {
    checkKv("kvCacheWrite_", qkv, kv, a);
    return [];
  },
  cases: [
    {
      name: "prefill",
      inputs: [{ shape: [5, 2, 2, 3, 4] }, { shape: [2, 3, 36] }],
      grad: false,
      call: (kv, qkv) => kvCacheWrite_(kv.clone(), qkv, { past: 0, nHead: 3 }),
    },
    {
      name: "one step into a partly filled cache",
      inputs: [{ shape: [6, 2, 1, 2, 4] }, { shape: [1, 1, 24] }],
      grad: false,
      call: (kv, qkv) => kvCacheWrite_(kv.clone(), qkv, { past: 4, nHead: 2 }),
    },
    {
      name: "strided qkv",
      inputs: [{ shape: [4, 2, 2, 1, 3] }, { shape: [9, 2, 2] }],
      grad: false,
      call: (kv, qkv) => kvCacheWrite_(kv.clone(), qkv.permute(2, 1, 0), { past: 1, nHead: 1 }),
    },
    {
      name: "over capacity",
      inputs: [{ shape: [3, 2, 1, 1, 2] }, { shape: [1, 2, 6] }],
      grad: false,
      call: (kv, qkv) => kvCacheWrite_(kv.clone(), qkv, { past: 2, nHead: 1 }),
      throws: { error: ValueError, message: /kvCacheWrite_: 2 cached \+ 2 new positions exceed the cache's capacity 3/ },
    },
    {
      name: "wrong cache shape",
      inputs: [{ shape: [3, 2, 1, 2, 2] }, { shape: [1, 1, 6] }],
      grad: false,
      call: (kv, qkv) => kvCacheWrite_(kv.clone(), qkv, { past: 0, nHead: 1 }),
      throws: { error: ShapeError, message: /kvCacheWrite_: the cache must be \[capacity, 2, B, H, D\] = \[capacity, 2, 1, 1, 2\]/ },
    },
  ],
});

/**
 * Writes the keys and values of qkv [B, T, 3C] into positions [past, past + T) of the cache
 * [cap, 2, B, H, D], in place; returns the cache.
 */
export function kvCacheWrite_(kv: Tensor, qkv: Tensor, a: KvCacheAttrs): Tensor {
  return runInplace(kvCacheWriteOp, [kv, qkv], a);
}

const kvCacheAttentionOp = defineOp<KvCacheAttentionAttrs>({
  name: "kvCacheAttention",
  meta([qkv, kv], a) {
    if (isGradEnabled() && (qkv.requiresGrad || kv.requiresGrad))
      throw new IngotError("kvCacheAttention: this op has no gradient (it is for inference with a KV cache); use scaledDotProductAttention when training, or run under noGrad");
    const [B, T, H, D] = checkKv("kvCacheAttention", qkv, kv, a);
    return [{ shape: [B, T, H * D], dtype: qkv.dtype }];
  },
  cases: [
    {
      name: "prefill (causal)",
      inputs: [{ shape: [2, 3, 36] }, { shape: [5, 2, 2, 3, 4] }],
      grad: false,
      call: (qkv, kv) => kvCacheAttention(qkv, kvCacheWrite_(kv.clone(), qkv, { past: 0, nHead: 3 }), { past: 0, nHead: 3 }),
    },
    {
      name: "one step over 4 cached positions",
      inputs: [{ shape: [2, 1, 24] }, { shape: [7, 2, 2, 2, 4] }],
      grad: false,
      call: (qkv, kv) => kvCacheAttention(qkv, kvCacheWrite_(kv.clone(), qkv, { past: 4, nHead: 2 }), { past: 4, nHead: 2 }),
    },
    {
      name: "three new positions over 2 cached (causal from the cache's end)",
      inputs: [{ shape: [1, 3, 18] }, { shape: [6, 2, 1, 2, 3] }],
      grad: false,
      call: (qkv, kv) => kvCacheAttention(qkv, kvCacheWrite_(kv.clone(), qkv, { past: 2, nHead: 2 }), { past: 2, nHead: 2, scale: 0.7 }),
    },
    {
      name: "D of 20 (a vector and a tail), large scores",
      inputs: [{ shape: [1, 1, 120], range: [-3, 3] }, { shape: [9, 2, 1, 2, 20], range: [-3, 3] }],
      grad: false,
      call: (qkv, kv) => kvCacheAttention(qkv, kvCacheWrite_(kv.clone(), qkv, { past: 8, nHead: 2 }), { past: 8, nHead: 2 }),
    },
    {
      name: "dtype mismatch",
      inputs: [{ shape: [1, 1, 6] }, { shape: [2, 2, 1, 1, 2], dtype: "int32" }],
      grad: false,
      call: (qkv, kv) => kvCacheAttention(qkv, kv, { past: 0, nHead: 1 }),
      throws: { error: DTypeError, message: /kvCacheAttention: the cache is int32 but qkv is/ },
    },
  ],
});

/**
 * Attention of the T new positions of qkv [B, T, 3C] over the cache [cap, 2, B, H, D], which must
 * already hold them (kvCacheWrite_): query t sees positions 0 … past + t. Returns [B, T, C], the
 * heads side by side, ready for the output projection. No gradient: for inference.
 * @example kvCacheWrite_(kv, qkv, { past, nHead: 6 }); const y = kvCacheAttention(qkv, kv, { past, nHead: 6 });
 */
export function kvCacheAttention(qkv: Tensor, kv: Tensor, a: KvCacheAttrs & { scale?: number }): Tensor {
  const D = qkv.shape[qkv.ndim - 1] / (3 * a.nHead);
  return runOp(kvCacheAttentionOp, [qkv, kv], { past: a.past, nHead: a.nHead, scale: a.scale ?? 1 / Math.sqrt(D) });
}
