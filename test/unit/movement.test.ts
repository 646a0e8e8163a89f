// Movement and indexing ops against hand-computed (PyTorch) values and brute-force loops written
// independently of the kernels; also what the conformance cases cannot see: piece counts of
// split/chunk, views, composite gradient rules, float64 accumulation and the padding row.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";

const f64 = (data: number[], shape: number[]) => ig.tensor(Float64Array.from(data), { dtype: "float64", shape });
const i32 = (data: number[], shape = [data.length]) => ig.tensor(Int32Array.from(data), { dtype: "int32", shape });
const vals = (t: Tensor) => Array.from(t.dataSync() as ArrayLike<number>);

function close(got: number[], want: number[], tol = 1e-12): void {
  assert.equal(got.length, want.length, `length ${got.length} vs ${want.length}`);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= tol, `element ${i}: ${g} vs ${want[i]}`));
}

function randn(shape: number[], seed: number): Tensor {
  return ig.randn(shape, { dtype: "float64", generator: new ig.Generator(seed) });
}

function randIdx(shape: number[], hi: number, seed: number): Tensor {
  return ig.randint(0, hi, shape, { generator: new ig.Generator(seed) });
}

/** Row-major multi-index of flat position i in shape. */
function unravel(i: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return out;
}
function ravel(idx: number[], shape: readonly number[]): number {
  return idx.reduce((a, v, d) => a * shape[d] + v, 0);
}

test("concat joins values along a dim and cat is the same function", () => {
  const a = ig.tensor([[1, 2], [3, 4]]);
  const b = ig.tensor([[5, 6]]);
  assert.deepEqual(ig.concat([a, b]).toArray(), [[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(ig.cat([a, a], 1).toArray(), [[1, 2, 1, 2], [3, 4, 3, 4]]);
  assert.deepEqual(ig.concat([a.t(), b.t()], -1).toArray(), [[1, 3, 5], [2, 4, 6]]);
});

test("concat promotes dtypes like torch.cat", () => {
  assert.equal(ig.concat([i32([1, 2]), ig.tensor([0.5])]).dtype, "float32");
  assert.equal(ig.concat([i32([1]), ig.tensor([true])]).dtype, "int32");
  assert.deepEqual(ig.concat([i32([1, 2]), ig.tensor([0.5])]).toArray(), [1, 2, 0.5]);
});

test("stack adds a dim; its gradient rule (for fused kernels) matches the decomposition", () => {
  const a = ig.tensor([1, 2, 3]);
  const b = ig.tensor([4, 5, 6]);
  assert.deepEqual(ig.stack([a, b]).toArray(), [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(ig.stack([a, b], -1).toArray(), [[1, 4], [2, 5], [3, 6]]);
  const xs = [randn([2, 3], 1).requiresGrad_(), randn([2, 3], 2).requiresGrad_()];
  const g = randn([2, 2, 3], 3);
  ig.stack(xs, 1).backward(g);
  const rule = ig.getOp("stack")!.grad!(g, { inputs: xs, outputs: [], attrs: { dim: 1 } });
  xs.forEach((x, k) => close(vals(rule[k]!), vals(x.grad!)));
  close(vals(xs[1].grad!), vals(ig.select(g, 1, 1)));
});

test("split returns views of the right sizes, the last one short", () => {
  const x = ig.arange(14).reshape(7, 2);
  const ps = ig.split(x, 3);
  assert.deepEqual(ps.map((p) => p.shape[0]), [3, 3, 1]);
  assert.ok(ps.every((p) => p.storage === x.storage), "pieces share the input's storage");
  assert.deepEqual(ps[2].toArray(), [[12, 13]]);
  assert.deepEqual(ig.split(x, [2, 0, 5]).map((p) => p.shape[0]), [2, 0, 5]);
  assert.deepEqual(x.split(1, 1).map((p) => p.toFlatArray()), [[0, 2, 4, 6, 8, 10, 12], [1, 3, 5, 7, 9, 11, 13]]);
  assert.deepEqual(ig.split(ig.zeros([0, 2]), 2).map((p) => [...p.shape]), [[0, 2]]);
});

test("chunk matches torch.chunk's piece counts", () => {
  const sizes = (n: number, c: number) => ig.chunk(ig.arange(n), c).map((p) => p.size);
  assert.deepEqual(sizes(6, 3), [2, 2, 2]);
  assert.deepEqual(sizes(5, 3), [2, 2, 1]);
  assert.deepEqual(sizes(5, 4), [2, 2, 1]);
  assert.deepEqual(sizes(6, 4), [2, 2, 2]);
  assert.deepEqual(sizes(2, 5), [1, 1]);
  assert.deepEqual(sizes(0, 3), [0, 0, 0]);
  const x = ig.arange(6).reshape(2, 3);
  assert.deepEqual(x.chunk(3, -1).map((p) => p.toArray()), [[[0], [3]], [[1], [4]], [[2], [5]]]);
});

test("gradients flow into split pieces", () => {
  const x = randn([5], 4).requiresGrad_();
  const [a, b] = ig.split(x, [2, 3]);
  a.mul(2).sum().add(b.mul(3).sum()).backward();
  assert.deepEqual(vals(x.grad!), [2, 2, 3, 3, 3]);
});

test("pad matches PyTorch's values in every mode", () => {
  const x = ig.arange(5).reshape(1, 5).float();
  assert.deepEqual(ig.pad(x, [2, 3], "reflect").toFlatArray(), [2, 1, 0, 1, 2, 3, 4, 3, 2, 1]);
  assert.deepEqual(ig.pad(x, [2, 1], "replicate").toFlatArray(), [0, 0, 0, 1, 2, 3, 4, 4]);
  assert.deepEqual(ig.pad(x, [2, 1], "circular").toFlatArray(), [3, 4, 0, 1, 2, 3, 4, 0]);
  assert.deepEqual(ig.pad(x, [1, 2], "constant", 9).toFlatArray(), [9, 0, 1, 2, 3, 4, 9, 9]);
  assert.deepEqual(ig.pad(x, [-1, -2]).toFlatArray(), [1, 2]);
  const m = ig.arange(9).reshape(1, 3, 3).float();
  assert.deepEqual(ig.pad(m, [1, 1, 1, 1], "reflect").toArray(), [
    [
      [4, 3, 4, 5, 4],
      [1, 0, 1, 2, 1],
      [4, 3, 4, 5, 4],
      [7, 6, 7, 8, 7],
      [4, 3, 4, 5, 4],
    ],
  ]);
  // Last dim first: [left, right, top, bottom].
  assert.deepEqual(ig.pad(ig.ones([1, 1]), [1, 0, 0, 2]).toArray(), [[0, 1], [0, 0], [0, 0]]);
  assert.deepEqual(ig.pad(i32([1, 2]), [1, 1], "constant", -3).toArray(), [-3, 1, 2, -3]);
  assert.deepEqual(ig.pad(ig.tensor([true]), [1, 0], "constant", 1).toArray(), [true, true]);
});

test("pad's gradient sums the copies of each element", () => {
  const x = ig.zeros([5], { dtype: "float64" }).requiresGrad_();
  ig.pad(x, [2, 3], "reflect").sum().backward();
  assert.deepEqual(vals(x.grad!), [1, 3, 3, 2, 1]);
  x.grad = null;
  ig.pad(x, [2, 1], "replicate").sum().backward();
  assert.deepEqual(vals(x.grad!), [3, 1, 1, 1, 2]);
  x.grad = null;
  ig.pad(x, [5, 5], "circular").sum().backward();
  assert.deepEqual(vals(x.grad!), [3, 3, 3, 3, 3]);
  x.grad = null;
  ig.pad(x, [-1, 2], "constant", 7).sum().backward();
  assert.deepEqual(vals(x.grad!), [0, 1, 1, 1, 1]);
});

test("padBackward is the adjoint of pad: <pad(x), g> = <x, padBackward(g)>", () => {
  const modes = ["constant", "reflect", "replicate", "circular"] as const;
  modes.forEach((mode, k) => {
    const x = randn([2, 3, 4], 10 + k).requiresGrad_();
    const y = ig.pad(x, [2, 3, 1, 2], mode);
    const g = randn([...y.shape], 20 + k);
    y.backward(g);
    const lhs = y.mul(g).sum().item();
    const rhs = ig.noGrad(() => x.mul(x.grad!).sum().item());
    assert.ok(Math.abs(lhs - rhs) < 1e-10, `${mode}: ${lhs} vs ${rhs}`);
  });
});

test("flip reverses the chosen dims (brute force)", () => {
  const x = randn([2, 3, 4], 5);
  for (const dims of [[0], [1], [2], [0, 2], [0, 1, 2]]) {
    const got = vals(ig.flip(x, dims));
    const want = vals(x).map((_, i) => {
      const idx = unravel(i, x.shape);
      for (const d of dims) idx[d] = x.shape[d] - 1 - idx[d];
      return vals(x)[ravel(idx, x.shape)];
    });
    assert.deepEqual(got, want, `dims ${dims}`);
  }
  const y = ig.flip(x, 0);
  assert.notEqual(y.storage, x.storage, "flip copies");
});

test("triu and tril keep the right triangle of every matrix in a batch", () => {
  const x = randn([2, 3, 4], 6);
  for (let k = -3; k <= 4; k++) {
    const up = vals(ig.triu(x, k));
    const lo = vals(x.tril(k));
    vals(x).forEach((v, i) => {
      const [, r, c] = unravel(i, x.shape);
      assert.equal(up[i], c - r >= k ? v : 0, `triu k=${k} at ${i}`);
      assert.equal(lo[i], c - r <= k ? v : 0, `tril k=${k} at ${i}`);
    });
    close(vals(ig.triu(x, k).add(ig.tril(x, k - 1))), vals(x));
  }
});

test("gather picks along each dim (brute force, 3-d)", () => {
  const x = randn([3, 4, 5], 7);
  const xv = vals(x);
  for (let dim = 0; dim < 3; dim++) {
    const shape = [2, 3, 4];
    shape[dim] = 6;
    const index = randIdx(shape, x.shape[dim], 30 + dim);
    const iv = vals(index);
    const got = vals(ig.gather(x, dim, index));
    const want = iv.map((j, p) => {
      const at = unravel(p, shape);
      at[dim] = j;
      return xv[ravel(at, x.shape)];
    });
    assert.deepEqual(got, want, `dim ${dim}`);
    assert.deepEqual(vals(x.gather(dim - 3, index)), want, `dim ${dim - 3}`);
  }
});

test("gather's gradient accumulates repeated indices", () => {
  const x = ig.zeros([2, 3], { dtype: "float64" }).requiresGrad_();
  ig.gather(x, 1, i32([0, 0, 2, 1, 1, 1], [2, 3])).sum().backward();
  assert.deepEqual(vals(x.grad!), [2, 0, 1, 0, 3, 0]);
});

test("scatterAdd adds src at the indexed positions and leaves x alone (brute force)", () => {
  const x = randn([3, 4, 5], 8);
  const before = vals(x);
  for (let dim = 0; dim < 3; dim++) {
    const shape = [2, 3, 4];
    shape[dim] = 6;
    const index = randIdx(shape, x.shape[dim], 40 + dim);
    const src = randn([6, 6, 6], 50 + dim); // larger than index: the extra elements are not added
    const want = [...before];
    vals(index).forEach((j, p) => {
      const at = unravel(p, shape);
      const from = ravel(at, src.shape);
      at[dim] = j;
      want[ravel(at, x.shape)] += vals(src)[from];
    });
    close(vals(ig.scatterAdd(x, dim, index, src)), want);
  }
  assert.deepEqual(vals(x), before, "x is not modified");
});

test("scatterAdd accumulates float32 in float64 and rounds once", () => {
  const x = ig.zeros([1]);
  const src = ig.tensor([1e8, 1, -1e8]);
  assert.deepEqual(ig.scatterAdd(x, 0, i32([0, 0, 0]), src).toArray(), [1]);
});

test("indexSelect picks slices; its gradient rule (for fused kernels) matches the decomposition", () => {
  const x = randn([3, 4], 9).requiresGrad_();
  const index = i32([2, 0, 2, 3, 1]);
  const y = ig.indexSelect(x, 1, index);
  assert.deepEqual([...y.shape], [3, 5]);
  const xv = vals(x);
  assert.deepEqual(vals(y), vals(y).map((_, p) => xv[Math.floor(p / 5) * 4 + [2, 0, 2, 3, 1][p % 5]]));
  assert.deepEqual([...ig.indexSelect(x, 0, i32([1], [])).shape], [1, 4]);
  const g = randn([3, 5], 11);
  y.backward(g);
  const [dx, di] = ig.getOp("indexSelect")!.grad!(g, { inputs: [x, index], outputs: [y], attrs: { dim: 1 } });
  close(vals(dx!), vals(x.grad!));
  assert.equal(di, null);
  // Column 2 is picked twice, column 3 once, column 1 once, column 0 once.
  const gv = vals(g);
  close([vals(x.grad!)[2]], [gv[0] + gv[2]]);
});

test("oneHot gives int32 rows and infers the class count", () => {
  const y = ig.oneHot(i32([0, 2, 1]));
  assert.equal(y.dtype, "int32");
  assert.deepEqual(y.toArray(), [[1, 0, 0], [0, 0, 1], [0, 1, 0]]);
  assert.deepEqual(i32([1, 0], [2, 1]).oneHot(4).toArray(), [[[0, 1, 0, 0]], [[1, 0, 0, 0]]]);
  assert.throws(() => ig.oneHot(i32([1]), -2), /oneHot: numClasses must be a non-negative integer or -1, got -2/);
});

test("embedding looks up rows for indices of any shape", () => {
  const w = ig.tensor([[0, 1], [10, 11], [20, 21]]);
  assert.deepEqual(ig.embedding(i32([2, 0, 1, 2], [2, 2]), w).toArray(), [[[20, 21], [0, 1]], [[10, 11], [20, 21]]]);
  assert.deepEqual(ig.embedding(i32([1], []), w).toArray(), [10, 11]);
});

test("embedding's weight gradient sums repeated rows and skips paddingIdx", () => {
  const w = ig.zeros([4, 2], { dtype: "float64" }).requiresGrad_();
  const indices = i32([1, 3, 1, 0, 3, 1]);
  ig.embedding(indices, w).sum().backward();
  assert.deepEqual(vals(w.grad!), [1, 1, 3, 3, 0, 0, 2, 2]);
  w.grad = null;
  ig.embedding(indices, w, 1).sum().backward();
  assert.deepEqual(vals(w.grad!), [1, 1, 0, 0, 0, 0, 2, 2]);
  w.grad = null;
  ig.embedding(indices, w, -1).sum().backward(); // -1 is the last row, as in PyTorch
  assert.deepEqual(vals(w.grad!), [1, 1, 3, 3, 0, 0, 0, 0]);
  const g = f64([1, 2, 3, 4, 5, 6], [3, 2]);
  assert.deepEqual(vals(ig.embeddingBackward(g, i32([2, 0, 2]), 3)), [3, 4, 0, 0, 6, 8]);
  assert.deepEqual(vals(ig.embeddingBackward(g, i32([2, 0, 2]), 3, 2)), [3, 4, 0, 0, 0, 0]);
});

test("embeddingBackward accumulates float32 in float64", () => {
  const g = ig.tensor([[1e8], [1], [-1e8]]);
  assert.deepEqual(ig.embeddingBackward(g, i32([0, 0, 0]), 1).toArray(), [[1]]);
});

test("out-of-range indices name the op, the bad index and the valid range", () => {
  const x = ig.zeros([2, 3]);
  const cases: [() => unknown, RegExp][] = [
    [() => ig.gather(x, 0, i32([0, 2, 1], [1, 3])), /^gather: index 2 is out of range for dim 0 of size 2 \(expected 0 to 1\)$/],
    [() => ig.indexSelect(x, -1, i32([-1])), /^indexSelect: index -1 is out of range for dim 1 of size 3 \(expected 0 to 2\)$/],
    [() => ig.scatterAdd(x, 1, i32([3], [1, 1]), ig.ones([1, 1])), /^scatterAdd: index 3 is out of range for dim 1 of size 3/],
    [() => ig.embedding(i32([5]), x), /^embedding: index 5 is out of range for 2 embeddings \(expected 0 to 1\)$/],
    [() => ig.indexSelect(ig.zeros([0, 2]), 0, i32([0])), /^indexSelect: index 0 is out of range for dim 0 of size 0 \(it is empty\)$/],
  ];
  for (const [fn, re] of cases) assert.throws(fn, (e: unknown) => e instanceof ig.IndexError && re.test((e as Error).message));
});

test("float32 results match float64 ones for the index ops", () => {
  const x64 = randn([4, 5], 12);
  const x32 = x64.to("float32");
  const index = randIdx([4, 3], 5, 13);
  close(vals(ig.gather(x32, 1, index)), vals(ig.gather(x64, 1, index).to("float32")), 0);
  const rows = randIdx([2, 3], 4, 14);
  close(vals(ig.embedding(rows, x32)), vals(ig.embedding(rows, x64).to("float32")), 0);
});
