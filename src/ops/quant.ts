// The low-bit ops of compress.quantize: the exact int8 matrix product, the int8 Linear (integer
// GEMM with int8 activations quantized per row), the int4 group-wise weight-only Linear, and
// fake quantization with a straight-through gradient (quantization-aware training).
import { DTypeError, shapeStr, ShapeError, type Tensor, ValueError } from "../tensor/index.js";
import { defineOp, runOp, type OpDef } from "./op.js";
import type { InputSpec, OpCase } from "./cases.js";
import { checkDType, FLOATS, scalar } from "./util.js";
import { where } from "./compare.js";

/** Shapes of a 2-d weight and its per-row or per-group companions, checked with the op's name. */
function check2d(op: string, what: string, t: Tensor, rows: number, cols: number | null): void {
  if (t.ndim !== 2 || t.shape[0] !== rows || (cols !== null && t.shape[1] !== cols))
    throw new ShapeError(`${op}: ${what} must be [${rows},${cols ?? "…"}], got ${shapeStr(t.shape)}`);
}

function checkInput(op: string, x: Tensor, K: number, w: Tensor): void {
  checkDType(op, "input", x.dtype, FLOATS);
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== K)
    throw new ShapeError(`${op}: input ${shapeStr(x.shape)} has ${x.shape[x.ndim - 1] ?? 0} features in its last dim but the weight ${shapeStr(w.shape)} expects ${K}`);
}

function checkScaleDType(op: string, what: string, t: Tensor, x: Tensor): void {
  if (t.dtype !== x.dtype) throw new DTypeError(`${op}: ${what} has dtype ${t.dtype}; expected the input's ${x.dtype} (convert with .to('${x.dtype}'))`);
}

function checkBias(op: string, bias: Tensor | undefined, N: number, x: Tensor): void {
  if (!bias) return;
  checkScaleDType(op, "bias", bias, x);
  if (bias.ndim !== 1 || bias.shape[0] !== N) throw new ShapeError(`${op}: bias must be [${N}] (one per output feature), got ${shapeStr(bias.shape)}`);
}

// ---------------------------------------------------------------- intMm

/**
 * intMm: a [M, K] int8 · b [K, N] int8 → int32 [M, N], exact (torch._int_mm). The native kernel
 * takes a in [-127, 127] (symmetric int8, what the activation quantizer produces) and any b; an a
 * holding -128 runs on the reference kernel (still exact).
 */
const intMmOp: OpDef<{}> = defineOp<{}>({
  name: "intMm",
  meta([a, b]) {
    checkDType("intMm", "a", a.dtype, ["int8"]);
    checkDType("intMm", "b", b.dtype, ["int8"]);
    if (a.ndim !== 2 || b.ndim !== 2) throw new ShapeError(`intMm: both operands must be 2-D, got a ${shapeStr(a.shape)} and b ${shapeStr(b.shape)}`);
    if (a.shape[1] !== b.shape[0]) throw new ShapeError(`intMm: inner dimensions differ: a is ${shapeStr(a.shape)}, b is ${shapeStr(b.shape)}`);
    return [{ shape: [a.shape[0], b.shape[1]], dtype: "int32" }];
  },
  cases: intMmCases(),
});

/** Exact int8 matrix product with int32 results, like torch._int_mm: a [M, K] · b [K, N]. */
export function intMm(a: Tensor, b: Tensor): Tensor {
  return runOp(intMmOp, [a, b], {});
}

// ---------------------------------------------------------------- int8Linear

export interface Int8LinearAttrs {
  /** The activation scale of static quantization; null: dynamic, one scale per row (max|x| / 127). */
  actScale: number | null;
}

/**
 * int8Linear: inputs x [..., K] float, wq [N, K] int8, wScale [N] (x's dtype), then
 * bias [N] when given. Per row r of x: s = max|x_r| / 127 (dynamic) or actScale (static);
 * q = clamp(roundHalfEven(x · (1/s)), −127, 127) computed in x's dtype (float32: 1/s and x·(1/s)
 * rounded to float32; dynamic: 1/s is 127/max|x_r|); acc = Σ_k q_k · wq[n][k] exactly (int32);
 * y = acc · s · wScale[n] + bias[n]. A row of zeros gives bias; a row with NaN or ±∞ gives NaN.
 * No gradient (inference; train with fakeQuantize).
 */
const int8LinearOp: OpDef<Int8LinearAttrs> = defineOp<Int8LinearAttrs>({
  name: "int8Linear",
  meta([x, wq, ws, bias], a) {
    checkDType("int8Linear", "weight", wq.dtype, ["int8"]);
    if (wq.ndim !== 2) throw new ShapeError(`int8Linear: weight must be 2-D [out,in], got ${shapeStr(wq.shape)}`);
    const [N, K] = wq.shape;
    checkInput("int8Linear", x, K, wq);
    checkScaleDType("int8Linear", "weight scale", ws, x);
    if (ws.ndim !== 1 || ws.shape[0] !== N) throw new ShapeError(`int8Linear: weight scale must be [${N}] (one per output channel), got ${shapeStr(ws.shape)}`);
    checkBias("int8Linear", bias, N, x);
    if (a.actScale !== null && !(a.actScale > 0 && Number.isFinite(a.actScale)))
      throw new ValueError(`int8Linear: actScale must be a positive finite number (static) or null (dynamic), got ${a.actScale}`);
    return [{ shape: [...x.shape.slice(0, -1), N], dtype: x.dtype }];
  },
  kernelDType: ([x]) => x.dtype,
  cases: int8LinearCases(),
});

/**
 * y = dequant(quant(x) · wqᵀ) + bias with int8 activations (per-row dynamic scales, or one static
 * scale) and int8 weights with one scale per output channel; the product runs in integers.
 */
export function int8Linear(x: Tensor, wq: Tensor, wScale: Tensor, bias?: Tensor | null, opts: { actScale?: number | null } = {}): Tensor {
  return runOp(int8LinearOp, bias ? [x, wq, wScale, bias] : [x, wq, wScale], { actScale: opts.actScale ?? null });
}

// ---------------------------------------------------------------- int4Linear

export interface Int4LinearAttrs {
  /** Weights per group along K: 32, 64 or 128. */
  group: number;
}

/** The group sizes int4 supports (a group is whole 32-weight blocks). */
export const INT4_GROUPS = [32, 64, 128] as const;

/**
 * int4Linear: inputs x [..., K] float, wq [N, K/2] uint8, scales [N, K/group] (x's dtype), zeros
 * [N, ceil(K/group/2)] uint8, then bias [N]. Packing: each block of 32 weights takes 16 bytes,
 * byte j holding weight j in its low nibble and weight j + 16 in its high nibble; zero points are
 * 4-bit, group 2i in the low nibble of byte i and 2i + 1 in the high one. Weight k of group g is
 * (q_k − z_g) · s_g; y = x · Wᵀ + bias. No gradient.
 */
const int4LinearOp: OpDef<Int4LinearAttrs> = defineOp<Int4LinearAttrs>({
  name: "int4Linear",
  meta([x, wq, s, z, bias], a) {
    if (!(INT4_GROUPS as readonly number[]).includes(a.group)) throw new ValueError(`int4Linear: group must be 32, 64 or 128, got ${a.group}`);
    checkDType("int4Linear", "packed weight", wq.dtype, ["uint8"]);
    checkDType("int4Linear", "zero points", z.dtype, ["uint8"]);
    if (wq.ndim !== 2) throw new ShapeError(`int4Linear: the packed weight must be 2-D [out,in/2], got ${shapeStr(wq.shape)}`);
    const N = wq.shape[0];
    const K = 2 * wq.shape[1];
    checkDType("int4Linear", "input", x.dtype, FLOATS);
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== K)
      throw new ShapeError(`int4Linear: input ${shapeStr(x.shape)} has ${x.shape[x.ndim - 1] ?? 0} features in its last dim but the packed weight ${shapeStr(wq.shape)} holds ${K}`);
    if (K % a.group !== 0) throw new ShapeError(`int4Linear: in features ${K} are not divisible by the group ${a.group}`);
    const G = K / a.group;
    checkScaleDType("int4Linear", "scales", s, x);
    check2d("int4Linear", "scales", s, N, G);
    check2d("int4Linear", "zero points", z, N, Math.ceil(G / 2));
    checkBias("int4Linear", bias, N, x);
    return [{ shape: [...x.shape.slice(0, -1), N], dtype: x.dtype }];
  },
  kernelDType: ([x]) => x.dtype,
  cases: int4LinearCases(),
});

/** y = x · dequant(W)ᵀ + bias with W held as 4-bit values, a scale and a 4-bit zero point per group. */
export function int4Linear(x: Tensor, wq: Tensor, scales: Tensor, zeros: Tensor, bias: Tensor | null | undefined, opts: { group: number }): Tensor {
  return runOp(int4LinearOp, bias ? [x, wq, scales, zeros, bias] : [x, wq, scales, zeros], { group: opts.group });
}

// ---------------------------------------------------------------- fakeQuantize

export interface FakeQuantizeAttrs {
  quantMin: number;
  quantMax: number;
}

/**
 * fakeQuantize: inputs x, scale, zeroPoint (both broadcast to x; float, x's dtype). q = roundHalfEven(x ·
 * (1/scale)) + zeroPoint; y = (clamp(q, quantMin, quantMax) − zeroPoint) · scale. Gradient (the
 * straight-through estimator): g where quantMin ≤ q ≤ quantMax, 0 outside; none for scale and
 * zeroPoint. As torch.fake_quantize_per_tensor_affine / _per_channel_affine.
 */
const fakeQuantizeOp: OpDef<FakeQuantizeAttrs> = defineOp<FakeQuantizeAttrs>({
  name: "fakeQuantize",
  meta([x, s, z], a) {
    checkDType("fakeQuantize", "input", x.dtype, FLOATS);
    checkScaleDType("fakeQuantize", "scale", s, x);
    checkScaleDType("fakeQuantize", "zeroPoint", z, x);
    if (!Number.isInteger(a.quantMin) || !Number.isInteger(a.quantMax) || a.quantMin > a.quantMax)
      throw new ValueError(`fakeQuantize: quantMin and quantMax must be integers with quantMin ≤ quantMax, got ${a.quantMin} and ${a.quantMax}`);
    for (const [what, t] of [["scale", s], ["zeroPoint", z]] as const) {
      const off = x.ndim - t.ndim;
      if (off < 0 || t.shape.some((d, i) => d !== 1 && d !== x.shape[i + off]))
        throw new ShapeError(`fakeQuantize: ${what} ${shapeStr(t.shape)} does not broadcast to the input ${shapeStr(x.shape)}`);
    }
    // The second output is the straight-through mask, saved for the gradient.
    return [
      { shape: [...x.shape], dtype: x.dtype },
      { shape: [...x.shape], dtype: "bool" },
    ];
  },
  grad(g, { outputs: [, mask] }) {
    return [where(mask, g, scalar(0, g.dtype)), null, null];
  },
  cases: fakeQuantizeCases(),
});

/**
 * Quantize-dequantize with a straight-through gradient (inside [quantMin, quantMax] the gradient
 * passes unchanged, outside it is zero), for quantization-aware training.
 * @example const y = fakeQuantize(x, 0.05, 0, -127, 127); // int8 symmetric, scale 0.05
 */
export function fakeQuantize(x: Tensor, scale: Tensor | number, zeroPoint: Tensor | number, quantMin: number, quantMax: number): Tensor {
  const s = typeof scale === "number" ? scalar(scale, x.dtype) : scale;
  const z = typeof zeroPoint === "number" ? scalar(zeroPoint, x.dtype) : zeroPoint;
  return runOp(fakeQuantizeOp, [x, s, z], { quantMin, quantMax });
}

// ---------------------------------------------------------------- conformance cases
// The conformance suite draws float/int32/bool inputs; int8 and uint8 operands are cast in the call.

function i8(t: Tensor): Tensor {
  return t.to("int8");
}
function u8(t: Tensor): Tensor {
  return t.to("uint8");
}
function ints(shape: number[], lo = -127, hi = 128): InputSpec {
  return { shape, dtype: "int32", range: [lo, hi] };
}

function intMmCases(): OpCase[] {
  const f = (a: Tensor, b: Tensor) => intMm(i8(a), i8(b));
  return [
    { name: "odd shapes", inputs: [ints([5, 37]), ints([37, 3])], call: f },
    { name: "long K (vector body and tail)", inputs: [ints([3, 100]), ints([100, 7])], call: f },
    { name: "extreme values ±127", inputs: [{ shape: [2, 64], dtype: "int32", values: Array.from({ length: 128 }, (_, i) => (i % 3 ? 127 : -127)) }, { shape: [64, 2], dtype: "int32", values: Array.from({ length: 128 }, (_, i) => (i % 5 ? -127 : 127)) }], call: f },
    { name: "-128 in a (reference path)", inputs: [{ shape: [2, 33], dtype: "int32", values: Array.from({ length: 66 }, (_, i) => (i % 2 ? -128 : 100)) }, ints([33, 4])], call: f },
    { name: "-128 in b (native path)", inputs: [ints([3, 65]), { shape: [65, 2], dtype: "int32", values: Array.from({ length: 130 }, (_, i) => (i % 3 ? -128 : 127)) }], call: f },
    { name: "transposed b view", inputs: [ints([4, 40]), ints([6, 40])], call: (a, b) => intMm(i8(a), i8(b).t()) },
    { name: "empty", inputs: [ints([0, 5]), ints([5, 3])], call: f },
    { name: "int32 rejected", inputs: [ints([2, 3]), ints([3, 2])], call: (a, b) => intMm(a, i8(b)), throws: { error: DTypeError, message: /^intMm: a has dtype int32; expected int8/ } },
    { name: "inner dims differ", inputs: [ints([2, 3]), ints([4, 2])], call: f, throws: { error: ShapeError, message: /^intMm: inner dimensions differ: a is \[2,3\], b is \[4,2\]/ } },
  ];
}

/** int8Linear inputs: x [..., K], weights [N, K] in [-127, 127], scales > 0, bias. */
function lin8(xShape: number[], N: number): OpCase["inputs"] {
  const K = xShape[xShape.length - 1];
  return [{ shape: xShape }, ints([N, K]), { shape: [N], range: [0.001, 0.02] }, { shape: [N] }];
}

function int8LinearCases(): OpCase[] {
  const f = (x: Tensor, w: Tensor, s: Tensor, b: Tensor) => int8Linear(x, i8(w), s, b);
  return [
    { name: "dynamic, odd shapes", inputs: lin8([5, 37], 3), call: f, grad: false },
    { name: "dynamic, 3-d input, long K", inputs: lin8([2, 3, 70], 9), call: f, grad: false },
    { name: "dynamic, no bias", inputs: lin8([4, 33], 5).slice(0, 3), call: (x, w, s) => int8Linear(x, i8(w), s), grad: false },
    { name: "static scale (clamps outliers)", inputs: lin8([6, 40], 4), call: (x, w, s, b) => int8Linear(x, i8(w), s, b, { actScale: 0.01 }), grad: false },
    { name: "a row of zeros gives the bias", inputs: [{ shape: [2, 3], values: [0, 0, 0, 1, -2, 0.5] }, ...lin8([2, 3], 2).slice(1)], call: f, grad: false },
    { name: "1-d input", inputs: lin8([35], 6), call: f, grad: false },
    { name: "weight not int8", inputs: lin8([2, 3], 2), call: (x, w, s, b) => int8Linear(x, w, s, b), throws: { error: DTypeError, message: /^int8Linear: weight has dtype int32; expected int8/ } },
    { name: "features differ", inputs: [{ shape: [2, 4] }, ...lin8([2, 3], 2).slice(1)], call: f, throws: { error: ShapeError, message: /^int8Linear: input \[2,4\] has 4 features in its last dim but the weight \[2,3\] expects 3/ } },
    { name: "scale per output channel", inputs: [...lin8([2, 3], 2).slice(0, 2), { shape: [3] }], call: (x, w, s) => int8Linear(x, i8(w), s), throws: { error: ShapeError, message: /^int8Linear: weight scale must be \[2\]/ } },
  ];
}

/** int4Linear inputs: x [R, K], packed weights [N, K/2] (bytes), scales, zero points (bytes), bias. */
function lin4(R: number, K: number, N: number, group: number): OpCase["inputs"] {
  const G = K / group;
  return [{ shape: [R, K] }, ints([N, K / 2], 0, 256), { shape: [N, G], range: [0.01, 0.1] }, ints([N, Math.ceil(G / 2)], 0, 256), { shape: [N] }];
}

function int4LinearCases(): OpCase[] {
  const f = (group: number) => (x: Tensor, w: Tensor, s: Tensor, z: Tensor, b: Tensor) => int4Linear(x, u8(w), s, u8(z), b, { group });
  return [
    { name: "group 32, one row (GEMV)", inputs: lin4(1, 96, 5, 32), call: f(32), grad: false },
    { name: "group 32, 11 rows", inputs: lin4(11, 64, 3, 32), call: f(32), grad: false },
    { name: "group 64, odd group count", inputs: lin4(3, 192, 4, 64), call: f(64), grad: false },
    { name: "group 128, no bias", inputs: lin4(2, 256, 3, 128).slice(0, 4), call: (x, w, s, z) => int4Linear(x, u8(w), s, u8(z), null, { group: 128 }), grad: false },
    { name: "in features not divisible by the group", inputs: lin4(2, 96, 3, 32), call: (x, w, s, z) => int4Linear(x, u8(w), s, u8(z), null, { group: 64 }), throws: { error: ShapeError, message: /^int4Linear: in features 96 are not divisible by the group 64/ } },
    { name: "bad group", inputs: lin4(2, 64, 3, 32), call: (x, w, s, z) => int4Linear(x, u8(w), s, u8(z), null, { group: 16 }), throws: { error: ValueError, message: /^int4Linear: group must be 32, 64 or 128, got 16/ } },
  ];
}

function fakeQuantizeCases(): OpCase[] {
  return [
    { name: "per tensor, symmetric int8", inputs: [{ shape: [3, 5] }], call: (x) => fakeQuantize(x, 0.0625, 0, -127, 127), grad: false },
    { name: "asymmetric uint8, values clamp", inputs: [{ shape: [4, 4], range: [-3, 3] }], call: (x) => fakeQuantize(x, 0.015625, 100, 0, 255), grad: false },
    { name: "per channel scales", inputs: [{ shape: [3, 4] }, { shape: [3, 1], values: [0.25, 0.125, 0.5], noGrad: true }], call: (x, s) => fakeQuantize(x, s, 0, -8, 7), grad: false },
    { name: "quantMin above quantMax", inputs: [{ shape: [2] }], call: (x) => fakeQuantize(x, 0.1, 0, 5, 1), throws: { error: ValueError, message: /^fakeQuantize: quantMin and quantMax must be integers/ } },
    { name: "scale does not broadcast", inputs: [{ shape: [2, 3] }, { shape: [2], noGrad: true }], call: (x, s) => fakeQuantize(x, s, 0, -127, 127), throws: { error: ShapeError, message: /^fakeQuantize: scale \[2\] does not broadcast to the input \[2,3\]/ } },
  ];
}

