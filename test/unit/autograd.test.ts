// Autograd: accumulation, graph freeing, noGrad, detach, errors, and memory that stays flat.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";

test("gradients accumulate in .grad across backward calls", () => {
  const x = ig.tensor([1, 2, 3], { requiresGrad: true });
  x.mul(x).sum().backward();
  assert.deepEqual(x.grad!.toArray(), [2, 4, 6]);
  x.mul(3).sum().backward();
  assert.deepEqual(x.grad!.toArray(), [5, 7, 9]);
  x.zeroGrad_();
  assert.equal(x.grad, null);
});

test("a tensor used twice gets the sum of both paths", () => {
  const x = ig.tensor([2], { requiresGrad: true });
  const y = x.mul(x).add(x.exp()); // d/dx = 2x + e^x
  y.sum().backward();
  assert.ok(Math.abs(x.grad!.item() - (4 + Math.exp(2))) < 1e-4);
});

test("backward through views and broadcasting", () => {
  const w = ig.tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
  const b = ig.tensor([1, 1], { requiresGrad: true });
  const y = w.t().slice(0, 1).add(b.unsqueeze(0)); // [2,2] view of columns 1..2, plus a broadcast row
  y.sum().backward();
  assert.deepEqual(w.grad!.toArray(), [[0, 1, 1], [0, 1, 1]]);
  assert.deepEqual(b.grad!.toArray(), [2, 2]);
});

test("the graph is freed after backward unless retainGraph", () => {
  const x = ig.tensor([1, 2], { requiresGrad: true });
  const y = x.exp().sum();
  y.backward();
  assert.throws(() => y.backward(), (e: Error) => e instanceof ig.AutogradError && /retainGraph/.test(e.message));
  const z = x.exp().sum();
  z.backward(undefined, { retainGraph: true });
  z.backward();
});

test("backward of a non-scalar needs an upstream gradient of the same shape", () => {
  const x = ig.tensor([1, 2], { requiresGrad: true });
  const y = x.mul(2);
  assert.throws(() => y.backward(), (e: Error) => e instanceof ig.AutogradError && /\[2\]/.test(e.message));
  assert.throws(() => y.backward(ig.ones(3)), ig.AutogradError);
  y.backward(ig.tensor([1, 10]));
  assert.deepEqual(x.grad!.toArray(), [2, 20]);
});

test("noGrad records nothing; detach cuts the graph", () => {
  const x = ig.tensor([1, 2], { requiresGrad: true });
  const y = ig.noGrad(() => x.mul(2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  const z = x.detach().mul(2);
  assert.equal(z.requiresGrad, false);
  assert.throws(() => z.sum().backward(), ig.AutogradError);
  assert.equal(ig.enableGrad(() => ig.noGrad(() => ig.isGradEnabled())), false);
});

test("only float tensors can require grad; int outputs never carry a gradFn", () => {
  assert.throws(() => ig.arange(3).requiresGrad_(), ig.IngotError);
  const x = ig.tensor([1.5, 2.5], { requiresGrad: true });
  assert.equal(x.to("int32").requiresGrad, false);
});

test("in-place updates refuse tensors that require grad unless under noGrad", () => {
  const p = ig.tensor([1, 2], { requiresGrad: true });
  assert.throws(() => p.copy_(ig.tensor([3, 4])), (e: Error) => e instanceof ig.AutogradError && /noGrad/.test(e.message));
  ig.noGrad(() => p.copy_(ig.tensor([3, 4])));
  assert.deepEqual(p.toArray(), [3, 4]);
  const q = ig.zeros(2, 3);
  q.copy_(ig.tensor([1, 2, 3]));
  assert.deepEqual(q.toArray(), [[1, 2, 3], [1, 2, 3]]);
  assert.throws(() => q.copy_(ig.ones(4)), ig.ShapeError);
});

test("gradcheck catches a wrong gradient rule", () => {
  const ok = ig.gradcheck((x) => x.exp().mul(x), [ig.tensor([0.3, -0.7], { dtype: "float64", requiresGrad: true })]);
  assert.ok(ok.ok, `worst ${ok.worst}`);
  // A function whose recorded graph is wrong on purpose: detach() hides one path from backward.
  const bad = ig.gradcheck((x) => x.mul(x.detach()), [ig.tensor([0.3, -0.7], { dtype: "float64", requiresGrad: true })]);
  assert.equal(bad.ok, false);
});

test("no dispose(): a loop creating 10 000 tensors of 1 MB runs in flat memory", () => {
  const n = 262144; // float32 elements in 1 MB
  const mb = () => (process.memoryUsage().arrayBuffers + process.memoryUsage().external) / 2 ** 20;
  const w = ig.tensor([0.5], { requiresGrad: true });
  let peak = 0;
  const start = mb();
  for (let i = 0; i < 10000; i++) {
    const t = ig.full([n], i % 7);
    if (i % 500 === 0) {
      t.mul(w).sum().backward(); // with autograd, the graph is freed too
      peak = Math.max(peak, mb());
    }
  }
  global.gc?.();
  const end = mb();
  // 10 000 MB were allocated in total; growth must stay far below that.
  assert.ok(peak - start < 1024, `external memory grew from ${start.toFixed(0)} MB to a peak of ${peak.toFixed(0)} MB`);
  assert.ok(end - start < 1024, `external memory ended at ${end.toFixed(0)} MB (start ${start.toFixed(0)} MB)`);
  assert.ok(w.grad !== null);
});

test("gradients take the dtype of their tensor, whatever the seed's dtype", () => {
  const x = ig.tensor([1, 2], { requiresGrad: true });
  const h = x.mul(3); // float32 intermediate
  const y = h.to("float64").mul(2);
  y.backward(ig.tensor([1, 1], { dtype: "float64" }));
  assert.equal(x.grad!.dtype, "float32");
  assert.deepEqual(x.grad!.toArray(), [6, 6]);
  const z = x.mul(2);
  z.backward(ig.tensor([1, 1], { dtype: "float64" }));
  assert.equal(x.grad!.dtype, "float32");
});

test("leaf gradients never alias each other or the caller's gradient", () => {
  const x = ig.tensor([1, 2], { requiresGrad: true });
  const y = ig.tensor([3, 4], { requiresGrad: true });
  x.add(y).sum().backward(); // add passes the same upstream tensor to both inputs
  assert.notEqual(x.grad!.storage, y.grad!.storage);
  const up = ig.tensor([1, 1]);
  const z = ig.tensor([5, 6], { requiresGrad: true });
  z.backward(up);
  assert.notEqual(z.grad!.storage, up.storage);
  ig.noGrad(() => z.grad!.copy_(ig.tensor([9, 9])));
  assert.deepEqual(up.toArray(), [1, 1]);
});

// Backward adds slice gradients into one accumulator in place and adds third and later contributions
// in place (src/autograd/backward.ts): each case is checked against finite differences, on every
// order of slice and ordinary contributions, with a contiguous and a strided region.
test("slices of one tensor (q, k, v of a packed projection) get their gradients right", () => {
  const x = ig.randn([2, 3, 12], { dtype: "float64", generator: new ig.Generator(5) }).requiresGrad_(true);
  const w = ig.randn([12, 3 * 12], { dtype: "float64", generator: new ig.Generator(6) }).requiresGrad_(true);
  const f = (x: ig.Tensor, w: ig.Tensor) => {
    const qkv = x.matmul(w).view(2, 3, 3, 2, 6).permute(2, 0, 3, 1, 4); // (3, B, H, T, D)
    const q = qkv.select(0, 0), k = qkv.select(0, 1), v = qkv.select(0, 2);
    return q.matmul(k.transpose(-2, -1)).softmax(-1).matmul(v);
  };
  const r = ig.gradcheck(f, [x, w]);
  assert.ok(r.ok, `worst ${r.worst}`);
});

test("slice gradients mixed with ordinary ones, in either order, and strided slices", () => {
  const x = ig.randn([4, 6], { dtype: "float64", generator: new ig.Generator(7) }).requiresGrad_(true);
  const cases: [string, (x: ig.Tensor) => ig.Tensor][] = [
    ["ordinary first", (x) => { const y = x.mul(3); return y.exp().sum().add(y.slice(0, 0, 2).pow(2).sum()).add(y.slice(0, 2, 4).sin().sum()); }],
    ["slices first", (x) => { const y = x.mul(3); return y.slice(0, 1, 3).pow(2).sum().add(y.slice(0, 0, 1).cos().sum()).add(y.tanh().sum()); }],
    ["overlapping slices", (x) => { const y = x.tanh(); return y.slice(0, 0, 3).mul(y.slice(0, 1, 4)).sum().add(y.slice(0, 1, 2).exp().sum()); }],
    ["strided region (dim 1)", (x) => { const y = x.mul(2); return y.slice(1, 0, 3).pow(2).sum().add(y.slice(1, 2, 6, 2).exp().sum()).add(y.sum()); }],
    ["three ordinary contributions", (x) => { const y = x.sin(); return y.mul(y).add(y.exp()).sum().add(y.pow(3).sum()); }],
  ];
  for (const [name, f] of cases) {
    const r = ig.gradcheck(f, [x]);
    assert.ok(r.ok, `${name}: worst ${r.worst}`);
  }
});

test("a gradient handed to two inputs is not changed by later accumulation into one of them", () => {
  const x = ig.tensor([0.5, -1, 2], { dtype: "float64", requiresGrad: true });
  const p = x.mul(2), q = x.mul(5);
  // add hands the same upstream gradient to p and q; p then gets two more contributions.
  const loss = p.add(q).sum().add(p.pow(2).sum()).add(p.exp().sum());
  loss.backward();
  const xs = [0.5, -1, 2];
  const expected = xs.map((v) => 2 * (1 + 2 * (2 * v) + Math.exp(2 * v)) + 5);
  (x.grad!.toArray() as number[]).forEach((g, i) => assert.ok(Math.abs(g - expected[i]) < 1e-12, `${g} vs ${expected[i]}`));
  // The same with a slice of p adding into the shared gradient, the slice visited before or after add.
  for (const sliceFirst of [false, true]) {
    x.grad = null;
    const p2 = x.mul(2), q2 = x.mul(5);
    const both = p2.add(q2).sum(), part = p2.slice(0, 0, 2).exp().sum();
    (sliceFirst ? part.add(both) : both.add(part)).backward();
    const want = xs.map((v, i) => 2 * (1 + (i < 2 ? Math.exp(2 * v) : 0)) + 5);
    (x.grad!.toArray() as number[]).forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-12, `slice ${sliceFirst ? "first" : "last"}: ${g} vs ${want[i]}`));
  }
});

test("add_ adds in place with broadcasting, on contiguous blocks only", () => {
  const a = ig.arange(0, 6).reshape(2, 3).to("float32");
  const before = a;
  a.add_(ig.tensor([10, 20, 30]));
  assert.equal(a, before);
  assert.deepEqual(a.toArray(), [[10, 21, 32], [13, 24, 35]]);
  a.select(0, 1).add_(1); // a contiguous block of a larger tensor
  assert.deepEqual(a.toArray(), [[10, 21, 32], [14, 25, 36]]);
  assert.throws(() => a.t().add_(1), ig.ShapeError);
  assert.throws(() => a.add_(ig.ones([3, 3])), (e: Error) => e instanceof ig.ShapeError && /add_/.test(e.message));
  const p = ig.tensor([1, 2], { requiresGrad: true });
  assert.throws(() => p.add_(1), (e: Error) => e instanceof ig.AutogradError && /noGrad/.test(e.message));
  assert.throws(() => ig.tensor([1, 2], { dtype: "int32" }).add_(ig.tensor([0.5, 1])), (e: Error) => e instanceof ig.DTypeError && /add_/.test(e.message));
});
