// Attention and transformer layers (src/nn/attention.ts, src/nn/transformer.ts) against PyTorch's
// numbers (test/golden/nn_fixtures.json from make_nn_fixtures.py), plus masks, init, copies and errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { generateSquareSubsequentMask, MultiheadAttention, scaledDotProductAttention } from "../../src/nn/attention.js";
import {
  Transformer,
  TransformerDecoder,
  TransformerDecoderLayer,
  TransformerEncoder,
  TransformerEncoderLayer,
} from "../../src/nn/transformer.js";
import { type FixtureRun as Run, fixtureTests } from "./helpers.js";

const { nn } = ig;
const F64 = { dtype: "float64" as const };
const vals = (t: Tensor) => Array.from(t.to("float64").dataSync() as Float64Array);

function assertClose(a: Tensor, b: Tensor, tol = 1e-12, what = "values"): void {
  assert.deepEqual([...a.shape], [...b.shape], `${what}: shape`);
  const x = vals(a);
  const y = vals(b);
  x.forEach((v, i) => assert.ok(Math.abs(v - y[i]) <= tol || v === y[i], `${what}: element ${i}: ${v} vs ${y[i]}`));
}

// ---------------------------------------------------------------- against PyTorch

const mhaRun =
  (m: MultiheadAttention, needWeights = true, averageAttnWeights = true): Run =>
  (xs) => {
    const key = xs.key ?? xs.query; // self-attention passes the same tensor three times
    const [output, weights] = m.call(xs.query, key, xs.value ?? key, { attnMask: xs.attnMask, keyPaddingMask: xs.keyPaddingMask, needWeights, averageAttnWeights });
    return { output, weights };
  };
const mha = (build: () => MultiheadAttention, needWeights?: boolean, average?: boolean) => () => {
  const m = build();
  return [m, mhaRun(m, needWeights, average)] as [ig.nn.Module, Run];
};
const sdpa =
  (opts: { isCausal?: boolean; scale?: number } = {}) =>
  (): [null, Run] => [null, (xs) => ({ output: scaledDotProductAttention(xs.q, xs.k, xs.v, { attnMask: xs.attnMask, ...opts }) })];
const encRun = (m: TransformerEncoderLayer): Run => (xs) => ({ output: m.call(xs.src, { srcMask: xs.srcMask, srcKeyPaddingMask: xs.srcKeyPaddingMask }) });
const decRun =
  (m: TransformerDecoderLayer | TransformerDecoder): Run =>
  (xs) => ({
    output: m.call(xs.tgt, xs.memory, {
      tgtMask: xs.tgtMask,
      memoryMask: xs.memoryMask,
      tgtKeyPaddingMask: xs.tgtKeyPaddingMask,
      memoryKeyPaddingMask: xs.memoryKeyPaddingMask,
    }),
  });

const builders: Record<string, () => [ig.nn.Module | null, Run]> = {
  mhaSelfBoolMasks: mha(() => new MultiheadAttention(8, 2, F64)),
  mhaCrossFloatMask3dBatchFirstPerHead: mha(() => new MultiheadAttention(8, 2, { batchFirst: true, ...F64 }), true, false),
  mhaKdimVdimFloatMaskBoolPadding: mha(() => new MultiheadAttention(8, 4, { kdim: 5, vdim: 3, ...F64 })),
  mhaNoBiasUnbatchedNoWeights: mha(() => new MultiheadAttention(6, 3, { bias: false, ...F64 }), false),
  mhaFloatPaddingMask: mha(() => new MultiheadAttention(4, 1, F64)),
  mhaBiasKvZeroAttn: mha(() => new MultiheadAttention(4, 2, { addBiasKv: true, addZeroAttn: true, ...F64 }), true, false),
  mhaDropoutEval: mha(() => new MultiheadAttention(4, 2, { dropout: 0.5, batchFirst: true, ...F64 })),
  sdpaBoolMask4d: sdpa(),
  sdpaFloatMask3d: sdpa(),
  sdpaCausalScale: sdpa({ isCausal: true, scale: 0.3 }),
  encoderLayerPostNormRelu: () => {
    const m = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, ...F64 });
    return [m, encRun(m)];
  },
  encoderLayerPreNormGeluBatchFirst: () => {
    const m = new TransformerEncoderLayer(8, 4, { dimFeedforward: 12, dropout: 0.1, activation: "gelu", layerNormEps: 1e-6, batchFirst: true, normFirst: true, ...F64 });
    return [m, encRun(m)];
  },
  decoderLayerPostNormMasks: () => {
    const m = new TransformerDecoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, ...F64 });
    return [m, decRun(m)];
  },
  decoderLayerPreNormGeluBatchFirst: () => {
    const m = new TransformerDecoderLayer(8, 2, { dimFeedforward: 12, dropout: 0.2, activation: "gelu", batchFirst: true, normFirst: true, ...F64 });
    return [m, decRun(m)];
  },
  encoderStack2Norm: () => {
    const m = new TransformerEncoder(new TransformerEncoderLayer(4, 2, { dimFeedforward: 8, dropout: 0, ...F64 }), 2, { norm: new nn.LayerNorm(4, F64) });
    return [m, (xs) => ({ output: m.call(xs.src, { mask: xs.mask, srcKeyPaddingMask: xs.srcKeyPaddingMask }) })];
  },
  decoderStack2: () => {
    const m = new TransformerDecoder(new TransformerDecoderLayer(4, 2, { dimFeedforward: 8, dropout: 0, batchFirst: true, ...F64 }), 2);
    return [m, decRun(m)];
  },
  transformerSmall: () => {
    const m = new Transformer({ dModel: 4, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 8, dropout: 0, ...F64 });
    return [
      m,
      (xs) => ({
        output: m.call(xs.src, xs.tgt, { tgtMask: xs.tgtMask, srcKeyPaddingMask: xs.srcKeyPaddingMask, memoryKeyPaddingMask: xs.memoryKeyPaddingMask }),
      }),
    ];
  },
};

fixtureTests("attention/transformer", builders, (k) => !/^(lstm|gru|rnn)/.test(k));

// ---------------------------------------------------------------- scaledDotProductAttention

test("scaledDotProductAttention: isCausal is the lower-triangular bool mask (true = attend)", () => {
  ig.manualSeed(1);
  const [q, k, v] = [ig.randn([2, 3, 4], F64), ig.randn([2, 5, 4], F64), ig.randn([2, 5, 2], F64)];
  const tril = ig.tensor([
    [true, false, false, false, false],
    [true, true, false, false, false],
    [true, true, true, false, false],
  ]);
  assertClose(scaledDotProductAttention(q, k, v, { isCausal: true }), scaledDotProductAttention(q, k, v, { attnMask: tril }));
  // The first query sees only the first key: its output is that key's value.
  assertClose(scaledDotProductAttention(q, k, v, { isCausal: true }).select(1, 0), v.select(1, 0));
  // A float mask of 0 and −∞ is the same as the bool mask.
  const additive = ig.where(tril, 0, -Infinity).to("float64");
  assertClose(scaledDotProductAttention(q, k, v, { attnMask: additive }), scaledDotProductAttention(q, k, v, { attnMask: tril }));
});

test("scaledDotProductAttention: dropout is random when dropoutP > 0, and off at 0", () => {
  ig.manualSeed(2);
  const [q, k, v] = [ig.randn([1, 4, 4], F64), ig.randn([1, 6, 4], F64), ig.randn([1, 6, 3], F64)];
  const plain = scaledDotProductAttention(q, k, v);
  assertClose(scaledDotProductAttention(q, k, v, { dropoutP: 0 }), plain, 0);
  const dropped = scaledDotProductAttention(q, k, v, { dropoutP: 0.5 });
  assert.ok(vals(dropped).some((x, i) => Math.abs(x - vals(plain)[i]) > 1e-6));
});

test("scaledDotProductAttention: errors", () => {
  const x = ig.randn([2, 3, 4]);
  assert.throws(() => scaledDotProductAttention(x, ig.randn([2, 3, 5]), x), { name: "ShapeError", message: /^scaledDotProductAttention: q \[2,3,4\] and k \[2,3,5\] must have the same last dim/ });
  assert.throws(() => scaledDotProductAttention(x, x, ig.randn([2, 4, 4])), { name: "ShapeError", message: /^scaledDotProductAttention: k \[2,3,4\] and v \[2,4,4\] must have the same sequence length/ });
  assert.throws(() => scaledDotProductAttention(x, x, x, { isCausal: true, attnMask: ig.zeros([3, 3]) }), { name: "ValueError", message: /either attnMask or isCausal/ });
  assert.throws(() => scaledDotProductAttention(x, x, x, { attnMask: ig.zeros([4, 3]) }), { name: "ShapeError", message: /attnMask \[4,3\] vs the scores: shapes \[4,3\] and \[2,3,3\] cannot be broadcast/ });
  assert.throws(() => scaledDotProductAttention(x, x, x, { attnMask: ig.zeros([3, 3], { dtype: "int32" }) }), { name: "DTypeError", message: /attnMask has dtype int32/ });
  assert.throws(() => scaledDotProductAttention(x, x.to("float64"), x), { name: "DTypeError", message: /must share one float dtype/ });
  assert.throws(() => scaledDotProductAttention(ig.randn([3]), x, x), { name: "ShapeError", message: /need at least 2 dims/ });
  assert.throws(() => scaledDotProductAttention(x, x, x, { attnMask: ig.zeros([4, 1, 3, 3]) }), { name: "ShapeError", message: /attnMask \[4,1,3,3\] must broadcast to the scores' shape \[2,3,3\]/ });
});

test("generateSquareSubsequentMask: 0 on and below the diagonal, −∞ above", () => {
  const m = generateSquareSubsequentMask(3);
  assert.equal(m.dtype, "float32");
  assert.deepEqual(vals(m), [0, -Infinity, -Infinity, 0, 0, -Infinity, 0, 0, 0]);
  assert.equal(Transformer.generateSquareSubsequentMask(2, "float64").dtype, "float64");
});

// ---------------------------------------------------------------- MultiheadAttention

test("MultiheadAttention: init, parameter names and weights that sum to one", () => {
  ig.manualSeed(3);
  const m = new MultiheadAttention(8, 2);
  assert.deepEqual(Object.keys(m.stateDict()), ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]);
  assert.ok(vals(m.in_proj_bias!).every((x) => x === 0) && vals(m.out_proj.bias!).every((x) => x === 0));
  const bound = Math.sqrt(6 / (8 + 24)); // Xavier on [3E, E]
  assert.ok(vals(m.in_proj_weight!).every((x) => Math.abs(x) <= bound));
  const sep = new MultiheadAttention(8, 2, { kdim: 3, vdim: 5, addBiasKv: true, bias: false });
  assert.deepEqual(Object.keys(sep.stateDict()), ["q_proj_weight", "k_proj_weight", "v_proj_weight", "bias_k", "bias_v", "out_proj.weight"]);
  const x = ig.randn([4, 2, 8]);
  const mask = ig.tensor([[false, true, true, false]]).expand(4, 4);
  const [, w] = m.call(x, x, x, { attnMask: mask });
  assert.deepEqual(w!.shape, [2, 4, 4]);
  const wv = vals(w!);
  for (let r = 0; r < 8; r++) {
    const row = wv.slice(r * 4, r * 4 + 4);
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-6, "each row sums to 1");
    assert.equal(row[1], 0, "masked key gets weight 0");
    assert.equal(row[2], 0);
  }
});

test("MultiheadAttention: batchFirst is the transposed seq-first layer; dropout only in training", () => {
  ig.manualSeed(4);
  const a = new MultiheadAttention(4, 2, { dropout: 0.5, ...F64 });
  const b = new MultiheadAttention(4, 2, { dropout: 0.5, batchFirst: true, ...F64 });
  b.loadStateDict(a.stateDict());
  a.eval();
  b.eval();
  const q = ig.randn([3, 2, 4], F64);
  const kv = ig.randn([5, 2, 4], F64);
  const [oa, wa] = a.call(q, kv, kv);
  const [ob, wb] = b.call(q.transpose(0, 1), kv.transpose(0, 1), kv.transpose(0, 1));
  assertClose(ob.transpose(0, 1), oa);
  assertClose(wb!, wa!);
  const [ot] = a.train().call(q, kv, kv);
  assert.ok(vals(ot).some((x, i) => Math.abs(x - vals(oa)[i]) > 1e-6), "training applies dropout to the weights");
  assert.equal(a.eval().call(q, kv, kv, { needWeights: false })[1], null);
});

test("MultiheadAttention: errors name the shapes and the expected ones", () => {
  const m = new MultiheadAttention(8, 2);
  const x = ig.randn([4, 2, 8]);
  assert.throws(() => new MultiheadAttention(8, 3), { name: "ValueError", message: /^MultiheadAttention: embedDim \(8\) must be divisible by numHeads \(3\)/ });
  assert.throws(() => m.call(ig.randn([4, 2, 6]), x, x), { name: "ShapeError", message: /^MultiheadAttention: query \[4,2,6\] has 6 features, expected embedDim = 8/ });
  assert.throws(() => m.call(x, ig.randn([4, 8]), x), { name: "ShapeError", message: /key \[4,8\] and value \[4,2,8\] must have as many dims as query/ });
  assert.throws(() => m.call(x, ig.randn([4, 3, 8]), ig.randn([4, 3, 8])), { name: "ShapeError", message: /must share their sequence and batch sizes/ });
  assert.throws(() => m.call(x, x, x, { attnMask: ig.zeros([4, 5]) }), { name: "ShapeError", message: /^MultiheadAttention: the 2-d attnMask is \[4,5\], but should be \[4,4\]/ });
  assert.throws(() => m.call(x, x, x, { attnMask: ig.zeros([2, 4, 4]) }), { name: "ShapeError", message: /the 3-d attnMask is \[2,4,4\], but should be \[4,4,4\]/ });
  assert.throws(() => m.call(x, x, x, { attnMask: ig.zeros([4]) }), { name: "ShapeError", message: /attnMask must be 2-d \[L, S\] or 3-d/ });
  assert.throws(() => m.call(x, x, x, { keyPaddingMask: ig.zeros([4, 2], { dtype: "bool" }) }), { name: "ShapeError", message: /keyPaddingMask must be \[2,4\]/ });
  assert.throws(() => m.call(x, x, x, { attnMask: ig.zeros([4, 4], { dtype: "int32" }) }), { name: "DTypeError", message: /attnMask has dtype int32; expected bool \(true = masked\)/ });
  assert.throws(() => m.call(ig.randn([2, 4, 2, 8]), x, x), { name: "ShapeError", message: /query must be 3-d/ });
  assert.throws(() => new MultiheadAttention(4, 2, { kdim: 3 }).call(ig.randn([2, 4]), ig.randn([2, 4]), ig.randn([2, 4])), { name: "ShapeError", message: /key \[2,4\] has 4 features, expected kdim = 3/ });
});

// ---------------------------------------------------------------- transformer layers

test("TransformerEncoder: the layers are independent copies of the template, dtype and mode kept", () => {
  ig.manualSeed(5);
  const layer = new TransformerEncoderLayer(4, 2, { dimFeedforward: 8 }).double().eval();
  const enc = new TransformerEncoder(layer, 3);
  assert.equal(enc.layers.length, 3);
  const sd = enc.stateDict();
  for (const [k, v] of Object.entries(layer.stateDict())) {
    assert.equal(sd[`layers.2.${k}`].dtype, "float64");
    assertClose(sd[`layers.2.${k}`], v, 0, k);
  }
  assert.ok(enc.layers.children().every((l) => l.modules().every((m) => !m.training)), "the copies keep eval mode");
  ig.noGrad(() => ig.copy_((enc.layers.at(0) as TransformerEncoderLayer).linear1.weight, 0));
  assert.ok(vals((enc.layers.at(1) as TransformerEncoderLayer).linear1.weight).some((x) => x !== 0), "layers do not share storage");
  assert.ok(vals(layer.linear1.weight).some((x) => x !== 0), "the template is untouched");
  assert.equal(new Set(enc.parameters()).size, 3 * layer.parameters().length);
});

test("Transformer: defaults, Xavier init and PyTorch's state names", () => {
  ig.manualSeed(6);
  const t = new Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 2, numDecoderLayers: 1, dimFeedforward: 16 });
  const keys = Object.keys(t.stateDict());
  assert.equal(keys[0], "encoder.layers.0.self_attn.in_proj_weight");
  assert.ok(keys.includes("encoder.norm.weight") && keys.includes("decoder.norm.bias") && keys.includes("decoder.layers.0.multihead_attn.out_proj.weight"));
  assert.ok(keys.includes("decoder.layers.0.norm3.weight") && !keys.includes("decoder.layers.1.norm1.weight"));
  // Each matrix was drawn on its own (not a copy of layer 0's).
  const sd = t.stateDict();
  assert.ok(vals(sd["encoder.layers.0.linear1.weight"]).some((x, i) => x !== vals(sd["encoder.layers.1.linear1.weight"])[i]));
  const bound = Math.sqrt(6 / (8 + 16));
  assert.ok(vals(sd["encoder.layers.1.linear1.weight"]).every((x) => Math.abs(x) <= bound));
  const d = new TransformerEncoderLayer(16, 4);
  assert.equal(d.linear1.outFeatures, 2048);
  assert.equal((d.dropout as ig.nn.Dropout).p, 0.1);
  assert.equal(d.norm1.eps, 1e-5);
});

test("Transformer layers: dropout in training, custom activations, and errors", () => {
  ig.manualSeed(7);
  const x = ig.randn([3, 2, 4], F64);
  const relu = new TransformerEncoderLayer(4, 2, { dimFeedforward: 8, dropout: 0.3, ...F64 });
  const fn = new TransformerEncoderLayer(4, 2, { dimFeedforward: 8, activation: (t) => ig.relu(t), ...F64 });
  const mod = new TransformerEncoderLayer(4, 2, { dimFeedforward: 8, activation: new nn.ReLU(), ...F64 });
  fn.loadStateDict(relu.stateDict());
  mod.loadStateDict(relu.stateDict());
  const evalOut = relu.eval().call(x);
  assertClose(fn.eval().call(x), evalOut);
  assertClose(mod.eval().call(x), evalOut);
  assert.deepEqual(Object.keys(mod.stateDict()), Object.keys(relu.stateDict()), "an activation module adds no state");
  const trainOut = relu.train().call(x);
  assert.ok(vals(trainOut).some((v, i) => Math.abs(v - vals(evalOut)[i]) > 1e-6));
  assert.throws(() => new TransformerEncoderLayer(4, 2, { activation: "tanh" as never }), { name: "ValueError", message: /^TransformerEncoderLayer: activation should be 'relu', 'gelu', a function or a module/ });
  assert.throws(() => new TransformerDecoderLayer(4, 3), { name: "ValueError", message: /^MultiheadAttention: embedDim \(4\) must be divisible by numHeads \(3\)/ });
  assert.throws(() => new TransformerEncoder(relu, 0), { name: "ValueError", message: /^TransformerEncoder: numLayers must be an integer ≥ 1/ });
  const t = new Transformer({ dModel: 4, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 8 });
  assert.throws(() => t.call(ig.randn([3, 2, 4]), ig.randn([3, 3, 4])), { name: "ShapeError", message: /^Transformer: the batch sizes of src \[3,2,4\] and tgt \[3,3,4\] must be equal/ });
  assert.throws(() => t.call(ig.randn([3, 2, 4]), ig.randn([3, 2, 5])), { name: "ShapeError", message: /must both have dModel = 4 features/ });
  assert.throws(() => relu.call(x, { srcMask: ig.zeros([2, 2], F64) }), { name: "ShapeError", message: /^MultiheadAttention: the 2-d attnMask is \[2,2\], but should be \[3,3\]/ });
});

test("a decoder layer with a causal tgtMask does not look ahead", () => {
  ig.manualSeed(8);
  const layer = new TransformerDecoderLayer(4, 2, { dimFeedforward: 8, dropout: 0, ...F64 });
  const tgt = ig.randn([4, 1, 4], F64);
  const memory = ig.randn([3, 1, 4], F64);
  const mask = generateSquareSubsequentMask(4, "float64");
  const full = layer.call(tgt, memory, { tgtMask: mask });
  const prefix = layer.call(tgt.slice(0, 0, 2), memory, { tgtMask: generateSquareSubsequentMask(2, "float64") });
  assertClose(full.slice(0, 0, 2), prefix, 1e-12, "the first two positions ignore the later ones");
});

test("float32 by default, masks of another dtype accepted, and float32 agrees with float64", () => {
  ig.manualSeed(9);
  const layer = new TransformerDecoderLayer(4, 2, { dimFeedforward: 8, dropout: 0 });
  const tgt = ig.randn([3, 2, 4]);
  const memory = ig.randn([5, 2, 4]);
  const opts = { tgtMask: generateSquareSubsequentMask(3, "float64"), memoryKeyPaddingMask: ig.tensor([[false, false, false, false, true], [false, false, false, false, false]]) };
  const out32 = layer.call(tgt, memory, opts);
  assert.equal(out32.dtype, "float32");
  const out64 = layer.double().call(tgt.to("float64"), memory.to("float64"), opts);
  assert.equal(out64.dtype, "float64");
  assertClose(out32, out64, 1e-5);
});
