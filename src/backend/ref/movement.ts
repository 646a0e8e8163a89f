// Reference kernels for the movement and indexing ops (concat, pad, flip, triu/tril, gather,
// scatterAdd, oneHot, embedding and the adjoints). Index values were checked by the ops' meta.
import { contiguousStrides, type DType, type Tensor } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { forEachOffset, readF64, writeOut } from "./iter.js";

const PLAIN: DType[] = ["float32", "float64", "int32", "bool", "int8", "uint8"];
const F: DType[] = ["float32", "float64"];

/** Offsets of t's elements for the positions of `shape` (which fits inside t's shape), row-major. */
function offsetsIn(t: Tensor, shape: readonly number[], strides: readonly number[] = t.strides): Int32Array {
  let n = 1;
  for (const d of shape) n *= d;
  const offs = new Int32Array(n);
  forEachOffset(shape, strides, t.offset, (i, p) => (offs[i] = p));
  return offs;
}

/** `strides` with dim's stride set to 0: the offset of an element's row along dim. */
function withoutDim(strides: readonly number[], dim: number): number[] {
  return strides.map((s, d) => (d === dim ? 0 : s));
}

registerKernel("concat", "ref", PLAIN, (xs, [out], { dim }: { dim: number }) => {
  const o = out.storage.data;
  let start = 0;
  for (const x of xs) {
    const vals = x.dataSync();
    forEachOffset(x.shape, out.strides, start * out.strides[dim], (i, p) => (o[p] = vals[i]));
    start += x.shape[dim];
  }
});

registerKernel("flip", "ref", PLAIN, ([x], [out], { dims }: { dims: number[] }) => {
  if (x.size === 0) return;
  // Read x with the flipped dims' strides negated, starting from their last element.
  const strides = [...x.strides];
  let off = x.offset;
  for (const d of dims) {
    off += (x.shape[d] - 1) * strides[d];
    strides[d] = -strides[d];
  }
  const xd = x.storage.data;
  const o = out.storage.data;
  forEachOffset(x.shape, strides, off, (i, p) => (o[i] = xd[p]));
});

function triangle(upper: boolean) {
  return ([x]: Tensor[], [out]: Tensor[], { diagonal }: { diagonal: number }) => {
    const nd = x.ndim;
    const rows = x.shape[nd - 2];
    const cols = x.shape[nd - 1];
    const xd = x.storage.data;
    const o = out.storage.data;
    forEachOffset(x.shape, x.strides, x.offset, (i, p) => {
      const c = i % cols;
      const r = Math.floor(i / cols) % rows;
      if (upper ? c - r >= diagonal : c - r <= diagonal) o[i] = xd[p];
    });
  };
}
registerKernel("triu", "ref", PLAIN, triangle(true));
registerKernel("tril", "ref", PLAIN, triangle(false));

interface PadAttrs {
  before: number[];
  after: number[];
  mode: "constant" | "reflect" | "replicate" | "circular";
  value: number;
}

/** Per dim: the source index of each output index (-1: the constant fill). */
function padSources(inShape: readonly number[], outShape: readonly number[], a: PadAttrs): Int32Array[] {
  return inShape.map((n, d) => {
    const src = new Int32Array(outShape[d]);
    for (let o = 0; o < src.length; o++) {
      let j = o - a.before[d];
      if (j < 0 || j >= n) {
        if (a.mode === "constant") j = -1;
        else if (a.mode === "reflect") j = j < 0 ? -j : 2 * (n - 1) - j; // the edge is not repeated
        else if (a.mode === "replicate") j = j < 0 ? 0 : n - 1;
        else j = ((j % n) + n) % n;
      }
      src[o] = j;
    }
    return src;
  });
}

/** Calls fn(i, offset) for every element i of outShape whose source lies in the input (offset by `strides`). */
function forEachSource(outShape: readonly number[], src: Int32Array[], strides: readonly number[], base: number, fn: (i: number, p: number) => void): void {
  const nd = outShape.length;
  let n = 1;
  for (const d of outShape) n *= d;
  const idx = new Array<number>(nd).fill(0);
  for (let i = 0; i < n; i++) {
    let p = base;
    let inside = true;
    for (let d = 0; d < nd; d++) {
      const j = src[d][idx[d]];
      if (j < 0) inside = false;
      p += j * strides[d];
    }
    if (inside) fn(i, p);
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
}

registerKernel("pad", "ref", PLAIN, ([x], [out], a: PadAttrs) => {
  const o = out.storage.data;
  if (a.mode === "constant" && a.value !== 0) o.fill(out.dtype === "bool" ? (a.value ? 1 : 0) : a.value);
  const xd = x.storage.data;
  forEachSource(out.shape, padSources(x.shape, out.shape, a), x.strides, x.offset, (i, p) => (o[i] = xd[p]));
});

registerKernel("padBackward", "ref", F, ([g], [out], a: PadAttrs & { inShape: number[] }) => {
  // NOTE: reflect/replicate/circular send several outputs to one source: accumulate in float64.
  const acc = new Float64Array(out.size);
  const gv = g.dataSync();
  forEachSource(g.shape, padSources(a.inShape, g.shape, a), contiguousStrides(a.inShape), 0, (i, p) => (acc[p] += gv[i]));
  writeOut(out, acc);
});

registerKernel("gather", "ref", PLAIN, ([x, index], [out], { dim }: { dim: number }) => {
  const rows = offsetsIn(x, index.shape, withoutDim(x.strides, dim));
  const iv = index.dataSync();
  const xd = x.storage.data;
  const o = out.storage.data;
  const s = x.strides[dim];
  for (let i = 0; i < iv.length; i++) o[i] = xd[rows[i] + iv[i] * s];
});

registerKernel("scatterAdd", "ref", ["float32", "float64", "int32"], ([x, index, src], [out], { dim }: { dim: number }) => {
  // Accumulate in float64 and round once when written.
  const acc = readF64(x);
  const cs = contiguousStrides(x.shape);
  const rows = new Int32Array(index.size);
  forEachOffset(index.shape, withoutDim(cs, dim), 0, (i, p) => (rows[i] = p));
  const from = offsetsIn(src, index.shape);
  const iv = index.dataSync();
  const sd = src.storage.data;
  for (let i = 0; i < iv.length; i++) acc[rows[i] + iv[i] * cs[dim]] += sd[from[i]];
  writeOut(out, acc);
});

registerKernel("oneHot", "ref", ["int32"], ([indices], [out], { numClasses }: { numClasses: number }) => {
  const iv = indices.dataSync();
  const o = out.storage.data;
  for (let i = 0; i < iv.length; i++) o[i * numClasses + iv[i]] = 1;
});

registerKernel("embedding", "ref", PLAIN, ([w, indices], [out]) => {
  const dim = w.shape[1];
  const iv = indices.dataSync();
  const wd = w.storage.data;
  const o = out.storage.data;
  const [rs, cs] = w.strides;
  for (let i = 0; i < iv.length; i++) {
    const row = w.offset + iv[i] * rs;
    for (let j = 0; j < dim; j++) o[i * dim + j] = wd[row + j * cs];
  }
});

registerKernel("embeddingBackward", "ref", F, ([g, indices], [out], { paddingIdx }: { paddingIdx: number }) => {
  const dim = out.shape[1];
  const iv = indices.dataSync();
  const gv = g.dataSync();
  const acc = new Float64Array(out.size);
  for (let i = 0; i < iv.length; i++) {
    if (iv[i] === paddingIdx) continue;
    const row = iv[i] * dim;
    for (let j = 0; j < dim; j++) acc[row + j] += gv[i * dim + j];
  }
  writeOut(out, acc);
});
