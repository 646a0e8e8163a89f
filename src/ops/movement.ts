// Movement ops that rearrange values without arithmetic: concat/stack, split/chunk (views), pad,
// flip, triu/tril. The indexing ops (gather, scatterAdd, embedding, …) live in indexing.ts.
import { normAxes, normAxis, promoteTypes, shapeStr, ShapeError, Tensor, ValueError } from "../tensor/index.js";
import { defineOp, runOp, type OpDef } from "./op.js";
import { method } from "./util.js";
import { select, shapeArgs, slice, to, unsqueeze } from "./view.js";

export * from "./indexing.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    split(splitSizeOrSections: number | readonly number[], dim?: number): Tensor[];
    chunk(chunks: number, dim?: number): Tensor[];
    pad(pad: readonly number[], mode?: PadMode, value?: number): Tensor;
    flip(...dims: (number | readonly number[])[]): Tensor;
    triu(diagonal?: number): Tensor;
    tril(diagonal?: number): Tensor;
  }
}

interface DimAttrs {
  /** Normalized (non-negative) dim. */
  dim: number;
}

const f = (shape: number[]) => ({ shape });

function checkList(op: string, xs: readonly Tensor[]): void {
  if (!Array.isArray(xs) || xs.length === 0 || xs.some((t) => !(t instanceof Tensor)))
    throw new ValueError(`${op}: expected a non-empty array of tensors, e.g. ${op}([a, b], 0)`);
}

const concatOp: OpDef<DimAttrs> = defineOp<DimAttrs>({
  name: "concat",
  // inputs: the tensors (one dtype; the user function promotes), attrs {dim}. Kernel: copies.
  meta(xs, { dim }) {
    checkList("concat", xs);
    const first = xs[0];
    if (first.ndim === 0) throw new ShapeError("concat: zero-dimensional tensors cannot be concatenated; use stack, or unsqueeze them first");
    const shape = [...first.shape];
    shape[dim] = 0;
    xs.forEach((t, k) => {
      if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== dim && d !== first.shape[i]))
        throw new ShapeError(
          `concat: tensor ${k} has shape ${shapeStr(t.shape)} but tensor 0 has shape ${shapeStr(first.shape)}; all sizes must match except in dim ${dim}`,
        );
      shape[dim] += t.shape[dim];
    });
    return [{ shape, dtype: first.dtype }];
  },
  grad(g, { inputs, attrs: { dim } }) {
    let start = 0;
    return inputs.map((t) => {
      const piece = slice(g, dim, start, start + t.shape[dim]);
      start += t.shape[dim];
      return piece;
    });
  },
  cases: [
    { name: "dim 0 of three", inputs: [f([2, 3]), f([1, 3]), f([3, 3])], call: (a, b, c) => concat([a, b, c]) },
    { name: "dim 1 with a transposed view", inputs: [f([3, 2]), f([2, 4])], call: (a, b) => concat([a.t(), b], 1) },
    { name: "negative dim", inputs: [f([2, 3, 2]), f([2, 1, 2])], call: (a, b) => concat([a, b], -2) },
    { name: "sliced and permuted views", inputs: [f([4, 6]), f([3, 2, 2])], call: (a, b) => concat([a.slice(1, 0, 6, 3), b.permute(1, 0, 2).reshape(2, 6).t().slice(0, 1, 5)], 0) },
    { name: "one tensor", inputs: [f([2, 3])], call: (a) => concat([a], 1) },
    { name: "the same tensor twice", inputs: [f([2, 3])], call: (a) => concat([a, a], 0) },
    { name: "with an empty tensor", inputs: [f([2, 0]), f([2, 3])], call: (a, b) => concat([a, b], 1) },
    { name: "int32", inputs: [{ shape: [2, 2], dtype: "int32" }, { shape: [2, 3], dtype: "int32" }], call: (a, b) => cat([a, b], 1) },
    { name: "int32 and float promote", inputs: [{ shape: [3], dtype: "int32" }, f([2])], call: (a, b) => concat([a, b]) },
    { name: "mismatched sizes", inputs: [f([2, 3]), f([3, 4])], call: (a, b) => concat([a, b]), throws: { error: ShapeError, message: /concat: tensor 1 has shape \[3,4\] but tensor 0 has shape \[2,3\]/ } },
    { name: "different ndim", inputs: [f([2, 3]), f([3])], call: (a, b) => concat([a, b]), throws: { error: ShapeError, message: /concat: tensor 1 has shape \[3\]/ } },
    { name: "0-d", inputs: [f([]), f([])], call: (a, b) => concat([a, b]), throws: { error: ShapeError, message: /concat: zero-dimensional tensors cannot be concatenated/ } },
    { name: "dim out of range", inputs: [f([2, 3])], call: (a) => concat([a, a], 2), throws: { error: ValueError, message: /concat: dim 2 is out of range/ } },
    { name: "empty list", inputs: [], call: () => concat([]), throws: { error: ValueError, message: /concat: expected a non-empty array of tensors/ } },
  ],
});

/** Converts every tensor to their common (promoted) dtype, as torch.cat does. */
function promoteAll(xs: readonly Tensor[]): Tensor[] {
  const d = xs.map((t) => t.dtype).reduce(promoteTypes);
  return xs.map((t) => to(t, d));
}

/** Joins tensors along an existing dim (sizes must match elsewhere), like torch.cat. */
export function concat(tensors: readonly Tensor[], dim = 0): Tensor {
  checkList("concat", tensors);
  const d = normAxis("concat", dim, tensors[0].ndim);
  return runOp(concatOp, promoteAll(tensors), { dim: d });
}

/** Alias of concat (PyTorch's torch.cat). */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  return concat(tensors, dim);
}

const stackOp: OpDef<DimAttrs> = defineOp<DimAttrs>({
  name: "stack",
  meta(xs, { dim }) {
    checkList("stack", xs);
    const first = xs[0];
    xs.forEach((t, k) => {
      if (shapeStr(t.shape) !== shapeStr(first.shape))
        throw new ShapeError(`stack: tensor ${k} has shape ${shapeStr(t.shape)} but tensor 0 has shape ${shapeStr(first.shape)}; stack needs equal shapes`);
    });
    const shape = [...first.shape];
    shape.splice(dim, 0, xs.length);
    return [{ shape, dtype: first.dtype }];
  },
  decompose: (xs, { dim }) => runOp(concatOp, xs.map((t) => unsqueeze(t, dim)), { dim }),
  grad: (g, { inputs, attrs: { dim } }) => inputs.map((_, k) => select(g, dim, k)),
  cases: [
    { name: "dim 0 of three", inputs: [f([2, 3]), f([2, 3]), f([2, 3])], call: (a, b, c) => stack([a, b, c]) },
    { name: "new last dim", inputs: [f([2, 3]), f([2, 3])], call: (a, b) => stack([a, b], 2) },
    { name: "negative dim", inputs: [f([2, 3]), f([2, 3])], call: (a, b) => stack([a, b], -2) },
    { name: "transposed views", inputs: [f([3, 2]), f([2, 3])], call: (a, b) => stack([a.t(), b, a.t()], 1) },
    { name: "0-d scalars", inputs: [f([]), f([]), f([])], call: (a, b, c) => stack([a, b, c]) },
    { name: "int32", inputs: [{ shape: [3], dtype: "int32" }, { shape: [3], dtype: "int32" }], call: (a, b) => stack([a, b], 1) },
    { name: "empty tensors", inputs: [f([0, 2]), f([0, 2])], call: (a, b) => stack([a, b], 1) },
    { name: "mismatched shapes", inputs: [f([2, 3]), f([3, 2])], call: (a, b) => stack([a, b]), throws: { error: ShapeError, message: /stack: tensor 1 has shape \[3,2\] but tensor 0 has shape \[2,3\]/ } },
    { name: "dim out of range", inputs: [f([2, 3])], call: (a) => stack([a, a], 3), throws: { error: ValueError, message: /stack: dim 3 is out of range/ } },
  ],
});

/** Joins equally shaped tensors along a new dim, like torch.stack. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  checkList("stack", tensors);
  const d = normAxis("stack", dim, tensors[0].ndim + 1);
  return runOp(stackOp, promoteAll(tensors), { dim: d });
}

interface PiecesAttrs extends DimAttrs {
  sizes: number[];
}

// split and chunk are not dispatched: they return `slice` views (gradients flow through slice).
// Their records hold the checks (meta, one output per piece) and the conformance cases.
function piecesMeta(op: string) {
  return ([x]: Tensor[], { dim, sizes }: PiecesAttrs) => {
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== x.shape[dim])
      throw new ShapeError(`${op}: sizes ${shapeStr(sizes)} sum to ${total} but dim ${dim} of the tensor of shape ${shapeStr(x.shape)} has size ${x.shape[dim]}; give sizes that sum to ${x.shape[dim]}`);
    return sizes.map((n) => {
      const shape = [...x.shape];
      shape[dim] = n;
      return { shape, dtype: x.dtype };
    });
  };
}

function pieces(x: Tensor, dim: number, sizes: number[]): Tensor[] {
  let start = 0;
  return sizes.map((n) => slice(x, dim, start, (start += n)));
}

/** The pieces in reverse order, joined again: every piece's values and boundaries show in the result. */
const rejoin = (ps: Tensor[], dim: number) => concat([...ps].reverse(), dim);

const splitOp = defineOp<PiecesAttrs>({
  name: "split",
  meta: piecesMeta("split"),
  cases: [
    { name: "size 2 of 5 along dim 0", inputs: [f([5, 3])], call: (x) => rejoin(split(x, 2), 0) },
    { name: "the short last piece", inputs: [f([5, 3])], call: (x) => split(x, 2)[2] },
    { name: "sections with a zero", inputs: [f([2, 6])], call: (x) => rejoin(split(x, [1, 0, 3, 2], 1), 1) },
    { name: "one section", inputs: [f([2, 6])], call: (x) => split(x, [1, 3, 2], 1)[1] },
    { name: "negative dim of a transposed view", inputs: [f([4, 3])], call: (x) => rejoin(x.t().split(3, -1), -1) },
    { name: "size larger than the dim", inputs: [f([2, 3])], call: (x) => split(x, 5, 1)[0] },
    { name: "int32", inputs: [{ shape: [7], dtype: "int32" }], call: (x) => rejoin(split(x, 3), 0) },
    { name: "sections do not sum", inputs: [f([2, 4])], call: (x) => split(x, [1, 2], 1)[0], throws: { error: ShapeError, message: /split: sizes \[1,2\] sum to 3 but dim 1 .* has size 4/ } },
    { name: "size 0", inputs: [f([2, 4])], call: (x) => split(x, 0)[0], throws: { error: ValueError, message: /split: split size must be a positive integer, got 0/ } },
    { name: "negative section", inputs: [f([4])], call: (x) => split(x, [5, -1])[0], throws: { error: ValueError, message: /split: sections must be non-negative integers, got \[5,-1\]/ } },
  ],
});

/**
 * Views of consecutive pieces along dim: of size `splitSizeOrSections` (the last may be smaller),
 * or of the listed sizes, which must sum to the dim's size — like torch.split.
 */
export function split(x: Tensor, splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  if (x.ndim === 0) throw new ShapeError("split: a zero-dimensional tensor cannot be split");
  const d = normAxis("split", dim, x.ndim);
  const n = x.shape[d];
  let sizes: number[];
  if (typeof splitSizeOrSections === "number") {
    const s = splitSizeOrSections;
    if (!Number.isInteger(s) || s <= 0) throw new ValueError(`split: split size must be a positive integer, got ${s}`);
    sizes = [];
    for (let start = 0; start < n; start += s) sizes.push(Math.min(s, n - start));
    if (n === 0) sizes.push(0);
  } else {
    sizes = [...splitSizeOrSections];
    if (sizes.some((s) => !Number.isInteger(s) || s < 0))
      throw new ValueError(`split: sections must be non-negative integers, got ${shapeStr(sizes)}`);
  }
  splitOp.meta([x], { dim: d, sizes });
  return pieces(x, d, sizes);
}

const chunkOp = defineOp<PiecesAttrs>({
  name: "chunk",
  meta: piecesMeta("chunk"),
  cases: [
    { name: "6 into 3 along dim 1", inputs: [f([2, 6])], call: (x) => rejoin(chunk(x, 3, 1), 1) },
    { name: "5 into 3", inputs: [f([5, 2])], call: (x) => rejoin(chunk(x, 3), 0) },
    { name: "5 into 4 gives 3 pieces", inputs: [f([5])], call: (x) => chunk(x, 4)[2] },
    { name: "more chunks than elements", inputs: [f([2, 3])], call: (x) => rejoin(chunk(x, 5, 0), 0) },
    { name: "negative dim of a permuted view", inputs: [f([3, 2, 4])], call: (x) => rejoin(x.permute(2, 0, 1).chunk(2, -3), 0) },
    { name: "int32", inputs: [{ shape: [4, 2], dtype: "int32" }], call: (x) => chunk(x, 2)[1] },
    { name: "zero chunks", inputs: [f([4])], call: (x) => chunk(x, 0)[0], throws: { error: ValueError, message: /chunk: chunks must be a positive integer, got 0/ } },
  ],
});

/** Splits into `chunks` views of equal size ceil(n / chunks) (the last smaller; fewer when n is small), like torch.chunk. */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw new ValueError(`chunk: chunks must be a positive integer, got ${chunks}`);
  if (x.ndim === 0) throw new ShapeError("chunk: a zero-dimensional tensor cannot be chunked");
  const d = normAxis("chunk", dim, x.ndim);
  const n = x.shape[d];
  const size = Math.ceil(n / chunks);
  // NOTE: as in PyTorch, a dim of size 0 gives `chunks` empty pieces.
  const sizes: number[] = n === 0 ? new Array<number>(chunks).fill(0) : [];
  for (let start = 0; start < n; start += size) sizes.push(Math.min(size, n - start));
  chunkOp.meta([x], { dim: d, sizes });
  return pieces(x, d, sizes);
}

export type PadMode = "constant" | "reflect" | "replicate" | "circular";
const PAD_MODES: readonly PadMode[] = ["constant", "reflect", "replicate", "circular"];

/** Per-dim padding (dims in order, not PyTorch's last-dim-first list). */
export interface PadAttrs {
  before: number[];
  after: number[];
  mode: PadMode;
  /** Fill value of "constant" mode. */
  value: number;
}

const padOp: OpDef<PadAttrs> = defineOp<PadAttrs>({
  name: "pad",
  // inputs [x], attrs {before, after, mode, value}. Kernel: maps each output index to its source.
  meta([x], { before, after, mode }) {
    const shape = x.shape.map((n, d) => {
      const b = before[d];
      const a = after[d];
      const out = n + b + a;
      if (mode === "constant") {
        if (out < 0) throw new ShapeError(`pad: padding [${b},${a}] of dim ${d} (size ${n}) would give a negative size ${out}`);
        return out;
      }
      if (b < 0 || a < 0) throw new ValueError(`pad: ${mode} padding must be non-negative, got [${b},${a}] for dim ${d}; negative padding (cropping) needs mode "constant"`);
      if (b === 0 && a === 0) return n;
      if (mode === "reflect" && (b >= n || a >= n))
        throw new ValueError(`pad: reflect padding [${b},${a}] of dim ${d} must be less than its size ${n} (input shape ${shapeStr(x.shape)})`);
      if (mode === "circular" && (b > n || a > n))
        throw new ValueError(`pad: circular padding [${b},${a}] of dim ${d} must be at most its size ${n} (input shape ${shapeStr(x.shape)})`);
      if (mode === "replicate" && n === 0) throw new ValueError(`pad: replicate padding of dim ${d} needs a non-empty dim (input shape ${shapeStr(x.shape)})`);
      return out;
    });
    return [{ shape, dtype: x.dtype }];
  },
  grad: (g, { inputs: [x], attrs }) => [runOp(padBackwardOp, [g], { ...attrs, inShape: [...x.shape] })],
  cases: [
    { name: "constant last dim", inputs: [f([2, 3])], call: (x) => pad(x, [1, 2]) },
    { name: "constant last two dims with a value", inputs: [f([2, 3, 4])], call: (x) => pad(x, [1, 0, 2, 1], "constant", 0.5) },
    { name: "constant on both dims, then a zero pad", inputs: [f([2, 3])], call: (x) => pad(x, [1, 1, 0, 2]).pad([0, 0, 0, 0]) },
    { name: "negative constant padding crops", inputs: [f([3, 5])], call: (x) => pad(x, [-1, 2, 1, -2]) },
    { name: "reflect 1-d", inputs: [f([2, 5])], call: (x) => pad(x, [2, 4], "reflect") },
    { name: "reflect 2-d", inputs: [f([1, 2, 4, 5])], call: (x) => pad(x, [1, 2, 3, 1], "reflect") },
    { name: "reflect of a transposed view", inputs: [f([4, 3])], call: (x) => x.t().pad([1, 2, 2, 0], "reflect") },
    { name: "replicate", inputs: [f([2, 3, 4])], call: (x) => pad(x, [2, 1, 0, 3], "replicate") },
    { name: "replicate of a size-1 dim", inputs: [f([3, 1])], call: (x) => pad(x, [2, 3], "replicate") },
    { name: "circular", inputs: [f([2, 4])], call: (x) => pad(x, [3, 4, 1, 0], "circular") },
    { name: "circular of a sliced view", inputs: [f([3, 6])], call: (x) => pad(x.slice(1, 1, 6, 2), [2, 1], "circular") },
    { name: "constant of an empty dim", inputs: [f([0, 3])], call: (x) => pad(x, [0, 0, 1, 1], "constant", 2) },
    { name: "int32 with a value", inputs: [{ shape: [2, 2], dtype: "int32" }], call: (x) => pad(x, [1, 1, 1, 0], "constant", 7) },
    { name: "odd length", inputs: [f([2, 3])], call: (x) => pad(x, [1, 2, 3]), throws: { error: ValueError, message: /pad: the padding list \[1,2,3\] must have an even length/ } },
    { name: "too long", inputs: [f([3])], call: (x) => pad(x, [1, 1, 1, 1]), throws: { error: ValueError, message: /pad: the padding list \[1,1,1,1\] pads 2 dims but the input of shape \[3\] has 1/ } },
    { name: "reflect too wide", inputs: [f([2, 3])], call: (x) => pad(x, [1, 3], "reflect"), throws: { error: ValueError, message: /pad: reflect padding \[1,3\] of dim 1 must be less than its size 3/ } },
    { name: "unknown mode", inputs: [f([2, 3])], call: (x) => pad(x, [1, 1], "wrap" as PadMode), throws: { error: ValueError, message: /pad: unknown mode 'wrap'/ } },
    { name: "crop below zero", inputs: [f([2, 3])], call: (x) => pad(x, [-2, -2]), throws: { error: ShapeError, message: /pad: padding \[-2,-2\] of dim 1 \(size 3\) would give a negative size -1/ } },
  ],
});

/** The adjoint of pad: sums the gradient of every output element into its source element. */
export const padBackwardOp: OpDef<PadAttrs & { inShape: number[] }> = defineOp<PadAttrs & { inShape: number[] }>({
  name: "padBackward",
  // inputs [g] (pad's output shape), attrs: pad's and inShape. Output: inShape, g's dtype.
  meta: ([g], a) => [{ shape: [...a.inShape], dtype: g.dtype }],
  grad: (gg, { attrs: { inShape, ...a } }) => [runOp(padOp, [gg], { ...a, value: 0 })],
});

/**
 * Pads with PyTorch's order (last dim first: [left, right, top, bottom, …]) and modes "constant"
 * (filled with `value`; negative amounts crop), "reflect", "replicate" and "circular", like F.pad.
 */
export function pad(x: Tensor, pad: readonly number[], mode: PadMode = "constant", value = 0): Tensor {
  if (!PAD_MODES.includes(mode)) throw new ValueError(`pad: unknown mode '${mode}'; expected one of ${PAD_MODES.join(", ")}`);
  if (!Array.isArray(pad) || pad.some((p) => !Number.isInteger(p)))
    throw new ValueError(`pad: padding must be an array of integers, got ${JSON.stringify(pad)}`);
  if (pad.length % 2 !== 0) throw new ValueError(`pad: the padding list ${shapeStr(pad)} must have an even length ([left, right, top, bottom, …])`);
  if (pad.length / 2 > x.ndim)
    throw new ValueError(`pad: the padding list ${shapeStr(pad)} pads ${pad.length / 2} dims but the input of shape ${shapeStr(x.shape)} has ${x.ndim}`);
  const before = new Array<number>(x.ndim).fill(0);
  const after = new Array<number>(x.ndim).fill(0);
  for (let k = 0; k < pad.length / 2; k++) {
    before[x.ndim - 1 - k] = pad[2 * k];
    after[x.ndim - 1 - k] = pad[2 * k + 1];
  }
  return runOp(padOp, [x], { before, after, mode, value });
}

const flipOp: OpDef<{ dims: number[] }> = defineOp<{ dims: number[] }>({
  name: "flip",
  // inputs [x], attrs {dims} (normalized, sorted). Kernel: a copy read with negated strides.
  meta: ([x]) => [{ shape: [...x.shape], dtype: x.dtype }],
  grad: (g, { attrs }) => [runOp(flipOp, [g], attrs)],
  cases: [
    { name: "dim 0", inputs: [f([3, 4])], call: (x) => flip(x, 0) },
    { name: "dims [0,2]", inputs: [f([2, 3, 4])], call: (x) => flip(x, [0, 2]) },
    { name: "all dims", inputs: [f([2, 3, 4])], call: (x) => x.flip(0, 1, 2) },
    { name: "negative dim of a permuted view", inputs: [f([2, 3, 4])], call: (x) => x.permute(2, 0, 1).flip(-1) },
    { name: "sliced view", inputs: [f([4, 6])], call: (x) => flip(x.slice(1, 1, 6, 2), [1, 0]) },
    { name: "no dims copies", inputs: [f([2, 3])], call: (x) => flip(x, []) },
    { name: "int32", inputs: [{ shape: [5], dtype: "int32", range: [-9, 9] }], call: (x) => flip(x, 0) },
    { name: "empty", inputs: [f([0, 3])], call: (x) => flip(x, [0, 1]) },
    { name: "repeated dim", inputs: [f([2, 3])], call: (x) => flip(x, [1, -1]), throws: { error: ValueError, message: /flip: dim \[1,-1\] repeats an axis/ } },
    { name: "dim out of range", inputs: [f([2, 3])], call: (x) => flip(x, 2), throws: { error: ValueError, message: /flip: dim 2 is out of range/ } },
  ],
});

/** Reverses the order of elements along the given dims (a copy), like torch.flip. */
export function flip(x: Tensor, ...dims: (number | readonly number[])[]): Tensor {
  return runOp(flipOp, [x], { dims: normAxes("flip", shapeArgs(dims), x.ndim) });
}

interface TriAttrs {
  diagonal: number;
}

function triMeta(op: string) {
  return ([x]: Tensor[], { diagonal }: TriAttrs) => {
    if (x.ndim < 2) throw new ShapeError(`${op}: the input must have at least 2 dims (a matrix or a batch of matrices), got shape ${shapeStr(x.shape)}`);
    if (!Number.isInteger(diagonal)) throw new ValueError(`${op}: diagonal must be an integer, got ${diagonal}`);
    return [{ shape: [...x.shape], dtype: x.dtype }];
  };
}

function triCases(op: "triu" | "tril", fn: (x: Tensor, k?: number) => Tensor) {
  return [
    { name: "square", inputs: [f([4, 4])], call: (x: Tensor) => fn(x) },
    { name: "wide, diagonal 1", inputs: [f([3, 5])], call: (x: Tensor) => fn(x, 1) },
    { name: "tall, diagonal -1", inputs: [f([5, 3])], call: (x: Tensor) => fn(x, -1) },
    { name: "diagonal beyond the matrix", inputs: [f([3, 3])], call: (x: Tensor) => fn(x, op === "triu" ? 4 : -4) },
    { name: "batched transposed view", inputs: [f([2, 4, 3])], call: (x: Tensor) => fn(x.t(), -1) },
    { name: "batched permuted view", inputs: [f([3, 2, 4])], call: (x: Tensor) => fn(x.permute(1, 0, 2), 1) },
    { name: "int32", inputs: [{ shape: [3, 3], dtype: "int32" as const, range: [1, 9] as [number, number] }], call: (x: Tensor) => fn(x) },
    { name: "empty batch", inputs: [f([0, 2, 2])], call: (x: Tensor) => fn(x) },
    { name: "1-d input", inputs: [f([4])], call: (x: Tensor) => fn(x), throws: { error: ShapeError, message: new RegExp(`${op}: the input must have at least 2 dims`) } },
  ];
}

const triuOp: OpDef<TriAttrs> = defineOp<TriAttrs>({
  name: "triu",
  // inputs [x], attrs {diagonal}: keeps elements with col − row ≥ diagonal in the last two dims.
  meta: triMeta("triu"),
  grad: (g, { attrs }) => [runOp(triuOp, [g], attrs)],
  cases: triCases("triu", (x, k) => triu(x, k)),
});

/** The upper triangle (col − row ≥ diagonal) of the last two dims, zeros elsewhere, like torch.triu. */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return runOp(triuOp, [x], { diagonal });
}

const trilOp: OpDef<TriAttrs> = defineOp<TriAttrs>({
  name: "tril",
  // inputs [x], attrs {diagonal}: keeps elements with col − row ≤ diagonal in the last two dims.
  meta: triMeta("tril"),
  grad: (g, { attrs }) => [runOp(trilOp, [g], attrs)],
  cases: triCases("tril", (x, k) => tril(x, k)),
});

/** The lower triangle (col − row ≤ diagonal) of the last two dims, zeros elsewhere, like torch.tril. */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return runOp(trilOp, [x], { diagonal });
}

method("split", split);
method("chunk", chunk);
method("pad", pad);
method("flip", (x, ...dims) => flip(x, ...dims));
method("triu", triu);
method("tril", tril);

