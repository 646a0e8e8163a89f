// Matrix products: matmul (torch.matmul semantics), mm, bmm, and linear (x·Wᵀ + b). Every product
// runs the one primitive "matmul", a batched GEMM whose exact input contract is documented below.
import { DTypeError, shapeStr, ShapeError, shapesEqual, sizeOf, type Tensor } from "../tensor/index.js";
import { defineOp, runOp, type OpDef } from "./op.js";
import { checkDType, method, FLOATS, NUMERIC } from "./util.js";
import { expand, reshape, squeeze, transpose, unsqueeze } from "./view.js";
import { add } from "./binary.js";
import { sum } from "./reduce.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    matmul(other: Tensor): Tensor;
    mm(other: Tensor): Tensor;
    bmm(other: Tensor): Tensor;
  }
}

/**
 * Whether the last two dims of t are row-major (unit column stride) or column-major (unit row
 * stride), with the other stride a valid BLAS leading dimension (at least the length it spans).
 */
function gemmLayout(t: Tensor): boolean {
  const nd = t.ndim;
  const [rows, cols] = [t.shape[nd - 2], t.shape[nd - 1]];
  const [sr, sc] = [t.strides[nd - 2], t.strides[nd - 1]];
  return (sc === 1 && sr >= cols) || (sr === 1 && sc >= rows);
}

/** t itself when its matrices are in a GEMM layout (a transposed view is); else a row-major copy. */
function gemmOperand(t: Tensor): Tensor {
  return gemmLayout(t) ? t : reshape(t, [...t.shape]);
}

function sameDType(op: string, a: Tensor, b: Tensor, names = ["a", "b"]): void {
  if (a.dtype !== b.dtype)
    throw new DTypeError(`${op}: ${names[0]} is ${a.dtype} but ${names[1]} is ${b.dtype}; both need the same dtype, convert one with .to("${a.dtype}")`);
}

function innerError(op: string, a: Tensor, b: Tensor): ShapeError {
  return new ShapeError(
    `${op}: inner dimensions differ: a is ${shapeStr(a.shape)}, b is ${shapeStr(b.shape)} ` +
      `(the last dim of a must equal the ${b.ndim === 1 ? "length" : "second-to-last dim"} of b)`,
  );
}

/**
 * The batched GEMM primitive. Kernel contract (backends rely on it exactly): inputs a [...B, M, K]
 * and b [...B, K, N] with identical batch shapes B (batch strides may be 0: broadcast operands are
 * expanded views, never copies), and each operand's last two dims row-major (strides[-1] === 1,
 * strides[-2] ≥ cols) or column-major (strides[-2] === 1, strides[-1] ≥ rows) — so a transposed
 * operand is a plain transA/transB. Output: contiguous [...B, M, N] of the same dtype; attrs {}.
 */
const matmulOp: OpDef<{}> = defineOp<{}>({
  name: "matmul",
  meta([a, b]) {
    checkDType("matmul", "a", a.dtype, NUMERIC);
    sameDType("matmul", a, b);
    const nd = a.ndim;
    if (nd < 2 || b.ndim !== nd || !shapesEqual(a.shape.slice(0, -2), b.shape.slice(0, -2)) || !gemmLayout(a) || !gemmLayout(b))
      throw new ShapeError(
        `matmul: the kernel needs a [...B,M,K] and b [...B,K,N] with identical batch dims in a GEMM layout, got a ${shapeStr(a.shape)} ` +
          `(strides ${shapeStr(a.strides)}) and b ${shapeStr(b.shape)} (strides ${shapeStr(b.strides)}); call matmul() instead of running the op`,
      );
    if (a.shape[nd - 1] !== b.shape[nd - 2]) throw innerError("matmul", a, b);
    return [{ shape: [...a.shape.slice(0, -1), b.shape[nd - 1]], dtype: a.dtype }];
  },
  // dA = g·Bᵀ, dB = Aᵀ·g over transposed views (no copies). The inputs here are the expanded
  // operands; the expand nodes before this one sum over broadcast batch dims (sumToShape) back to
  // the user's operand shapes.
  grad(g, { inputs: [a, b] }) {
    const gg = gemmOperand(g);
    return [
      a.requiresGrad ? runOp(matmulOp, [gg, transpose(b, -2, -1)], {}) : null,
      b.requiresGrad ? runOp(matmulOp, [transpose(a, -2, -1), gg], {}) : null,
    ];
  },
  cases: [
    { name: "2-d", inputs: [{ shape: [3, 4] }, { shape: [4, 5] }], call: (a, b) => matmul(a, b) },
    { name: "vector · vector", inputs: [{ shape: [4] }, { shape: [4] }], call: (a, b) => matmul(a, b) },
    { name: "matrix · vector", inputs: [{ shape: [3, 4] }, { shape: [4] }], call: (a, b) => matmul(a, b) },
    { name: "vector · matrix", inputs: [{ shape: [4] }, { shape: [4, 5] }], call: (a, b) => matmul(a, b) },
    { name: "batched", inputs: [{ shape: [2, 3, 4] }, { shape: [2, 4, 5] }], call: (a, b) => matmul(a, b) },
    { name: "broadcast batch dims", inputs: [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }], call: (a, b) => matmul(a, b) },
    { name: "3-d · 2-d (folded)", inputs: [{ shape: [2, 3, 4] }, { shape: [4, 5] }], call: (a, b) => matmul(a, b) },
    { name: "2-d · 3-d (broadcast a)", inputs: [{ shape: [3, 4] }, { shape: [2, 4, 5] }], call: (a, b) => matmul(a, b) },
    { name: "vector · batch", inputs: [{ shape: [4] }, { shape: [2, 4, 3] }], call: (a, b) => matmul(a, b) },
    { name: "batch · vector", inputs: [{ shape: [2, 3, 4] }, { shape: [4] }], call: (a, b) => matmul(a, b) },
    { name: "b transposed (a · bᵀ)", inputs: [{ shape: [3, 4] }, { shape: [5, 4] }], call: (a, b) => matmul(a, b.t()) },
    { name: "a transposed (aᵀ · b)", inputs: [{ shape: [4, 3] }, { shape: [4, 5] }], call: (a, b) => matmul(a.t(), b) },
    { name: "both transposed, batched", inputs: [{ shape: [2, 4, 3] }, { shape: [2, 5, 4] }], call: (a, b) => matmul(a.t(), b.t()) },
    { name: "permuted batch dims", inputs: [{ shape: [3, 2, 4] }, { shape: [2, 4, 2] }], call: (a, b) => matmul(a.permute(1, 0, 2), b) },
    { name: "strided slice (copied)", inputs: [{ shape: [3, 8] }, { shape: [4, 10] }], call: (a, b) => matmul(a.slice(1, 0, 8, 2), b.slice(1, 1, 10, 2)) },
    { name: "expanded operand", inputs: [{ shape: [1, 4, 3] }, { shape: [2, 3, 2] }], call: (a, b) => matmul(a.expand(2, 4, 3), b) },
    { name: "empty M", inputs: [{ shape: [0, 4] }, { shape: [4, 5] }], call: (a, b) => matmul(a, b) },
    { name: "empty K gives zeros", inputs: [{ shape: [3, 0] }, { shape: [0, 2] }], call: (a, b) => matmul(a, b) },
    { name: "int32", inputs: [{ shape: [3, 4], dtype: "int32", range: [-5, 5] }, { shape: [4, 2], dtype: "int32", range: [-5, 5] }], call: (a, b) => matmul(a, b) },
    { name: "mm", inputs: [{ shape: [3, 4] }, { shape: [4, 2] }], call: (a, b) => mm(a, b) },
    { name: "mm with bᵀ", inputs: [{ shape: [3, 4] }, { shape: [2, 4] }], call: (a, b) => a.mm(b.t()) },
    { name: "bmm", inputs: [{ shape: [2, 3, 4] }, { shape: [2, 4, 2] }], call: (a, b) => bmm(a, b) },
    { name: "bmm with aᵀ", inputs: [{ shape: [2, 4, 3] }, { shape: [2, 4, 2] }], call: (a, b) => a.t().bmm(b) },
    { name: "inner dimensions differ", inputs: [{ shape: [2, 3] }, { shape: [4, 5] }], call: (a, b) => matmul(a, b), throws: { error: ShapeError, message: /^matmul: inner dimensions differ: a is \[2,3\], b is \[4,5\]/ } },
    { name: "vectors of different lengths", inputs: [{ shape: [3] }, { shape: [4] }], call: (a, b) => matmul(a, b), throws: { error: ShapeError, message: /^matmul: inner dimensions differ: a is \[3\], b is \[4\]/ } },
    { name: "batch dims do not broadcast", inputs: [{ shape: [2, 3, 4] }, { shape: [3, 4, 5] }], call: (a, b) => matmul(a, b), throws: { error: ShapeError, message: /^matmul: batch dims \[2\] of a \[2,3,4\] and \[3\] of b \[3,4,5\] cannot be broadcast/ } },
    { name: "0-d operand", inputs: [{ shape: [] }, { shape: [3] }], call: (a, b) => matmul(a, b), throws: { error: ShapeError, message: /^matmul: both operands need at least 1 dim/ } },
    { name: "dtypes differ", inputs: [{ shape: [2, 3] }, { shape: [3, 2], dtype: "int32" }], call: (a, b) => matmul(a, b), throws: { error: DTypeError, message: /^matmul: a is float32 but b is int32/ } },
    { name: "bool rejected", inputs: [{ shape: [2, 2], dtype: "bool" }, { shape: [2, 2], dtype: "bool" }], call: (a, b) => matmul(a, b), throws: { error: DTypeError, message: /^matmul: a has dtype bool/ } },
    { name: "mm of a batch", inputs: [{ shape: [2, 3, 4] }, { shape: [4, 5] }], call: (a, b) => mm(a, b), throws: { error: ShapeError, message: /^mm: both operands must be 2-D, got a \[2,3,4\] and b \[4,5\]/ } },
    { name: "mm inner dims", inputs: [{ shape: [2, 3] }, { shape: [4, 5] }], call: (a, b) => mm(a, b), throws: { error: ShapeError, message: /^mm: inner dimensions differ: a is \[2,3\], b is \[4,5\]/ } },
    { name: "bmm batch sizes differ", inputs: [{ shape: [2, 3, 4] }, { shape: [3, 4, 5] }], call: (a, b) => bmm(a, b), throws: { error: ShapeError, message: /^bmm: batch sizes differ: a is \[2,3,4\], b is \[3,4,5\]/ } },
    { name: "bmm of 2-d", inputs: [{ shape: [3, 4] }, { shape: [4, 5] }], call: (a, b) => bmm(a, b), throws: { error: ShapeError, message: /^bmm: both operands must be 3-D/ } },
  ],
});

/** Runs the primitive on operands whose batch shapes are already identical. */
function gemm(a: Tensor, b: Tensor): Tensor {
  return runOp(matmulOp, [gemmOperand(a), gemmOperand(b)], {});
}

function checkOperands(op: string, a: Tensor, b: Tensor): void {
  checkDType(op, "a", a.dtype, NUMERIC);
  sameDType(op, a, b);
}

/** The broadcast of the batch dims (all but the last two) of a2 and b2; errors show the user's shapes. */
function batchShape(a2: Tensor, b2: Tensor, a: Tensor, b: Tensor): number[] {
  const [ba, bb] = [a2.shape.slice(0, -2), b2.shape.slice(0, -2)];
  const nd = Math.max(ba.length, bb.length);
  const out: number[] = [];
  for (let i = 0; i < nd; i++) {
    const x = ba[ba.length - nd + i] ?? 1;
    const y = bb[bb.length - nd + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1)
      throw new ShapeError(
        `matmul: batch dims ${shapeStr(ba)} of a ${shapeStr(a.shape)} and ${shapeStr(bb)} of b ${shapeStr(b.shape)} cannot be broadcast (${x} vs ${y}); make them equal or 1`,
      );
    out.push(x === 1 ? y : x);
  }
  return out;
}

/**
 * Matrix product with torch.matmul semantics: a 1-D operand is promoted to a matrix (and the added
 * dim removed from the result), batch dims broadcast. Transposed operands (`b.t()`) are not copied.
 * @example matmul(x, w.t()) // [B, in] · [in, out] → [B, out]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkOperands("matmul", a, b);
  if (a.ndim === 0 || b.ndim === 0)
    throw new ShapeError(`matmul: both operands need at least 1 dim, got a ${shapeStr(a.shape)} and b ${shapeStr(b.shape)}; use mul() to scale by a scalar`);
  const a2 = a.ndim === 1 ? unsqueeze(a, 0) : a; // [K] → [1, K]
  const b2 = b.ndim === 1 ? unsqueeze(b, 1) : b; // [K] → [K, 1]
  const [M, K] = a2.shape.slice(-2);
  const N = b2.shape[b2.ndim - 1];
  if (K !== b2.shape[b2.ndim - 2]) throw innerError("matmul", a, b);
  let out: Tensor;
  if (b2.ndim === 2 && a2.ndim > 2 && a2.isContiguous()) {
    // Fold a's batch dims into M: one GEMM with b as is, rather than b broadcast over the batch.
    out = reshape(gemm(flattenLeading(a2), b2), [...a2.shape.slice(0, -1), N]);
  } else {
    const batch = batchShape(a2, b2, a, b);
    // Fix the layout before expanding, so that a copy (if any) is of the operand, not of its broadcast.
    const ea = broadcastTo(gemmOperand(a2), [...batch, M, K]);
    const eb = broadcastTo(gemmOperand(b2), [...batch, K, N]);
    out = runOp(matmulOp, [ea, eb], {});
  }
  if (a.ndim === 1) out = squeeze(out, -2);
  if (b.ndim === 1) out = squeeze(out, -1);
  return out;
}

/** t as a matrix [all leading dims, last dim] (explicit sizes: -1 is ambiguous when a dim is 0). */
function flattenLeading(t: Tensor): Tensor {
  const last = t.shape[t.ndim - 1];
  return reshape(t, [sizeOf(t.shape.slice(0, -1)), last]);
}

function broadcastTo(t: Tensor, shape: number[]): Tensor {
  return shapesEqual(t.shape, shape) ? t : expand(t, shape);
}

/** Product of two matrices [M, K] · [K, N], like torch.mm (no broadcasting, no vectors). */
export function mm(a: Tensor, b: Tensor): Tensor {
  checkOperands("mm", a, b);
  if (a.ndim !== 2 || b.ndim !== 2)
    throw new ShapeError(`mm: both operands must be 2-D, got a ${shapeStr(a.shape)} and b ${shapeStr(b.shape)}; use matmul() for vectors and batches`);
  if (a.shape[1] !== b.shape[0]) throw innerError("mm", a, b);
  return gemm(a, b);
}

/** Batched product [B, M, K] · [B, K, N] with equal B, like torch.bmm (no broadcasting). */
export function bmm(a: Tensor, b: Tensor): Tensor {
  checkOperands("bmm", a, b);
  if (a.ndim !== 3 || b.ndim !== 3)
    throw new ShapeError(`bmm: both operands must be 3-D [B,M,K] and [B,K,N], got a ${shapeStr(a.shape)} and b ${shapeStr(b.shape)}; use matmul() to broadcast`);
  if (a.shape[0] !== b.shape[0]) throw new ShapeError(`bmm: batch sizes differ: a is ${shapeStr(a.shape)}, b is ${shapeStr(b.shape)}`);
  if (a.shape[2] !== b.shape[1]) throw innerError("bmm", a, b);
  return gemm(a, b);
}

/**
 * linear: y = x·Wᵀ + b. Inputs [x, weight] or [x, weight, bias] with x [..., in], weight [out, in],
 * bias [out]; output [..., out]; attrs {}. A composite (matmul + add) that a backend may replace
 * with a fused GEMM + bias kernel, so it carries its own gradient rule.
 */
const linearOp: OpDef<{}> = defineOp<{}>({
  name: "linear",
  meta([x, w, bias]) {
    checkDType("linear", "input", x.dtype, FLOATS);
    sameDType("linear", x, w, ["input", "weight"]);
    if (bias) sameDType("linear", x, bias, ["input", "bias"]);
    if (w.ndim !== 2) throw new ShapeError(`linear: weight must be 2-D [out,in], got ${shapeStr(w.shape)}`);
    const [outF, inF] = w.shape;
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== inF)
      throw new ShapeError(
        `linear: input ${shapeStr(x.shape)} has ${x.shape[x.ndim - 1] ?? 0} features in its last dim but weight ${shapeStr(w.shape)} expects ${inF}`,
      );
    if (bias && (bias.ndim !== 1 || bias.shape[0] !== outF))
      throw new ShapeError(`linear: bias must be [${outF}] (one per output feature of weight ${shapeStr(w.shape)}), got ${shapeStr(bias.shape)}`);
    return [{ shape: [...x.shape.slice(0, -1), outF], dtype: x.dtype }];
  },
  decompose([x, w, bias]) {
    const y = matmul(x, transpose(w, 0, 1));
    return bias ? add(y, bias) : y;
  },
  // dx = g·W; dW = gᵀ·x and db = Σ g, both over all leading dims (flattened into one).
  grad(g, { inputs: [x, w, bias] }) {
    const g2 = flattenLeading(g);
    const dx = x.requiresGrad ? matmul(g, w) : null;
    const dw = w.requiresGrad ? matmul(transpose(g2, 0, 1), flattenLeading(x)) : null;
    return bias ? [dx, dw, bias.requiresGrad ? sum(g2, 0) : null] : [dx, dw];
  },
  cases: [
    { name: "2-d with bias", inputs: [{ shape: [4, 3] }, { shape: [5, 3] }, { shape: [5] }], call: (x, w, b) => linear(x, w, b) },
    { name: "no bias", inputs: [{ shape: [4, 3] }, { shape: [2, 3] }], call: (x, w) => linear(x, w) },
    { name: "3-d input", inputs: [{ shape: [2, 3, 4] }, { shape: [5, 4] }, { shape: [5] }], call: (x, w, b) => linear(x, w, b) },
    { name: "1-d input", inputs: [{ shape: [3] }, { shape: [2, 3] }, { shape: [2] }], call: (x, w, b) => linear(x, w, b) },
    { name: "transposed input view", inputs: [{ shape: [3, 4] }, { shape: [2, 3] }, { shape: [2] }], call: (x, w, b) => linear(x.t(), w, b) },
    { name: "weight given as a transposed view", inputs: [{ shape: [4, 3] }, { shape: [3, 5] }, { shape: [5] }], call: (x, w, b) => linear(x, w.t(), b) },
    { name: "empty batch", inputs: [{ shape: [0, 3] }, { shape: [2, 3] }, { shape: [2] }], call: (x, w, b) => linear(x, w, b) },
    { name: "features differ", inputs: [{ shape: [4, 3] }, { shape: [5, 4] }], call: (x, w) => linear(x, w), throws: { error: ShapeError, message: /^linear: input \[4,3\] has 3 features in its last dim but weight \[5,4\] expects 4/ } },
    { name: "bad bias", inputs: [{ shape: [4, 3] }, { shape: [5, 3] }, { shape: [4] }], call: (x, w, b) => linear(x, w, b), throws: { error: ShapeError, message: /^linear: bias must be \[5\]/ } },
    { name: "1-d weight", inputs: [{ shape: [4, 3] }, { shape: [3] }], call: (x, w) => linear(x, w), throws: { error: ShapeError, message: /^linear: weight must be 2-D \[out,in\], got \[3\]/ } },
    { name: "int input rejected", inputs: [{ shape: [2, 3], dtype: "int32" }, { shape: [2, 3] }], call: (x, w) => linear(x, w), throws: { error: DTypeError, message: /^linear: input has dtype int32/ } },
  ],
});

/** x·weightᵀ + bias for x [..., in], weight [out, in], bias [out] (PyTorch's F.linear). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return runOp(linearOp, bias ? [x, weight, bias] : [x, weight], {});
}

method("matmul", matmul);
method("mm", mm);
method("bmm", bmm);
