// scaledDotProductAttention: softmax(q·kᵀ·scale + mask)·v as ONE primitive (with a saved log-sum-exp)
// and its backward primitive, the contract a fused (flash-style) kernel of a native backend implements.
import { DTypeError, isFloatDType, shapeStr, ShapeError, shapesEqual, type Tensor, ValueError } from "../tensor/index.js";
import { isGradEnabled } from "../autograd/grad-mode.js";
import { defineOp, runOpMulti, type OpDef } from "./op.js";
import type { InputSpec, OpCase } from "./cases.js";
import { checkDType, FLOATS } from "./util.js";
import { expand, reshape, to } from "./view.js";
import { ge } from "./compare.js";
import { rand } from "./creation.js";

/**
 * The attributes of both primitives. Inputs are q [B,H,T,D], k [B,H,S,D], v [B,H,S,Dv], then the
 * attention mask when hasMask, then the dropout keep mask when hasKeep.
 */
export interface SdpaAttrs {
  /** Multiplies q·kᵀ. */
  scale: number;
  /** Query i sees keys j ≤ i only (aligned at the top left, as PyTorch 2's is_causal); ANDed with the mask. */
  isCausal: boolean;
  /** A mask [B,H,T,S] follows v: bool (true = may attend) or q's float dtype (added to the scores). */
  hasMask: boolean;
  /** A bool keep mask [B,H,T,S] follows: dropout of the attention weights, kept ones scaled by 1/(1 − dropoutP). */
  hasKeep: boolean;
  dropoutP: number;
}

const OP = "scaledDotProductAttention";

/** Checks q, k, v (4-d, one float dtype, matching B, H, D and S) and the optional masks; returns [B,H,T,S]. */
function checkQKV(op: string, inputs: Tensor[], a: SdpaAttrs): number[] {
  const [q, k, v] = inputs;
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4)
    throw new ShapeError(
      `${op}: q, k and v must be 4-d [B, H, T, D], [B, H, S, D], [B, H, S, Dv], got ${shapeStr(q.shape)}, ${shapeStr(k.shape)} and ${shapeStr(v.shape)}; split heads with view(B, T, H, D).transpose(1, 2)`,
    );
  checkDType(op, "q", q.dtype, FLOATS);
  if (k.dtype !== q.dtype || v.dtype !== q.dtype)
    throw new DTypeError(`${op}: q, k and v must share one float dtype, got ${q.dtype}, ${k.dtype} and ${v.dtype}; convert with .to('${q.dtype}')`);
  const [B, H, T, D] = q.shape;
  const S = k.shape[2];
  if (k.shape[0] !== B || k.shape[1] !== H || v.shape[0] !== B || v.shape[1] !== H)
    throw new ShapeError(`${op}: q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)} and v ${shapeStr(v.shape)} must have the same batch and head dims [B, H, ...]`);
  if (k.shape[3] !== D)
    throw new ShapeError(`${op}: q ${shapeStr(q.shape)} and k ${shapeStr(k.shape)} must have the same last dim D (the features compared by q·kᵀ)`);
  if (v.shape[2] !== S) throw new ShapeError(`${op}: k ${shapeStr(k.shape)} and v ${shapeStr(v.shape)} must have the same sequence length S (dim 2)`);
  const scores = [B, H, T, S];
  let i = 3;
  if (a.hasMask) {
    const m = inputs[i++];
    if (!shapesEqual(m.shape, scores)) throw new ShapeError(`${op}: the mask input is ${shapeStr(m.shape)}, expected the scores' shape ${shapeStr(scores)}`);
    if (m.dtype !== "bool" && m.dtype !== q.dtype) throw new DTypeError(`${op}: the mask input has dtype ${m.dtype}; expected bool or ${q.dtype}`);
  }
  if (a.hasKeep) {
    const m = inputs[i++];
    if (!shapesEqual(m.shape, scores) || m.dtype !== "bool")
      throw new ShapeError(`${op}: the dropout keep mask is ${m.dtype}${shapeStr(m.shape)}, expected bool${shapeStr(scores)}`);
  }
  return scores;
}

/**
 * The forward primitive. Kernel contract: inputs q [B,H,T,D], k [B,H,S,D], v [B,H,S,Dv] (any
 * strides), then the mask [B,H,T,S] when hasMask (a broadcast view: strides may be 0) and the bool
 * keep mask [B,H,T,S] when hasKeep. Scores s = scale·q·kᵀ; −∞ where isCausal and j > i, where a bool
 * mask is false; plus a float mask. Outputs: out [B,H,T,Dv] = softmax(s)·(keep/(1 − p))·v and
 * lse [B,H,T] = log Σⱼ exp(sᵢⱼ) (saved for the backward). A row with every key masked has lse −∞
 * and NaN outputs (as PyTorch); S = 0 gives zeros.
 */
const sdpaOp: OpDef<SdpaAttrs> = defineOp<SdpaAttrs>({
  name: OP,
  meta(inputs, a) {
    const [B, H, T] = checkQKV(OP, inputs, a);
    const dtype = inputs[0].dtype;
    return [
      { shape: [B, H, T, inputs[2].shape[3]], dtype },
      { shape: [B, H, T], dtype },
    ];
  },
  grad(g, { inputs, outputs: [out, lse], attrs: a }) {
    const [q, k, v, ...masks] = inputs;
    const [dq, dk, dv] = runOpMulti(sdpaBackwardOp, [g, q, k, v, out, lse, ...masks], a);
    // Masks are constants (the wrapper refuses a mask that requires grad).
    return [dq, dk, dv, ...masks.map(() => null)];
  },
  cases: forwardCases(),
});

/**
 * The backward primitive: [dq, dk, dv] from g = ∂L/∂out. Kernel contract: inputs g [B,H,T,Dv], q, k,
 * v, out, lse (the forward's outputs), then the same masks as the forward, attrs unchanged. With
 * P = exp(s − lse), P' = P·keep/(1 − p): dv = P'ᵀ·g, dP = (g·vᵀ)·keep/(1 − p), Dᵢ = Σ_d gᵢ_d·outᵢ_d
 * (= Σⱼ Pᵢⱼ·dPᵢⱼ), dS = P·(dP − D), dq = scale·dS·k, dk = scale·dSᵀ·q.
 */
const sdpaBackwardOp: OpDef<SdpaAttrs> = defineOp<SdpaAttrs>({
  name: "scaledDotProductAttentionBackward",
  meta(inputs, a) {
    const [g, q, k, v, out, lse, ...masks] = inputs;
    const [B, H, T] = checkQKV("scaledDotProductAttentionBackward", [q, k, v, ...masks], a);
    const outShape = [B, H, T, v.shape[3]];
    for (const [what, t, shape] of [["gradient", g, outShape], ["out", out, outShape], ["lse", lse, [B, H, T]]] as const)
      if (!shapesEqual(t.shape, shape) || t.dtype !== q.dtype)
        throw new ShapeError(`scaledDotProductAttentionBackward: ${what} is ${t.dtype}${shapeStr(t.shape)}, expected ${q.dtype}${shapeStr(shape)}`);
    return [q, k, v].map((t) => ({ shape: [...t.shape], dtype: t.dtype }));
  },
  cases: backwardCases(),
});

export interface ScaledDotProductAttentionOptions {
  /**
   * Broadcasts to the scores [B, H, T, S]: bool (true = the query may attend to the key, PyTorch 2's
   * convention) or float (added to the scores, e.g. 0 / −∞). A constant: it gets no gradient.
   */
  attnMask?: Tensor | null;
  /** Query i sees keys 0..i only (top-left aligned, as PyTorch); combined with attnMask when both are given. */
  isCausal?: boolean;
  /** Multiplies q·kᵀ (default 1/√D). */
  scale?: number | null;
  /** Dropout on the attention weights whenever > 0 (default 0: pass 0 in eval, as with PyTorch). */
  dropoutP?: number;
}

/**
 * Fused attention softmax(q·kᵀ·scale + mask)·v like PyTorch 2's F.scaled_dot_product_attention, on
 * q [B, H, T, D], k [B, H, S, D], v [B, H, S, Dv] → [B, H, T, Dv]; one op (stable softmax, the
 * scores never leave the kernel) with a fused backward.
 * @example const y = scaledDotProductAttention(q, k, v, { isCausal: true }); // (B, H, T, D)
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: ScaledDotProductAttentionOptions = {}): Tensor {
  return sdpa(q, k, v, opts)[0];
}

/** Validates the options, broadcasts the mask, draws the dropout keep mask; returns [out, lse]. */
function sdpa(q: Tensor, k: Tensor, v: Tensor, opts: ScaledDotProductAttentionOptions): Tensor[] {
  const p = opts.dropoutP ?? 0;
  if (!(p >= 0 && p < 1)) throw new ValueError(`${OP}: dropoutP must be in [0, 1), got ${p}`);
  const scale = opts.scale ?? (q.ndim === 4 && q.shape[3] > 0 ? 1 / Math.sqrt(q.shape[3]) : 1);
  if (!Number.isFinite(scale)) throw new ValueError(`${OP}: scale must be a finite number, got ${scale}`);
  const a: SdpaAttrs = { scale, isCausal: !!opts.isCausal, hasMask: false, hasKeep: false, dropoutP: p };
  const extra: Tensor[] = [];
  const scores = q.ndim === 4 && k.ndim === 4 ? [q.shape[0], q.shape[1], q.shape[2], k.shape[2]] : null;
  let m = opts.attnMask ?? null;
  if (m && scores) {
    if (m.dtype !== "bool" && !isFloatDType(m.dtype))
      throw new DTypeError(`${OP}: attnMask has dtype ${m.dtype}; expected bool (true = attend) or a float mask added to the scores`);
    if (m.requiresGrad && isGradEnabled())
      throw new ValueError(`${OP}: attnMask requires grad, but the fused op treats masks as constants; detach it, or use nn.scaledDotProductAttention (written with ops) for a learned bias`);
    const off = 4 - m.ndim;
    if (off < 0 || m.shape.some((d, i) => d !== 1 && d !== scores[i + off]))
      throw new ShapeError(`${OP}: attnMask ${shapeStr(m.shape)} does not broadcast to the scores [B, H, T, S] = ${shapeStr(scores)}`);
    if (m.dtype !== "bool" && m.dtype !== q.dtype) m = to(m, q.dtype);
    // NOTE: a view with stride-0 dims, never a copy of the [B, H, T, S] mask.
    extra.push(expand(reshape(m, [...Array<number>(off).fill(1), ...m.shape]), scores));
    a.hasMask = true;
  }
  if (p > 0 && scores) {
    extra.push(ge(rand(scores, { dtype: "float64" }), p));
    a.hasKeep = true;
  }
  return runOpMulti(sdpaOp, [q, k, v, ...extra], a);
}

// ---------------------------------------------------------------- conformance cases

/** Input specs of q [B,H,T,D], k [B,H,S,D], v [B,H,S,Dv]. */
function qkv(B: number, H: number, T: number, S: number, D: number, Dv = D): InputSpec[] {
  return [{ shape: [B, H, T, D] }, { shape: [B, H, S, D] }, { shape: [B, H, S, Dv] }];
}
/** A bool mask of `shape` with a pseudo-random pattern (varied by `seed`) that leaves every row at least one key. */
function boolMask(shape: number[], seed = 0): { shape: number[]; dtype: "bool"; values: number[] } {
  const cols = shape[shape.length - 1];
  const n = shape.reduce((x, y) => x * y, 1);
  const values = Array.from({ length: n }, (_, i) => {
    const [r, c] = [Math.floor(i / cols), i % cols];
    return c === (r + seed) % cols || (i * 5 + seed) % 3 !== 0 ? 1 : 0;
  });
  return { shape, dtype: "bool", values };
}

function forwardCases(): OpCase[] {
  const f = scaledDotProductAttention;
  const fullyMasked = { shape: [1, 1, 2, 3], dtype: "bool" as const, values: [1, 0, 1, 0, 0, 0] };
  return [
    { name: "no mask", inputs: qkv(2, 2, 3, 3, 4), call: (q, k, v) => f(q, k, v) },
    { name: "causal", inputs: qkv(2, 2, 4, 4, 3), call: (q, k, v) => f(q, k, v, { isCausal: true }) },
    { name: "T ≠ S", inputs: qkv(1, 2, 3, 5, 4), call: (q, k, v) => f(q, k, v) },
    { name: "causal, T < S (top-left)", inputs: qkv(1, 2, 3, 5, 2), call: (q, k, v) => f(q, k, v, { isCausal: true }) },
    { name: "causal, T > S", inputs: qkv(1, 1, 5, 3, 2), call: (q, k, v) => f(q, k, v, { isCausal: true }) },
    { name: "one query, one key", inputs: qkv(2, 1, 1, 1, 3), call: (q, k, v) => f(q, k, v) },
    { name: "one query, many keys (a decode step)", inputs: qkv(1, 2, 1, 6, 2), call: (q, k, v) => f(q, k, v) },
    { name: "Dv ≠ D", inputs: qkv(1, 2, 3, 4, 2, 5), call: (q, k, v) => f(q, k, v) },
    { name: "custom scale", inputs: qkv(1, 2, 3, 3, 4), call: (q, k, v) => f(q, k, v, { scale: 0.8 }) },
    { name: "bool mask [T,S] broadcast", inputs: [...qkv(2, 2, 3, 4, 2), boolMask([3, 4])], call: (q, k, v, m) => f(q, k, v, { attnMask: m }) },
    { name: "bool key padding mask [B,1,1,S]", inputs: [...qkv(2, 2, 3, 4, 2), { shape: [2, 1, 1, 4], dtype: "bool", values: [1, 1, 1, 0, 1, 1, 0, 0] }], call: (q, k, v, m) => f(q, k, v, { attnMask: m }) },
    { name: "bool mask [B,H,T,S]", inputs: [...qkv(1, 2, 3, 3, 2), boolMask([1, 2, 3, 3])], call: (q, k, v, m) => f(q, k, v, { attnMask: m }) },
    { name: "float additive mask", inputs: [...qkv(2, 1, 3, 4, 2), { shape: [2, 1, 3, 4], range: [-3, 1], noGrad: true }], call: (q, k, v, m) => f(q, k, v, { attnMask: m }) },
    {
      name: "float mask with -inf",
      inputs: [...qkv(1, 2, 2, 3, 2), { shape: [2, 3], values: [0, -Infinity, 0.5, -Infinity, 0, -1], noGrad: true }],
      call: (q, k, v, m) => f(q, k, v, { attnMask: m }),
    },
    { name: "causal and padding mask together", inputs: [...qkv(2, 1, 4, 4, 2), { shape: [2, 1, 1, 4], dtype: "bool", values: [1, 1, 1, 0, 1, 0, 1, 1] }], call: (q, k, v, m) => f(q, k, v, { attnMask: m, isCausal: true }) },
    {
      name: "permuted views (B, T, H, D) → (B, H, T, D)",
      inputs: [{ shape: [2, 3, 2, 2] }, { shape: [2, 4, 2, 2] }, { shape: [2, 4, 2, 3] }],
      call: (q, k, v) => f(q.permute(0, 2, 1, 3), k.permute(0, 2, 1, 3), v.permute(0, 2, 1, 3), { isCausal: true }),
    },
    { name: "sliced and transposed views", inputs: [{ shape: [1, 2, 3, 6] }, { shape: [1, 2, 3, 4] }, { shape: [1, 2, 5, 3] }], call: (q, k, v) => f(q.slice(3, 0, 6, 2), k.transpose(2, 3).slice(2, 1, 4), v.slice(2, 1, 4)) },
    { name: "large scores (stable)", inputs: qkv(1, 1, 3, 4, 2), call: (q, k, v) => f(q, k, v, { scale: 300 }), grad: false },
    { name: "saved log-sum-exp", inputs: [...qkv(1, 2, 3, 4, 2), boolMask([3, 4])], grad: false, call: (q, k, v, m) => sdpa(q, k, v, { attnMask: m, isCausal: true })[1] },
    { name: "a fully masked row is NaN", inputs: [...qkv(1, 1, 2, 3, 2), fullyMasked], grad: false, call: (q, k, v, m) => f(q, k, v, { attnMask: m }) },
    { name: "no keys gives zeros", inputs: qkv(1, 2, 3, 0, 2), call: (q, k, v) => f(q, k, v) },
    { name: "no queries", inputs: qkv(1, 2, 0, 3, 2), call: (q, k, v) => f(q, k, v) },
    {
      name: "dropout with a given keep mask",
      inputs: [...qkv(1, 2, 3, 4, 2), boolMask([1, 2, 3, 4])],
      call: (q, k, v, keep) => runOpMulti(sdpaOp, [q, k, v, keep], { scale: 0.5, isCausal: true, hasMask: false, hasKeep: true, dropoutP: 0.25 })[0],
    },
    { name: "dropout (random)", inputs: qkv(1, 2, 3, 4, 2), random: true, call: (q, k, v) => f(q, k, v, { dropoutP: 0.3 }) },
    { name: "3-d inputs rejected", inputs: [{ shape: [2, 3, 4] }, { shape: [2, 3, 4] }, { shape: [2, 3, 4] }], call: (q, k, v) => f(q, k, v), throws: { error: ShapeError, message: /^scaledDotProductAttention: q, k and v must be 4-d \[B, H, T, D\], \[B, H, S, D\], \[B, H, S, Dv\], got \[2,3,4\]/ } },
    { name: "D of k differs", inputs: qkv(1, 2, 3, 3, 4).map((s, i) => (i === 1 ? { shape: [1, 2, 3, 5] } : s)), call: (q, k, v) => f(q, k, v), throws: { error: ShapeError, message: /^scaledDotProductAttention: q \[1,2,3,4\] and k \[1,2,3,5\] must have the same last dim D/ } },
    { name: "S of v differs", inputs: [{ shape: [1, 2, 3, 4] }, { shape: [1, 2, 3, 4] }, { shape: [1, 2, 2, 4] }], call: (q, k, v) => f(q, k, v), throws: { error: ShapeError, message: /^scaledDotProductAttention: k \[1,2,3,4\] and v \[1,2,2,4\] must have the same sequence length S/ } },
    { name: "heads differ", inputs: [{ shape: [1, 2, 3, 4] }, { shape: [1, 1, 3, 4] }, { shape: [1, 1, 3, 4] }], call: (q, k, v) => f(q, k, v), throws: { error: ShapeError, message: /^scaledDotProductAttention: .* must have the same batch and head dims/ } },
    { name: "mask does not broadcast", inputs: [...qkv(1, 2, 3, 4, 2), { shape: [3, 3], dtype: "bool" }], call: (q, k, v, m) => f(q, k, v, { attnMask: m }), throws: { error: ShapeError, message: /^scaledDotProductAttention: attnMask \[3,3\] does not broadcast to the scores \[B, H, T, S\] = \[1,2,3,4\]/ } },
    { name: "int mask rejected", inputs: [...qkv(1, 2, 3, 4, 2), { shape: [3, 4], dtype: "int32" }], call: (q, k, v, m) => f(q, k, v, { attnMask: m }), throws: { error: DTypeError, message: /^scaledDotProductAttention: attnMask has dtype int32; expected bool/ } },
    { name: "int inputs rejected", inputs: [{ shape: [1, 1, 2, 2], dtype: "int32" }, { shape: [1, 1, 2, 2], dtype: "int32" }, { shape: [1, 1, 2, 2], dtype: "int32" }], call: (q, k, v) => f(q, k, v), throws: { error: DTypeError, message: /^scaledDotProductAttention: q has dtype int32; expected float32 or float64/ } },
    { name: "dropoutP 1 rejected", inputs: qkv(1, 1, 2, 2, 2), call: (q, k, v) => f(q, k, v, { dropoutP: 1 }), throws: { error: ValueError, message: /^scaledDotProductAttention: dropoutP must be in \[0, 1\), got 1/ } },
  ];
}

/** The backward kernel checked directly, output by output (dq, dk, dv), not only through the forward's gradient. */
function backwardCases(): OpCase[] {
  const call = (k: number, a: Partial<SdpaAttrs>) => (g: Tensor, q: Tensor, kk: Tensor, v: Tensor, ...masks: Tensor[]) => {
    const attrs: SdpaAttrs = { scale: 0.6, isCausal: false, hasMask: false, hasKeep: false, dropoutP: 0, ...a };
    const [out, lse] = runOpMulti(sdpaOp, [q, kk, v, ...masks], attrs);
    return runOpMulti(sdpaBackwardOp, [g, q, kk, v, out, lse, ...masks], attrs)[k];
  };
  return [0, 1, 2].flatMap((k) => [
    { name: `output ${k}, causal`, inputs: [{ shape: [1, 2, 3, 2] }, ...qkv(1, 2, 3, 3, 2)], grad: false, call: call(k, { isCausal: true }) },
    { name: `output ${k}, bool mask and dropout keep mask`, inputs: [{ shape: [1, 2, 3, 3] }, ...qkv(1, 2, 3, 4, 2, 3), boolMask([1, 2, 3, 4]), boolMask([1, 2, 3, 4], 1)], grad: false, call: call(k, { hasMask: true, hasKeep: true, dropoutP: 0.2 }) },
    {
      name: `output ${k}, float mask, strided gradient`,
      inputs: [{ shape: [1, 2, 2, 3] }, ...qkv(1, 2, 3, 4, 2), { shape: [1, 2, 3, 4], range: [-2, 0] }],
      grad: false,
      call: (g: Tensor, q: Tensor, kk: Tensor, v: Tensor, mask: Tensor) => call(k, { hasMask: true })(g.transpose(2, 3), q, kk, v, mask),
    },
  ]);
}
