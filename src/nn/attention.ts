// Attention: scaledDotProductAttention (PyTorch 2's F.scaled_dot_product_attention) and MultiheadAttention
// with PyTorch's parameter names, masks and head layout; both run the fused op unless weights are needed.
import { broadcastShapes, type DType, DTypeError, isFloatDType, shapeStr, ShapeError, type Tensor, ValueError } from "../tensor/index.js";
import { add, concat, expand, logicalNot, maskedFill, mean, mul, permute, reshape, slice, squeeze, tensor, to, transpose, unsqueeze, zeros } from "../ops/index.js";
import { linear, matmul } from "../ops/matmul.js";
import { softmax } from "../ops/softmax.js";
import { dropout } from "../ops/dropout.js";
import { scaledDotProductAttention as fusedAttention } from "../ops/attention.js";
import { Module } from "./module.js";
import { Parameter } from "./parameter.js";
import { checkSize, Linear } from "./linear.js";
import { constant_, xavierNormal_, xavierUniform_ } from "./init.js";
import { empty } from "./util.js";
import { isGradEnabled } from "../autograd/grad-mode.js";

export interface ScaledDotProductAttentionOptions {
  /**
   * Broadcasts to the scores [..., L, S]. bool: true marks the (query, key) pairs that TAKE PART
   * (PyTorch 2's convention, the opposite of MultiheadAttention's attnMask); float: added to the scores.
   */
  attnMask?: Tensor | null;
  /** Dropout probability on the attention weights, applied whenever > 0 (default 0; pass 0 in eval). */
  dropoutP?: number;
  /** Let query i see keys 0..i only (a lower-triangular mask aligned at the top left); excludes attnMask. */
  isCausal?: boolean;
  /** Multiplies q·kᵀ (default 1/√E, E the query's last dim). */
  scale?: number | null;
}

/**
 * softmax(q·kᵀ·scale + mask)·v over the last two dims: q [..., L, E], k [..., S, E], v [..., S, Ev]
 * (leading dims broadcast, e.g. [B, H, L, D]) → [..., L, Ev]. 4-d inputs with equal [B, H] and a
 * constant mask run the fused op (no [L, S] weights in memory); other cases are written with ops.
 * @example const y = scaledDotProductAttention(q, k, v, {isCausal: true}); // (B, H, T, D)
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: ScaledDotProductAttentionOptions = {}): Tensor {
  return attend(q, k, v, opts, false)[0];
}

/** Whether the fused op computes exactly this attention: 4-d q, k, v with the same [B, H] and a mask without gradient. */
function fusable(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null | undefined): boolean {
  const same = (t: Tensor) => t.ndim === 4 && t.shape[0] === q.shape[0] && t.shape[1] === q.shape[1];
  return q.ndim === 4 && same(k) && same(v) && !(mask && mask.requiresGrad && isGradEnabled());
}

/**
 * scaledDotProductAttention that also returns the attention weights [..., L, S] (after dropout) when
 * `weights` is true; otherwise the second entry is null and the fused op runs where it can.
 */
function attend(q: Tensor, k: Tensor, v: Tensor, opts: ScaledDotProductAttentionOptions, weights: true): [Tensor, Tensor];
function attend(q: Tensor, k: Tensor, v: Tensor, opts: ScaledDotProductAttentionOptions, weights: boolean): [Tensor, Tensor | null];
function attend(q: Tensor, k: Tensor, v: Tensor, opts: ScaledDotProductAttentionOptions, weights: boolean): [Tensor, Tensor | null] {
  const name = "scaledDotProductAttention";
  if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2)
    throw new ShapeError(`${name}: q, k and v need at least 2 dims [..., seq, features], got ${shapeStr(q.shape)}, ${shapeStr(k.shape)} and ${shapeStr(v.shape)}`);
  if (!isFloatDType(q.dtype) || k.dtype !== q.dtype || v.dtype !== q.dtype)
    throw new DTypeError(`${name}: q, k and v must share one float dtype, got ${q.dtype}, ${k.dtype} and ${v.dtype}`);
  const [L, E] = q.shape.slice(-2);
  const S = k.shape[k.ndim - 2];
  if (k.shape[k.ndim - 1] !== E)
    throw new ShapeError(`${name}: q ${shapeStr(q.shape)} and k ${shapeStr(k.shape)} must have the same last dim (the features compared by q·kᵀ)`);
  if (v.shape[v.ndim - 2] !== S) throw new ShapeError(`${name}: k ${shapeStr(k.shape)} and v ${shapeStr(v.shape)} must have the same sequence length (dim -2)`);
  const p = opts.dropoutP ?? 0;
  if (!(p >= 0 && p < 1)) throw new ValueError(`${name}: dropoutP must be in [0, 1), got ${p}`);
  let mask = opts.attnMask ?? null;
  const isCausal = !!opts.isCausal;
  if (isCausal && mask) throw new ValueError(`${name}: pass either attnMask or isCausal, not both (fold the causal mask into attnMask)`);
  const scale = opts.scale ?? 1 / Math.sqrt(E);
  if (!weights && fusable(q, k, v, mask)) {
    if (mask) checkMask(mask, [...q.shape.slice(0, 3), S]);
    return [fusedAttention(q, k, v, { attnMask: mask, isCausal, scale, dropoutP: p }), null];
  }
  if (isCausal) mask = causalMask(L, S);
  // NOTE: scale q before the product (as PyTorch's math path does): L·E multiplications, not L·S.
  let scores = matmul(mul(q, scale), transpose(k, -2, -1)); // (..., L, S)
  if (mask) {
    checkMask(mask, scores.shape);
    scores = mask.dtype === "bool" ? maskedFill(scores, logicalNot(mask), -Infinity) : add(scores, to(mask, q.dtype));
  }
  // NOTE: a query whose keys are all masked gets NaN weights, as in PyTorch; masks should leave one key.
  let w = softmax(scores, -1);
  if (p > 0) w = dropout(w, p, true);
  return [matmul(w, v), w];
}

/** Throws unless the mask broadcasts to the scores without enlarging them and is bool or float. */
function checkMask(mask: Tensor, scores: readonly number[]): void {
  const name = "scaledDotProductAttention";
  const b = broadcastShapes(`${name}: attnMask ${shapeStr(mask.shape)} vs the scores`, mask.shape, scores);
  if (shapeStr(b) !== shapeStr(scores))
    throw new ShapeError(`${name}: attnMask ${shapeStr(mask.shape)} must broadcast to the scores' shape ${shapeStr(scores)} ([..., L, S]) without enlarging it`);
  if (mask.dtype !== "bool" && !isFloatDType(mask.dtype))
    throw new DTypeError(`${name}: attnMask has dtype ${mask.dtype}; expected bool (true = attend) or a float additive mask`);
}

/** [L, S] bool, true where key j ≤ query i (the keys a causal query may see). */
function causalMask(L: number, S: number): Tensor {
  const data = new Uint8Array(L * S);
  for (let i = 0; i < L; i++) for (let j = 0; j <= Math.min(i, S - 1); j++) data[i * S + j] = 1;
  return tensor(data, { shape: [L, S], dtype: "bool" });
}

/** An additive [L, S + extra] mask: −∞ where key j > query i among the first S keys, 0 elsewhere. */
function causalAdditive(L: number, S: number, extra: number, dtype: DType): Tensor {
  const cols = S + extra;
  const data = new Float64Array(L * cols);
  for (let i = 0; i < L; i++) for (let j = i + 1; j < S; j++) data[i * cols + j] = -Infinity;
  return tensor(data, { shape: [L, cols], dtype });
}

/**
 * An additive causal mask [T, T]: 0 on and below the diagonal, −∞ above, for attnMask / tgtMask
 * (PyTorch's Transformer.generate_square_subsequent_mask).
 */
export function generateSquareSubsequentMask(T: number, dtype: DType = "float32"): Tensor {
  checkSize("generateSquareSubsequentMask", "T", T);
  const data = new Float64Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) data[i * T + j] = -Infinity;
  return tensor(data, { shape: [T, T], dtype });
}

export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights in training mode (default 0). */
  dropout?: number;
  /** Biases of the input and output projections (default true). */
  bias?: boolean;
  /** Learn one extra key and value (bias_k, bias_v) appended to every sequence (default false). */
  addBiasKv?: boolean;
  /** Append a zero key and value after projection (default false). */
  addZeroAttn?: boolean;
  /** Features of the key (default embedDim); if it or vdim differs, q/k/v get separate weights. */
  kdim?: number;
  /** Features of the value (default embedDim). */
  vdim?: number;
  /** Inputs and output are [batch, seq, feature] (default false: [seq, batch, feature]). */
  batchFirst?: boolean;
  dtype?: DType;
}

export interface MultiheadAttentionCallOptions {
  /** [N, S] ([S] unbatched): bool true = ignore this key; float = added to its scores. */
  keyPaddingMask?: Tensor | null;
  /** Return the attention weights (default true); null in their place otherwise. */
  needWeights?: boolean;
  /** [L, S] or [N·numHeads, L, S]: bool true = may NOT attend; float = added to the scores. */
  attnMask?: Tensor | null;
  /**
   * Query i attends to keys 0..i only (PyTorch 2's is_causal), combined with attnMask when both are
   * given; the keys added by addBiasKv / addZeroAttn stay visible. Default false.
   */
  isCausal?: boolean;
  /** Average the returned weights over the heads, [N, L, S] (default true); else [N, numHeads, L, S]. */
  averageAttnWeights?: boolean;
}

/**
 * Multi-head attention (PyTorch's nn.MultiheadAttention): project q, k, v, split into numHeads
 * heads of embedDim/numHeads, attend, concatenate, project. `call(query, key, value, opts)` returns
 * [output [L, N, E] ([N, L, E] batchFirst), weights or null].
 * @example const mha = new MultiheadAttention(64, 8, {batchFirst: true}); const [y] = mha.call(x, x, x, {attnMask});
 */
export class MultiheadAttention extends Module {
  in_proj_weight: Parameter | null = null;
  q_proj_weight: Parameter | null = null;
  k_proj_weight: Parameter | null = null;
  v_proj_weight: Parameter | null = null;
  in_proj_bias: Parameter | null;
  bias_k: Parameter | null;
  bias_v: Parameter | null;
  out_proj: Linear;
  readonly kdim: number;
  readonly vdim: number;
  readonly headDim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  readonly addZeroAttn: boolean;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    opts: MultiheadAttentionOptions = {},
  ) {
    super();
    const name = "MultiheadAttention";
    checkSize(name, "embedDim", embedDim, 1);
    checkSize(name, "numHeads", numHeads, 1);
    if (embedDim % numHeads !== 0) throw new ValueError(`${name}: embedDim (${embedDim}) must be divisible by numHeads (${numHeads})`);
    this.kdim = opts.kdim ?? embedDim;
    this.vdim = opts.vdim ?? embedDim;
    checkSize(name, "kdim", this.kdim, 1);
    checkSize(name, "vdim", this.vdim, 1);
    this.headDim = embedDim / numHeads;
    this.dropout = opts.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1)) throw new ValueError(`${name}: dropout must be in [0, 1), got ${this.dropout}`);
    this.batchFirst = opts.batchFirst ?? false;
    this.addZeroAttn = opts.addZeroAttn ?? false;
    const dt = opts.dtype;
    if (this.kdim === embedDim && this.vdim === embedDim) this.in_proj_weight = new Parameter(empty([3 * embedDim, embedDim], dt));
    else {
      this.q_proj_weight = new Parameter(empty([embedDim, embedDim], dt));
      this.k_proj_weight = new Parameter(empty([embedDim, this.kdim], dt));
      this.v_proj_weight = new Parameter(empty([embedDim, this.vdim], dt));
    }
    this.in_proj_bias = opts.bias === false ? null : new Parameter(empty([3 * embedDim], dt));
    this.bias_k = opts.addBiasKv ? new Parameter(empty([1, 1, embedDim], dt)) : null;
    this.bias_v = opts.addBiasKv ? new Parameter(empty([1, 1, embedDim], dt)) : null;
    this.out_proj = new Linear(embedDim, embedDim, { bias: opts.bias !== false, dtype: dt });
    this.resetParameters();
  }

  /** PyTorch's init: Xavier-uniform projections, zero biases, Xavier-normal bias_k/bias_v (out_proj.weight keeps Linear's init). */
  resetParameters(): void {
    for (const w of [this.in_proj_weight, this.q_proj_weight, this.k_proj_weight, this.v_proj_weight]) if (w) xavierUniform_(w);
    if (this.in_proj_bias) constant_(this.in_proj_bias, 0);
    if (this.out_proj.bias) constant_(this.out_proj.bias, 0);
    if (this.bias_k) xavierNormal_(this.bias_k);
    if (this.bias_v) xavierNormal_(this.bias_v);
  }

  override forward(query: Tensor, key: Tensor, value: Tensor, opts: MultiheadAttentionCallOptions = {}): [Tensor, Tensor | null] {
    const name = "MultiheadAttention";
    const batched = query.ndim === 3;
    if (query.ndim !== 2 && query.ndim !== 3)
      throw new ShapeError(`${name}: query must be 3-d [${this.batchFirst ? "batch, seq" : "seq, batch"}, embedDim] or 2-d unbatched [seq, embedDim], got ${shapeStr(query.shape)}`);
    if (key.ndim !== query.ndim || value.ndim !== query.ndim)
      throw new ShapeError(`${name}: key ${shapeStr(key.shape)} and value ${shapeStr(value.shape)} must have as many dims as query ${shapeStr(query.shape)}`);
    const toSeqFirst = (t: Tensor) => (batched ? (this.batchFirst ? transpose(t, 0, 1) : t) : unsqueeze(t, 1));
    const [q, k, v] = [query, key, value].map(toSeqFirst); // (L, N, E), (S, N, kdim), (S, N, vdim)
    const [L, N, E] = q.shape;
    const S = k.shape[0];
    if (E !== this.embedDim) throw new ShapeError(`${name}: query ${shapeStr(query.shape)} has ${E} features, expected embedDim = ${this.embedDim}`);
    if (k.shape[2] !== this.kdim) throw new ShapeError(`${name}: key ${shapeStr(key.shape)} has ${k.shape[2]} features, expected kdim = ${this.kdim}`);
    if (v.shape[2] !== this.vdim) throw new ShapeError(`${name}: value ${shapeStr(value.shape)} has ${v.shape[2]} features, expected vdim = ${this.vdim}`);
    if (k.shape[1] !== N || v.shape[1] !== N || v.shape[0] !== S)
      throw new ShapeError(`${name}: key ${shapeStr(key.shape)} and value ${shapeStr(value.shape)} must share their sequence and batch sizes, and the batch of query ${shapeStr(query.shape)}`);
    const H = this.numHeads;
    const D = this.headDim;

    // Input projections; the packed in_proj_weight holds W_q, W_k, W_v as row blocks.
    const part = (t: Tensor | null, i: number) => t && slice(t, 0, i * E, (i + 1) * E);
    const b = this.in_proj_bias;
    let qp = linear(q, this.in_proj_weight ? part(this.in_proj_weight, 0)! : this.q_proj_weight!, part(b, 0));
    let kp = linear(k, this.in_proj_weight ? part(this.in_proj_weight, 1)! : this.k_proj_weight!, part(b, 1));
    let vp = linear(v, this.in_proj_weight ? part(this.in_proj_weight, 2)! : this.v_proj_weight!, part(b, 2));
    if (this.bias_k && this.bias_v) {
      kp = concat([kp, expand(this.bias_k, [1, N, E])], 0);
      vp = concat([vp, expand(this.bias_v, [1, N, E])], 0);
    }
    const heads = (t: Tensor) => permute(reshape(t, [t.shape[0], N, H, D]), 1, 2, 0, 3); // (len, N, E) → (N, H, len, D)
    qp = heads(qp);
    kp = heads(kp);
    vp = heads(vp);
    if (this.addZeroAttn) {
      kp = concat([kp, zeros([N, H, 1, D], { dtype: kp.dtype })], 2);
      vp = concat([vp, zeros([N, H, 1, D], { dtype: vp.dtype })], 2);
    }
    const extra = kp.shape[2] - S; // keys added by bias_k and the zero key, never masked

    let mask = this.mergeMasks(opts, batched, [L, N, S], extra, qp.dtype);
    const dropoutP = this.training ? this.dropout : 0;
    let o: Tensor; // (N, H, L, D)
    let w: Tensor | null = null; // (N, H, L, S')
    if (opts.needWeights === false && fusable(qp, kp, vp, mask) && !(opts.isCausal && extra)) {
      // The fused op: the [L, S'] weights are never materialized (PyTorch's fast path does the same).
      o = fusedAttention(qp, kp, vp, { attnMask: mask, isCausal: !!opts.isCausal, dropoutP });
    } else {
      if (opts.isCausal) {
        const causal = causalAdditive(L, S, extra, qp.dtype);
        mask = mask ? add(mask, causal) : causal;
      }
      [o, w] = attend(qp, kp, vp, { attnMask: mask, dropoutP }, true);
    }
    let out = this.out_proj.call(reshape(permute(o, 2, 0, 1, 3), [L, N, E])); // (L, N, E)
    out = batched ? (this.batchFirst ? transpose(out, 0, 1) : out) : squeeze(out, 1);
    if (opts.needWeights === false || !w) return [out, null];
    let weights = (opts.averageAttnWeights ?? true) ? mean(w, 1) : w; // (N, L, S') or (N, H, L, S')
    if (!batched) weights = squeeze(weights, 0);
    return [out, weights];
  }

  /** attnMask and keyPaddingMask as one additive float mask that broadcasts to (N, H, L, S + extra), or null. */
  private mergeMasks(opts: MultiheadAttentionCallOptions, batched: boolean, [L, N, S]: number[], extra: number, dtype: DType): Tensor | null {
    const name = "MultiheadAttention";
    const H = this.numHeads;
    const additive = (m: Tensor, what: string): Tensor => {
      if (m.dtype === "bool") return maskedFill(zeros(m.shape, { dtype }), m, -Infinity);
      if (isFloatDType(m.dtype)) return to(m, dtype);
      throw new DTypeError(`${name}: ${what} has dtype ${m.dtype}; expected bool (true = masked) or a float additive mask`);
    };
    // The keys appended by bias_k / addZeroAttn are never masked: pad with zeros on the last dim.
    const padKeys = (m: Tensor) => (extra ? concat([m, zeros([...m.shape.slice(0, -1), extra], { dtype })], -1) : m);
    let attn: Tensor | null = null;
    const am = opts.attnMask;
    if (am) {
      if (am.ndim === 2) {
        if (am.shape[0] !== L || am.shape[1] !== S) throw new ShapeError(`${name}: the 2-d attnMask is ${shapeStr(am.shape)}, but should be [${L},${S}] ([target length, source length])`);
        attn = padKeys(additive(am, "attnMask"));
      } else if (am.ndim === 3) {
        if (am.shape[0] !== N * H || am.shape[1] !== L || am.shape[2] !== S)
          throw new ShapeError(`${name}: the 3-d attnMask is ${shapeStr(am.shape)}, but should be [${N * H},${L},${S}] ([batch·numHeads, target length, source length])`);
        attn = padKeys(reshape(additive(am, "attnMask"), [N, H, L, S]));
      } else throw new ShapeError(`${name}: attnMask must be 2-d [L, S] or 3-d [N·numHeads, L, S], got ${shapeStr(am.shape)}`);
    }
    let pad: Tensor | null = null;
    const kpm = opts.keyPaddingMask;
    if (kpm) {
      const want = batched ? [N, S] : [S];
      if (kpm.ndim !== want.length || kpm.shape.some((d, i) => d !== want[i]))
        throw new ShapeError(`${name}: keyPaddingMask must be ${shapeStr(want)} ([${batched ? "batch, " : ""}source length]), got ${shapeStr(kpm.shape)}`);
      pad = padKeys(reshape(additive(kpm, "keyPaddingMask"), [N, 1, 1, S]));
    }
    return attn && pad ? add(attn, pad) : (attn ?? pad);
  }

  override extraRepr(): string {
    return `embedDim=${this.embedDim}, numHeads=${this.numHeads}, dropout=${this.dropout}, batchFirst=${this.batchFirst}`;
  }
}
