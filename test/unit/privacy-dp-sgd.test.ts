// ingot.privacy DP-SGD: the private gradient against the formula written out sample by sample,
// the noise's scale, empty batches, Poisson sampling, makePrivate / makePrivateWithEpsilon with the
// accountant, the modules refused (BatchNorm → GroupNorm), and GroupNorm against its formula.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { computeEpsilon, PrivacyEngine, DPDataLoader, DPOptimizer, findPrivacyErrors, getNoiseMultiplier, GradSampleModule, makePrivate, makePrivateWithEpsilon, validateModule } from "../../src/privacy/index.js";

const { nn, optim, data, keras } = ig;
const vals = (t: Tensor) => Array.from(t.dataSync() as ArrayLike<number>);

function tinyModel(): ig.nn.Module {
  return new nn.Sequential(new nn.Linear(5, 4, { dtype: "float64" }), new nn.Tanh(), new nn.Linear(4, 3, { dtype: "float64" }));
}

for (const [kind, make] of [
  ["nn (Linear weights factored, ghost norms)", tinyModel],
  ["keras Dense", () => keras.sequential([keras.dense({ units: 4, activation: "tanh", inputShape: [5], dtype: "float64" }), keras.dense({ units: 3, dtype: "float64" })])],
  ["conv (materialized per-sample gradients)", () => new nn.Sequential(new nn.Unflatten(1, [1, 5]), new nn.Conv1d(1, 2, 3, { dtype: "float64" }), new nn.Flatten(), new nn.Linear(6, 3, { dtype: "float64" }))],
] as [string, () => ig.nn.Module][])
test(`σ = 0, ${kind}: the private gradient is Σ_b clip(g_b, C) / E[B], per-sample norms over all parameters together`, () => {
  ig.manualSeed(11);
  const model = make();
  const x = ig.randn([6, 5], { dtype: "float64" }).mul(3);
  const y = ig.tensor([0, 1, 2, 0, 1, 2], { dtype: "int32" });
  const params = model.parameters();
  const C = 0.5;
  // Reference: one sample at a time, flat norm over every parameter, clip, sum.
  const sums = params.map((p) => new Float64Array(p.size));
  for (let i = 0; i < 6; i++) {
    model.zeroGrad();
    ig.crossEntropy(model.call(x.slice(0, i, i + 1)), y.slice(0, i, i + 1)).backward();
    const gs = params.map((p) => vals(p.grad!));
    const norm = Math.sqrt(gs.flat().reduce((s, v) => s + v * v, 0));
    const f = Math.min(1, C / (norm + 1e-6));
    gs.forEach((g, k) => g.forEach((v, j) => (sums[k][j] += f * v)));
  }
  const expected = 4.5; // E[B]: deliberately not the batch size
  model.zeroGrad();
  const gsm = new GradSampleModule(model);
  const opt = new DPOptimizer(new optim.SGD(params, { lr: 0 }), { noiseMultiplier: 0, maxGradNorm: C, expectedBatchSize: expected, sampleRate: 0.1, gradSample: gsm });
  ig.crossEntropy(model.call(x), y).backward();
  opt.step();
  params.forEach((p, k) => {
    const got = vals(p.grad!);
    got.forEach((v, j) => assert.ok(Math.abs(v - sums[k][j] / expected) < 1e-9, `param ${k}[${j}]: ${v} vs ${sums[k][j] / expected}`));
  });
  assert.equal(opt.lastBatchSize, 6);
  // Some samples had to be clipped for this test to mean anything.
  assert.ok(Array.from(opt.lastPerSampleNorms!).some((n) => n > C));
});

test("the noise is N(0, σ²C²)/E[B] per coordinate; an empty batch gets noise only and still counts as a step", () => {
  ig.manualSeed(12);
  const fc = new nn.Linear(200, 100); // 20 100 coordinates
  const gsm = new GradSampleModule(fc);
  const acc = new (class {
    n = 0;
    step() {
      this.n++;
    }
  })();
  const opt = new DPOptimizer(new optim.SGD(fc.parameters(), { lr: 0 }), {
    noiseMultiplier: 1.3,
    maxGradNorm: 2,
    expectedBatchSize: 10,
    sampleRate: 0.01,
    gradSample: gsm,
    accountant: acc as never,
  });
  opt.zeroGrad();
  opt.step(); // no forward at all: an empty Poisson batch
  const g = [...vals(fc.weight.grad!), ...vals(fc.bias!.grad!)];
  const mean = g.reduce((s, v) => s + v, 0) / g.length;
  const sd = Math.sqrt(g.reduce((s, v) => s + (v - mean) ** 2, 0) / g.length);
  const want = (1.3 * 2) / 10;
  assert.ok(Math.abs(mean) < (4 * want) / Math.sqrt(g.length), `mean ${mean}`);
  assert.ok(Math.abs(sd - want) < 0.03 * want, `sd ${sd}, expected ${want}`);
  assert.equal(acc.n, 1);
  assert.equal(opt.lastBatchSize, 0);
  // An empty batch from the data path: [0, 200] through the model, mean loss, backward, step.
  opt.zeroGrad();
  const xs = ig.zeros([0, 200]);
  const out = fc.call(xs);
  assert.deepEqual(out.shape, [0, 100]);
  opt.step();
  assert.equal(acc.n, 2);
  assert.ok(vals(fc.weight.grad!).every(Number.isFinite));
});

test("DPDataLoader: Poisson batches (mean qN, binomial variance), round(1/q) steps, empty batches with the right shape", () => {
  const N = 2000;
  const ds = new data.TensorDataset(ig.arange(0, N, 1, { dtype: "float32" }).reshape([N, 1]), ig.zeros([N], { dtype: "int32" }));
  const g = new ig.Generator(5);
  const dl = new DPDataLoader(ds, { sampleRate: 0.05, generator: g });
  assert.equal(dl.length, 20);
  const sizes: number[] = [];
  for (let e = 0; e < 10; e++) for (const [x] of dl as Iterable<Tensor[]>) sizes.push(x.shape[0]);
  assert.equal(sizes.length, 200);
  const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
  const v = sizes.reduce((a, b) => a + (b - mean) ** 2, 0) / (sizes.length - 1);
  assert.ok(Math.abs(mean - 100) < 3, `mean batch ${mean}`);
  assert.ok(v > 60 && v < 130, `variance ${v} (binomial: 95)`);
  assert.ok(new Set(sizes).size > 10, "batch sizes vary");
  const tiny = new DPDataLoader(ds, { sampleRate: 1e-6, steps: 3, generator: g });
  for (const [x, y] of tiny as Iterable<Tensor[]>) {
    assert.deepEqual(x.shape, [0, 1]);
    assert.deepEqual(y.shape, [0]);
  }
  const from = DPDataLoader.fromDataLoader(new data.DataLoader(ds, { batchSize: 64 }));
  assert.equal(from.sampleRate, 64 / N);
  assert.equal(from.length, Math.ceil(N / 64));
  assert.throws(() => new DPDataLoader(ds, { sampleRate: 0 }), /sampleRate must be in \(0, 1\]/);
});

test("makePrivate: Opacus's shape; training learns; ε after k steps is the accountant's for k steps", () => {
  ig.manualSeed(13);
  // Two well separated blobs.
  const n = 400;
  const y = ig.randint(0, 2, [n], { dtype: "int32" });
  const x = ig.randn([n, 5], { dtype: "float64" }).mul(0.5).add(y.to("float64").mul(2).sub(1).reshape([n, 1]));
  const model = tinyModel();
  const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 40, shuffle: true });
  const priv = makePrivate({ model, optimizer: new optim.SGD(model.parameters(), { lr: 0.5 }), dataLoader: loader, noiseMultiplier: 0.8, maxGradNorm: 1 });
  assert.ok(priv.optimizer instanceof DPOptimizer);
  assert.ok(priv.dataLoader instanceof DPDataLoader);
  assert.equal(priv.model, model);
  let steps = 0;
  for (let e = 0; e < 3; e++)
    for (const [xb, yb] of priv.dataLoader as Iterable<Tensor[]>) {
      priv.optimizer.zeroGrad();
      if (xb.shape[0]) ig.crossEntropy(model.call(xb), yb).backward();
      priv.optimizer.step();
      steps++;
    }
  assert.equal(steps, 30);
  const acc = ig.noGrad(() => model.call(x).argmax(1).eq(y).to("float32").mean().item());
  assert.ok(acc > 0.9, `accuracy ${acc}`);
  const eps = priv.engine.getEpsilon(1e-5);
  assert.equal(eps, computeEpsilon({ noiseMultiplier: 0.8, sampleRate: 0.1, delta: 1e-5, steps: 30 }));
  assert.ok(eps > 0);
  // Schedulers work through the wrapper: it shares the wrapped optimizer's parameter groups.
  const sched = new optim.StepLR(priv.optimizer, 1, 0.5);
  sched.step();
  assert.equal(priv.optimizer.original.paramGroups[0].lr, 0.25);
});

test("makePrivateWithEpsilon: σ from the budget; the planned epochs spend at most targetEpsilon", () => {
  ig.manualSeed(14);
  const model = tinyModel();
  const ds = new data.TensorDataset(ig.randn([300, 5], { dtype: "float64" }), ig.randint(0, 3, [300], { dtype: "int32" }));
  const loader = new data.DataLoader(ds, { batchSize: 30 });
  const priv = makePrivateWithEpsilon({ model, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), dataLoader: loader, targetEpsilon: 2, targetDelta: 1e-5, epochs: 2, maxGradNorm: 1 });
  assert.equal(priv.noiseMultiplier, getNoiseMultiplier({ targetEpsilon: 2, targetDelta: 1e-5, sampleRate: 0.1, steps: 20 }));
  for (let e = 0; e < 2; e++)
    for (const [xb, yb] of priv.dataLoader as Iterable<Tensor[]>) {
      priv.optimizer.zeroGrad();
      if (xb.shape[0]) ig.crossEntropy(model.call(xb), yb).backward();
      priv.optimizer.step();
    }
  const eps = priv.engine.getEpsilon(1e-5);
  assert.ok(eps <= 2 && eps > 1.98, `ε ${eps}`);
  // The GDP accountant (a central-limit approximation) needs less noise for the same budget.
  const m2 = tinyModel();
  const gdp = new PrivacyEngine({ accountant: "gdp" }).makePrivateWithEpsilon({ model: m2, optimizer: new optim.SGD(m2.parameters(), { lr: 0.1 }), dataLoader: loader, targetEpsilon: 2, targetDelta: 1e-5, epochs: 2, maxGradNorm: 1 });
  assert.ok(gdp.noiseMultiplier < priv.noiseMultiplier, `GDP σ ${gdp.noiseMultiplier} vs RDP σ ${priv.noiseMultiplier}`);
  assert.equal(gdp.engine.accountant.mechanism, "gdp");
  assert.throws(() => new PrivacyEngine({ accountant: "prv" as never }), /accountant must be 'rdp' or 'gdp'/);
});

test("modules that break privacy are refused with a fix: BatchNorm → GroupNorm/LayerNorm, batchFirst RNNs, keras BatchNormalization", () => {
  const bn = new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.BatchNorm2d(4), new nn.Flatten(), new nn.Linear(4 * 4 * 4, 2));
  const loader = new data.DataLoader(new data.TensorDataset(ig.randn([8, 1, 6, 6]), ig.zeros([8], { dtype: "int32" })), { batchSize: 4 });
  assert.throws(() => makePrivate({ model: bn, optimizer: new optim.SGD(bn.parameters(), { lr: 0.1 }), dataLoader: loader, noiseMultiplier: 1, maxGradNorm: 1 }), /1 \(BatchNorm2d\).*replace it with GroupNorm.*or LayerNorm/s);
  const lstm = new nn.LSTM(3, 4);
  assert.match(findPrivacyErrors(lstm)[0].message, /batchFirst: true/);
  assert.equal(findPrivacyErrors(new nn.LSTM(3, 4, { batchFirst: true })).length, 0);
  const k = keras.sequential([keras.dense({ units: 4, inputShape: [3] }), keras.batchNormalization(), keras.dense({ units: 2 })]);
  assert.throws(() => validateModule(k), /BatchNormalization.*GroupNorm/);
  const ok = new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.GroupNorm(2, 4), new nn.Flatten(), new nn.Linear(64, 2));
  assert.equal(validateModule(ok), ok);
});

test("nn.GroupNorm equals its formula: per sample and group, (x − mean)/√(var + eps) · γ_c + β_c", () => {
  ig.manualSeed(15);
  const [N, C, H, W, G] = [2, 6, 3, 2, 3];
  const gn = new nn.GroupNorm(G, C, { dtype: "float64" });
  ig.noGrad(() => {
    gn.weight!.copy_(ig.randn([C], { dtype: "float64" }));
    gn.bias!.copy_(ig.randn([C], { dtype: "float64" }));
  });
  const x = ig.randn([N, C, H, W], { dtype: "float64" }).mul(2).add(1);
  const got = vals(gn.call(x));
  const xv = vals(x);
  const gw = vals(gn.weight!);
  const gb = vals(gn.bias!);
  const per = (C / G) * H * W;
  for (let n = 0; n < N; n++)
    for (let g = 0; g < G; g++) {
      const start = n * C * H * W + g * per;
      const seg = xv.slice(start, start + per);
      const mean = seg.reduce((a, b) => a + b, 0) / per;
      const v = seg.reduce((a, b) => a + (b - mean) ** 2, 0) / per;
      for (let i = 0; i < per; i++) {
        const c = g * (C / G) + Math.floor(i / (H * W));
        const want = ((seg[i] - mean) / Math.sqrt(v + 1e-5)) * gw[c] + gb[c];
        assert.ok(Math.abs(got[start + i] - want) < 1e-12, `n${n} g${g} i${i}: ${got[start + i]} vs ${want}`);
      }
    }
  assert.throws(() => new nn.GroupNorm(4, 6), /divisible by numGroups/);
  assert.throws(() => gn.call(ig.randn([2, 5, 3])), /expected an input \[N, 6, \*\]/);
  // Gradients flow to the input and both parameters (checked numerically).
  const r = ig.gradcheck((t: Tensor) => gn.call(t), [ig.randn([2, 6, 2], { dtype: "float64" }).requiresGrad_()]);
  assert.ok(r.worst <= 1, `gradcheck worst ${r.worst}`);
});
