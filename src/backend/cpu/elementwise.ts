// cpu kernels for elementwise ops (native/cpu/unary.cc, binary.cc): unary math and activations, binary
// arithmetic and comparisons with broadcasting, where, maskedFill, copies and casts.
import { type DType, Tensor } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { DT, native, P, putElementwise } from "./native.js";
import { MAX_DIMS, refKernel } from "./util.js";

const F: DType[] = ["float32"];
const FI: DType[] = ["float32", "int32"];
const FIB: DType[] = ["float32", "int32", "bool"];
const PLAIN: DType[] = ["float32", "float64", "int32", "bool", "int8", "uint8"];

// Op codes of native/cpu/unary.cc and binary.cc (enum UnaryOp / BinaryOp).
const UNARY = [
  "neg", "exp", "abs", "log", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "sign", "sin", "cos", "tanh", "sigmoid",
  "erf", "floor", "ceil", "round", "relu", "leakyRelu", "elu", "gelu", "geluTanh", "silu", "softplus", "clamp", "logicalNot",
];
const BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "geluBackward", "geluTanhBackward", "eq", "ne", "lt", "le", "gt", "ge", "logicalAnd", "logicalOr", "logicalXor"];
const code = (list: string[], name: string) => list.indexOf(name);

// These kernels write every output element (sliceBackward, which writes one block into zeros, does not).
const OVERWRITES = { overwrites: true };

type Attrs = Record<string, any>;

/** Registers a unary kernel; `attrs` maps the op's attributes to the four native parameters. */
function unary(op: string, dtypes: DType[], attrs?: (a: Attrs) => number[], opCode?: (a: Attrs) => number): void {
  const fixed = code(UNARY, op);
  registerKernel(op, "cpu", dtypes, ([x], [out], a: Attrs) => {
    if (out.ndim > MAX_DIMS) return refKernel(op, [x], [out], a);
    let i = putElementwise(opCode ? opCode(a) : fixed, [x], out);
    const v = attrs ? attrs(a) : [];
    for (let j = 0; j < 4; j++) P[i++] = v[j] ?? 0;
    native.unary(x.storage.data, out.storage.data);
  }, OVERWRITES);
}

for (const op of ["exp", "log", "log1p", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tanh", "sigmoid", "erf", "silu"]) unary(op, F);
for (const op of ["neg", "abs", "square", "sign", "floor", "ceil", "relu"]) unary(op, FI);
unary("logicalNot", FIB);
unary("round", F, (a) => [a.decimals]);
unary("leakyRelu", F, (a) => [a.negativeSlope]);
unary("elu", F, (a) => [a.alpha]);
unary("gelu", F, undefined, (a) => code(UNARY, a.approximate === "tanh" ? "geluTanh" : "gelu"));
unary("softplus", F, (a) => [a.beta, a.threshold]);
unary("clamp", FI, (a) => [a.min ?? 0, a.max ?? 0, a.min === null ? 0 : 1, a.max === null ? 0 : 1]);

function binary(op: string, dtypes: DType[]): void {
  const c = code(BINARY, op);
  registerKernel(op, "cpu", dtypes, ([a, b], [out]) => {
    if (out.ndim > MAX_DIMS) return refKernel(op, [a, b], [out], {});
    putElementwise(c, [a, b], out);
    native.binary(a.storage.data, b.storage.data, out.storage.data);
  }, OVERWRITES);
}

for (const op of ["add", "sub", "mul", "maximum", "minimum"]) binary(op, FI);
// In place: dst (inputs[0], contiguous) ← dst + src; the native loop reads each element before writing it.
registerKernel("add_", "cpu", FI, ([dst, src]) => {
  if (dst.ndim > MAX_DIMS) return refKernel("add_", [dst, src], [], {});
  putElementwise(code(BINARY, "add"), [dst, src], dst);
  native.binary(dst.storage.data, src.storage.data, dst.storage.data);
});
for (const op of ["div", "pow"]) binary(op, F);
registerKernel<{ approximate: "none" | "tanh" }>("geluBackward", "cpu", F, ([g, x], [out], a) => {
  if (out.ndim > MAX_DIMS) return refKernel("geluBackward", [g, x], [out], a);
  putElementwise(code(BINARY, a.approximate === "tanh" ? "geluTanhBackward" : "geluBackward"), [g, x], out);
  native.binary(g.storage.data, x.storage.data, out.storage.data);
}, OVERWRITES);
for (const op of ["eq", "ne", "lt", "le", "gt", "ge", "logicalAnd", "logicalOr", "logicalXor"]) binary(op, FIB);

// where(cond, a, b): registered by the dtype of a and b; the native loop only moves elements.
registerKernel("where", "cpu", ["float32", "float64", "int32", "bool"], ([c, a, b], [out]) => {
  if (out.ndim > MAX_DIMS) return refKernel("where", [c, a, b], [out], {});
  putElementwise(0, [c, a, b], out, a.dtype);
  native.where(c.storage.data, a.storage.data, b.storage.data, out.storage.data);
}, OVERWRITES);

registerKernel("maskedFill", "cpu", FI, ([x, mask], [out], a: { value: number }) => {
  if (out.ndim > MAX_DIMS) return refKernel("maskedFill", [x, mask], [out], a);
  P[putElementwise(0, [x, mask], out)] = a.value;
  native.maskedFill(x.storage.data, mask.storage.data, out.storage.data);
}, OVERWRITES);

function copyInto(x: Tensor, out: Tensor): void {
  putElementwise(0, [x], out);
  native.copy(x.storage.data, out.storage.data);
}

registerKernel("copy", "cpu", PLAIN, ([x], [out]) => (out.ndim > MAX_DIMS ? refKernel("copy", [x], [out], {}) : copyInto(x, out)), OVERWRITES);
// In place: dst (inputs[0], contiguous) ← src broadcast to dst's shape, already of dst's dtype.
registerKernel("copy_", "cpu", PLAIN, ([dst, src]) => (dst.ndim > MAX_DIMS ? refKernel("copy_", [dst, src], [], {}) : copyInto(src, dst)));

// The adjoint of slice: g written into zeros of the input's shape. When the slice is one contiguous
// block of the output (step 1, nothing but size-1 dims before it: e.g. select(0, i) of qkv), that
// block is a contiguous view and the native copy fills it; other slices use ref's strided loop.
registerKernel("sliceBackward", "cpu", ["float32", "float64"], ([g], [out], a: { dim: number; start: number; step: number; len: number; inShape: number[] }) => {
  const block = (a.step === 1 || a.len <= 1) && out.shape.slice(0, a.dim).every((n) => n === 1);
  if (!block || g.ndim > MAX_DIMS || g.ndim !== out.ndim) return refKernel("sliceBackward", [g], [out], a);
  copyInto(g, new Tensor(out.storage, g.shape, undefined, out.offset + a.start * out.strides[a.dim]));
});

registerKernel("cast", "cpu", ["float32", "float64", "int32", "bool"], ([x], [out], a: { dtype: DType }) => {
  if (out.ndim > MAX_DIMS || DT[a.dtype] === undefined) return refKernel("cast", [x], [out], a);
  putElementwise(0, [x], out);
  native.cast(x.storage.data, out.storage.data);
}, OVERWRITES);
