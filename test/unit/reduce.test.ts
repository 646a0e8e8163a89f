// Values of the reductions and of softmax/logSoftmax/logSumExp against plain-JS computations, and
// the behaviour the conformance cases cannot see (three-way ties, zeros in prod, NaN, ±inf).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";

const f64 = (data: number[], shape?: number[]) => ig.tensor(Float64Array.from(data), { dtype: "float64", shape: shape ?? [data.length] });

function close(got: ig.Tensor, want: number[], tol = 1e-12): void {
  const g = got.toFlatArray();
  assert.equal(g.length, want.length, `${g.length} values, expected ${want.length}`);
  g.forEach((v, i) => {
    if (Number.isNaN(want[i])) assert.ok(Number.isNaN(v), `element ${i} is ${v}, expected NaN`);
    else if (!Number.isFinite(want[i])) assert.equal(v, want[i], `element ${i}`);
    else assert.ok(Math.abs(v - want[i]) <= tol * (1 + Math.abs(want[i])), `element ${i} is ${v}, expected ${want[i]}`);
  });
}

/** A seeded [3,4,5] float64 tensor and its values as nested JS arrays. */
function sample(): { x: ig.Tensor; v: number[][][] } {
  const x = ig.randn([3, 4, 5], { dtype: "float64", generator: new ig.Generator(7) });
  return { x, v: x.toArray() as number[][][] };
}

test("max/min over one dim, a list of dims and all match plain JS", () => {
  const { x, v } = sample();
  close(ig.max(x, 1), v.flatMap((a) => a[0].map((_, k) => Math.max(...a.map((r) => r[k])))));
  close(x.min(-1), v.flatMap((a) => a.map((r) => Math.min(...r))));
  close(ig.max(x, [0, 2]), v[0].map((_, j) => Math.max(...v.flatMap((a) => a[j]))));
  close(ig.min(x), [Math.min(...v.flat(2))]);
  assert.deepEqual([...ig.max(x, [0, 2], true).shape], [1, 4, 1]);
  assert.deepEqual([...ig.max(x).shape], []);
});

test("max/min propagate NaN and keep the dtype of int32 and bool inputs", () => {
  close(ig.max(f64([1, NaN, 3, 0, 2, 1], [2, 3]), 1), [NaN, 2]);
  close(ig.min(f64([1, NaN, 3])), [NaN]);
  const i = ig.tensor([[3, -7], [5, 2]], { dtype: "int32" });
  assert.equal(ig.max(i, 0).dtype, "int32");
  assert.deepEqual(ig.max(i, 0).toArray(), [5, 2]);
  assert.deepEqual(ig.min(ig.tensor([[true, false], [true, true]]), 1).toArray(), [false, true]);
});

test("max/min split the gradient evenly among three-way ties", () => {
  const x = f64([2, 1, 2, 2, 0, 1], [2, 3]).requiresGrad_();
  ig.max(x).backward();
  close(x.grad!, [1 / 3, 0, 1 / 3, 1 / 3, 0, 0]);
  const y = f64([0, 5, 0, 0], [4]).requiresGrad_();
  ig.min(y).mul(6).backward();
  close(y.grad!, [2, 0, 2, 2]);
});

test("max/min refuse to reduce over an empty dim", () => {
  assert.throws(() => ig.max(ig.zeros([0, 3])), (e: unknown) => e instanceof ig.ShapeError && /^max: cannot reduce over dim 0 of size 0/.test(e.message));
  assert.deepEqual([...ig.min(ig.zeros([0, 3]), 1).shape], [0]);
});

test("argmax/argmin: first occurrence, flattened index in logical order, keepDim shapes", () => {
  const x = ig.tensor([[1, 5, 5], [7, 0, 7]]);
  assert.deepEqual(ig.argmax(x, 1).toArray(), [1, 0]);
  assert.deepEqual(ig.argmin(x, 1).toArray(), [0, 1]);
  assert.equal(ig.argmax(x).item(), 3);
  assert.equal(ig.argmax(x).dtype, "int32");
  // x.t() is [[1,7],[5,0],[5,7]]: the flattened index follows the view's shape, not the storage.
  assert.equal(x.t().argmax().item(), 1);
  assert.equal(x.t().argmin().item(), 3);
  assert.deepEqual([...ig.argmax(x, 0, true).shape], [1, 3]);
  assert.deepEqual([...ig.argmax(x, null, true).shape], [1, 1]);
  assert.equal(ig.argmax(f64([0, NaN, 9, NaN])).item(), 1);
  const { x: r, v } = sample();
  assert.deepEqual(ig.argmax(r, 2).toFlatArray(), v.flatMap((a) => a.map((row) => row.indexOf(Math.max(...row)))));
});

test("prod values, including int32 and an empty dim", () => {
  close(ig.prod(f64([1.5, -2, 4, 0.5, 3, -1], [2, 3]), 1), [-12, -1.5]);
  close(ig.prod(f64([1.5, -2, 4, 0.5, 3, -1], [2, 3]), 0, true), [0.75, -6, -4]);
  assert.deepEqual(ig.prod(ig.tensor([[2, -3], [4, 5]], { dtype: "int32" })).toArray(), -120);
  close(ig.prod(ig.zeros([2, 0], { dtype: "float64" }), 1), [1, 1]);
});

test("prod's gradient is exact with one zero and zero with two zeros", () => {
  // Row 0 has no zero, row 1 one zero, row 2 two zeros; d prod / d x_j = product of the others.
  const x = f64([2, 3, 4, 5, 0, 7, 0, 2, 0], [3, 3]).requiresGrad_();
  ig.prod(x, 1).backward(f64([1, 1, 1]));
  close(x.grad!, [12, 8, 6, 0, 35, 0, 0, 0, 0]);
});

function naiveVar(vals: number[], correction: number): number {
  const m = vals.reduce((a, b) => a + b, 0) / vals.length;
  return vals.reduce((a, b) => a + (b - m) * (b - m), 0) / Math.max(0, vals.length - correction);
}

test("variance and std match the two-pass formula for every correction", () => {
  const { x, v } = sample();
  const rows = v.flatMap((a) => a);
  for (const correction of [0, 1, 2]) {
    close(ig.variance(x, -1, { correction }), rows.map((r) => naiveVar(r, correction)));
    close(x.std(2, { correction }), rows.map((r) => Math.sqrt(naiveVar(r, correction))));
  }
  close(x.var(), [naiveVar(v.flat(2), 1)]);
  close(ig.variance(x, [0, 2]), v[0].map((_, j) => naiveVar(v.flatMap((a) => a[j]), 1)));
  assert.deepEqual([...x.var(1, { keepDim: true }).shape], [3, 1, 5]);
});

test("variance is accurate with a large offset, and N ≤ correction gives inf or NaN as in PyTorch", () => {
  close(ig.variance(f64([1e8 + 1, 1e8 + 2, 1e8 + 3, 1e8 + 4])), [5 / 3], 1e-9);
  close(ig.variance(f64([1, 2]), 0, { correction: 2 }), [Infinity]);
  close(ig.variance(f64([3])), [NaN]);
  close(ig.std(f64([4, 4, 4])), [0]);
});

test("variance and std gradients match the closed forms", () => {
  const vals = [0.5, -1, 2, 1.5];
  const m = vals.reduce((a, b) => a + b, 0) / 4;
  const x = f64(vals).requiresGrad_();
  ig.variance(x).backward();
  close(x.grad!, vals.map((t) => (2 * (t - m)) / 3));
  const y = f64(vals).requiresGrad_();
  ig.std(y, 0, { correction: 0 }).backward();
  const s = Math.sqrt(naiveVar(vals, 0));
  close(y.grad!, vals.map((t) => (t - m) / (4 * s)));
});

test("logSumExp is stable for huge and −inf inputs", () => {
  const { x, v } = sample();
  close(ig.logSumExp(x, 1), v.flatMap((a) => a[0].map((_, k) => Math.log(a.reduce((s, r) => s + Math.exp(r[k]), 0)))));
  close(ig.logSumExp(f64([1000, 1000, 1000]), 0), [1000 + Math.log(3)]);
  close(ig.logSumExp(f64([-1000, -1000]), 0), [-1000 + Math.log(2)]);
  close(ig.logSumExp(f64([-Infinity, -Infinity]), 0), [-Infinity]);
  close(ig.logSumExp(f64([-Infinity, 0]), 0), [0]);
  close(ig.logSumExp(f64([Infinity, 1]), 0), [Infinity]);
  assert.throws(() => ig.logSumExp(x, undefined as unknown as number), ig.ValueError);
});

test("softmax and logSoftmax match plain JS and survive huge logits", () => {
  const { x, v } = sample();
  const rows = v.flatMap((a) => a);
  const soft = rows.flatMap((r) => {
    const e = r.map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((t) => t / s);
  });
  close(ig.softmax(x, -1), soft);
  close(x.logSoftmax(2), soft.map(Math.log));
  const rowSums = ig.sum(ig.softmax(x, 1), 1).toFlatArray();
  rowSums.forEach((s) => assert.ok(Math.abs(s - 1) < 1e-12));
  close(ig.softmax(ig.tensor([1000, 0, 1000]), 0), [0.5, 0, 0.5]);
  close(ig.logSoftmax(f64([1000, 0]), 0), [0, -1000]);
  close(ig.softmax(f64([-Infinity, 0, -Infinity]), 0), [0, 1, 0]);
  assert.equal(ig.softmax(ig.tensor([1, 2]), 0).dtype, "float32");
});

test("softmax and logSoftmax gradients use the saved output correctly", () => {
  const x = f64([0.3, -1.2, 2.0]).requiresGrad_();
  const w = f64([1, 2, 3]);
  ig.softmax(x, 0).mul(w).sum().backward();
  const p = ig.softmax(x.detach(), 0).toFlatArray();
  const dot = p[0] * 1 + p[1] * 2 + p[2] * 3;
  close(x.grad!, p.map((pi, i) => pi * ([1, 2, 3][i] - dot)));
  const y = f64([0.3, -1.2, 2.0]).requiresGrad_();
  ig.logSoftmax(y, 0).mul(w).sum().backward();
  close(y.grad!, p.map((pi, i) => [1, 2, 3][i] - pi * 6));
});

test("softmax needs a dim", () => {
  assert.throws(
    () => ig.softmax(ig.zeros([2, 2]), undefined as unknown as number),
    (e: unknown) => e instanceof ig.ValueError && /^softmax: dim is required/.test(e.message),
  );
});
