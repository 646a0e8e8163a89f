// Indexing ops driven by int32 index tensors: gather, indexSelect, scatterAdd, oneHot, embedding
// (with its backward, a scatter-add of rows). Index values are checked in meta, so that an
// out-of-range index gives the same IndexError on every backend and kernels may trust them.
import { DTypeError, IndexError, normAxis, shapeStr, ShapeError, Tensor, ValueError } from "../tensor/index.js";
import { defineOp, runOp, type OpDef } from "./op.js";
import { method } from "./util.js";
import { expand, reshape } from "./view.js";
import { mul } from "./binary.js";
import { tensor, zerosLike } from "./creation.js";
import { pad } from "./movement.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    gather(dim: number, index: Tensor): Tensor;
    indexSelect(dim: number, index: Tensor): Tensor;
    scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    oneHot(numClasses?: number): Tensor;
  }
}

function checkIndexDType(op: string, index: Tensor, what = "index"): void {
  if (!(index instanceof Tensor)) throw new ValueError(`${op}: ${what} must be an int32 tensor, got ${typeof index}`);
  if (index.dtype !== "int32") throw new DTypeError(`${op}: ${what} has dtype ${index.dtype}; expected int32 (convert with .int())`);
}

/** Throws an IndexError naming the op, the bad index and the valid range unless every value is in [0, n). */
function checkIndexRange(op: string, index: Tensor, n: number, what: string): void {
  const v = index.dataSync();
  for (let i = 0; i < v.length; i++)
    if (v[i] < 0 || v[i] >= n)
      throw new IndexError(`${op}: index ${v[i]} is out of range for ${what} (${n > 0 ? `expected 0 to ${n - 1}` : "it is empty"})`);
}

/** gather/scatterAdd: index has x's ndim and fits in x except along dim. */
function checkIndexShape(op: string, x: Tensor, index: Tensor, dim: number): void {
  if (x.ndim === 0) throw new ShapeError(`${op}: the input must have at least one dim, got a 0-d tensor; unsqueeze it first`);
  if (index.ndim !== x.ndim)
    throw new ShapeError(`${op}: index has shape ${shapeStr(index.shape)} but the input has shape ${shapeStr(x.shape)}; they need the same number of dims`);
  index.shape.forEach((n, d) => {
    if (d !== dim && n > x.shape[d])
      throw new ShapeError(
        `${op}: index of shape ${shapeStr(index.shape)} is larger than the input of shape ${shapeStr(x.shape)} in dim ${d}; it may only be larger in dim ${dim}`,
      );
  });
}

interface DimAttrs {
  /** Normalized (non-negative) dim. */
  dim: number;
}

const f = (shape: number[]) => ({ shape });
const idx = (shape: number[], hi: number) => ({ shape, dtype: "int32" as const, range: [0, hi] as [number, number], noGrad: true });
const ints = (shape: number[], values: number[]) => ({ shape, dtype: "int32" as const, values, noGrad: true });

const gatherOp: OpDef<DimAttrs> = defineOp<DimAttrs>({
  name: "gather",
  // inputs [x, index (int32, x's ndim)], attrs {dim}: out[i][j] = x[i][index[i][j]] for dim 1.
  meta([x, index], { dim }) {
    checkIndexDType("gather", index);
    checkIndexShape("gather", x, index, dim);
    checkIndexRange("gather", index, x.shape[dim], `dim ${dim} of size ${x.shape[dim]}`);
    return [{ shape: [...index.shape], dtype: x.dtype }];
  },
  grad: (g, { inputs: [x, index], attrs }) => [runOp(scatterAddOp, [zerosLike(x), index, g], attrs), null],
  cases: [
    { name: "dim 1", inputs: [f([3, 4]), idx([3, 2], 4)], call: (x, i) => gather(x, 1, i) },
    { name: "dim 0", inputs: [f([3, 4]), idx([2, 4], 3)], call: (x, i) => gather(x, 0, i) },
    { name: "index smaller than the input", inputs: [f([3, 5]), idx([2, 3], 5)], call: (x, i) => gather(x, 1, i) },
    { name: "negative dim, index longer along it", inputs: [f([2, 3, 4]), idx([2, 3, 6], 4)], call: (x, i) => x.gather(-1, i) },
    { name: "transposed input and index", inputs: [f([4, 3]), idx([2, 3], 4)], call: (x, i) => gather(x.t(), 1, i.t()) },
    { name: "expanded index", inputs: [f([4, 5]), idx([1, 3], 5)], call: (x, i) => gather(x, 1, i.expand(4, 3)) },
    { name: "repeated indices", inputs: [f([2, 3]), ints([2, 4], [0, 0, 2, 0, 1, 1, 1, 2])], call: (x, i) => gather(x, 1, i) },
    { name: "int32 input", inputs: [{ shape: [3, 4], dtype: "int32", range: [-9, 9] }, idx([3, 4], 4)], call: (x, i) => gather(x, 1, i) },
    { name: "empty index", inputs: [f([3, 4]), idx([3, 0], 4)], call: (x, i) => gather(x, 1, i) },
    { name: "index out of range", inputs: [f([2, 4]), ints([2, 1], [1, 4])], call: (x, i) => gather(x, 1, i), throws: { error: IndexError, message: /gather: index 4 is out of range for dim 1 of size 4 \(expected 0 to 3\)/ } },
    { name: "negative index", inputs: [f([2, 4]), ints([1, 2], [0, -1])], call: (x, i) => gather(x, 0, i), throws: { error: IndexError, message: /gather: index -1 is out of range for dim 0 of size 2/ } },
    { name: "ndim mismatch", inputs: [f([2, 4]), idx([2], 2)], call: (x, i) => gather(x, 1, i), throws: { error: ShapeError, message: /gather: index has shape \[2\] but the input has shape \[2,4\]/ } },
    { name: "index larger in another dim", inputs: [f([2, 4]), idx([3, 1], 2)], call: (x, i) => gather(x, 1, i), throws: { error: ShapeError, message: /gather: index of shape \[3,1\] is larger than the input of shape \[2,4\] in dim 0/ } },
    { name: "float index", inputs: [f([2, 4]), f([2, 1])], call: (x, i) => gather(x, 1, i), throws: { error: DTypeError, message: /gather: index has dtype float32; expected int32/ } },
  ],
});

/** Values of x picked along dim by index (same ndim as x): out[i][j] = x[i][index[i][j]] for dim 1, like torch.gather. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  return runOp(gatherOp, [x, index], { dim: normAxis("gather", dim, x.ndim) });
}

const scatterAddOp: OpDef<DimAttrs> = defineOp<DimAttrs>({
  name: "scatterAdd",
  // inputs [x, index (int32), src (x's dtype)], attrs {dim}: out = x, then out[i][index[i][j]] += src[i][j]
  // for dim 1, over index's shape (index fits in src everywhere and in x except along dim).
  meta([x, index, src], { dim }) {
    checkIndexDType("scatterAdd", index);
    if (!(src instanceof Tensor)) throw new ValueError(`scatterAdd: src must be a tensor, got ${typeof src}`);
    if (src.dtype !== x.dtype) throw new DTypeError(`scatterAdd: src has dtype ${src.dtype} but the input has ${x.dtype}; convert src with .to('${x.dtype}')`);
    checkIndexShape("scatterAdd", x, index, dim);
    if (src.ndim !== index.ndim || index.shape.some((n, d) => n > src.shape[d]))
      throw new ShapeError(`scatterAdd: index of shape ${shapeStr(index.shape)} does not fit in src of shape ${shapeStr(src.shape)}; index may not be larger than src in any dim`);
    checkIndexRange("scatterAdd", index, x.shape[dim], `dim ${dim} of size ${x.shape[dim]}`);
    return [{ shape: [...x.shape], dtype: x.dtype }];
  },
  grad(g, { inputs: [, index, src], attrs }) {
    let gs: Tensor = runOp(gatherOp, [g, index], attrs);
    // src elements outside index's shape are not added anywhere: zero gradient.
    if (index.shape.some((n, d) => n !== src.shape[d])) gs = pad(gs, [...index.shape].reverse().flatMap((n, k) => [0, src.shape[src.ndim - 1 - k] - n]));
    return [g, null, gs];
  },
  cases: [
    { name: "dim 0", inputs: [f([3, 4]), idx([5, 4], 3), f([5, 4])], call: (x, i, s) => scatterAdd(x, 0, i, s) },
    { name: "dim 1", inputs: [f([3, 4]), idx([3, 6], 4), f([3, 6])], call: (x, i, s) => scatterAdd(x, 1, i, s) },
    { name: "index smaller than src", inputs: [f([4, 3]), idx([2, 3], 4), f([3, 5])], call: (x, i, s) => scatterAdd(x, 0, i, s) },
    { name: "negative dim of 3-d", inputs: [f([2, 3, 4]), idx([2, 3, 5], 4), f([2, 3, 5])], call: (x, i, s) => x.scatterAdd(-1, i, s) },
    { name: "transposed views", inputs: [f([4, 3]), idx([3, 2], 4), f([2, 3])], call: (x, i, s) => scatterAdd(x.t(), 1, i, s.t()) },
    { name: "repeated indices", inputs: [f([2, 3]), ints([2, 4], [0, 0, 2, 0, 1, 1, 1, 2]), f([2, 4])], call: (x, i, s) => scatterAdd(x, 1, i, s) },
    { name: "int32", inputs: [{ shape: [3, 2], dtype: "int32" }, idx([4, 2], 3), { shape: [4, 2], dtype: "int32" }], call: (x, i, s) => scatterAdd(x, 0, i, s) },
    { name: "index out of range", inputs: [f([2, 3]), ints([1, 2], [2, 3]), f([1, 2])], call: (x, i, s) => scatterAdd(x, 1, i, s), throws: { error: IndexError, message: /scatterAdd: index 3 is out of range for dim 1 of size 3 \(expected 0 to 2\)/ } },
    { name: "src dtype differs", inputs: [f([2, 3]), idx([1, 2], 2), { shape: [1, 2], dtype: "int32" }], call: (x, i, s) => scatterAdd(x, 0, i, s), throws: { error: DTypeError, message: /scatterAdd: src has dtype int32 but the input has float32/ } },
    { name: "index larger than src", inputs: [f([2, 3]), idx([2, 3], 2), f([2, 2])], call: (x, i, s) => scatterAdd(x, 0, i, s), throws: { error: ShapeError, message: /scatterAdd: index of shape \[2,3\] does not fit in src of shape \[2,2\]/ } },
  ],
});

/** A copy of x with src added at the positions index names along dim (out-of-place torch.scatter_add). */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  return runOp(scatterAddOp, [x, index, src], { dim: normAxis("scatterAdd", dim, x.ndim) });
}

/** A 1-D index reshaped to lie along dim and broadcast to `shape`, as gather/scatterAdd want it. */
function spreadIndex(index: Tensor, dim: number, shape: readonly number[]): Tensor {
  const s = shape.map((_, d) => (d === dim ? index.size : 1));
  return expand(reshape(index, s), [...shape]);
}

const indexSelectOp: OpDef<DimAttrs> = defineOp<DimAttrs>({
  name: "indexSelect",
  // inputs [x, index (int32, 1-D or 0-d)], attrs {dim}. Composite: a gather with the index spread out.
  meta([x, index], { dim }) {
    checkIndexDType("indexSelect", index);
    if (x.ndim === 0) throw new ShapeError("indexSelect: the input must have at least one dim, got a 0-d tensor; unsqueeze it first");
    if (index.ndim > 1) throw new ShapeError(`indexSelect: index must be 1-D, got shape ${shapeStr(index.shape)}; flatten it first`);
    checkIndexRange("indexSelect", index, x.shape[dim], `dim ${dim} of size ${x.shape[dim]}`);
    const shape = [...x.shape];
    shape[dim] = index.size;
    return [{ shape, dtype: x.dtype }];
  },
  decompose([x, index], { dim }) {
    const shape = [...x.shape];
    shape[dim] = index.size;
    return runOp(gatherOp, [x, spreadIndex(index, dim, shape)], { dim });
  },
  grad: (g, { inputs: [x, index], attrs: { dim } }) => [runOp(scatterAddOp, [zerosLike(x), spreadIndex(index, dim, g.shape), g], { dim }), null],
  cases: [
    { name: "dim 0 with repeats", inputs: [f([4, 3]), idx([6], 4)], call: (x, i) => indexSelect(x, 0, i) },
    { name: "negative dim of 3-d", inputs: [f([2, 3, 4]), idx([5], 4)], call: (x, i) => x.indexSelect(-1, i) },
    { name: "middle dim", inputs: [f([2, 3, 4]), idx([2], 3)], call: (x, i) => indexSelect(x, 1, i) },
    { name: "0-d index", inputs: [f([3, 4]), ints([], [2])], call: (x, i) => indexSelect(x, 1, i) },
    { name: "transposed input", inputs: [f([3, 5]), idx([4], 3)], call: (x, i) => indexSelect(x.t(), 1, i) },
    { name: "strided index", inputs: [f([5, 2]), idx([7], 5)], call: (x, i) => indexSelect(x, 0, i.slice(0, 1, 7, 2)) },
    { name: "empty index", inputs: [f([3, 4]), idx([0], 3)], call: (x, i) => indexSelect(x, 0, i) },
    { name: "int32", inputs: [{ shape: [4, 3], dtype: "int32" }, idx([3], 4)], call: (x, i) => indexSelect(x, 0, i) },
    { name: "index out of range", inputs: [f([3, 4]), ints([2], [0, 3])], call: (x, i) => indexSelect(x, 0, i), throws: { error: IndexError, message: /indexSelect: index 3 is out of range for dim 0 of size 3 \(expected 0 to 2\)/ } },
    { name: "2-d index", inputs: [f([3, 4]), idx([2, 2], 3)], call: (x, i) => indexSelect(x, 0, i), throws: { error: ShapeError, message: /indexSelect: index must be 1-D, got shape \[2,2\]/ } },
  ],
});

/** The slices of x at the listed positions along dim (index 1-D int32), like torch.index_select. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  return runOp(indexSelectOp, [x, index], { dim: normAxis("indexSelect", dim, x.ndim) });
}

const oneHotOp = defineOp<{ numClasses: number }>({
  name: "oneHot",
  // inputs [indices (int32, any shape)], attrs {numClasses}; output int32 [..., numClasses].
  meta([indices], { numClasses }) {
    checkIndexDType("oneHot", indices, "indices");
    checkIndexRange("oneHot", indices, numClasses, `${numClasses} classes`);
    return [{ shape: [...indices.shape, numClasses], dtype: "int32" }];
  },
  cases: [
    { name: "4 classes", inputs: [idx([5], 4)], call: (i) => oneHot(i, 4) },
    { name: "inferred classes", inputs: [ints([4], [0, 3, 1, 3])], call: (i) => oneHot(i) },
    { name: "2-d indices, more classes than used", inputs: [idx([2, 3], 5)], call: (i) => i.oneHot(7) },
    { name: "transposed indices", inputs: [idx([3, 2], 3)], call: (i) => oneHot(i.t(), 3) },
    { name: "0-d index", inputs: [ints([], [1])], call: (i) => oneHot(i, 3) },
    { name: "empty", inputs: [idx([0], 3)], call: (i) => oneHot(i, 3) },
    { name: "class too large", inputs: [ints([3], [0, 4, 1])], call: (i) => oneHot(i, 4), throws: { error: IndexError, message: /oneHot: index 4 is out of range for 4 classes \(expected 0 to 3\)/ } },
    { name: "negative class", inputs: [ints([2], [-1, 0])], call: (i) => oneHot(i), throws: { error: IndexError, message: /oneHot: index -1 is out of range/ } },
    { name: "inferred from empty", inputs: [idx([0], 3)], call: (i) => oneHot(i), throws: { error: ValueError, message: /oneHot: cannot infer numClasses from an empty tensor/ } },
  ],
});

/** int32 one-hot rows [..., numClasses] of int32 class indices; numClasses -1 means max + 1, like F.one_hot. */
export function oneHot(indices: Tensor, numClasses = -1): Tensor {
  checkIndexDType("oneHot", indices, "indices");
  let n = numClasses;
  if (n === -1) {
    if (indices.size === 0) throw new ValueError("oneHot: cannot infer numClasses from an empty tensor; pass numClasses");
    const v = indices.dataSync();
    let max = v[0];
    for (let i = 1; i < v.length; i++) if (v[i] > max) max = v[i];
    n = max + 1;
  } else if (!Number.isInteger(n) || n < 0) throw new ValueError(`oneHot: numClasses must be a non-negative integer or -1, got ${numClasses}`);
  return runOp(oneHotOp, [indices], { numClasses: Math.max(n, 0) });
}

interface EmbeddingAttrs {
  /** The row that gets no gradient, in [0, numEmbeddings), or -1 for none; the forward ignores it. */
  paddingIdx: number;
}

const embeddingOp: OpDef<EmbeddingAttrs> = defineOp<EmbeddingAttrs>({
  name: "embedding",
  // inputs [weight (V, D), indices (int32, any shape)] — weight first, so its dtype picks the
  // kernel; output [...indices.shape, D]. Kernels need no attrs (paddingIdx only affects backward).
  meta([weight, indices]) {
    checkIndexDType("embedding", indices, "indices");
    if (weight.ndim !== 2) throw new ShapeError(`embedding: weight must be 2-D [numEmbeddings, embeddingDim], got shape ${shapeStr(weight.shape)}`);
    checkIndexRange("embedding", indices, weight.shape[0], `${weight.shape[0]} embeddings`);
    return [{ shape: [...indices.shape, weight.shape[1]], dtype: weight.dtype }];
  },
  grad: (g, { inputs: [w, indices], attrs }) => [runOp(embeddingBackwardOp, [g, indices], { numWeights: w.shape[0], paddingIdx: attrs.paddingIdx }), null],
  cases: [
    { name: "1-d indices", inputs: [idx([5], 4), f([4, 3])], call: (i, w) => embedding(i, w) },
    { name: "2-d indices", inputs: [idx([2, 3], 6), f([6, 4])], call: (i, w) => embedding(i, w) },
    { name: "0-d index", inputs: [ints([], [2]), f([3, 2])], call: (i, w) => embedding(i, w) },
    { name: "transposed weight and indices", inputs: [idx([3, 2], 5), f([3, 5])], call: (i, w) => embedding(i.t(), w.t()) },
    { name: "repeated indices", inputs: [ints([2, 2], [1, 1, 0, 1]), f([3, 2])], call: (i, w) => embedding(i, w) },
    // The padding row is read but gets no gradient, so finite differences disagree on purpose (see the unit tests).
    { name: "paddingIdx forward", inputs: [ints([4], [0, 2, 1, 2]), f([3, 2])], call: (i, w) => embedding(i, w, -1), grad: false },
    { name: "int32 weight", inputs: [idx([4], 3), { shape: [3, 2], dtype: "int32" }], call: (i, w) => embedding(i, w) },
    { name: "empty indices", inputs: [idx([0], 3), f([3, 2])], call: (i, w) => embedding(i, w) },
    { name: "index out of range", inputs: [ints([2], [1, 3]), f([3, 2])], call: (i, w) => embedding(i, w), throws: { error: IndexError, message: /embedding: index 3 is out of range for 3 embeddings \(expected 0 to 2\)/ } },
    { name: "1-d weight", inputs: [idx([2], 3), f([3])], call: (i, w) => embedding(i, w), throws: { error: ShapeError, message: /embedding: weight must be 2-D \[numEmbeddings, embeddingDim\], got shape \[3\]/ } },
    { name: "float indices", inputs: [f([2]), f([3, 2])], call: (i, w) => embedding(i, w), throws: { error: DTypeError, message: /embedding: indices has dtype float32; expected int32/ } },
    { name: "paddingIdx out of range", inputs: [idx([2], 3), f([3, 2])], call: (i, w) => embedding(i, w, 3), throws: { error: ValueError, message: /embedding: paddingIdx 3 is out of range for 3 embeddings \(expected -3 to 2\)/ } },
  ],
});

/**
 * Rows of weight [V, D] looked up by int32 indices of any shape → [..., D], like F.embedding.
 * The row paddingIdx (negative counts from the end) gets no gradient.
 */
export function embedding(indices: Tensor, weight: Tensor, paddingIdx: number | null = null): Tensor {
  let p = -1;
  if (paddingIdx !== null && paddingIdx !== undefined) {
    const v = weight.shape[0];
    if (!Number.isInteger(paddingIdx) || paddingIdx < -v || paddingIdx >= v)
      throw new ValueError(`embedding: paddingIdx ${paddingIdx} is out of range for ${v} embeddings (expected ${-v} to ${v - 1})`);
    p = paddingIdx < 0 ? paddingIdx + v : paddingIdx;
  }
  return runOp(embeddingOp, [weight, indices], { paddingIdx: p });
}

interface EmbeddingBackwardAttrs {
  numWeights: number;
  /** Row left at zero, in [0, numWeights), or -1 for none. */
  paddingIdx: number;
}

const embeddingBackwardOp: OpDef<EmbeddingBackwardAttrs> = defineOp<EmbeddingBackwardAttrs>({
  name: "embeddingBackward",
  // inputs [grad (...indices.shape, D), indices (int32)], attrs {numWeights, paddingIdx};
  // output [numWeights, D]: row v is the sum of the grad rows whose index is v (none for paddingIdx).
  meta([g, indices], { numWeights, paddingIdx }) {
    checkIndexDType("embeddingBackward", indices, "indices");
    if (g.ndim !== indices.ndim + 1 || indices.shape.some((n, d) => n !== g.shape[d]))
      throw new ShapeError(`embeddingBackward: grad has shape ${shapeStr(g.shape)}; expected the indices' shape ${shapeStr(indices.shape)} plus one dim`);
    if (!Number.isInteger(paddingIdx) || paddingIdx < -1 || paddingIdx >= numWeights)
      throw new ValueError(`embeddingBackward: paddingIdx ${paddingIdx} must be -1 (none) or in 0 to ${numWeights - 1}`);
    checkIndexRange("embeddingBackward", indices, numWeights, `${numWeights} embeddings`);
    return [{ shape: [numWeights, g.shape[g.ndim - 1]], dtype: g.dtype }];
  },
  grad(gg, { inputs: [, indices], attrs: { numWeights, paddingIdx } }) {
    let rows = gg;
    if (paddingIdx >= 0) {
      const keep = new Float64Array(numWeights).fill(1);
      keep[paddingIdx] = 0;
      rows = mul(gg, tensor(keep, { dtype: gg.dtype, shape: [numWeights, 1] }));
    }
    return [runOp(embeddingOp, [rows, indices], { paddingIdx }), null];
  },
  cases: [
    { name: "1-d indices", inputs: [f([5, 3]), idx([5], 4)], call: (g, i) => embeddingBackward(g, i, 4) },
    { name: "with paddingIdx", inputs: [f([6, 2]), ints([6], [0, 2, 1, 2, 3, 0])], call: (g, i) => embeddingBackward(g, i, 4, 2) },
    { name: "2-d indices", inputs: [f([2, 3, 4]), idx([2, 3], 5)], call: (g, i) => embeddingBackward(g, i, 5) },
    { name: "transposed grad", inputs: [f([3, 5]), idx([5], 6)], call: (g, i) => embeddingBackward(g.t(), i, 6) },
    { name: "grad shape mismatch", inputs: [f([4, 3]), idx([5], 4)], call: (g, i) => embeddingBackward(g, i, 4), throws: { error: ShapeError, message: /embeddingBackward: grad has shape \[4,3\]; expected the indices' shape \[5\] plus one dim/ } },
  ],
});

/** The gradient of embedding w.r.t. its weight [numWeights, D]: grad rows summed by index (paddingIdx -1: none). */
export function embeddingBackward(grad: Tensor, indices: Tensor, numWeights: number, paddingIdx = -1): Tensor {
  return runOp(embeddingBackwardOp, [grad, indices], { numWeights, paddingIdx });
}

method("gather", gather);
method("indexSelect", indexSelect);
method("scatterAdd", scatterAdd);
method("oneHot", oneHot);
