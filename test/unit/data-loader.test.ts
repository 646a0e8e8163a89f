// ingot.data datasets and loaders: TensorDataset, Subset, ConcatDataset, randomSplit, DataLoader
// batching, shuffling (seeded, repeatable), dropLast and collate.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";

const { data } = ig;

/** x row i is [2i, 2i+1]; y[i] = i, so every batch shows which samples it holds. */
function numbered(n: number) {
  const x = ig.arange(0, 2 * n, 1, { dtype: "float32" }).reshape(n, 2);
  const y = ig.arange(n);
  return { x, y, ds: new data.TensorDataset(x, y) };
}

test("TensorDataset: items are rows of every tensor; shapes and indices are checked", () => {
  const { ds } = numbered(5);
  assert.equal(ds.length, 5);
  const [x2, y2] = ds.get(2);
  assert.deepEqual(x2.toArray(), [4, 5]);
  assert.equal(y2.item(), 2);
  assert.equal(y2.dtype, "int32");
  assert.deepEqual([...ds].map(([, y]) => y.item()), [0, 1, 2, 3, 4]);
  assert.throws(() => ds.get(5), { name: "IndexError", message: /TensorDataset: index 5 is out of range for a dataset of 5 items/ });
  assert.throws(() => ds.get(-1), /index -1 is out of range/);
  assert.throws(() => new data.TensorDataset(ig.zeros(5, 2), ig.zeros(4)), { name: "ShapeError", message: /TensorDataset: tensor 1 has shape \[4\] but tensor 0 has shape \[5,2\]/ });
  assert.throws(() => new data.TensorDataset(), /at least one tensor/);
});

test("DataLoader: batches in order, the short last batch, dropLast, length", () => {
  const { ds } = numbered(5);
  const loader = new data.DataLoader(ds, { batchSize: 2 });
  assert.equal(loader.length, 3);
  const batches = [...loader];
  assert.equal(batches.length, 3);
  assert.deepEqual(batches[0][0].toArray(), [[0, 1], [2, 3]]);
  assert.deepEqual(batches[1][1].toArray(), [2, 3]);
  assert.deepEqual(batches[2][0].toArray(), [[8, 9]]);
  assert.deepEqual(batches[2][0].shape, [1, 2]);
  const dropped = new data.DataLoader(ds, { batchSize: 2, dropLast: true });
  assert.equal(dropped.length, 2);
  assert.deepEqual([...dropped].map(([, y]) => y.toArray()), [[0, 1], [2, 3]]);
  assert.equal(new data.DataLoader(ds).length, 5, "batchSize defaults to 1");
  assert.equal(new data.DataLoader(ds, { batchSize: 8, dropLast: true }).length, 0);
  assert.throws(() => new data.DataLoader(ds, { batchSize: 0 }), /batchSize must be a positive integer, got 0/);
  assert.throws(() => new data.DataLoader(ig.zeros(3) as never), /must be a Dataset \(wrap tensors in new TensorDataset/);
});

test("DataLoader: shuffling is a permutation per epoch, repeatable with manualSeed or a generator", () => {
  const { ds } = numbered(20);
  const loader = new data.DataLoader(ds, { batchSize: 6, shuffle: true });
  const epoch = () => [...loader].flatMap(([, y]) => y.toFlatArray());
  ig.manualSeed(7);
  const e1 = epoch();
  const e2 = epoch();
  assert.deepEqual([...e1].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i), "each sample exactly once");
  assert.notDeepEqual(e1, e2, "a new order every epoch");
  assert.notDeepEqual(e1, Array.from({ length: 20 }, (_, i) => i));
  ig.manualSeed(7);
  assert.deepEqual(epoch(), e1, "manualSeed repeats the order");
  // The order is the Fisher–Yates permutation torch-style randperm draws from the same generator.
  const withGen = new data.DataLoader(ds, { batchSize: 20, shuffle: true, generator: new ig.Generator(3) });
  assert.deepEqual([...withGen][0][1].toFlatArray(), ig.randperm(20, { generator: new ig.Generator(3) }).toFlatArray());
  // Rows stay paired with their labels after shuffling.
  for (const [x, y] of loader) y.toFlatArray().forEach((i, k) => assert.deepEqual((x.toArray() as number[][])[k], [2 * i, 2 * i + 1]));
});

test("DataLoader: default collate of objects and numbers; a custom collate", () => {
  class Squares extends data.Dataset<{ x: ig.Tensor; label: number; w: number; ok: boolean }> {
    get length() {
      return 4;
    }
    get(i: number) {
      return { x: ig.tensor([i, i * i]), label: i % 2, w: i / 2, ok: i > 1 };
    }
  }
  const [b0] = [...new data.DataLoader(new Squares(), { batchSize: 3 })];
  assert.deepEqual(b0.x.toArray(), [[0, 0], [1, 1], [2, 4]]);
  assert.equal(b0.label.dtype, "int32");
  assert.deepEqual(b0.label.toArray(), [0, 1, 0]);
  assert.equal(b0.w.dtype, "float32");
  assert.deepEqual(b0.w.toArray(), [0, 0.5, 1]);
  assert.deepEqual(b0.ok.toArray(), [false, false, true]);
  const sums = [...new data.DataLoader(new Squares(), { batchSize: 2, collate: (items) => items.reduce((a, it) => a + it.label, 0) })];
  assert.deepEqual(sums, [1, 1]);
  assert.throws(() => data.defaultCollate([]), /cannot collate an empty batch/);
  assert.throws(() => data.defaultCollate(["a", "b"]), /cannot collate items of type string; pass a collate function/);
});

test("DataLoader: TensorDataset's fast batches equal stacking single items (uint8 too)", () => {
  const imgs = ig.tensor(Uint8Array.from({ length: 5 * 4 }, (_, i) => (i * 37) % 256), { shape: [5, 2, 2] });
  const ds = new data.TensorDataset(imgs, ig.arange(5));
  const fast = [...new data.DataLoader(ds, { batchSize: 2 })];
  const slow = [...new data.DataLoader(ds, { batchSize: 2, collate: (items) => data.defaultCollate(items) })];
  assert.equal(fast[0][0].dtype, "uint8");
  fast.forEach((b, k) => b.forEach((t, j) => assert.deepEqual(t.toArray(), slow[k][j].toArray())));
  // A non-contiguous source tensor reads in logical order.
  const xt = ig.arange(0, 6, 1, { dtype: "float32" }).reshape(2, 3).t(); // [[0,3],[1,4],[2,5]]
  assert.deepEqual([...new data.DataLoader(new data.TensorDataset(xt), { batchSize: 3 })][0][0].toArray(), [[0, 3], [1, 4], [2, 5]]);
});

test("randomSplit: lengths or fractions, disjoint, complete, seeded", () => {
  const { ds } = numbered(10);
  const ids = (s: ig.data.Subset<ig.Tensor[]>) => [...s].map(([, y]) => y.item());
  const [a, b] = data.randomSplit(ds, [7, 3], new ig.Generator(1));
  assert.equal(a.length, 7);
  assert.equal(b.length, 3);
  assert.deepEqual([...ids(a), ...ids(b)].sort((p, q) => p - q), Array.from({ length: 10 }, (_, i) => i));
  const [a2] = data.randomSplit(ds, [7, 3], new ig.Generator(1));
  assert.deepEqual(ids(a2), ids(a), "the same generator seed gives the same split");
  // Fractions: floor(5·0.5) = 2 each, the remaining one goes to the first subset (as PyTorch).
  assert.deepEqual(data.randomSplit(numbered(5).ds, [0.5, 0.5]).map((s) => s.length), [3, 2]);
  assert.deepEqual(data.randomSplit(ds, [0.7, 0.2, 0.1]).map((s) => s.length), [7, 2, 1]);
  assert.throws(() => data.randomSplit(ds, [6, 6]), /lengths \[6,6\] sum to 12 but the dataset has 10 items/);
  assert.throws(() => data.randomSplit(ds, [0.5, 0.2]), /neither whole numbers nor fractions that sum to 1/);
});

test("Subset and ConcatDataset map indices; Subset batches through the parent's fast path", () => {
  const { ds } = numbered(5);
  const sub = new data.Subset(ds, [4, 0, 2]);
  assert.equal(sub.length, 3);
  assert.deepEqual(sub.get(0)[0].toArray(), [8, 9]);
  const [batch] = [...new data.DataLoader(sub, { batchSize: 3 })];
  assert.deepEqual(batch[1].toArray(), [4, 0, 2]);
  assert.throws(() => new data.Subset(ds, [5]), /Subset: index 5 is out of range/);
  const cat = new data.ConcatDataset([numbered(2).ds, new data.Subset(ds, [3])]);
  assert.equal(cat.length, 3);
  assert.deepEqual([...cat].map(([x]) => x.toArray()), [[0, 1], [2, 3], [6, 7]]);
  assert.throws(() => cat.get(3), /ConcatDataset: index 3 is out of range for a dataset of 3 items/);
});
