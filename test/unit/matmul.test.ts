// matmul/mm/bmm/linear against a plain-JS triple loop, the exact error text, and the kernel
// contract seen from a spy backend (what the "matmul" kernel receives, and that b.t() is not copied).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";

// A backend that inherits ref and records what the "matmul" kernel receives and how often "copy" runs.
const calls: { shapes: number[][]; strides: number[][] }[] = [];
let copies = 0;
ig.registerBackend({ name: "spy", inherits: "ref", device: "cpu" });
for (const dtype of ["float32", "float64", "int32"] as const) {
  const mm = ig.findKernel("matmul", "ref", dtype)!;
  ig.registerKernel("matmul", "spy", [dtype], (inputs, outputs, attrs) => {
    calls.push({ shapes: inputs.map((t) => [...t.shape]), strides: inputs.map((t) => [...t.strides]) });
    mm.fn(inputs, outputs, attrs);
  });
  const copy = ig.findKernel("copy", "ref", dtype)!;
  ig.registerKernel("copy", "spy", [dtype], (inputs, outputs, attrs) => {
    copies++;
    copy.fn(inputs, outputs, attrs);
  });
}
function spy<T>(fn: () => T): T {
  calls.length = 0;
  copies = 0;
  return ig.withBackend("spy", fn);
}

const gen = new ig.Generator(11);
const rnd = (shape: number[]) => ig.randn(shape, { dtype: "float64", generator: gen });

/** torch.matmul written out: promote 1-D, broadcast batch dims, triple loop, drop the added dims. */
function naiveMatmul(a: ig.Tensor, b: ig.Tensor): { shape: number[]; values: number[] } {
  const as = a.ndim === 1 ? [1, a.shape[0]] : [...a.shape];
  const bs = b.ndim === 1 ? [b.shape[0], 1] : [...b.shape];
  const [M, K, N] = [as[as.length - 2], as[as.length - 1], bs[bs.length - 1]];
  const ba = as.slice(0, -2);
  const bb = bs.slice(0, -2);
  const nd = Math.max(ba.length, bb.length);
  const batch = Array.from({ length: nd }, (_, i) => Math.max(ba[ba.length - nd + i] ?? 1, bb[bb.length - nd + i] ?? 1));
  const av = a.toFlatArray();
  const bv = b.toFlatArray();
  const flatIndex = (idx: number[], own: number[]) => {
    let r = 0;
    own.forEach((d, i) => (r = r * d + (d === 1 ? 0 : idx[nd - own.length + i])));
    return r;
  };
  const values: number[] = [];
  const nb = batch.reduce((p, d) => p * d, 1);
  for (let t = 0; t < nb; t++) {
    const idx: number[] = [];
    for (let i = nd - 1, r = t; i >= 0; i--) {
      idx[i] = r % batch[i];
      r = Math.floor(r / batch[i]);
    }
    const ao = flatIndex(idx, ba) * M * K;
    const bo = flatIndex(idx, bb) * K * N;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += av[ao + i * K + k] * bv[bo + k * N + j];
        values.push(s);
      }
  }
  const shape = [...batch, ...(a.ndim === 1 ? [] : [M]), ...(b.ndim === 1 ? [] : [N])];
  return { shape, values };
}

function close(got: ig.Tensor, want: { shape: number[]; values: number[] }, tol = 1e-12): void {
  assert.deepEqual([...got.shape], want.shape);
  got.toFlatArray().forEach((v, i) => assert.ok(Math.abs(v - want.values[i]) <= tol * (1 + Math.abs(want.values[i])), `element ${i}: ${v} vs ${want.values[i]}`));
}

test("matmul matches the triple loop for every torch.matmul shape rule", () => {
  const pairs: [number[], number[]][] = [
    [[4], [4]],
    [[3, 4], [4]],
    [[4], [4, 5]],
    [[3, 4], [4, 5]],
    [[2, 3, 4], [2, 4, 5]],
    [[2, 1, 3, 4], [3, 4, 2]],
    [[2, 3, 4], [4, 5]],
    [[3, 4], [2, 4, 5]],
    [[4], [2, 4, 3]],
    [[2, 3, 4], [4]],
    [[1, 3, 4], [2, 1, 4, 2]],
  ];
  for (const [sa, sb] of pairs) {
    const a = rnd(sa);
    const b = rnd(sb);
    close(ig.matmul(a, b), naiveMatmul(a, b));
  }
});

test("matmul of [2,3] by [4,5] names both shapes", () => {
  assert.throws(
    () => ig.matmul(ig.zeros([2, 3]), ig.zeros([4, 5])),
    (e: unknown) => e instanceof ig.ShapeError && e.message.includes("matmul: inner dimensions differ: a is [2,3], b is [4,5]"),
  );
  assert.throws(() => ig.zeros([2, 3]).mm(ig.zeros([4, 5])), /^ShapeError: mm: inner dimensions differ: a is \[2,3\], b is \[4,5\]/);
  assert.throws(() => ig.bmm(ig.zeros([2, 2, 3]), ig.zeros([2, 4, 5])), /^ShapeError: bmm: inner dimensions differ: a is \[2,2,3\], b is \[2,4,5\]/);
});

test("the kernel gets identical batch shapes, broadcast as stride-0 views, not copies", () => {
  const a = rnd([2, 1, 3, 4]);
  const b = rnd([5, 4, 2]);
  const y = spy(() => ig.matmul(a, b));
  assert.deepEqual([...y.shape], [2, 5, 3, 2]);
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0].shapes, [[2, 5, 3, 4], [2, 5, 4, 2]]);
  assert.deepEqual(calls[0].strides, [[12, 0, 4, 1], [0, 8, 2, 1]]);
  assert.equal(copies, 0);
  assert.ok(y.isContiguous());
});

test("transposed operands reach the kernel as column-major views, without a copy", () => {
  const a = rnd([3, 4]);
  const b = rnd([5, 4]);
  const y = spy(() => ig.matmul(a, b.t()));
  assert.equal(copies, 0);
  assert.deepEqual(calls[0].strides, [[4, 1], [1, 4]]);
  close(y, naiveMatmul(a, b.t().contiguous()));
  const at = rnd([2, 4, 3]);
  spy(() => ig.bmm(at.t(), rnd([2, 4, 2])));
  assert.equal(copies, 0);
  assert.deepEqual(calls[0].strides[0], [12, 1, 3]);
});

test("an operand in neither layout is copied to row-major before it is broadcast", () => {
  const a = rnd([3, 8]).slice(1, 0, 8, 2); // [3,4], strides [8,2]
  const b = rnd([4, 2]);
  const y = spy(() => ig.matmul(a, b));
  assert.equal(copies, 1);
  assert.deepEqual(calls[0].strides[0], [4, 1]);
  close(y, naiveMatmul(a.contiguous(), b));
});

test("3-d · 2-d folds the batch into one GEMM", () => {
  const a = rnd([2, 3, 4]);
  const b = rnd([4, 5]);
  spy(() => ig.matmul(a, b));
  assert.deepEqual(calls[0].shapes, [[6, 4], [4, 5]]);
});

test("backward with a contiguous upstream gradient copies nothing and sums broadcast batch dims", () => {
  const a = rnd([2, 3, 4]).requiresGrad_();
  const b = rnd([4, 2]).requiresGrad_();
  const c = rnd([3, 4]).requiresGrad_();
  const d = rnd([2, 4, 2]).requiresGrad_();
  const g = rnd([2, 3, 2]);
  // Through mul(·, 1): a leaf whose gradient arrives as a view is stored as a copy (autograd's
  // choice, not matmul's), so the leaves sit one op away.
  spy(() => {
    ig.matmul(a.mul(1), b.mul(1)).backward(g);
    ig.matmul(c.mul(1), d.mul(1)).backward(g);
  });
  assert.equal(copies, 0);
  // dA = g·Bᵀ, dB = Σ_batch Aᵀ·g (b was broadcast over the batch), and the same for c, d.
  close(a.grad!, naiveMatmul(g, b.detach().t().contiguous()));
  const at = a.detach().permute(0, 2, 1).contiguous();
  const perBatch = naiveMatmul(at, g);
  const summed = perBatch.values.slice(0, 8).map((v, i) => v + perBatch.values[8 + i]);
  close(b.grad!, { shape: [4, 2], values: summed });
  const dc = naiveMatmul(g, d.detach().permute(0, 2, 1).contiguous());
  close(c.grad!, { shape: [3, 4], values: dc.values.slice(0, 12).map((v, i) => v + dc.values[12 + i]) });
  close(d.grad!, naiveMatmul(c.detach().t().contiguous(), g));
});

test("int32 matmul is exact", () => {
  const a = ig.tensor([[1, 2, 3], [4, 5, 6]], { dtype: "int32" });
  const b = ig.tensor([[7, 8], [9, 10], [11, 12]], { dtype: "int32" });
  const y = ig.matmul(a, b);
  assert.equal(y.dtype, "int32");
  assert.deepEqual(y.toArray(), [[58, 64], [139, 154]]);
});

test("linear equals x·Wᵀ + b for any leading dims", () => {
  const x = rnd([2, 3, 4]);
  const w = rnd([5, 4]);
  const bias = rnd([5]);
  const y = ig.linear(x, w, bias);
  const want = naiveMatmul(x, w.t().contiguous());
  const bv = bias.toFlatArray();
  close(y, { shape: [2, 3, 5], values: want.values.map((v, i) => v + bv[i % 5]) });
  close(ig.linear(x, w), want);
});

test("linear's own gradient rule (used by a fused kernel) matches the decomposition's", () => {
  // A backend with a fused "linear" kernel: there, autograd records linear's grad rule.
  ig.registerBackend({ name: "fused-linear", inherits: "ref", device: "cpu" });
  let fusedRuns = 0;
  ig.registerKernel("linear", "fused-linear", ["float32", "float64"], (inputs, [out]) => {
    fusedRuns++;
    const y = ig.withBackend("ref", () => ig.noGrad(() => ig.linear(inputs[0], inputs[1], inputs[2])));
    out.storage.data.set(y.dataSync());
  });
  for (const [xs, withBias] of [[[2, 3, 4], true], [[4], true], [[3, 4], false]] as [number[], boolean][]) {
    const x0 = rnd(xs);
    const w0 = rnd([5, 4]);
    const b0 = rnd([5]);
    const g = rnd([...xs.slice(0, -1), 5]);
    const grads = (backend: string) => {
      const [x, w, b] = [x0, w0, b0].map((t) => t.detach().clone().requiresGrad_());
      ig.withBackend(backend, () => ig.linear(x, w, withBias ? b : undefined).backward(g));
      return [x.grad!, w.grad!, withBias ? b.grad! : null];
    };
    const want = grads("ref");
    const got = grads("fused-linear");
    got.forEach((t, i) => {
      if (!t) return;
      close(t, { shape: [...want[i]!.shape], values: want[i]!.toFlatArray() });
    });
  }
  assert.equal(fusedRuns, 3);
});

test("mm and bmm refuse what matmul would broadcast", () => {
  assert.throws(() => ig.mm(ig.zeros([3]), ig.zeros([3, 2])), /^ShapeError: mm: both operands must be 2-D, got a \[3\] and b \[3,2\]/);
  assert.throws(() => ig.bmm(ig.zeros([1, 2, 3]), ig.zeros([2, 3, 2])), /^ShapeError: bmm: batch sizes differ/);
  close(ig.bmm(ig.ones([2, 2, 3], { dtype: "float64" }), ig.ones([2, 3, 1], { dtype: "float64" })), { shape: [2, 2, 1], values: [3, 3, 3, 3] });
});

test("linear reads a contiguous input whose size-1 dim has a stray stride (transpose of [1, S, d])", () => {
  const x = ig.arange(0, 12, 1, { dtype: "float32" }).reshape(1, 4, 3).transpose(0, 1); // [4, 1, 3], strides [3, 12, 1]
  const w = ig.tensor([[1, 0, -1], [0.5, 2, 0]]);
  const y = ig.linear(x, w);
  assert.deepEqual(y.shape, [4, 1, 2]);
  const want = [0, 1, 2, 3].flatMap((r) => [3 * r - (3 * r + 2), 0.5 * 3 * r + 2 * (3 * r + 1)]);
  assert.deepEqual(Array.from(y.contiguous().dataSync()), want);
});
