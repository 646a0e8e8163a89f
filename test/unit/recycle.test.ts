// Buffer recycling (tensor/dtype.ts, autograd/backward.ts): backward hands the buffers of the
// gradients it created and consumed back to the allocator. These tests check that it changes no
// result and never takes a buffer someone still reads — with poisoning on, a recycled buffer is
// filled with NaN bytes at once, so a wrong hand-back shows up as NaN.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";

function withPoison<T>(f: () => T): T {
  const prev = ig.setUninitPoison(true);
  try {
    return f();
  } finally {
    ig.setUninitPoison(prev);
  }
}

/** Three training steps of a small GPT (dropout 0) from a fixed seed: the losses and every parameter. */
function gptRun(recycle: boolean): { losses: number[]; params: Float32Array[] } {
  const prev = ig.setBufferRecycling(recycle);
  try {
    ig.manualSeed(3);
    const m = new ig.models.GPT({ vocabSize: 40, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 64, dropout: 0, bias: true });
    const g = new ig.Generator(4);
    const x = ig.randint(0, 40, [4, 32], { generator: g }), y = ig.randint(0, 40, [4, 32], { generator: g });
    const opt = m.configureOptimizers({ weightDecay: 0.1, lr: 1e-3, betas: [0.9, 0.99] });
    const losses: number[] = [];
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      const { loss } = m.forward(x, y);
      loss!.backward();
      ig.optim.clipGradNorm(m.parameters(), 1.0);
      opt.step();
      losses.push(loss!.item());
    }
    return { losses, params: m.parameters().map((p) => Float32Array.from(p.dataSync() as Float32Array)) };
  } finally {
    ig.setBufferRecycling(prev);
  }
}

test("recycling: a GPT trains to bit-identical losses and parameters with it on and off (poisoned)", () => {
  const off = withPoison(() => gptRun(false));
  const on = withPoison(() => gptRun(true));
  assert.deepEqual(on.losses, off.losses);
  assert.ok(on.losses.every(Number.isFinite));
  on.params.forEach((p, i) => assert.deepEqual(p, off.params[i], `parameter ${i}`));
});

test("recycling: backward reuses buffers, and never those of .grad, the upstream gradient or saved outputs", () => {
  withPoison(() => {
    ig.setBufferRecycling(true);
    const w = ig.randn([64, 64], { generator: new ig.Generator(1) }).requiresGrad_(true);
    const x = ig.randn([32, 64], { generator: new ig.Generator(2) });
    const h = x.matmul(w).tanh(); // the user keeps h, a forward output
    const hSnap = Float32Array.from(h.dataSync() as Float32Array);
    const up = ig.randn([32, 64], { generator: new ig.Generator(3) });
    const upSnap = Float32Array.from(up.dataSync() as Float32Array);
    h.mul(h).exp().mul(2).backward(up);
    assert.ok(ig.recycledBytes() > 0, "the intermediate gradients went back to the pool");
    const grad = w.grad!;
    const gradSnap = Float32Array.from(grad.dataSync() as Float32Array);
    // Allocate well past the pool's contents: anything still referenced would now be overwritten.
    for (let i = 0; i < 20; i++) ig.randn([32, 64]).add(1).mul(3).sub(ig.ones([64, 64]).sum());
    assert.deepEqual(grad.dataSync(), gradSnap, "w.grad kept its values");
    assert.deepEqual(h.dataSync(), hSnap, "the forward output kept its values");
    assert.deepEqual(up.dataSync(), upSnap, "the upstream gradient kept its values");
    assert.ok((grad.dataSync() as Float32Array).every(Number.isFinite));
  });
});

test("recycling: a gradient handed to two leaves and to the graph survives (add hands one tensor out twice)", () => {
  withPoison(() => {
    const a = ig.randn([40, 40], { generator: new ig.Generator(5) }).requiresGrad_(true);
    const b = ig.randn([40, 40], { generator: new ig.Generator(6) }).requiresGrad_(true);
    const y = a.add(b); // its rule returns the upstream gradient for both a and b
    y.mul(y.sigmoid()).sum().backward();
    for (let i = 0; i < 20; i++) ig.randn([40, 40]).mul(2).add(3);
    const ga = a.grad!.dataSync() as Float32Array, gb = b.grad!.dataSync() as Float32Array;
    const yv = y.dataSync() as Float32Array;
    for (let i = 0; i < ga.length; i++) {
      const s = 1 / (1 + Math.exp(-yv[i]));
      const want = s + yv[i] * s * (1 - s);
      assert.ok(Math.abs(ga[i] - want) < 1e-5 && Math.abs(gb[i] - want) < 1e-5, `element ${i}: ${ga[i]}, ${gb[i]} vs ${want}`);
    }
  });
});
