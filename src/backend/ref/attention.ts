// Reference kernels of scaledDotProductAttention and its backward: one query row at a time, scores
// in float64 (NOTE: shifted by the row max before exp), the probabilities rebuilt from the saved lse.
import type { Tensor } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { readF64, writeOut } from "./iter.js";

const F = ["float32", "float64"] as const;

interface SdpaAttrs {
  scale: number;
  isCausal: boolean;
  hasMask: boolean;
  hasKeep: boolean;
  dropoutP: number;
}

/** q, k, v as float64 rows and the two optional masks (bool read as 0/1), with the sizes. */
function unpack(q: Tensor, k: Tensor, v: Tensor, masks: Tensor[], a: SdpaAttrs) {
  const [B, H, T, D] = q.shape;
  const S = k.shape[2];
  const mask = a.hasMask ? masks[0] : null;
  return {
    BH: B * H,
    T,
    S,
    D,
    Dv: v.shape[3],
    Q: readF64(q),
    K: readF64(k),
    V: readF64(v),
    M: mask ? readF64(mask) : null,
    boolMask: mask?.dtype === "bool",
    keep: a.hasKeep ? readF64(masks[a.hasMask ? 1 : 0]) : null,
    keepScale: 1 / (1 - a.dropoutP),
  };
}

type Unpacked = ReturnType<typeof unpack>;

/** Writes the scores of query row (bh, i) into s[0..S): scale·q·k, then the causal and the given masks. */
function scores(u: Unpacked, a: SdpaAttrs, bh: number, i: number, s: Float64Array): void {
  const { T, S, D, Q, K, M } = u;
  const qo = (bh * T + i) * D;
  const mo = (bh * T + i) * S;
  for (let j = 0; j < S; j++) {
    if (a.isCausal && j > i) {
      s[j] = -Infinity;
      continue;
    }
    const ko = (bh * S + j) * D;
    let dot = 0;
    for (let d = 0; d < D; d++) dot += Q[qo + d] * K[ko + d];
    let v = a.scale * dot;
    if (M) {
      if (u.boolMask) v = M[mo + j] ? v : -Infinity;
      else v += M[mo + j];
    }
    s[j] = v;
  }
}

// inputs: q, k, v, mask?, keep?   outputs: out [B,H,T,Dv], lse [B,H,T]
registerKernel("scaledDotProductAttention", "ref", F, ([q, k, v, ...masks], [outT, lseT], a: SdpaAttrs) => {
  const u = unpack(q, k, v, masks, a);
  const { BH, T, S, Dv, V, keep, keepScale } = u;
  const out = new Float64Array(BH * T * Dv);
  const lse = new Float64Array(BH * T);
  const s = new Float64Array(S);
  for (let bh = 0; bh < BH; bh++)
    for (let i = 0; i < T; i++) {
      scores(u, a, bh, i, s);
      let m = -Infinity;
      for (let j = 0; j < S; j++) if (s[j] > m || s[j] !== s[j]) m = s[j];
      // NOTE: with every key masked (m = −∞) shift by 0: Σ exp = 0, lse = −∞ and exp(s − lse) is NaN, as PyTorch.
      if (m === Infinity || m === -Infinity) m = 0;
      let sum = 0;
      for (let j = 0; j < S; j++) sum += Math.exp(s[j] - m);
      const l = m + Math.log(sum);
      lse[bh * T + i] = l;
      const oo = (bh * T + i) * Dv;
      const ko = (bh * T + i) * S;
      for (let j = 0; j < S; j++) {
        let p = Math.exp(s[j] - l);
        if (p === 0) continue; // masked: adds nothing (and 0·∞ in v would be NaN)
        if (keep) p = keep[ko + j] ? p * keepScale : 0;
        const vo = (bh * S + j) * Dv;
        for (let d = 0; d < Dv; d++) out[oo + d] += p * V[vo + d];
      }
    }
  writeOut(outT, out);
  writeOut(lseT, lse);
});

// inputs: g, q, k, v, out, lse, mask?, keep?   outputs: dq, dk, dv
registerKernel("scaledDotProductAttentionBackward", "ref", F, ([g, q, k, v, outT, lseT, ...masks], [dqT, dkT, dvT], a: SdpaAttrs) => {
  const u = unpack(q, k, v, masks, a);
  const { BH, T, S, D, Dv, Q, K, V, keep, keepScale } = u;
  const G = readF64(g);
  const O = readF64(outT);
  const L = readF64(lseT);
  const dq = new Float64Array(Q.length);
  const dk = new Float64Array(K.length);
  const dv = new Float64Array(V.length);
  const s = new Float64Array(S);
  const p = new Float64Array(S);
  const dP = new Float64Array(S);
  for (let bh = 0; bh < BH; bh++)
    for (let i = 0; i < T; i++) {
      scores(u, a, bh, i, s);
      const row = bh * T + i;
      const go = row * Dv;
      // Dᵢ = gᵢ·outᵢ = Σⱼ Pᵢⱼ·dPᵢⱼ: the softmax backward's row sum without a pass over the scores.
      let Di = 0;
      for (let d = 0; d < Dv; d++) Di += G[go + d] * O[go + d];
      for (let j = 0; j < S; j++) {
        p[j] = Math.exp(s[j] - L[row]);
        const kp = keep ? (keep[row * S + j] ? keepScale : 0) : 1;
        const vo = (bh * S + j) * Dv;
        let gv = 0;
        for (let d = 0; d < Dv; d++) {
          gv += G[go + d] * V[vo + d];
          if (p[j] !== 0 && kp !== 0) dv[vo + d] += p[j] * kp * G[go + d];
        }
        dP[j] = gv * kp;
      }
      const qo = row * D;
      for (let j = 0; j < S; j++) {
        if (p[j] === 0) continue; // masked keys get no gradient
        const dS = a.scale * p[j] * (dP[j] - Di);
        const ko = (bh * S + j) * D;
        for (let d = 0; d < D; d++) {
          dq[qo + d] += dS * K[ko + d];
          dk[ko + d] += dS * Q[qo + d];
        }
      }
    }
  writeOut(dqT, dq);
  writeOut(dkT, dk);
  writeOut(dvT, dv);
});

interface KvAttrs {
  past: number;
  nHead: number;
  scale?: number;
}

/** The cache [cap, 2, B, H, D]: where position j's key (which 0) or value (1) of (b, h) starts. */
const kvAt = (B: number, H: number, D: number) => (j: number, which: number, b: number, h: number) => (((j * 2 + which) * B + b) * H + h) * D;

// kvCacheWrite_ (in place): inputs kv [cap, 2, B, H, D] (contiguous), qkv [B, T, 3C].
registerKernel("kvCacheWrite_", "ref", F, ([kv, qkv], _outs, a: KvAttrs) => {
  const [B, T, C3] = qkv.shape;
  const C = C3 / 3, H = a.nHead, D = C / H;
  const X = readF64(qkv);
  const dst = kv.storage.data;
  const at = kvAt(B, H, D);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let which = 0; which < 2; which++)
        for (let h = 0; h < H; h++) {
          const src = (b * T + t) * C3 + (1 + which) * C + h * D;
          const o = kv.offset + at(a.past + t, which, b, h);
          for (let d = 0; d < D; d++) dst[o + d] = X[src + d];
        }
});

// kvCacheAttention: inputs qkv [B, T, 3C], kv [cap, 2, B, H, D]; output [B, T, C]. Query t sees positions ≤ past + t.
registerKernel("kvCacheAttention", "ref", F, ([qkv, kv], [outT], a: KvAttrs) => {
  const [B, T, C3] = qkv.shape;
  const C = C3 / 3, H = a.nHead, D = C / H;
  const X = readF64(qkv);
  const KV = readF64(kv);
  const at = kvAt(B, H, D);
  const out = new Float64Array(B * T * C);
  const s = new Float64Array(a.past + T);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++) {
        const n = a.past + t + 1;
        const qo = (b * T + t) * C3 + h * D;
        let m = -Infinity;
        for (let j = 0; j < n; j++) {
          const ko = at(j, 0, b, h);
          let dot = 0;
          for (let d = 0; d < D; d++) dot += X[qo + d] * KV[ko + d];
          s[j] = a.scale! * dot;
          if (s[j] > m) m = s[j];
        }
        let sum = 0;
        for (let j = 0; j < n; j++) sum += (s[j] = Math.exp(s[j] - m));
        const oo = (b * T + t) * C + h * D;
        for (let j = 0; j < n; j++) {
          const p = s[j] / sum;
          const vo = at(j, 1, b, h);
          for (let d = 0; d < D; d++) out[oo + d] += p * KV[vo + d];
        }
      }
  writeOut(outT, out);
});
