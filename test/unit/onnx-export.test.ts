// ONNX export (src/export): each architecture is exported, loaded by onnxruntime-node (which checks
// the model as it loads it) and run; its outputs must match Ingot's own forward to 1e-4 (max abs).
// The GPT file is run at two batch sizes and sequence lengths (dynamic axes). Weights are random
// and scaled up from the default init, so that attention, batch-norm statistics and activations
// are far from trivial (near-uniform softmaxes would hide a wrong mask or layout).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { decodeModelProto, exportOnnx, exportOnnxDir, type OnnxExport } from "../../src/export/index.js";
import { maxAbsDiff, ortFloat as f32, ortInt64 as i64 } from "./onnx-helpers.js";

const { keras, models } = ig;
const TOL = 1e-4;
const tmp = mkdtempSync(join(tmpdir(), "ingot-onnx-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));


/** Runs a float model file on inputs (by graph input order) and returns its outputs by name. */
async function runOnnx(ex: OnnxExport, xs: Tensor[]): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(ex.bytes);
  assert.deepEqual(s.inputNames, ex.inputs.map((i) => i.name));
  assert.deepEqual(s.outputNames, ex.outputs.map((o) => o.name));
  return s.run(Object.fromEntries(ex.inputs.map((io, i) => [io.name, f32(xs[i])])));
}

/** Scales every weight of a model to N(0, std) (LayerNorm/BatchNorm scales around 1), in place. */
function scrambleWeights(params: Tensor[], std: number): void {
  ig.noGrad(() => {
    for (const p of params) {
      const r = ig.randn([...p.shape], { dtype: p.dtype }).mul(std);
      p.copy_(p.ndim === 1 && Math.abs((p.dataSync() as Float32Array)[0] - 1) < 1e-6 ? r.add(1) : r);
    }
  });
}

/** Random moving statistics for every BatchNormalization (a fresh layer has mean 0, variance 1). */
function randomizeBatchNorm(model: ig.keras.Model, meanStd: number, varMin: number): void {
  ig.noGrad(() => {
    for (const l of model.layers)
      if (l instanceof keras.BatchNormalization) {
        l.movingMean!.copy_(ig.randn([...l.movingMean!.shape]).mul(meanStd));
        l.movingVariance!.copy_(ig.rand([...l.movingVariance!.shape]).add(varMin));
      }
  });
}

/** Compares a keras model's predict with the exported file at each batch size. */
async function checkKeras(model: ig.keras.Model, batches: number[], opts: { opset?: number } = {}): Promise<OnnxExport> {
  const ex = exportOnnx(model, opts);
  for (const b of batches) {
    const xs = ex.inputs.map((io) => ig.randn([b, ...(io.shape.slice(1) as number[])]));
    const want = model.predict(xs.length === 1 ? xs[0] : xs);
    const wants = Array.isArray(want) ? want : [want];
    const got = await runOnnx(ex, xs);
    ex.outputs.forEach((o, k) => {
      assert.deepEqual(got[o.name].dims, wants[k].shape, `${o.name} shape at batch ${b}`);
      const d = maxAbsDiff(got[o.name].data as Float32Array, wants[k].dataSync() as Float32Array);
      assert.ok(d <= TOL, `${o.name} at batch ${b}: max |onnx − ingot| = ${d}`);
    });
  }
  return ex;
}

test("MLP (flatten, dense, dropout, softmax) matches predict at batch 1 and 5; batch is dynamic", async () => {
  ig.manualSeed(1);
  const m = keras.sequential([
    keras.flatten({ inputShape: [6, 7] }),
    keras.dense({ units: 32, activation: "relu" }),
    keras.dropout({ rate: 0.5 }),
    keras.dense({ units: 16, activation: "relu" }),
    keras.dense({ units: 10, activation: "softmax" }),
  ]);
  const ex = await checkKeras(m, [1, 5]);
  assert.deepEqual(ex.inputs, [{ name: "input", dtype: "float32", shape: ["batch", 6, 7] }]);
  assert.deepEqual(ex.outputs, [{ name: "output", dtype: "float32", shape: ["batch", 10] }]);
  assert.equal(ex.ops.Dropout, undefined, "dropout is the identity at inference");
});

test("briefly trained MLP: the exported file classifies like the model", async () => {
  ig.manualSeed(2);
  const x = ig.randn([64, 8]);
  const y = x.slice(1, 0, 1).gt(0).to("int32").reshape([64]);
  const m = keras.sequential([keras.dense({ units: 16, activation: "tanh", inputShape: [8] }), keras.dense({ units: 2, activation: "softmax" })]);
  m.compile({ optimizer: keras.optimizers.adam({ learningRate: 0.05 }), loss: "sparseCategoricalCrossentropy" });
  await m.fit(x, y, { epochs: 5, batchSize: 16, verbose: 0 });
  await checkKeras(m, [64]);
});

test("CNN (conv2d valid/same/strided/dilated, batchNormalization, max/avg pooling, dropout, flatten, dense) in NHWC", async () => {
  ig.manualSeed(3);
  const m = keras.sequential([
    keras.conv2d({ filters: 6, kernelSize: 3, activation: "relu", padding: "same", inputShape: [11, 10, 3] }),
    keras.batchNormalization(),
    keras.maxPooling2d({ poolSize: 2, padding: "same" }),
    keras.conv2d({ filters: 8, kernelSize: [2, 3], strides: 2, activation: "elu" }),
    keras.batchNormalization({ epsilon: 0.01 }),
    keras.averagePooling2d({ poolSize: 2, strides: 1, padding: "same" }),
    keras.conv2d({ filters: 4, kernelSize: 2, dilationRate: 2, padding: "same", useBias: false }),
    keras.maxPooling2d({ poolSize: [2, 1], strides: 1 }), // → 2×2: H and W both > 1 before Flatten
    keras.dropout({ rate: 0.25 }),
    keras.flatten(),
    keras.dense({ units: 7 }), // logits: a softmax would squash the differences this test looks for
  ]);
  scrambleWeights(m.parameters(), 0.4);
  randomizeBatchNorm(m, 0.5, 0.2);
  const ex = await checkKeras(m, [1, 3]);
  // One Transpose into NCHW before the first conv and one back before Flatten, none between.
  assert.equal(ex.ops.Transpose, 2, JSON.stringify(ex.ops));
  assert.equal(ex.ops.BatchNormalization, 2);
  assert.equal(ex.ops.Conv, 3);
});

test("activations, layerNormalization, rescaling, reshape and batch norm off ONNX's channel axis", async () => {
  ig.manualSeed(5);
  const acts = ["relu6", "elu", "selu", "gelu", "swish", "silu", "sigmoid", "tanh", "softplus", "softsign", "linear"] as const;
  const m = keras.sequential([
    keras.rescaling({ scale: 0.5, offset: -0.25, inputShape: [12] }),
    ...acts.flatMap((a) => [keras.dense({ units: 12 }), keras.activation({ activation: a })]),
    keras.batchNormalization(),
    keras.layerNormalization({ epsilon: 1e-4 }),
    keras.reshape({ targetShape: [3, -1] }),
    keras.batchNormalization({ axis: -1 }), // on [B, 3, 4]: the channel is ONNX axis 2 → Mul/Add
    keras.dense({ units: 5, activation: "exponential" }),
    keras.dense({ units: 5, activation: "logSoftmax" }),
  ]);
  scrambleWeights(m.parameters(), 0.5);
  randomizeBatchNorm(m, 0.3, 0.5);
  const ex = await checkKeras(m, [4]);
  assert.equal(ex.ops.BatchNormalization, 1, "the 2-d batch norm maps onto the ONNX op");
  assert.equal(ex.ops.LayerNormalization, 1);
  assert.equal(ex.ops.Erf, 1, "keras gelu is the erf form");
});

test("functional model: two inputs, channels-first conv, Add, Concatenate, global pooling, two outputs; opsets 17 and 18", async () => {
  ig.manualSeed(6);
  const img = keras.input({ shape: [8, 8, 2], name: "image" });
  const vec = keras.input({ shape: [4], name: "features" });
  const c1 = keras.conv2d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu" }).apply(img) as ig.keras.SymbolicTensor;
  const c2 = keras.conv2d({ filters: 4, kernelSize: 1 }).apply(img) as ig.keras.SymbolicTensor;
  const sum = keras.add().apply([c1, c2]) as ig.keras.SymbolicTensor;
  const cat = keras.concatenate().apply([sum, c1]) as ig.keras.SymbolicTensor; // channels: the NCHW axis 1
  const gap = keras.globalAveragePooling2d().apply(cat) as ig.keras.SymbolicTensor;
  const gmp = keras.globalMaxPooling2d().apply(cat) as ig.keras.SymbolicTensor;
  const joined = keras.concatenate().apply([gap, gmp, vec]) as ig.keras.SymbolicTensor;
  const out1 = keras.dense({ units: 3, activation: "softmax", name: "probs" }).apply(joined) as ig.keras.SymbolicTensor;
  const nchw = keras.conv2d({ filters: 2, kernelSize: 2, dataFormat: "channelsFirst" }).apply(keras.reshape({ targetShape: [2, 8, 8] }).apply(img) as ig.keras.SymbolicTensor) as ig.keras.SymbolicTensor;
  const out2 = keras.flatten({ name: "map" }).apply(nchw) as ig.keras.SymbolicTensor;
  const m = keras.model({ inputs: [img, vec], outputs: [out1, out2] });
  for (const opset of [17, 18]) {
    const ex = await checkKeras(m, [2], { opset });
    assert.deepEqual(ex.inputs.map((i) => i.name), ["image", "features"]);
    assert.deepEqual(ex.outputs.map((o) => o.name), ["probs", "map"]);
    assert.equal(decodeModelProto(ex.bytes).opset_import[0].version, opset);
  }
});

test("GPT: input_ids [batch, seq] → logits; one file run at (2, 5), (3, 9) and (1, blockSize)", async () => {
  ig.manualSeed(7);
  const gpt = new models.GPT({ vocabSize: 23, blockSize: 12, nLayer: 2, nHead: 3, nEmbd: 24 });
  gpt.eval();
  scrambleWeights(gpt.parameters(), 0.3);
  const ex = exportOnnx(gpt);
  assert.deepEqual(ex.inputs, [{ name: "input_ids", dtype: "int64", shape: ["batch", "seq"] }]);
  assert.deepEqual(ex.outputs, [{ name: "logits", dtype: "float32", shape: ["batch", "seq", 23] }]);
  const s = await ort.InferenceSession.create(ex.bytes);
  for (const [B, T] of [
    [2, 5],
    [3, 9],
    [1, 12],
  ]) {
    const ids = ig.randint(0, 23, [B, T], { dtype: "int32" });
    const got = (await s.run({ input_ids: i64(ids) })).logits;
    const want = ig.noGrad(() => gpt.forward(ids).logits);
    assert.deepEqual(got.dims, [B, T, 23]);
    const d = maxAbsDiff(got.data as Float32Array, want.dataSync() as Float32Array);
    assert.ok(d <= TOL, `(${B}, ${T}): max |onnx − ingot| = ${d}`);
  }
});

test("GPT without biases exports and matches", async () => {
  ig.manualSeed(8);
  const gpt = new models.GPT({ vocabSize: 17, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, bias: false });
  gpt.eval();
  scrambleWeights(gpt.parameters(), 0.3);
  const ex = exportOnnx(gpt);
  const ids = ig.randint(0, 17, [2, 6], { dtype: "int32" });
  const got = (await (await ort.InferenceSession.create(ex.bytes)).run({ input_ids: i64(ids) })).logits;
  const d = maxAbsDiff(got.data as Float32Array, gpt.forward(ids).logits.dataSync() as Float32Array);
  assert.ok(d <= TOL, `max |onnx − ingot| = ${d}`);
});

test("the GPT file's protobuf: IR 8, opset 17, dynamic dims, opset-17 ops, the tied embedding stored once", () => {
  ig.manualSeed(9);
  const gpt = new models.GPT({ vocabSize: 13, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8 });
  const p = decodeModelProto(exportOnnx(gpt).bytes);
  assert.equal(p.ir_version, 8);
  assert.deepEqual(p.opset_import.map((o: any) => [o.domain ?? "", o.version]), [["", 17]]);
  assert.equal(p.producer_name, "ingot");
  const meta = Object.fromEntries(p.metadata_props.map((e: any) => [e.key, e.value]));
  assert.deepEqual(meta, { "ingot.architecture": "gpt", "ingot.vocab_size": "13", "ingot.block_size": "8" });
  const dims = p.graph.input[0].type.tensor_type.shape.dim;
  assert.deepEqual(dims.map((d: any) => d.dim_param), ["batch", "seq"]);
  assert.equal(p.graph.input[0].type.tensor_type.elem_type, 7, "int64");
  const ops = new Set(p.graph.node.map((n: any) => n.op_type));
  for (const op of ["LayerNormalization", "Trilu", "Range", "Softmax", "Tanh", "MatMul"]) assert.ok(ops.has(op), `${op} in the graph`);
  assert.ok(!ops.has("Gelu"), "GELU is decomposed (no Gelu op before opset 20)");
  const inits = p.graph.initializer.map((t: any) => t.name);
  assert.equal(inits.filter((n: string) => n.startsWith("transformer.wte")).length, 1);
  assert.ok(!inits.some((n: string) => n.startsWith("lm_head")), "the head reuses wte");
  assert.equal(new Set(inits).size, inits.length, "initializer names are unique");
  // Every node input is a graph input, an initializer or an earlier node's output (topological order).
  const known = new Set<string>([...p.graph.input.map((i: any) => i.name), ...inits]);
  for (const n of p.graph.node) {
    for (const i of n.input) assert.ok(known.has(i), `${n.name} reads ${i} before it is made`);
    for (const o of n.output) known.add(o);
  }
});

test("augmentation layers: identity at inference, RandomCrop takes the centre window", async () => {
  ig.manualSeed(11);
  const m = keras.sequential([
    keras.randomFlip({ inputShape: [9, 8, 2] }),
    keras.randomRotation({ factor: 0.2 }),
    keras.randomCrop({ height: 5, width: 4 }),
    keras.conv2d({ filters: 3, kernelSize: 2 }),
    keras.flatten(),
  ]);
  const ex = await checkKeras(m, [2]);
  assert.equal(ex.ops.Slice, 1);
});

// The ONNX project's own checker (Python `onnx`, Debian's python3-onnx): the full check with strict
// shape inference, on one file of each kind. Skips where no Python has the onnx module.
const onnxPython = ["python3", "/usr/bin/python3"].find((py) => spawnSync(py, ["-c", "import onnx"], { stdio: "ignore" }).status === 0);
test("onnx.checker (full check, strict shape inference) accepts the MLP, CNN, functional and GPT files", { skip: onnxPython ? false : "no Python with the onnx module (apt-get install python3-onnx)" }, () => {
  ig.manualSeed(12);
  const files: string[] = [];
  const save = (name: string, model: ig.keras.Model | ig.models.GPT) => files.push(exportOnnx(model, { path: join(tmp, `${name}.onnx`) }).path!);
  save("mlp", keras.sequential([keras.flatten({ inputShape: [4, 4] }), keras.dense({ units: 8, activation: "gelu" }), keras.dense({ units: 3, activation: "softmax" })]));
  save("cnn", keras.sequential([
    keras.conv2d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu", inputShape: [7, 7, 2] }),
    keras.batchNormalization(),
    keras.averagePooling2d({ padding: "same" }),
    keras.flatten(),
    keras.dense({ units: 2 }),
  ]));
  const a = keras.input({ shape: [6, 6, 1], name: "a" });
  const b = keras.input({ shape: [3], name: "b" });
  const gp = keras.globalMaxPooling2d().apply(keras.conv2d({ filters: 3, kernelSize: 3 }).apply(a) as ig.keras.SymbolicTensor) as ig.keras.SymbolicTensor;
  save("functional", keras.model({ inputs: [a, b], outputs: keras.concatenate().apply([gp, b]) as ig.keras.SymbolicTensor }));
  save("gpt", new models.GPT({ vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8 }));
  const script = join(tmp, "check.py");
  writeFileSync(
    script,
    [
      "import sys, onnx",
      "from onnx import checker, shape_inference",
      "for f in sys.argv[1:]:",
      "    m = onnx.load(f)",
      "    checker.check_model(m, full_check=True)",
      "    shape_inference.infer_shapes(m, check_type=True, strict_mode=True)",
      "    print('ok', f)",
    ].join("\n"),
  );
  const r = spawnSync(onnxPython!, [script, ...files], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split("\n").length, files.length);
});

test("exportOnnx writes the file atomically when given a path; exportOnnxDir reads model folders", async () => {
  ig.manualSeed(10);
  const m = keras.sequential([keras.dense({ units: 3, inputShape: [4] })]);
  const dir = join(tmp, "keras-dir");
  m.save(dir);
  const path = join(tmp, "sub", "m.onnx");
  const ex = exportOnnxDir(dir, { path });
  assert.ok(readFileSync(path).equals(Buffer.from(ex.bytes)), "the file holds the bytes returned");
  assert.deepEqual(readdirSync(join(tmp, "sub")), ["m.onnx"], "no temporary file left");
  const x = ig.randn([2, 4]);
  const got = (await runOnnx(ex, [x])).output.data as Float32Array;
  assert.ok(maxAbsDiff(got, (m.predict(x) as Tensor).dataSync() as Float32Array) <= TOL);

  const gdir = join(tmp, "gpt-dir");
  models.saveGPT(gdir, new models.GPT({ vocabSize: 9, blockSize: 6, nLayer: 1, nHead: 1, nEmbd: 4 }));
  assert.equal(exportOnnxDir(gdir).kind, "gpt");
  assert.ok(!existsSync(join(gdir, "model.onnx")), "no file without a path");
});

test("clear errors: unsupported layers, custom activations, compressed GPTs, opsets, non-models", () => {
  const rnn = keras.sequential([keras.lstm({ units: 4, inputShape: [5, 3] }), keras.dense({ units: 2 })]);
  assert.throws(() => exportOnnx(rnn), /layer 'lstm_1' \(LSTM\): this layer type cannot be exported to ONNX; the exportable layers are InputLayer, Dense, .*Conv2D/);
  const custom = keras.sequential([keras.dense({ units: 2, inputShape: [3], activation: (x: Tensor) => x.mul(2) })]);
  assert.throws(() => exportOnnx(custom), /layer 'dense_1' \(Dense\): a custom activation function cannot be exported/);
  const unbuilt = keras.sequential([keras.dense({ units: 2 })]);
  assert.throws(() => exportOnnx(unbuilt), /is not built; give its first layer an inputShape/);

  const gpt = new models.GPT({ vocabSize: 9, blockSize: 6, nLayer: 1, nHead: 1, nEmbd: 32 });
  const q = ig.compress.quantize(gpt, { bits: 8 });
  assert.throws(() => exportOnnx(q), /transformer\.h\.0\.attn\.c_attn is a QuantizedLinear, not an nn\.Linear; a quantized .* GPT cannot be exported/);

  const small = keras.sequential([keras.dense({ units: 2, inputShape: [3] })]);
  assert.throws(() => exportOnnx(small, { opset: 13 }), /opset must be one of 17, 18, 19, 20, 21 .*got 13/);
  assert.throws(() => exportOnnx(new ig.nn.Linear(2, 2) as never), /expected a keras model \(Sequential or Functional\) or a models\.GPT, got Linear/);
  assert.throws(() => exportOnnxDir(join(tmp, "missing")), /does not exist; pass a model folder/);
});
