// Views (reshape, permute, expand, slice, …) share storage without copying; `contiguous`, `clone`
// and `to(dtype)` copy. Their gradient rules move the gradient back to the input's layout.
import {
  checkShape,
  contiguousStrides,
  DTypeError,
  normAxis,
  shapeStr,
  ShapeError,
  sizeOf,
  Tensor,
  ValueError,
  type DType,
  DTYPES,
  isFloatDType,
} from "../tensor/index.js";
import { defineOp, runOp, type OpDef } from "./op.js";
import { method } from "./util.js";
import { sumToShape } from "./reduce.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    reshape(...shape: (number | number[])[]): Tensor;
    view(...shape: (number | number[])[]): Tensor;
    permute(...dims: (number | number[])[]): Tensor;
    transpose(dim0: number, dim1: number): Tensor;
    /** Transpose of a 2-D tensor (or of the last two dims), like `x.T` / `x.mT`. */
    t(): Tensor;
    squeeze(dim?: number | number[]): Tensor;
    unsqueeze(dim: number): Tensor;
    expand(...shape: (number | number[])[]): Tensor;
    broadcastTo(shape: number[]): Tensor;
    slice(dim: number, start?: number, end?: number, step?: number): Tensor;
    narrow(dim: number, start: number, length: number): Tensor;
    select(dim: number, index: number): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    contiguous(): Tensor;
    clone(): Tensor;
    to(dtype: DType): Tensor;
    float(): Tensor;
    int(): Tensor;
    bool(): Tensor;
    detach(): Tensor;
  }
}

/** Accepts `f(2, 3)`, `f([2, 3])`. */
export function shapeArgs(args: (number | readonly number[])[]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as number[])];
  return args as number[];
}

function inferShape(op: string, x: Tensor, shape: number[]): number[] {
  const out = [...shape];
  const neg = out.filter((d) => d === -1).length;
  if (neg > 1) throw new ValueError(`${op}: only one dimension can be -1, got ${shapeStr(shape)}`);
  for (const d of out)
    if (d !== -1 && (!Number.isInteger(d) || d < 0)) throw new ValueError(`${op}: invalid shape ${shapeStr(shape)}`);
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  if (neg) {
    if (known === 0 || x.size % known !== 0)
      throw new ShapeError(`${op}: shape ${shapeStr(shape)} is invalid for a tensor of shape ${shapeStr(x.shape)} (${x.size} elements)`);
    out[out.indexOf(-1)] = x.size / known;
  }
  if (sizeOf(out) !== x.size)
    throw new ShapeError(`${op}: shape ${shapeStr(shape)} is invalid for a tensor of shape ${shapeStr(x.shape)} (${x.size} elements)`);
  return out;
}

const reshapeView = defineOp<{ shape: number[] }>({
  name: "reshape",
  meta: ([x], a) => [{ shape: a.shape, dtype: x.dtype }],
  view: (x, a) => ({ shape: a.shape, strides: contiguousStrides(a.shape), offset: x.offset }),
  grad: (g, { inputs: [x] }) => [reshape(g, x.shape as number[])],
});

/** A tensor with the same values in a new shape (a view when the input is contiguous). One dim may be -1. */
export function reshape(x: Tensor, ...shape: (number | readonly number[])[]): Tensor {
  const s = inferShape("reshape", x, shapeArgs(shape));
  return runOp(reshapeView, [contiguous(x)], { shape: s });
}

/** Like reshape, but the input must be contiguous (it never copies). */
export function view(x: Tensor, ...shape: (number | readonly number[])[]): Tensor {
  const s = inferShape("view", x, shapeArgs(shape));
  if (!x.isContiguous())
    throw new ShapeError(`view: the tensor of shape ${shapeStr(x.shape)} is not contiguous; use reshape() or call contiguous() first`);
  return runOp(reshapeView, [x], { shape: s });
}

const permuteOp = defineOp<{ dims: number[] }>({
  name: "permute",
  meta([x], { dims }) {
    if (dims.length !== x.ndim || new Set(dims).size !== dims.length)
      throw new ShapeError(`permute: dims ${shapeStr(dims)} is not a permutation of the ${x.ndim} dims of a tensor of shape ${shapeStr(x.shape)}`);
    return [{ shape: dims.map((d) => x.shape[d]), dtype: x.dtype }];
  },
  view: (x, { dims }) => ({ shape: dims.map((d) => x.shape[d]), strides: dims.map((d) => x.strides[d]), offset: x.offset }),
  grad(g, { attrs: { dims } }) {
    const inv = new Array<number>(dims.length);
    dims.forEach((d, i) => (inv[d] = i));
    return [permute(g, inv)];
  },
});

/** Reorders dimensions (a view), like `x.permute(2, 0, 1)`. */
export function permute(x: Tensor, ...dims: (number | readonly number[])[]): Tensor {
  const d = shapeArgs(dims).map((a) => normAxis("permute", a, x.ndim));
  return runOp(permuteOp, [x], { dims: d });
}

/** Swaps two dimensions (a view). */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normAxis("transpose", dim0, x.ndim);
  const b = normAxis("transpose", dim1, x.ndim);
  const dims = Array.from({ length: x.ndim }, (_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return runOp(permuteOp, [x], { dims });
}

const squeezeOp = defineOp<{ shape: number[]; strides: number[] }>({
  name: "squeeze",
  meta: ([x], a) => [{ shape: a.shape, dtype: x.dtype }],
  view: (x, a) => ({ shape: a.shape, strides: a.strides, offset: x.offset }),
  grad: (g, { inputs: [x] }) => [reshape(g, x.shape as number[])],
});

/** Removes dims of size 1 (all, or the given ones), as a view. */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  const axes = dim === undefined ? null : (typeof dim === "number" ? [dim] : dim).map((a) => normAxis("squeeze", a, x.ndim));
  const shape: number[] = [];
  const strides: number[] = [];
  x.shape.forEach((d, i) => {
    if (d === 1 && (axes === null || axes.includes(i))) return;
    shape.push(d);
    strides.push(x.strides[i]);
  });
  return runOp(squeezeOp, [x], { shape, strides });
}

/** Inserts a dim of size 1 at `dim` (a view). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normAxis("unsqueeze", dim, x.ndim + 1);
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x.ndim ? x.strides[d] * x.shape[d] : 1);
  return runOp(squeezeOp, [x], { shape, strides });
}

const expandOp = defineOp<{ shape: number[] }>({
  name: "expand",
  meta([x], { shape }) {
    const off = shape.length - x.ndim;
    const bad = off < 0 || x.shape.some((d, i) => d !== 1 && d !== shape[i + off]);
    if (bad) throw new ShapeError(`expand: a tensor of shape ${shapeStr(x.shape)} cannot be expanded to ${shapeStr(shape)}`);
    return [{ shape, dtype: x.dtype }];
  },
  view(x, { shape }) {
    const off = shape.length - x.ndim;
    const strides = shape.map((d, i) => {
      if (i < off) return 0; // new leading dims
      return x.shape[i - off] === 1 && d !== 1 ? 0 : x.strides[i - off];
    });
    return { shape, strides, offset: x.offset };
  },
  grad: (g, { inputs: [x] }) => [sumToShape(g, x.shape)],
});

/** Broadcasts to a larger shape without copying (stride 0); -1 keeps a dim. */
export function expand(x: Tensor, ...shape: (number | readonly number[])[]): Tensor {
  const s = shapeArgs(shape);
  const off = s.length - x.ndim;
  const full = s.map((d, i) => (d === -1 && i >= off ? x.shape[i - off] : d));
  checkShape("expand", full);
  return runOp(expandOp, [x], { shape: full });
}

/** NumPy's broadcast_to (a view). */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  return expand(x, shape);
}

interface SliceAttrs {
  dim: number;
  start: number;
  step: number;
  len: number;
}

const sliceOp: OpDef<SliceAttrs> = defineOp<SliceAttrs>({
  name: "slice",
  meta([x], a) {
    const shape = [...x.shape];
    shape[a.dim] = a.len;
    return [{ shape, dtype: x.dtype }];
  },
  view(x, a) {
    const shape = [...x.shape];
    shape[a.dim] = a.len;
    const strides = [...x.strides];
    strides[a.dim] = x.strides[a.dim] * a.step;
    return { shape, strides, offset: x.offset + a.start * x.strides[a.dim] };
  },
  grad: (g, { inputs: [x], attrs }) => [runOp(sliceBackwardOp, [g], { ...attrs, inShape: x.shape as number[] })],
  // Backward adds g into this slice of the input's accumulated gradient (q, k, v of one packed projection).
  gradRegion: (acc, { attrs }) => runOp(sliceOp, [acc], attrs),
});

/** Scatters a slice's gradient into zeros of the input's shape (the adjoint of slice). */
export const sliceBackwardOp: OpDef<SliceAttrs & { inShape: number[] }> = defineOp<SliceAttrs & { inShape: number[] }>({
  name: "sliceBackward",
  meta: ([g], a) => [{ shape: a.inShape, dtype: g.dtype }],
  grad: (gg, { attrs }) => [runOp(sliceOp, [gg], attrs)],
});

/**
 * Elements start, start+step, … before end along dim, as a view — Python's `x[start:end:step]`.
 * Negative start/end count from the end; out-of-range bounds are clamped like Python's.
 */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  const d = normAxis("slice", dim, x.ndim);
  if (!Number.isInteger(step) || step <= 0) throw new ValueError(`slice: step must be a positive integer, got ${step}`);
  const n = x.shape[d];
  const clampIdx = (i: number) => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
  const s = clampIdx(start);
  const e = end === undefined ? n : clampIdx(end);
  const len = e > s ? Math.ceil((e - s) / step) : 0;
  return runOp(sliceOp, [x], { dim: d, start: s, step, len });
}

/** `length` elements from `start` along dim (a view), like torch.narrow. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normAxis("narrow", dim, x.ndim);
  const s = start < 0 ? start + x.shape[d] : start;
  if (s < 0 || length < 0 || s + length > x.shape[d])
    throw new ValueError(`narrow: start ${start} and length ${length} exceed dim ${dim} of size ${x.shape[d]}`);
  return slice(x, d, s, s + length);
}

/** The sub-tensor at `index` along dim, with that dim removed (a view), like `x[:, i]`. */
export function select(x: Tensor, dim: number, index: number): Tensor {
  const d = normAxis("select", dim, x.ndim);
  const n = x.shape[d];
  const i = index < 0 ? index + n : index;
  if (!Number.isInteger(i) || i < 0 || i >= n)
    throw new ValueError(`select: index ${index} is out of range for dim ${dim} of size ${n}`);
  return squeeze(slice(x, d, i, i + 1), d);
}

/** Flattens dims startDim..endDim into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis("flatten", startDim, x.ndim);
  const e = normAxis("flatten", endDim, x.ndim);
  const shape = [...x.shape.slice(0, s), x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

const copyOp = defineOp<{}>({
  name: "copy",
  meta: ([x]) => [{ shape: [...x.shape], dtype: x.dtype }],
  grad: (g) => [g],
});

/** A contiguous tensor with the same values (the tensor itself when already contiguous). */
export function contiguous(x: Tensor): Tensor {
  return x.isContiguous() ? x : runOp(copyOp, [x], {});
}

/** A copy with its own storage (recorded by autograd, like torch.clone). */
export function clone(x: Tensor): Tensor {
  return runOp(copyOp, [x], {});
}

const castOp = defineOp<{ dtype: DType }>({
  name: "cast",
  meta([x], { dtype }) {
    if (!DTYPES[dtype]) throw new DTypeError(`to: unknown dtype '${dtype}'`);
    if (!DTYPES[dtype].computable || !DTYPES[x.dtype].computable)
      throw new DTypeError(`to: converting ${x.dtype} to ${dtype} is not supported yet (packed and 16-bit float dtypes are storage-only)`);
    return [{ shape: [...x.shape], dtype }];
  },
  grad: (g, { inputs: [x] }) => [isFloatDType(x.dtype) ? to(g, x.dtype) : null],
});

/** Converts to another dtype (the tensor itself if already that dtype). Floats → ints truncate toward zero. */
export function to(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? x : runOp(castOp, [x], { dtype });
}

/** The same values, cut from the graph: shares storage, never requires grad. */
export function detach(x: Tensor): Tensor {
  const out = new Tensor(x.storage, x.shape, x.strides, x.offset);
  out.base = x.base ?? x;
  return out;
}

method("reshape", (x, ...s) => reshape(x, ...s));
method("view", (x, ...s) => view(x, ...s));
method("permute", (x, ...d) => permute(x, ...d));
method("transpose", (x, a, b) => transpose(x, a, b));
method("t", (x) => {
  if (x.ndim < 2) return x;
  return transpose(x, -2, -1);
});
method("squeeze", squeeze);
method("unsqueeze", unsqueeze);
method("expand", (x, ...s) => expand(x, ...s));
method("broadcastTo", broadcastTo);
method("slice", slice);
method("narrow", narrow);
method("select", select);
method("flatten", flatten);
method("contiguous", contiguous);
method("clone", clone);
method("to", to);
method("float", (x) => to(x, "float32"));
method("int", (x) => to(x, "int32"));
method("bool", (x) => to(x, "bool"));
method("detach", detach);
