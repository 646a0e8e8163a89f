// compress.quantize: the integer kernels against ref (exact integer sums), quantized layers against
// float ones, model folders (save → load → same outputs), int4 group errors, static calibration
// with observers, and quantization-aware training (fake quantization with a straight-through gradient).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import * as cq from "../../src/compress/quantize.js";

const { keras, nn, models } = ig;
const onRef = <T>(f: () => T): T => ig.withBackend("ref", f);
const arr = (t: Tensor) => Array.from(t.contiguous().dataSync() as ArrayLike<number>);
/** The i-th direct sub-module (nn.Sequential, ModuleList). */
const child = (m: ig.nn.Module, i: number) => m.children()[i];
const tmp = () => mkdtempSync(join(tmpdir(), "ingot-quant-"));

/** ‖a − b‖ / ‖b‖ (Frobenius). */
function relErr(a: Tensor, b: Tensor): number {
  const [x, y] = [arr(a), arr(b)];
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i] - y[i]) ** 2;
    den += y[i] ** 2;
  }
  return Math.sqrt(num / den);
}

const native = ig.getBackend() === "cpu";

test("intMm: the native integer GEMM equals ref exactly on odd shapes, K tails, ±127 and -128 weights", { skip: !native && "the native backend is not built" }, () => {
  ig.manualSeed(1);
  // From 4 rows the VNNI path packs W into panels of 16 columns × 4 k: K mod 4 = 0..3, partial
  // panels (N mod 16) and blocks of 1–4 panels (N mod 64), row tiles of 6 and their remainders.
  const packed = [[4, 1, 1], [6, 5, 16], [7, 6, 33], [13, 7, 65], [20, 257, 130], [8, 784, 10], [12, 64, 64], [5, 3, 48]];
  for (const [M, K, N] of [[1, 1, 1], [1, 37, 5], [5, 33, 3], [7, 100, 9], [3, 64, 2], [9, 129, 17], [64, 300, 70], ...packed]) {
    const a = ig.randint(-127, 128, [M, K]).to("int8");
    const b = ig.randint(-128, 128, [K, N]).to("int8"); // b (the weights) may hold -128
    const got = ig.intMm(a, b);
    assert.equal(got.dtype, "int32");
    assert.deepEqual(arr(got), arr(onRef(() => ig.intMm(a, b))), `[${M},${K}]·[${K},${N}]`);
  }
  // The largest sums: every product 127·(-128) or 127·127.
  const a = ig.full([2, 512], 127).to("int8");
  const b = ig.full([512, 3], -128).to("int8");
  assert.deepEqual(arr(ig.intMm(a, b)), Array(6).fill(512 * 127 * -128));
});

test("int8Linear: native activation quantization and integer sums match ref; only the float epilogue rounds differently", { skip: !native && "the native backend is not built" }, () => {
  ig.manualSeed(2);
  for (const [R, K, N] of [[1, 37, 5], [5, 70, 3], [33, 129, 11], [2, 1024, 64], [13, 131, 70], [64, 784, 100]])
    for (const actScale of [null, 0.01]) {
      const x = ig.randn([R, K]);
      const wq = ig.randint(-128, 128, [N, K]).to("int8");
      const s = ig.rand([N]).mul(0.01).add(0.001);
      const bias = ig.randn([N]);
      const got = arr(ig.int8Linear(x, wq, s, bias, { actScale }));
      const want = arr(onRef(() => ig.int8Linear(x, wq, s, bias, { actScale })));
      // One quantization level of difference in one activation moves an output by ≥ s_x·s_w (about
      // 1e-3 of its size here); the float epilogue differs by a few float32 ulps.
      const big = Math.max(...want.map(Math.abs));
      got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= 4e-7 * big, `[${R},${K},${N}] static=${actScale}: element ${i} is ${g}, ref ${want[i]}`));
    }
});

test("int4Linear: the fused dequantizing GEMV, small-batch GEMM and (8+ rows) slab-dequantize + SGEMM path match ref (groups 32, 64, 128)", { skip: !native && "the native backend is not built" }, () => {
  ig.manualSeed(3);
  for (const [R, K, N, group] of [[1, 96, 5, 32], [1, 1024, 33, 128], [3, 192, 4, 64], [11, 64, 3, 32], [20, 256, 9, 32], [9, 320, 130, 64], [64, 128, 70, 128]]) {
    const x = ig.randn([R, K]);
    const w = cq.quantizeWeightInt4(ig.randn([N, K]), group);
    const bias = ig.randn([N]);
    const got = arr(ig.int4Linear(x, w.q, w.scale, w.zero, bias, { group }));
    const want = arr(onRef(() => ig.int4Linear(x, w.q, w.scale, w.zero, bias, { group })));
    const scale = Math.sqrt(K) * 3;
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= 1e-6 * scale, `[${R},${K},${N}] g${group}: element ${i} is ${g}, ref ${want[i]}`));
  }
});

test("packing: int8 maps each row's largest weight to ±127; int4 round-trips within half a step per group", () => {
  ig.manualSeed(4);
  const w = ig.randn([6, 64]);
  const p8 = cq.quantizeWeightInt8(w);
  const wd = arr(w);
  for (let n = 0; n < 6; n++) {
    const row = wd.slice(n * 64, n * 64 + 64);
    assert.ok(Math.abs(p8.scale.dataSync()[n] - Math.max(...row.map(Math.abs)) / 127) < 1e-7);
    assert.equal(Math.max(...arr(p8.q).slice(n * 64, n * 64 + 64).map(Math.abs)), 127);
  }
  const p4 = cq.quantizeWeightInt4(w, 32);
  const back = arr(cq.dequantizeInt4(p4, 32));
  const sc = arr(p4.scale);
  back.forEach((v, i) => assert.ok(Math.abs(v - wd[i]) <= sc[Math.floor(i / 32)] / 2 + 1e-6, `weight ${i}: ${v} vs ${wd[i]}`));
});

test("quantize: Linear outputs stay close to the float model (int8 < 2 %, int4 g32 < 12 %)", () => {
  // Rounding to a step Δ = max/127 (int8) leaves a uniform error of RMS Δ/√12 on weights and on
  // activations; for Gaussian data (max ≈ 3σ over 256 values) that is ≈ 0.7 % of σ each, so the
  // output's relative error is ≈ 1 %; int4 has Δ = range/15 ≈ 0.28σ per group: ≈ 8 %.
  ig.manualSeed(5);
  const make = () => new nn.Sequential(new nn.Linear(256, 128), new nn.ReLU(), new nn.Linear(128, 32));
  const x = ig.randn([16, 256]);
  for (const [bits, bound] of [[8, 0.02], [4, 0.12]] as const) {
    ig.manualSeed(6);
    const m = make();
    const want = ig.noGrad(() => m.call(x));
    cq.quantize(m, bits === 8 ? { bits } : { bits, group: 32 });
    assert.ok(m.modules().some((l) => l instanceof (bits === 8 ? cq.QuantizedLinear : cq.Int4Linear)));
    assert.ok(!m.modules().some((l) => l instanceof nn.Linear), "every Linear was replaced");
    const e = relErr(m.call(x), want);
    assert.ok(e < bound && e > 1e-5, `int${bits}: relative error ${e}`);
  }
});

test("quantize keras Sequential: int8 and int4 save into the model folder and load back with the same outputs", () => {
  ig.manualSeed(7);
  const x = ig.randn([8, 256]);
  for (const opts of [{ bits: 8 }, { bits: 4, group: 32 }] as const) {
    const m = keras.sequential([keras.layers.dense({ units: 128, activation: "relu", inputShape: [256] }), keras.layers.dense({ units: 10, activation: "softmax" })]);
    m.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy" });
    const dir = tmp();
    const floatDir = tmp();
    try {
      m.save(floatDir);
      const want = m.predict(x) as Tensor;
      cq.quantize(m, opts);
      const y = m.predict(x) as Tensor;
      assert.ok(relErr(y, want) < 0.1);
      m.save(dir);
      const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
      assert.equal(cfg.quantization.format, "ingot.quantization");
      assert.deepEqual(Object.keys(cfg.quantization.layers), ["dense_1", "dense_2"]);
      assert.equal(cfg.quantization.layers.dense_1.bits, opts.bits);
      const { tensors } = ig.loadSafetensors(join(dir, "model.safetensors"));
      assert.equal(tensors["dense_1.kernel"].dtype, opts.bits === 8 ? "int8" : "uint8");
      const ratio = statSync(join(floatDir, "model.safetensors")).size / statSync(join(dir, "model.safetensors")).size;
      assert.ok(ratio > (opts.bits === 8 ? 3.5 : 5), `int${opts.bits} file is ${ratio.toFixed(2)}x smaller`);
      const back = keras.loadModel(dir);
      assert.deepEqual(arr(back.predict(x) as Tensor), arr(y));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(floatDir, { recursive: true, force: true });
    }
  }
});

test("quantize GPT: int4 g32 keeps the tied embedding float; saveGPT → loadGPT runs with the same logits", () => {
  ig.manualSeed(8);
  const g = new models.GPT({ vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 64 });
  g.eval();
  const idx = ig.randint(0, 40, [2, 12]);
  const want = g.forward(idx).logits;
  const wte = g.transformer.wte.weight;
  cq.quantize(g, { bits: 4, group: 32 });
  assert.equal(g.lm_head.weight, wte, "the tied head stays the float embedding");
  assert.ok((child(g.transformer.h, 0) as ig.models.Block).attn.c_attn instanceof cq.Int4Linear);
  const got = g.forward(idx).logits;
  assert.ok(relErr(got, want) < 0.1, `logits relative error ${relErr(got, want)}`);
  const dir = tmp();
  try {
    models.saveGPT(dir, g);
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    assert.equal(Object.keys(cfg.quantization.layers).length, 8);
    const back = models.loadGPT(dir).model;
    assert.deepEqual(arr(back.forward(idx).logits), arr(got));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("quantize int4: a layer whose in features the group does not divide is an error naming the layer, the size and the group; the model is unchanged", () => {
  const m = new nn.Sequential(new nn.Linear(64, 100), new nn.ReLU(), new nn.Linear(100, 10));
  assert.throws(() => cq.quantize(m, { bits: 4, group: 64 }), (e: unknown) => {
    assert.ok(e instanceof ig.ShapeError);
    assert.match((e as Error).message, /^quantize: layer '2' has 100 input features, which is not divisible by the int4 group 64/);
    return true;
  });
  assert.ok(m.modules().filter((l) => l instanceof nn.Linear).length === 2, "no layer was replaced");
  assert.throws(() => cq.quantize(m, { bits: 4, group: 48 as 32 }), /group must be 32, 64 or 128, got 48/);
  assert.throws(() => cq.quantize(m, { bits: 4, mode: "static" }), /int4 is weight-only/);
  assert.throws(() => cq.quantize(m, { bits: 8, mode: "static" }), /needs calibration data/);
});

test("fakeQuantize: the straight-through gradient passes inside the clamp range and is zero outside", () => {
  const x = ig.tensor([-3, -1.26, -0.5, 0, 0.3, 1.24, 1.3, 5], { requiresGrad: true });
  const y = ig.fakeQuantize(x, 0.01, 0, -127, 127); // range ±1.27
  assert.deepEqual(arr(y).map((v) => Math.round(v * 100) / 100), [-1.27, -1.26, -0.5, 0, 0.3, 1.24, 1.27, 1.27]);
  y.mul(ig.tensor([1, 2, 3, 4, 5, 6, 7, 8])).sum().backward();
  assert.deepEqual(arr(x.grad!), [0, 2, 3, 4, 5, 6, 0, 0]);
});

test("observers: min-max covers every value; the percentile observer ignores rare outliers", () => {
  const mm = new cq.MinMaxObserver();
  mm.observe(ig.tensor([0.5, -2, 1]));
  mm.observe(ig.tensor([3, 0]));
  assert.equal(mm.range(), 3);
  assert.ok(Math.abs(mm.scale() - 3 / 127) < 1e-12);
  const pc = new cq.PercentileObserver({ percentile: 99 });
  const vals = Array.from({ length: 1000 }, (_, i) => (i % 100 === 0 ? 50 : (i % 10) / 10));
  pc.observe(ig.tensor(vals));
  assert.ok(pc.range() < 1, `percentile range ${pc.range()}`);
});

test("static quantization: calibration fixes each layer's activation scale from its observed inputs", () => {
  ig.manualSeed(9);
  const m = new nn.Sequential(new nn.Linear(32, 16), new nn.ReLU(), new nn.Linear(16, 4));
  const cal = ig.randn([100, 32]);
  const x = ig.randn([10, 32]);
  const want = ig.noGrad(() => m.call(x));
  const h = ig.noGrad(() => ig.relu((child(m, 0) as ig.nn.Linear).call(cal)));
  cq.quantize(m, { bits: 8, mode: "static", calibration: [cal.slice(0, 0, 50), cal.slice(0, 50, 100)] });
  const [q0, q2] = [child(m, 0) as cq.QuantizedLinear, child(m, 2) as cq.QuantizedLinear];
  assert.equal(q0.mode, "static");
  assert.ok(Math.abs(q0.input_scale!.item() - Math.fround(cal.abs().max().item() / 127)) < 1e-9);
  assert.ok(Math.abs(q2.input_scale!.item() - Math.fround(h.abs().max().item() / 127)) < 1e-9);
  assert.ok(relErr(m.call(x), want) < 0.03);
});

test("QAT: prepareQAT fake-quantizes with gradients to the weights; convertQAT gives int8 layers computing the same function", () => {
  ig.manualSeed(10);
  const m = new nn.Sequential(new nn.Linear(16, 32), new nn.ReLU(), new nn.Linear(32, 3));
  const opt = new ig.optim.Adam(m.parameters(), { lr: 1e-2 });
  cq.prepareQAT(m);
  assert.ok(child(m, 0) instanceof cq.QATLinear);
  const x = ig.randn([64, 16]);
  const t = ig.randint(0, 3, [64]);
  let first = 0;
  let last = 0;
  for (let step = 0; step < 30; step++) {
    opt.zeroGrad();
    const loss = ig.crossEntropy(m.call(x), t);
    loss.backward();
    assert.ok((child(m, 0) as cq.QATLinear).weight.grad!.abs().sum().item() > 0);
    opt.step();
    if (step === 0) first = loss.item();
    last = loss.item();
  }
  assert.ok(last < first, `QAT loss went from ${first} to ${last}`);
  m.eval();
  const fq = ig.noGrad(() => m.call(x));
  cq.convertQAT(m);
  assert.ok(child(m, 0) instanceof cq.QuantizedLinear && (child(m, 0) as cq.QuantizedLinear).mode === "static");
  assert.ok(relErr(m.call(x), fq) < 0.01, `converted vs fake-quantized: ${relErr(m.call(x), fq)}`);
});
