// Pruning: exact sparsity per layer and global, masks that survive training steps (nn optimizer and
// keras fit), the Zhu & Gupta schedule, removePruning, structured pruning of neurons and channels
// (shapes, and identical outputs when the removed channels had zero norm), heads, and the errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";

const { nn, keras, compress, optim } = ig;

const values = (t: Tensor) => Array.from(t.contiguous().dataSync() as ArrayLike<number>);
const zeros = (t: Tensor) => values(t).filter((v) => v === 0).length;

function mlp(): ig.nn.Sequential {
  ig.manualSeed(1);
  return new nn.Sequential(new nn.Linear(20, 30), new nn.ReLU(), new nn.Linear(30, 10));
}

/** Sets the slices `idx` along `axis` of a tensor to zero (a copy). */
function zeroSlices(t: Tensor, axis: number, idx: number[]): Tensor {
  const c = t.clone();
  const v = c.dataSync() as Float32Array;
  const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = t.shape[axis];
  for (let i = 0; i < v.length; i++) if (idx.includes(Math.floor(i / inner) % n)) v[i] = 0;
  return c;
}

test("magnitudePrune per layer: each layer loses exactly round(s·n) weights, the smallest ones", () => {
  const m = mlp();
  const before = m.parameters().map((p) => values(p));
  const pruner = compress.magnitudePrune(m, { sparsity: 0.7 });
  const w0 = (m.at(0) as ig.nn.Linear).weight;
  const w2 = (m.at(2) as ig.nn.Linear).weight;
  assert.equal(zeros(w0), Math.round(0.7 * 600));
  assert.equal(zeros(w2), Math.round(0.7 * 300));
  for (const w of [w0, w2]) {
    const abs = values(w).map(Math.abs);
    const idx = m.parameters().indexOf(w as ig.nn.Parameter);
    const orig = before[idx].map(Math.abs);
    const pruned = orig.filter((_, i) => abs[i] === 0);
    const kept = orig.filter((_, i) => abs[i] !== 0);
    assert.ok(Math.max(...pruned) <= Math.min(...kept), "the pruned weights are the smallest of the layer");
  }
  // Biases are not pruned.
  assert.equal(zeros((m.at(0) as ig.nn.Linear).bias!), 0);
  assert.equal(pruner.sparsity().zeros, 420 + 210);
});

test("magnitudePrune global: one threshold over all weights, exactly round(s·N) zeros, layers differ", () => {
  const m = mlp();
  // Make the second layer's weights larger so that a global threshold spares it more.
  ig.noGrad(() => (m.at(2) as ig.nn.Linear).weight.copy_((m.at(2) as ig.nn.Linear).weight.mul(3)));
  const orig = [values((m.at(0) as ig.nn.Linear).weight), values((m.at(2) as ig.nn.Linear).weight)].map((a) => a.map(Math.abs));
  const p = compress.magnitudePrune(m, { sparsity: 0.5, scope: "global" });
  const s = p.sparsity();
  assert.equal(s.zeros, Math.round(0.5 * 900));
  assert.ok(s.layers["0.weight"] > s.layers["2.weight"], `layer sparsities ${JSON.stringify(s.layers)}`);
  const now = [values((m.at(0) as ig.nn.Linear).weight), values((m.at(2) as ig.nn.Linear).weight)];
  const pruned = orig.flatMap((a, l) => a.filter((_, i) => now[l][i] === 0));
  const kept = orig.flatMap((a, l) => a.filter((_, i) => now[l][i] !== 0));
  assert.ok(Math.max(...pruned) <= Math.min(...kept));
});

test("masks survive optimizer steps (wrapOptimizer), and removePruning lets the weights train again", () => {
  const m = mlp();
  const pruner = compress.magnitudePrune(m, { sparsity: 0.8 });
  const w = (m.at(0) as ig.nn.Linear).weight;
  const mask = values(w).map((v) => v !== 0);
  const start = values(w);
  const opt = pruner.wrapOptimizer(new optim.Adam(m.parameters(), { lr: 0.05 }));
  ig.manualSeed(2);
  const x = ig.randn([16, 20]);
  const y = ig.randint(0, 10, [16]);
  const stepOnce = () => {
    opt.zeroGrad();
    ig.crossEntropy(m.call(x), y).backward();
    opt.step();
  };
  for (let i = 0; i < 5; i++) stepOnce();
  const after = values(w);
  assert.ok(after.every((v, i) => (mask[i] ? true : v === 0)), "every pruned weight is still zero");
  assert.ok(after.some((v, i) => mask[i] && v !== start[i]), "the kept weights trained");
  assert.equal(zeros(w), 480);
  compress.removePruning(pruner);
  assert.equal(zeros(w), 480, "removePruning keeps the zeros");
  stepOnce();
  assert.ok(zeros(w) < 480, "without masks the zeros train again");
});

test("keras: the pruning callback keeps the masks through fit", async () => {
  ig.manualSeed(3);
  const model = keras.sequential([keras.dense({ units: 16, activation: "relu", inputShape: [8] }), keras.dense({ units: 3, activation: "softmax" })]);
  model.compile({ optimizer: keras.optimizers.adam({ learningRate: 0.05 }), loss: "sparseCategoricalCrossentropy" });
  const pruner = compress.magnitudePrune(model, { sparsity: 0.75, scope: "global" });
  const k = (model.getLayer(0) as ig.keras.Dense).kernel!;
  const mask = values(k).map((v) => v !== 0);
  const start = values(k);
  await model.fit(ig.randn([40, 8]), ig.randint(0, 3, [40]), { epochs: 2, batchSize: 8, verbose: 0, callbacks: [pruner.callback()] });
  const after = values(k);
  assert.ok(after.every((v, i) => mask[i] || v === 0));
  assert.ok(after.some((v, i) => mask[i] && v !== start[i]));
  assert.equal(pruner.sparsity().zeros, Math.round(0.75 * (8 * 16 + 16 * 3)));
});

test("Zhu & Gupta schedule: s_t = s_f + (s_i − s_f)(1 − (t − t0)/(nΔt))³, masks only grow, final sparsity at the end", () => {
  const o = { initialSparsity: 0.1, finalSparsity: 0.9, beginStep: 10, endStep: 50, frequency: 10 };
  assert.equal(compress.polynomialDecay(o, 10), 0.1);
  assert.equal(compress.polynomialDecay(o, 0), 0.1);
  assert.ok(Math.abs(compress.polynomialDecay(o, 30) - (0.9 + (0.1 - 0.9) * 0.125)) < 1e-15);
  assert.equal(compress.polynomialDecay(o, 50), 0.9);
  assert.equal(compress.polynomialDecay(o, 80), 0.9);
  const m = mlp();
  const pruner = compress.gradualPruning(m, { ...o, scope: "global" });
  let prev = new Set<number>();
  const seen: number[] = [];
  for (let t = 1; t <= 60; t++) {
    pruner.step();
    const zs = values((m.at(0) as ig.nn.Linear).weight).flatMap((v, i) => (v === 0 ? [i] : []));
    for (const i of prev) assert.ok(zs.includes(i), `step ${t}: a pruned weight came back`);
    prev = new Set(zs);
    seen.push(pruner.targetSparsity);
  }
  assert.equal(seen[18], 0.1, "t = 19: still the initial sparsity");
  assert.equal(seen[19], compress.polynomialDecay(o, 20), "t = 20: the first update after t0");
  assert.equal(seen[20], seen[19], "no update between the Δt steps");
  assert.equal(pruner.sparsity().zeros, Math.round(0.9 * 900));
});

test("errors: a fraction outside [0, 1) names the value and the range", () => {
  const m = mlp();
  assert.throws(() => compress.magnitudePrune(m, { sparsity: 1 }), { name: "ValueError", message: /magnitudePrune: sparsity must be a fraction in \[0, 1\), got 1\b/ });
  assert.throws(() => compress.magnitudePrune(m, { sparsity: -0.2 }), /got -0\.2/);
  assert.throws(() => compress.pruneStructured(m, { fraction: 1.5 }), /pruneStructured: fraction must be a fraction in \[0, 1\), got 1\.5/);
  assert.throws(() => compress.magnitudePrune(m, { sparsity: 0.5, layers: ["nope"] }), /no Linear\/Conv\/Dense\/Conv2D layer named 'nope'; the layers with weights are '0', '2'/);
  assert.throws(() => compress.gradualPruning(m, { initialSparsity: 0, finalSparsity: 1.2, endStep: 10 }), /finalSparsity must be a fraction in \[0, 1\), got 1\.2/);
});

function kerasCnn(): ig.keras.Sequential {
  ig.manualSeed(4);
  const m = keras.sequential([
    keras.conv2d({ filters: 4, kernelSize: 3, activation: "relu", inputShape: [8, 8, 1] }),
    keras.maxPooling2d({ poolSize: 2 }),
    keras.conv2d({ filters: 6, kernelSize: 2, activation: "relu" }),
    keras.flatten(),
    keras.dense({ units: 5, activation: "relu" }),
    keras.dense({ units: 3, activation: "softmax" }),
  ]);
  m.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  return m;
}

test("structured (keras CNN): channels and neurons really go, the next layers' inputs too", () => {
  const m = kerasCnn();
  const small = compress.pruneStructured(m, { fraction: 0.5 });
  const shapes = Object.fromEntries(Object.entries(small.getWeights()).map(([k, t]) => [k, [...t.shape]]));
  assert.deepEqual(shapes["conv2d_1.kernel"], [3, 3, 1, 2]);
  assert.deepEqual(shapes["conv2d_2.kernel"], [2, 2, 2, 3]);
  // Was [24, 5]: the flattened 2×2×6 loses 3 channels, and round(0.5·5) = 3 of the 5 units go.
  assert.deepEqual(shapes["dense_1.kernel"], [2 * 2 * 3, 2]);
  assert.deepEqual(shapes["dense_2.kernel"], [2, 3]);
  assert.ok(small.countParams() < m.countParams());
  assert.ok(small.compiled, "the new model is compiled like the old one");
  const y = small.predict(ig.rand([2, 8, 8, 1])) as Tensor;
  assert.deepEqual([...y.shape], [2, 3]);
});

test("structured: pruning zero-norm channels and neurons leaves the outputs identical (keras and nn with BatchNorm)", () => {
  const m = kerasCnn();
  const w = m.getWeights();
  w["conv2d_1.kernel"] = zeroSlices(w["conv2d_1.kernel"], 3, [1, 3]);
  w["conv2d_1.bias"] = zeroSlices(w["conv2d_1.bias"], 0, [1, 3]);
  w["conv2d_2.kernel"] = zeroSlices(w["conv2d_2.kernel"], 3, [0, 2, 5]);
  w["conv2d_2.bias"] = zeroSlices(w["conv2d_2.bias"], 0, [0, 2, 5]);
  w["dense_1.kernel"] = zeroSlices(w["dense_1.kernel"], 1, [0, 2, 4]);
  w["dense_1.bias"] = zeroSlices(w["dense_1.bias"], 0, [0, 2, 4]);
  m.setWeights(w);
  const x = ig.rand([3, 8, 8, 1]);
  const want = values(m.predict(x) as Tensor);
  const { model: small, report } = compress.pruneStructuredWithReport(m, { fraction: 0.5, norm: "l2" });
  assert.deepEqual(report, { conv2d_1: { before: 4, after: 2 }, conv2d_2: { before: 6, after: 3 }, dense_1: { before: 5, after: 2 } });
  const got = values((small as ig.keras.Sequential).predict(x) as Tensor);
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6, `output ${i}: ${v} vs ${want[i]}`));

  // nn: Conv2d → BatchNorm2d → ReLU → Conv2d → ReLU → Flatten → Linear → ReLU → Linear.
  ig.manualSeed(5);
  const net = new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.Conv2d(4, 6, 2), new nn.ReLU(), new nn.Flatten(), new nn.Linear(6 * 5 * 5, 8), new nn.ReLU(), new nn.Linear(8, 3));
  const c0 = net.at(0) as ig.nn.Conv2d;
  const bn = net.at(1) as ig.nn.BatchNorm2d;
  const c3 = net.at(3) as ig.nn.Conv2d;
  const l6 = net.at(6) as ig.nn.Linear;
  ig.noGrad(() => {
    c0.weight.copy_(zeroSlices(c0.weight, 0, [0, 2]));
    c0.bias!.copy_(zeroSlices(c0.bias!, 0, [0, 2]));
    bn.bias!.copy_(zeroSlices(ig.rand([4]), 0, [0, 2])); // a non-zero shift would leak through relu
    bn.runningMean!.copy_(ig.rand([4]).mul(0.1));
    c3.weight.copy_(zeroSlices(c3.weight, 0, [1, 4, 5]));
    c3.bias!.copy_(zeroSlices(c3.bias!, 0, [1, 4, 5]));
    l6.weight.copy_(zeroSlices(l6.weight, 0, [0, 3, 6, 7]));
    l6.bias!.copy_(zeroSlices(l6.bias!, 0, [0, 3, 6, 7]));
  });
  net.eval();
  // Zero channels through BatchNorm: x = 0 gives (0 − mean)/σ·γ + β, so zero its running mean and β there.
  ig.noGrad(() => bn.runningMean!.copy_(zeroSlices(bn.runningMean!, 0, [0, 2])));
  const xn = ig.rand([2, 1, 8, 8]);
  const wantN = values(net.call(xn));
  compress.pruneStructured(net, { fraction: 0.5 });
  assert.deepEqual([...(net.at(0) as ig.nn.Conv2d).weight.shape], [2, 1, 3, 3]);
  assert.equal((net.at(1) as ig.nn.BatchNorm2d).numFeatures, 2);
  assert.deepEqual([...(net.at(3) as ig.nn.Conv2d).weight.shape], [3, 2, 2, 2]);
  assert.deepEqual([...(net.at(6) as ig.nn.Linear).weight.shape], [4, 75]);
  assert.deepEqual([...(net.at(8) as ig.nn.Linear).weight.shape], [3, 4]);
  const gotN = values(net.call(xn));
  gotN.forEach((v, i) => assert.ok(Math.abs(v - wantN[i]) < 1e-5, `nn output ${i}: ${v} vs ${wantN[i]}`));
});

test("pruneHeads (GPT): heads with zero weights go without changing the logits; shapes shrink; generation still works", () => {
  ig.manualSeed(6);
  const gpt = new ig.models.GPT({ vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 4, nEmbd: 16 });
  gpt.eval();
  // Zero heads 1 and 3 of block 0 and head 2 of block 1 (q, k, v rows and c_proj columns).
  const D = 4;
  ig.noGrad(() => {
    for (const [layer, heads] of [[0, [1, 3]], [1, [2, 0]]] as const) {
      const attn = (gpt.transformer.h.at(layer) as ig.models.Block).attn;
      const rows = [0, 1, 2].flatMap((p) => heads.flatMap((h) => Array.from({ length: D }, (_, d) => p * 16 + h * D + d)));
      attn.c_attn.weight.copy_(zeroSlices(attn.c_attn.weight, 0, rows));
      attn.c_attn.bias!.copy_(zeroSlices(attn.c_attn.bias!, 0, rows));
      const cols = heads.flatMap((h) => Array.from({ length: D }, (_, d) => h * D + d));
      attn.c_proj.weight.copy_(zeroSlices(attn.c_proj.weight, 1, cols));
    }
  });
  const idx = ig.randint(0, 11, [2, 6]);
  const want = values(gpt.forward(idx).logits);
  const { report } = compress.pruneHeads(gpt, { fraction: 0.5 });
  assert.deepEqual(report, {
    "transformer.h.0": { before: 4, after: 2, kept: [0, 2] },
    "transformer.h.1": { before: 4, after: 2, kept: [1, 3] },
  });
  const attn0 = (gpt.transformer.h.at(0) as ig.models.Block).attn;
  assert.deepEqual([...attn0.c_attn.weight.shape], [24, 16]);
  assert.deepEqual([...attn0.c_proj.weight.shape], [16, 8]);
  const got = values(gpt.forward(idx).logits);
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5, `logit ${i}: ${v} vs ${want[i]}`));
  const out = gpt.generate([[1, 2, 3]], 4, { temperature: 0 });
  assert.equal(out[0].length, 7);
  assert.throws(() => compress.pruneHeads(gpt, { fraction: 1 }), /pruneHeads: fraction must be a fraction in \[0, 1\), got 1/);
});
