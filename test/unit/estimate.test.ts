// ingot estimate's formulas: parameter counts against the models Ingot builds (GPT with and without
// biases, BERT with each head, keras MLP/CNN/functional configs), published counts of the presets,
// FLOPs per token against PaLM's and Kaplan's formulas and against the built model's Linear layers,
// Korthikanti's activation memory, the memory totals, time, cost and the errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ig from "../../src/index.js";
import * as est from "../../src/estimate/index.js";
import { modelConfig } from "../../src/keras/serialize.js";

const { models, keras, nn } = ig;
const tmp = mkdtempSync(join(tmpdir(), "ingot-estimate-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

test("GPT: the formula's count equals the built model's, with and without biases (tied head counted once)", () => {
  for (const bias of [true, false])
    for (const cfg of [
      { vocabSize: 97, blockSize: 16, nLayer: 3, nHead: 2, nEmbd: 24, bias },
      { vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, bias },
    ]) {
      const built = new models.GPT(cfg);
      assert.equal(est.transformerParams(est.gptSpec(cfg)).total, built.numParameters(), JSON.stringify(cfg));
      // The tied matrix is one tensor: the state dict has one more name than the unique parameters.
      assert.equal(built.lm_head.weight, built.transformer.wte.weight);
    }
});

test("BERT: the formula's count equals the built model's for BertModel, masked-LM (tied decoder) and classifier heads", () => {
  const cfg = { vocabSize: 101, hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 40, maxPositions: 12, typeVocabSize: 2 };
  assert.equal(est.transformerParams(est.bertSpec(cfg, "none")).total, new models.BERT(cfg).numParameters());
  assert.equal(est.transformerParams(est.bertSpec(cfg, "mlm")).total, new models.BertForMaskedLM(cfg).numParameters());
  for (const n of [2, 5]) assert.equal(est.transformerParams(est.bertSpec(cfg, "classify", n)).total, new models.BertForSequenceClassification(cfg, n).numParameters());
  const small = { vocabSize: 300, ...models.BERT_SIZES.small };
  assert.equal(est.transformerParams(est.bertSpec(small, "mlm")).total, new models.BertForMaskedLM(small).numParameters());
});

test("keras: the config walk counts what the built MLP, CNN and a functional model count (BatchNorm statistics as Keras does)", () => {
  const mlp = keras.sequential([
    keras.flatten({ inputShape: [28, 28] }),
    keras.dense({ units: 128, activation: "relu" }),
    keras.dropout({ rate: 0.2 }),
    keras.dense({ units: 10, activation: "softmax", useBias: false }),
  ]);
  const cnn = keras.sequential([
    keras.conv2d({ filters: 32, kernelSize: [3, 3], activation: "relu", inputShape: [28, 28, 1] }),
    keras.maxPooling2d({ poolSize: [2, 2] }),
    keras.conv2d({ filters: 64, kernelSize: 3, strides: 2, padding: "same", activation: "relu" }),
    keras.batchNormalization(),
    keras.conv2d({ filters: 16, kernelSize: 3, dilationRate: 2, useBias: false }),
    keras.globalAveragePooling2d(),
    keras.dense({ units: 10 }),
  ]);
  const inp = keras.input({ shape: [12] });
  const e = keras.embedding({ inputDim: 50, outputDim: 8 }).apply(inp) as ig.keras.SymbolicTensor;
  const a = keras.lstm({ units: 6, returnSequences: true }).apply(e) as ig.keras.SymbolicTensor;
  const b = keras.gru({ units: 6, returnSequences: true }).apply(e) as ig.keras.SymbolicTensor;
  const s = keras.add().apply([a, b]) as ig.keras.SymbolicTensor;
  const c = keras.concatenate().apply([s, a]) as ig.keras.SymbolicTensor;
  const n = keras.layerNormalization().apply(c) as ig.keras.SymbolicTensor;
  const f = keras.flatten().apply(n) as ig.keras.SymbolicTensor;
  const fn = keras.model({ inputs: inp, outputs: keras.dense({ units: 3 }).apply(f) as ig.keras.SymbolicTensor });
  for (const [name, m] of [["mlp", mlp], ["cnn", cnn], ["functional", fn]] as const) {
    const cfg = modelConfig(m);
    const got = est.kerasEstimate(String(cfg.className), cfg.config as Record<string, unknown>);
    assert.equal(got.params, m.countParams(), `${name} total`);
    assert.equal(got.trainable, m.countTrainableParams(), `${name} trainable`);
  }
  // Forward FLOPs of the MLP by hand: 2·(784·128 + 128·10) multiply-adds per sample.
  const cfg = modelConfig(mlp);
  assert.equal(est.kerasEstimate("Sequential", cfg.config as Record<string, unknown>).flops, 2 * (784 * 128 + 128 * 10));
});

test("presets: the published parameter counts (GPT-2 four sizes, LLaMA 7B/13B, bert-base-uncased masked-LM)", () => {
  const published: Record<string, number> = {
    "gpt2-124m": 124_439_808,
    "gpt2-355m": 354_823_168,
    "gpt2-774m": 774_030_080,
    "gpt2-1.5b": 1_557_611_200,
    "llama-7b": 6_738_415_616,
    "llama-13b": 13_015_864_320,
    "bert-base": 109_514_298,
  };
  for (const [name, n] of Object.entries(published)) assert.equal(est.transformerParams(est.getPreset(name).spec).total, n, name);
  // char-gpt presets are what `ingot train char-gpt` builds on 65 characters.
  const small = new models.GPT({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, bias: true });
  assert.equal(est.transformerParams(est.getPreset("char-gpt-small").spec).total, small.numParameters());
});

test("GPT-2 124M: training FLOPs per token within 5 % of 6N + 12·L·H·Q·T, and Kaplan's 2N + 2·L·T·d forward", () => {
  const spec = est.getPreset("gpt2-124m").spec;
  const [N, L, H, Q, T] = [124_439_808, 12, 12, 64, 1024];
  const f = est.transformerFlops(spec, T);
  const palm = 6 * N + 12 * L * H * Q * T;
  assert.ok(Math.abs(f.train / palm - 1) < 0.05, `train ${f.train} vs 6N + 12LHQT ${palm}`);
  assert.equal(f.train, 3 * f.forward);
  // Kaplan's N: non-embedding, ≈ 12·L·d² (exactly that plus biases and LayerNorms).
  const nonEmb = 12 * L * 768 * 768;
  assert.ok(f.kaplan.n > nonEmb && f.kaplan.n < nonEmb * 1.01, `Kaplan N ${f.kaplan.n}`);
  assert.equal(f.kaplan.forward, 2 * f.kaplan.n + 2 * L * T * 768);
  // The forward pass at the formula's N_compute: every parameter but the position embedding (the tied wte is the head's matmul).
  assert.equal(est.transformerParams(spec).compute, N - 1024 * 768);
});

test("FLOPs: the formula's forward equals 2 × the built GPT's Linear weights (head included) and vectors per token + attention", () => {
  const cfg = { vocabSize: 97, blockSize: 32, nLayer: 3, nHead: 4, nEmbd: 32, bias: true };
  const gpt = new models.GPT(cfg);
  let matmul = 0;
  for (const m of gpt.modules()) if (m instanceof nn.Linear) matmul += 2 * m.weight.size; // lm_head's weight is wte
  const T = 20;
  const attention = cfg.nLayer * 2 * (2 * T * cfg.nEmbd); // Q·Kᵀ and P·V per token per layer
  const f = est.transformerFlops(est.gptSpec(cfg), T);
  // The formula also counts the built model's vectors (biases, LayerNorm weights) at 2 FLOPs per element.
  const vectors = gpt.parameters().filter((p) => p.ndim === 1).reduce((n, p) => n + p.size, 0);
  assert.equal(f.forward, matmul + 2 * vectors + attention);
});

test("activation memory: Korthikanti et al.'s s·b·h·(34 + 5·a·s/h) per layer at 16 bits; 2·s·b·h with full recomputation", () => {
  const spec = est.gptSpec({ vocabSize: 1000, blockSize: 512, nLayer: 6, nHead: 8, nEmbd: 256 });
  const [s, b, h, a] = [512, 4, 256, 8];
  assert.equal(est.layerActivationBytes(spec, s, b, 2), s * b * h * (34 + (5 * a * s) / h));
  // fp32 values (masks stay 1 byte): (16·4 + 2)·sbh + (2·4 + 1)·a·s²·b.
  assert.equal(est.layerActivationBytes(spec, s, b, 4), 66 * s * b * h + 9 * a * s * s * b);
  const full = est.trainActivationBytes(spec, s, b, 2, false);
  const recomputed = est.trainActivationBytes(spec, s, b, 2, true);
  const outside = 2 * 2 * s * b * h + s * b * h + 4 * s * b * 1000; // final LN + head inputs, embedding dropout mask, fp32 logits
  assert.equal(full, 6 * s * b * h * (34 + (5 * a * s) / h) + outside);
  assert.equal(recomputed, 6 * 2 * s * b * h + est.layerActivationBytes(spec, s, b, 2) + outside);
  // KV cache: 2·L·T·h·bytes per sequence.
  assert.equal(est.kvCacheBytes(spec, s, b, 2), 2 * 6 * s * h * 2 * b);
});

test("estimate: memory by dtype (16 bytes/parameter with Adam in fp32 and in bf16 mixed precision), time and cost", () => {
  const src = est.fromPreset("gpt2-124m");
  const N = 124_439_808;
  const fp32 = est.estimate(src, { dtype: "fp32", device: "a100" });
  assert.equal(fp32.train_memory.weights + fp32.train_memory.gradients + fp32.train_memory.optimizer + fp32.train_memory.master_weights, 16 * N);
  assert.equal(fp32.train_memory.master_weights, 0);
  const bf16 = est.estimate(src, { dtype: "bf16", device: "a100" });
  assert.deepEqual([bf16.train_memory.weights, bf16.train_memory.gradients, bf16.train_memory.master_weights, bf16.train_memory.optimizer], [2 * N, 2 * N, 4 * N, 8 * N]);
  assert.equal(bf16.inference_memory.kv_cache, 2 * 12 * 1024 * 768 * 2 * 12);
  const int8 = est.estimate(src, { dtype: "int8", device: "a100" });
  assert.equal(int8.inference_memory.weights, N);
  assert.equal(int8.device.peak_flops, 624e12);

  const h100 = est.estimate(src, { tokens: 10e9, device: "h100" });
  assert.equal(h100.utilization, est.DEFAULT_UTILIZATION);
  assert.equal(h100.device.peak_flops, 989.4e12);
  assert.ok(Math.abs(h100.seconds - (10e9 * h100.train_flops_per_token) / (989.4e12 * 0.4)) < 1e-6 * h100.seconds);
  assert.ok(Math.abs(h100.cost - (h100.seconds / 3600) * 2.5) < 1e-9);
  const mine = est.estimate(src, { tokens: 10e9, device: "h100", utilization: 0.2, pricePerHour: 4 });
  assert.ok(Math.abs(mine.seconds / h100.seconds - 2) < 1e-12, "half the utilization takes twice as long");
  assert.ok(Math.abs(mine.cost - (mine.seconds / 3600) * 4) < 1e-9);
  const rc = est.estimate(src, { tokens: 10e9, device: "h100", recompute: true });
  assert.ok(rc.train_memory.activations < h100.train_memory.activations / 3, "recomputation keeps each layer's input (and the fp32 logits)");
  assert.equal(rc.hardware_flops_per_token, (4 / 3) * rc.train_flops_per_token);
  // Default tokens: 20 per parameter (Chinchilla).
  assert.equal(est.estimate(src, {}).tokens, 20 * N);
  // V100 has no int8 peak: its FP16 tensor peak is used, and the estimate says so.
  const v100 = est.estimate(src, { dtype: "int8", device: "v100" });
  assert.equal(v100.device.peak_dtype, "bf16");
  assert.match(v100.notes.join("\n"), /v100 lists no int8 peak/);
});

test("cpu-2core reads Ingot's measured sgemm figure; the CPU estimate defaults to fp32", () => {
  const path = join(tmp, "sgemm.json");
  writeFileSync(path, JSON.stringify({ date: "d", machine: { cpu: "X", cores: 2 }, results: [{ n: 256, ingot: { medianGflops: 50 } }, { n: 1024, ingot: { medianGflops: 120 } }] }));
  assert.equal(est.measuredCpuGflops(path)!.gflops, 120);
  assert.equal(est.measuredCpuGflops(join(tmp, "missing.json")), null);
  const cpu = est.estimate(est.fromPreset("char-gpt-tiny"), { device: "cpu-2core" });
  assert.equal(cpu.dtype, "fp32");
  assert.equal(cpu.device.peak_dtype, "fp32");
});

test("errors name what was wrong and what to do", () => {
  const src = est.fromPreset("gpt2-124m");
  assert.throws(() => est.estimate(src, { device: "tpu9" }), /unknown device 'tpu9'; known devices: h100/);
  assert.throws(() => est.getPreset("gpt5"), /unknown preset 'gpt5'; known presets: gpt2-124m/);
  assert.throws(() => est.estimate(src, { seq: 2048 }), /--seq 2048 exceeds the model's 1024 learned positions/);
  assert.throws(() => est.estimate(src, { utilization: 0 }), /--utilization must be in \(0, 1\]/);
  assert.throws(() => est.estimate(src, { batch: 1.5 }), /--batch must be a positive integer/);
  assert.throws(() => est.specFromConfig({ foo: 1 }, "x.json"), /x.json describes no model the estimator knows/);
  assert.throws(() => est.kerasEstimate("Sequential", { layers: [{ className: "Mystery", config: { name: "m", batchInputShape: [null, 3] } }] }), /class 'Mystery' is not known/);
});

test("a quantized GPT folder counts its int8 layers' logical weights (they are buffers there, not parameters)", () => {
  const gpt = new models.GPT({ vocabSize: 41, blockSize: 24, nLayer: 2, nHead: 2, nEmbd: 16 });
  const n = gpt.numParameters();
  ig.compress.quantize(gpt, { bits: 8 });
  assert.ok(gpt.numParameters() < n / 2, "the quantized Linear weights are no longer parameters");
  const dir = join(tmp, "gpt-int8");
  models.saveGPT(dir, gpt);
  const src = est.fromModelDir(dir);
  assert.equal(src.loaded!.total, n);
  assert.equal(src.loaded!.trainable, gpt.numParameters(true));
  assert.deepEqual(est.estimate(src).notes, [], "loaded and formula counts agree");
});

test("a quantized keras MLP folder: logical weights from the loaded model and from its config agree", () => {
  const m = keras.sequential([keras.dense({ units: 32, activation: "relu", inputShape: [20] }), keras.dense({ units: 4 })]);
  const n = m.countParams();
  ig.compress.quantize(m, { bits: 8 });
  const dir = join(tmp, "mlp-int8");
  m.save(dir);
  const src = est.fromModelDir(dir);
  assert.equal(src.loaded!.total, n);
  assert.equal((src.spec as est.KerasEstimate).params, n);
  assert.equal(src.loaded!.trainable, 0);
  assert.equal((src.spec as est.KerasEstimate).trainable, 0);
});
