// ingot.federated: splits, strategies, FedProx's gradient, secure aggregation, DP and the simulation.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ingot from "../../src/index.js";
import * as fl from "../../src/federated/index.js";
import { blobs, ce } from "./federated-fixtures.js";

const { nn } = ingot;

test("iidPartition: disjoint, covers every sample, sizes within one, repeats with the seed", () => {
  const parts = fl.iidPartition(103, 10, 7);
  const all = parts.flat().sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 103 }, (_, i) => i));
  const sizes = parts.map((p) => p.length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
  assert.deepEqual(fl.iidPartition(103, 10, 7), parts);
  assert.notDeepEqual(fl.iidPartition(103, 10, 8), parts);
  assert.throws(() => fl.iidPartition(3, 5), /3 samples cannot be split among 5 clients/);
});

test("dirichletPartition: covers every sample once; small alpha skews labels, large alpha does not", () => {
  const labels = Array.from({ length: 5000 }, (_, i) => i % 10);
  const skew = (alpha: number) => {
    const parts = fl.dirichletPartition(labels, 10, { alpha, seed: 1 });
    assert.deepEqual(parts.flat().sort((a, b) => a - b), labels.map((_, i) => i));
    assert.ok(parts.every((p) => p.length >= 10));
    // Mean over clients of the largest class share: 0.1 when perfectly balanced.
    const counts = fl.labelCounts(labels, parts, 10);
    return counts.reduce((s, h) => s + Math.max(...h) / h.reduce((a, b) => a + b, 0), 0) / counts.length;
  };
  const low = skew(0.1);
  const high = skew(1000);
  assert.ok(low > 0.5, `alpha 0.1: mean top-class share ${low}`);
  assert.ok(high < 0.15, `alpha 1000: mean top-class share ${high}`);
  assert.deepEqual(fl.dirichletPartition(labels, 10, { alpha: 0.5, seed: 3 }), fl.dirichletPartition(labels, 10, { alpha: 0.5, seed: 3 }));
  assert.throws(() => fl.dirichletPartition(labels, 10, { alpha: 0 }), /alpha must be a positive number/);
  assert.throws(() => fl.parsePartition("dirichlet"), /dirichlet:<alpha>/);
  assert.deepEqual(fl.parsePartition("dirichlet:0.3"), { kind: "dirichlet", alpha: 0.3 });
});

test("sampleDirichlet: proportions sum to 1 with mean 1/k; sampleGamma has mean = shape", () => {
  const g = new ingot.Generator(5);
  const k = 4;
  const mean = new Array(k).fill(0);
  const draws = 4000;
  for (let i = 0; i < draws; i++) {
    const p = fl.sampleDirichlet(0.5, k, g);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    p.forEach((v, j) => (mean[j] += v / draws));
  }
  for (const m of mean) assert.ok(Math.abs(m - 1 / k) < 0.02, `mean ${m}`);
  for (const shape of [0.3, 2.5]) {
    let s = 0;
    for (let i = 0; i < 20000; i++) s += fl.sampleGamma(shape, g);
    // sd of the mean: sqrt(shape / 20000)
    assert.ok(Math.abs(s / 20000 - shape) < 4 * Math.sqrt(shape / 20000), `gamma(${shape}) mean ${s / 20000}`);
  }
});

test("FedAvg: the example-weighted mean of the clients' weights", () => {
  const current = Float32Array.from([1, 2, 3]);
  const w1 = [2, 2, 2];
  const w2 = [5, -1, 0];
  const results: fl.FitRes[] = [
    { clientId: 0, numExamples: 30, delta: Float32Array.from(w1.map((v, i) => v - current[i])) },
    { clientId: 1, numExamples: 10, delta: Float32Array.from(w2.map((v, i) => v - current[i])) },
  ];
  const out = new fl.FedAvg().aggregateFit(1, current, results);
  const want = w1.map((v, i) => (30 * v + 10 * w2[i]) / 40);
  out.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6, `${v} vs ${want[i]}`));
});

test("FedAdam: two server steps match Adam on the pseudo-gradient with Flower's bias correction", () => {
  const s = new fl.FedAdam({ eta: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-3 });
  let w: Float32Array = Float32Array.from([0.5, -0.25]);
  const deltas = [
    [0.2, -0.1],
    [0.05, 0.3],
  ];
  const m = [0, 0];
  const v = [0, 0];
  let ref = [0.5, -0.25];
  deltas.forEach((d, t) => {
    const round = t + 1;
    w = s.applyUpdate(round, w, d);
    const etaT = (0.1 * Math.sqrt(1 - 0.99 ** (round + 1))) / (1 - 0.9 ** (round + 1));
    ref = ref.map((x, j) => {
      m[j] = 0.9 * m[j] + 0.1 * d[j];
      v[j] = 0.99 * v[j] + 0.01 * d[j] ** 2;
      return x + (etaT * m[j]) / (Math.sqrt(v[j]) + 1e-3);
    });
    w.forEach((x, j) => assert.ok(Math.abs(x - ref[j]) < 1e-6, `round ${round}: ${x} vs ${ref[j]}`));
  });
  // FedAdam's client learning rate is eta_l (Flower default 0.1).
  assert.equal(new fl.FedAdam().configureFit(1).lr, 0.1);
  assert.equal(new fl.FedProx({ proximalMu: 0.3 }).configureFit(2).proximalMu, 0.3);
  assert.throws(() => fl.makeStrategy("fedsgd"), /unknown strategy 'fedsgd'/);
});

test("sampleClients: max(floor(n·fractionFit), minFitClients), distinct, seeded", () => {
  const s = new fl.FedAvg({ fractionFit: 0.3, minFitClients: 2, seed: 4 });
  const ids = Array.from({ length: 10 }, (_, i) => i);
  const a = s.sampleClients(ids);
  assert.equal(a.length, 3);
  assert.equal(new Set(a).size, 3);
  assert.equal(new fl.FedAvg({ fractionFit: 0.1, minFitClients: 2 }).sampleClients(ids).length, 2);
  assert.throws(() => new fl.FedAvg({ fractionFit: 1.5 }), /fractionFit must be in \(0, 1\]/);
});


test("FedProx: fitLocal's update equals SGD on loss + μ/2‖w − w_global‖² computed by autograd", () => {
  const data = blobs(12, 1);
  const mu = 0.7;
  ingot.manualSeed(3);
  const model = new nn.Sequential(new nn.Linear(8, 5), new nn.Tanh(), new nn.Linear(5, 3));
  const layout = fl.layoutOf(model.stateDict());
  const global = fl.getWeights(model, layout);
  // Start the proximal term away from zero: perturb the anchor the client is told about.
  const anchor = global.map((v, i) => v + 0.1 * Math.sin(i));
  const cfg: fl.FitConfig = { localEpochs: 2, batchSize: 5, lr: 0.1, optimizer: "sgd", momentum: 0, proximalMu: mu };
  // fitLocal starts from the anchor; the reference does the same, by hand.
  const got = fl.fitLocal(model, data, anchor, layout, cfg, new ingot.Generator(9), ce);

  ingot.manualSeed(3);
  const ref = new nn.Sequential(new nn.Linear(8, 5), new nn.Tanh(), new nn.Linear(5, 3));
  fl.setWeights(ref, anchor, layout);
  const anchors = fl.unflattenState(anchor, layout);
  const params = ref.namedParameters();
  const g = new ingot.Generator(9);
  for (let e = 0; e < 2; e++) {
    const perm = ingot.randperm(12, { generator: g });
    for (let i = 0; i < 12; i += 5) {
      const idx = perm.slice(0, i, Math.min(12, i + 5));
      let loss = ce(ingot.indexSelect(data.y, 0, idx), ref.call(ingot.indexSelect(data.x, 0, idx)));
      for (const [name, p] of params) loss = loss.add(p.sub(anchors[name]).square().sum().mul(mu / 2));
      for (const [, p] of params) p.grad = null;
      loss.backward();
      ingot.noGrad(() => {
        for (const [, p] of params) p.copy_(p.sub(p.grad!.mul(0.1)));
      });
    }
  }
  const want = fl.getWeights(ref, layout);
  let maxErr = 0;
  let moved = 0;
  for (let j = 0; j < want.length; j++) {
    maxErr = Math.max(maxErr, Math.abs(anchor[j] + got.delta[j] - want[j]));
    moved = Math.max(moved, Math.abs(got.delta[j]));
  }
  assert.ok(maxErr < 1e-5, `max difference ${maxErr}`);
  assert.ok(moved > 1e-2, "training moved the weights");
  // μ = 0 gives a different update: the proximal term matters.
  const plain = fl.fitLocal(model, data, anchor, layout, { ...cfg, proximalMu: 0 }, new ingot.Generator(9), ce);
  assert.ok(plain.delta.some((v, j) => Math.abs(v - got.delta[j]) > 1e-3));
});

/** Pearson correlation. */
function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) (ma += a[i] / n), (mb += b[i] / n);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

test("secure aggregation: a masked update is uncorrelated with the true one; the masked sum is exact", () => {
  const m = 5;
  const d = 20000;
  const scale = fl.DEFAULT_SCALE;
  const g = new ingot.Generator(11);
  const keys = Array.from({ length: m }, () => fl.generateKeys());
  const peers = new Map(keys.map((k, i) => [i, k.publicKey]));
  // Structured updates (a smooth signal plus noise), as real weight updates are.
  const updates = keys.map((_, i) => Float64Array.from({ length: d }, (_, j) => 0.01 * Math.sin(j / 50 + i) + 0.002 * g.normal()));
  const quantized = updates.map((u) => fl.quantize(u, scale, m).q);
  const masked = quantized.map((q, i) => fl.maskUpdate(Uint32Array.from(q), i, keys[i].privateKey, peers, 3));
  // Bound for |r| of independent data: r ~ N(0, 1/d), so 4/√d fails by chance with probability 6e-5.
  const bound = 4 / Math.sqrt(d);
  for (let i = 0; i < m; i++) {
    const view = fl.dequantize(masked[i], scale);
    const r = pearson(view, updates[i]);
    assert.ok(Math.abs(r) < bound, `client ${i}: |r| = ${Math.abs(r)} ≥ ${bound}`);
    // The same statistic sees the update plainly when it is not masked: the test can fail.
    assert.ok(pearson(fl.dequantize(quantized[i], scale), updates[i]) > 0.99);
  }
  // Bit-exact: the masked sum equals the sum of the quantized updates, word for word.
  const sum = fl.sumMasked(masked);
  const plainSum = fl.sumMasked(quantized);
  assert.deepEqual(sum, plainSum);
  // Decoded, it equals the float sum to within the rounding of m values (m / (2·scale)).
  const decoded = fl.dequantize(sum, scale);
  let maxErr = 0;
  for (let j = 0; j < d; j++) maxErr = Math.max(maxErr, Math.abs(decoded[j] - updates.reduce((s, u) => s + u[j], 0)));
  assert.ok(maxErr <= m / (2 * scale) + 1e-12, `max error ${maxErr}`);
  // Without one client's masked update the masks do not cancel: the partial sum is noise.
  const partial = fl.dequantize(fl.sumMasked(masked.slice(1)), scale);
  const truePartial = Float64Array.from({ length: d }, (_, j) => updates.slice(1).reduce((s, u) => s + u[j], 0));
  assert.ok(Math.abs(pearson(partial, truePartial)) < bound);
});

test("secure aggregation: shared secrets agree, masks change every round, bad keys are named", () => {
  const a = fl.generateKeys();
  const b = fl.generateKeys();
  const sab = fl.sharedSecret(a.privateKey, b.publicKey);
  assert.deepEqual(sab, fl.sharedSecret(b.privateKey, a.publicKey));
  assert.equal(sab.length, 32);
  const r1 = fl.maskStream(sab, 1, 64);
  assert.deepEqual(r1, fl.maskStream(sab, 1, 64));
  assert.notDeepEqual(r1, fl.maskStream(sab, 2, 64));
  assert.throws(() => fl.sharedSecret(a.privateKey, "bm90IGEga2V5"), /not a base64 X25519 SPKI key/);
  // Alone in a round there is nothing to mask with: refused rather than sent in the clear.
  const alone = { privateKey: a.privateKey, peers: new Map([[0, a.publicKey]]), round: 1, scale: 2 ** 24 };
  assert.throws(() => fl.clientMessage(Float32Array.from([1]), 0, 1, { g: new ingot.Generator(0), secure: alone }), /needs at least 2 clients per round/);
  // Values beyond the range that m clients can sum are clamped (and counted), never wrapped.
  const { q, clamped } = fl.quantize([1e9, -1e9, 0.5], 2 ** 24, 4);
  assert.equal(clamped, 2);
  assert.ok((q[0] | 0) > 0 && (q[1] | 0) < 0);
});

test("DP: clipping bounds the norm; central noise has std σC/m on the mean; local noise σC per client", () => {
  const v = Float32Array.from([3, 4]);
  assert.equal(fl.clipToNorm(v, 1), 5);
  assert.ok(Math.abs(fl.l2Norm(v) - 1) < 1e-6);
  const small = Float32Array.from([0.3, 0.4]);
  fl.clipToNorm(small, 1);
  assert.deepEqual(Array.from(small), [Math.fround(0.3), Math.fround(0.4)]);
  const d = 100000;
  const dp: fl.DpOptions = { mode: "central", clippingNorm: 2, noiseMultiplier: 1.5 };
  const mean = new Float64Array(d);
  fl.noiseMean(mean, dp, 10, new ingot.Generator(1));
  const sd = Math.sqrt(mean.reduce((s, x) => s + x * x, 0) / d);
  assert.ok(Math.abs(sd / 0.3 - 1) < 0.02, `central sd ${sd}, want 0.3`);
  const local = new Float32Array(d);
  fl.privatizeUpdate(local, { ...dp, mode: "local" }, new ingot.Generator(2));
  const sdl = Math.sqrt(local.reduce((s, x) => s + x * x, 0) / d);
  assert.ok(Math.abs(sdl / 3 - 1) < 0.02, `local sd ${sdl}, want 3`);
  // Central mode adds nothing at the client.
  const c = Float32Array.from([0.1, 0.2]);
  fl.privatizeUpdate(c, dp, new ingot.Generator(3));
  assert.deepEqual(Array.from(c), [Math.fround(0.1), Math.fround(0.2)]);
  assert.throws(() => fl.checkDp({ mode: "central", clippingNorm: 0, noiseMultiplier: 1 }), /clippingNorm must be > 0/);
  // With DP the round's weights are equal.
  assert.deepEqual([...fl.roundWeights(new Map([[0, 10], [1, 30]]), dp).values()], [0.5, 0.5]);
  assert.deepEqual([...fl.roundWeights(new Map([[0, 10], [1, 30]])).values()], [0.25, 0.75]);
});

function simulate(opts: Partial<fl.SimulationOptions>, seed = 0) {
  const train = blobs(600, 21);
  const test = blobs(300, 21);
  const parts = fl.dirichletPartition(train.y.dataSync() as Int32Array, 4, { alpha: 0.5, seed: 2 });
  ingot.manualSeed(5);
  const model = new nn.Sequential(new nn.Linear(8, 16), new nn.ReLU(), new nn.Linear(16, 3));
  return fl.startSimulation({
    model,
    clients: parts.map((p) => fl.subset(train, p)),
    strategy: new fl.FedAvg({ onFitConfig: { lr: 0.05, batchSize: 16 }, minFitClients: 4, minAvailableClients: 4 }),
    numRounds: 4,
    testData: test,
    loss: ce,
    seed,
    ...opts,
  });
}

test("startSimulation: FedAvg on non-IID clients learns; secure aggregation gives the same model", () => {
  const plain = simulate({});
  assert.ok(plain.initial!.testAccuracy < 0.6, `initial ${plain.initial!.testAccuracy}`);
  const acc = plain.history[plain.history.length - 1].testAccuracy!;
  assert.ok(acc > 0.9, `final accuracy ${acc}`);
  const secure = simulate({ secureAggregation: true });
  // Same training, aggregated through masks: equal to within the fixed-point rounding per round.
  let maxErr = 0;
  for (let j = 0; j < plain.weights.length; j++) maxErr = Math.max(maxErr, Math.abs(plain.weights[j] - secure.weights[j]));
  assert.ok(maxErr < 1e-5, `secure vs plain weights differ by ${maxErr}`);
  const fedadam = simulate({ strategy: new fl.FedAdam({ eta: 0.05, etaL: 0.05, minFitClients: 4, minAvailableClients: 4, onFitConfig: { batchSize: 16 } }) });
  assert.ok(fedadam.history[3].testAccuracy! > 0.9, `fedadam ${fedadam.history[3].testAccuracy}`);
  const prox = simulate({ strategy: new fl.FedProx({ proximalMu: 0.1, minFitClients: 4, minAvailableClients: 4, onFitConfig: { lr: 0.05, batchSize: 16 } }) });
  assert.ok(prox.history[3].testAccuracy! > 0.9, `fedprox ${prox.history[3].testAccuracy}`);
  assert.throws(() => simulate({ numRounds: 0 }), /numRounds must be an integer ≥ 1/);
});

test("startSimulation with DP: huge noise destroys learning, zero noise with a loose clip does not", () => {
  const noisy = simulate({ dp: { mode: "central", clippingNorm: 0.1, noiseMultiplier: 50 } });
  const clean = simulate({ dp: { mode: "central", clippingNorm: 100, noiseMultiplier: 0 } });
  assert.ok(clean.history[3].testAccuracy! > 0.9, `clean ${clean.history[3].testAccuracy}`);
  assert.ok(noisy.history[3].testAccuracy! < clean.history[3].testAccuracy! - 0.2, `noisy ${noisy.history[3].testAccuracy}`);
});

test("params: flatten/unflatten round trip; safetensors vectors; size mismatch is named", () => {
  const state = { a: ingot.tensor([[1, 2], [3, 4]]), b: ingot.tensor([5]) };
  const layout = fl.layoutOf(state);
  const vec = fl.flattenState(state, layout);
  assert.deepEqual(Array.from(vec), [1, 2, 3, 4, 5]);
  assert.deepEqual(fl.unflattenState(vec, layout).a.toArray(), [[1, 2], [3, 4]]);
  const body = fl.encodeVector(Int32Array.from([-1, 2]), { round: "3" });
  const back = fl.decodeVector(body, "test", 2);
  assert.ok(back.vec instanceof Int32Array);
  assert.deepEqual(Array.from(back.vec), [-1, 2]);
  assert.equal(back.metadata.round, "3");
  assert.throws(() => fl.decodeVector(body, "client 4's update", 5), /holds 2 values but the model has 5/);
  assert.throws(() => fl.flattenState({ a: ingot.tensor([1]) }, layout), /weight 'a' has shape \[1\]/);
});
