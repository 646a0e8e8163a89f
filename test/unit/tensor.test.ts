// Tensors: creation, dtypes, views sharing storage, readout and printing.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";

test("tensor() infers shape and dtype from nested arrays", () => {
  const t = ig.tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(t.dtype, "float32");
  assert.deepEqual(t.toArray(), [[1, 2, 3], [4, 5, 6]]);
  assert.equal(ig.tensor([true, false]).dtype, "bool");
  assert.deepEqual(ig.tensor([true, false]).toArray(), [true, false]);
  assert.equal(ig.tensor(3.5).ndim, 0);
  assert.equal(ig.tensor(3.5).item(), 3.5);
  assert.equal(ig.tensor([1, 2], { dtype: "int32" }).dtype, "int32");
});

test("tensor() from typed arrays keeps the array's dtype and accepts a shape", () => {
  const t = ig.tensor(new Int32Array([1, 2, 3, 4]), { shape: [2, 2] });
  assert.equal(t.dtype, "int32");
  assert.deepEqual(t.toArray(), [[1, 2], [3, 4]]);
  assert.throws(() => ig.tensor(new Float32Array(3), { shape: [2, 2] }), ig.ShapeError);
});

test("ragged nested arrays are a ShapeError naming the position", () => {
  assert.throws(() => ig.tensor([[1, 2], [3]]), (e: Error) => e instanceof ig.ShapeError && /data\[1\]/.test(e.message));
});

test("creation functions", () => {
  assert.deepEqual(ig.zeros(2, 3).toArray(), [[0, 0, 0], [0, 0, 0]]);
  assert.deepEqual(ig.ones([2]).toArray(), [1, 1]);
  assert.deepEqual(ig.full([2], 7).toArray(), [7, 7]);
  assert.deepEqual(ig.arange(4).toArray(), [0, 1, 2, 3]);
  assert.equal(ig.arange(4).dtype, "int32");
  assert.deepEqual(ig.arange(1, 2, 0.25).toArray(), [1, 1.25, 1.5, 1.75]);
  assert.deepEqual(ig.linspace(0, 1, 5).toArray(), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(ig.eye(2, 3).toArray(), [[1, 0, 0], [0, 1, 0]]);
  assert.deepEqual(ig.zerosLike(ig.eye(2)).shape, [2, 2]);
  assert.equal(ig.onesLike(ig.arange(3)).dtype, "int32");
  assert.throws(() => ig.zeros([2, -1]), ig.ValueError);
  assert.throws(() => ig.arange(0, 1, 0), ig.ValueError);
});

test("manualSeed makes rand/randn/randint repeat, and the draws look right", () => {
  ig.manualSeed(42);
  const a = ig.randn(1000).toFlatArray();
  const b = ig.rand(10).toFlatArray();
  ig.manualSeed(42);
  assert.deepEqual(ig.randn(1000).toFlatArray(), a);
  assert.deepEqual(ig.rand(10).toFlatArray(), b);
  const m = a.reduce((s, v) => s + v, 0) / a.length;
  const v = a.reduce((s, x) => s + (x - m) ** 2, 0) / a.length;
  assert.ok(Math.abs(m) < 0.1 && Math.abs(v - 1) < 0.15, `randn mean ${m} var ${v}`);
  const r = ig.randint(3, 6, [500]).toFlatArray();
  assert.ok(r.every((x) => x >= 3 && x < 6 && Number.isInteger(x)));
  assert.deepEqual(new Set(r), new Set([3, 4, 5]));
  const p = ig.randperm(10).toFlatArray();
  assert.deepEqual([...p].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test("views share storage without copying", () => {
  const x = ig.arange(12).reshape(3, 4);
  const views = [x.t(), x.reshape(2, 6), x.permute(1, 0), x.slice(1, 0, 4, 2), x.unsqueeze(0), x.select(0, 1), x.expand(2, 3, 4)];
  for (const v of views) assert.equal(v.storage, x.storage);
  assert.deepEqual(x.t().toArray(), [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]);
  assert.deepEqual(x.slice(1, 1, 4, 2).toArray(), [[1, 3], [5, 7], [9, 11]]);
  assert.deepEqual(x.slice(0, -1).toArray(), [[8, 9, 10, 11]]);
  assert.deepEqual(x.select(1, -1).toArray(), [3, 7, 11]);
  assert.deepEqual(ig.tensor([1, 2]).expand(2, 2).toArray(), [[1, 2], [1, 2]]);
  assert.deepEqual(ig.tensor([[1], [2]]).expand(-1, 3).toArray(), [[1, 1, 1], [2, 2, 2]]);
  assert.deepEqual(x.unsqueeze(1).shape, [3, 1, 4]);
  assert.deepEqual(x.unsqueeze(-1).shape, [3, 4, 1]);
  assert.deepEqual(x.unsqueeze(0).squeeze().shape, [3, 4]);
  assert.deepEqual(x.flatten().shape, [12]);
  assert.deepEqual(x.reshape(-1, 6).shape, [2, 6]);
  // A write through the storage is seen by every view.
  x.storage.data[5] = 100;
  assert.equal(x.t().toArray() instanceof Array && (x.t().toArray() as number[][])[1][1], 100);
});

test("reshape of a non-contiguous tensor copies; view refuses", () => {
  const x = ig.arange(6).reshape(2, 3).t();
  assert.equal(x.isContiguous(), false);
  const r = x.reshape(6);
  assert.notEqual(r.storage, x.storage);
  assert.deepEqual(r.toArray(), [0, 3, 1, 4, 2, 5]);
  assert.throws(() => x.view(6), (e: Error) => e instanceof ig.ShapeError && /use reshape/.test(e.message));
  assert.throws(() => x.reshape(4), (e: Error) => e instanceof ig.ShapeError && /reshape: shape \[4\] is invalid for a tensor of shape \[3,2\]/.test(e.message));
});

test("contiguous, clone, to(dtype) and detach", () => {
  const x = ig.tensor([[1.7, -2.5], [3, 4]]);
  assert.equal(x.contiguous(), x);
  const c = x.clone();
  assert.notEqual(c.storage, x.storage);
  assert.deepEqual(c.toArray(), x.toArray());
  assert.deepEqual(x.to("int32").toArray(), [[1, -2], [3, 4]]);
  assert.deepEqual(ig.tensor([0, 2, -1]).to("bool").toArray(), [false, true, true]);
  const d = x.detach();
  assert.equal(d.storage, x.storage);
  assert.equal(d.requiresGrad, false);
  assert.throws(() => x.to("int4"), ig.DTypeError);
});

test("dataSync returns row-major values, a storage view when contiguous", () => {
  const x = ig.arange(6, undefined, 1, { dtype: "float32" }).reshape(2, 3);
  assert.equal(x.dataSync(), x.storage.data);
  assert.deepEqual(Array.from(x.t().dataSync()), [0, 3, 1, 4, 2, 5]);
  assert.deepEqual(Array.from(x.slice(0, 1).dataSync()), [3, 4, 5]);
});

test("toString prints like PyTorch", () => {
  assert.equal(ig.tensor([[1, 2], [3, 4]]).toString(), "tensor([[1., 2.],\n        [3., 4.]])");
  assert.equal(ig.tensor([0.5, -1.25]).toString(), "tensor([ 0.5000, -1.2500])");
  assert.equal(ig.arange(3).toString(), "tensor([0, 1, 2], dtype=int32)");
  assert.equal(ig.tensor([true, false]).toString(), "tensor([ True, False])"); // PyTorch pads to equal width
  assert.equal(ig.tensor(2).toString(), "tensor(2.)");
  assert.match(ig.tensor([1], { requiresGrad: true }).toString(), /requiresGrad=true/);
});

test("item() of a multi-element tensor names the shape", () => {
  assert.throws(() => ig.zeros(2, 2).item(), (e: Error) => e instanceof ig.ValueError && /\[2,2\]/.test(e.message));
});

test("dims out of range give ValueErrors naming the op", () => {
  const x = ig.zeros(2, 3);
  assert.throws(() => x.transpose(0, 2), (e: Error) => /transpose: dim 2 is out of range/.test(e.message));
  assert.throws(() => x.permute(0, 0), (e: Error) => e instanceof ig.ShapeError && /permute/.test(e.message));
  assert.throws(() => x.expand(4, 3, 2), (e: Error) => e instanceof ig.ShapeError && /expand/.test(e.message));
  assert.throws(() => x.slice(1, 0, 3, 0), ig.ValueError);
});

test("room for more dtypes: storage-only dtypes allocate packed storage", () => {
  assert.equal(ig.allocArray("int4", 5).length, 3);
  assert.equal(ig.allocArray("bfloat16", 4).BYTES_PER_ELEMENT, 2);
  assert.equal(ig.promoteTypes("int32", "float32"), "float32");
  assert.equal(ig.promoteTypes("bool", "int32"), "int32");
  assert.equal(ig.promoteTypes("float32", "float64"), "float64");
});
