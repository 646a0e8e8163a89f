// Strided iteration helpers for the reference kernels: visit every element of an output shape
// with the matching offsets into inputs of any strides (broadcast dims have stride 0).
import { broadcastStrides, type Tensor, type TypedArray } from "../../tensor/index.js";

/** Calls fn(outIndex, offset) for each element of t in row-major order. */
export function forEachOffset(shape: readonly number[], strides: readonly number[], offset: number, fn: (i: number, p: number) => void): void {
  const nd = shape.length;
  let n = 1;
  for (const d of shape) n *= d;
  if (n === 0) return;
  const idx = new Array<number>(nd).fill(0);
  let p = offset;
  for (let i = 0; i < n; i++) {
    fn(i, p);
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      p += strides[d];
      if (idx[d] < shape[d]) break;
      p -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** Offsets of every element of t (read as outShape, broadcasting) in row-major order. */
export function offsetsOf(t: Tensor, outShape: readonly number[] = t.shape): Int32Array | null {
  const st = broadcastStrides(t.shape, t.strides, outShape);
  // Fast path signal: contiguous and same shape → null (caller uses offset + i).
  if (outShape.length === t.shape.length && t.isContiguous() && t.shape.every((d, i) => d === outShape[i])) return null;
  let n = 1;
  for (const d of outShape) n *= d;
  const offs = new Int32Array(n);
  forEachOffset(outShape, st, t.offset, (i, p) => (offs[i] = p));
  return offs;
}

/** out[i] = f(x[i]) over any strides; x is broadcast to out's shape. */
export function mapUnary(x: Tensor, out: Tensor, f: (v: number) => number): void {
  // NOTE: out is contiguous but may start at an offset (in-place ops write into views).
  const o = out.offset === 0 ? out.storage.data : out.storage.data.subarray(out.offset);
  const xs = x.storage.data;
  const n = out.size;
  const ox = offsetsOf(x, out.shape);
  if (ox === null) {
    const off = x.offset;
    for (let i = 0; i < n; i++) o[i] = f(xs[off + i]);
  } else for (let i = 0; i < n; i++) o[i] = f(xs[ox[i]]);
}

/** out[i] = f(a[i], b[i]) with broadcasting to out's shape. */
export function mapBinary(a: Tensor, b: Tensor, out: Tensor, f: (x: number, y: number) => number): void {
  const o = out.offset === 0 ? out.storage.data : out.storage.data.subarray(out.offset);
  const as = a.storage.data;
  const bs = b.storage.data;
  const n = out.size;
  const oa = offsetsOf(a, out.shape);
  const ob = offsetsOf(b, out.shape);
  if (oa === null && ob === null) {
    const pa = a.offset;
    const pb = b.offset;
    for (let i = 0; i < n; i++) o[i] = f(as[pa + i], bs[pb + i]);
    return;
  }
  const pa = a.offset;
  const pb = b.offset;
  for (let i = 0; i < n; i++) o[i] = f(as[oa ? oa[i] : pa + i], bs[ob ? ob[i] : pb + i]);
}

/** out[i] = f(a[i], b[i], c[i]) with broadcasting to out's shape. */
export function mapTernary(a: Tensor, b: Tensor, c: Tensor, out: Tensor, f: (x: number, y: number, z: number) => number): void {
  const o = out.offset === 0 ? out.storage.data : out.storage.data.subarray(out.offset);
  const [as, bs, cs] = [a.storage.data, b.storage.data, c.storage.data];
  const [oa, ob, oc] = [offsetsOf(a, out.shape), offsetsOf(b, out.shape), offsetsOf(c, out.shape)];
  for (let i = 0; i < out.size; i++)
    o[i] = f(as[oa ? oa[i] : a.offset + i], bs[ob ? ob[i] : b.offset + i], cs[oc ? oc[i] : c.offset + i]);
}

/** A contiguous row-major copy of t's values as float64 (for kernels that want plain indexing). */
export function readF64(t: Tensor): Float64Array {
  const out = new Float64Array(t.size);
  const d = t.storage.data;
  const ox = offsetsOf(t);
  if (ox === null) for (let i = 0; i < out.length; i++) out[i] = d[t.offset + i];
  else for (let i = 0; i < out.length; i++) out[i] = d[ox[i]];
  return out;
}

/** Writes float64 values into an output tensor's (contiguous) storage, rounding to its dtype. */
export function writeOut(out: Tensor, vals: ArrayLike<number>): void {
  (out.storage.data as TypedArray).set(vals as ArrayLike<number>);
}

/**
 * Offsets of x's elements grouped for a reduction over `axes`: group o (one output element, kept
 * axes in row-major order) holds offs[o*inner .. o*inner+inner) in row-major order of the reduced axes.
 */
export function reduceOffsets(x: Tensor, axes: readonly number[]): { offs: Int32Array; outer: number; inner: number } {
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const order = [...kept, ...axes];
  const shape = order.map((i) => x.shape[i]);
  const strides = order.map((i) => x.strides[i]);
  let inner = 1;
  for (const a of axes) inner *= x.shape[a];
  let n = 1;
  for (const d of shape) n *= d;
  const offs = new Int32Array(n);
  forEachOffset(shape, strides, x.offset, (i, p) => (offs[i] = p));
  return { offs, outer: inner === 0 ? kept.reduce((a, i) => a * x.shape[i], 1) : n / inner, inner };
}
