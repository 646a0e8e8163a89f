// ingot.nn: Module registration, stateDict round trips and strict-load errors, train/eval, init
// rules, containers, and every layer against PyTorch numbers (test/golden/nn-optim.json, made by
// test/golden/nn_optim_golden.py) or values derived by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";

const { nn } = ig;
const { init } = nn;

interface Arr {
  shape: number[];
  data: number[];
  /** Absent for float64. */
  dtype?: "int32";
}
interface LayerCase {
  train: boolean;
  steps: number;
  state: Record<string, Arr>;
  inputs: Arr[];
  output: Arr;
  r: Arr;
  stateAfter: Record<string, Arr>;
  grads: Record<string, Arr>;
  inputGrad?: Arr;
}
const golden = JSON.parse(readFileSync(new URL("../../../test/golden/nn-optim.json", import.meta.url), "utf8")) as { layers: Record<string, LayerCase> };

const vals = (t: Tensor) => Array.from(t.dataSync() as ArrayLike<number>);
const f64 = (a: Arr) => ig.tensor(Float64Array.from(a.data), { dtype: "float64", shape: a.shape });

function close(what: string, got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-9, atol = 1e-11): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i]), `${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
}

function closeArr(what: string, got: Tensor, want: Arr, rtol?: number, atol?: number): void {
  assert.deepEqual([...got.shape], want.shape, `${what}: shape`);
  close(what, vals(got), want.data, rtol, atol);
}

// ---------------------------------------------------------------- layers vs PyTorch

const F64 = { dtype: "float64" as const };
const builders: Record<string, () => ig.nn.Module> = {
  linear: () => new nn.Linear(3, 4, F64),
  linearNoBias3d: () => new nn.Linear(4, 2, { bias: false, ...F64 }),
  conv2dPad1: () => new nn.Conv2d(2, 3, 3, { padding: 1, ...F64 }),
  conv2dStride2Dil: () => new nn.Conv2d(2, 2, [2, 3], { stride: 2, dilation: [1, 2], bias: false, ...F64 }),
  conv2dGroups: () => new nn.Conv2d(4, 2, 3, { groups: 2, padding: "same", ...F64 }),
  conv2dReflect: () => new nn.Conv2d(1, 2, 3, { padding: 1, paddingMode: "reflect", ...F64 }),
  conv2dCircular: () => new nn.Conv2d(2, 1, 3, { padding: [1, 2], paddingMode: "circular", ...F64 }),
  conv1d: () => new nn.Conv1d(2, 4, 3, { padding: 1, groups: 2, ...F64 }),
  conv1dStride: () => new nn.Conv1d(3, 2, 2, { stride: 2, ...F64 }),
  maxPool2d: () => new nn.MaxPool2d(2),
  maxPool2dStridePad: () => new nn.MaxPool2d(3, { stride: 2, padding: 1 }),
  avgPool2d: () => new nn.AvgPool2d(3, { stride: 2, padding: 1 }),
  adaptiveAvgPool2d: () => new nn.AdaptiveAvgPool2d([2, 3]),
  flatten: () => new nn.Flatten(),
  batchNorm1dTrain: () => new nn.BatchNorm1d(3, F64),
  batchNorm1dEval: () => new nn.BatchNorm1d(3, F64),
  batchNorm1d3d: () => new nn.BatchNorm1d(2, F64),
  batchNorm2dCumulative: () => new nn.BatchNorm2d(2, { momentum: null, ...F64 }),
  batchNorm2dNoAffine: () => new nn.BatchNorm2d(2, { affine: false, momentum: 0.3, ...F64 }),
  layerNorm: () => new nn.LayerNorm([3, 4], F64),
  layerNormNoAffine: () => new nn.LayerNorm(5, { elementwiseAffine: false, eps: 1e-3, ...F64 }),
  embedding: () => new nn.Embedding(5, 3, { paddingIdx: 1, ...F64 }),
  relu: () => new nn.ReLU(),
  leakyRelu: () => new nn.LeakyReLU(0.2),
  elu: () => new nn.ELU(0.5),
  gelu: () => new nn.GELU(),
  geluTanh: () => new nn.GELU("tanh"),
  silu: () => new nn.SiLU(),
  sigmoid: () => new nn.Sigmoid(),
  tanh: () => new nn.Tanh(),
  softplus: () => new nn.Softplus(2, 3),
  softmax: () => new nn.Softmax(1),
  logSoftmax: () => new nn.LogSoftmax(0),
  crossEntropy: () => new nn.CrossEntropyLoss(),
  crossEntropyWeighted: () => new nn.CrossEntropyLoss({ weight: ig.tensor([0, 0, 0], F64), ignoreIndex: 1, labelSmoothing: 0.1 }),
  crossEntropySum: () => new nn.CrossEntropyLoss({ reduction: "sum" }),
  nllLoss: () => new nn.NLLLoss({ weight: ig.tensor([0, 0, 0], F64) }),
  mse: () => new nn.MSELoss(),
  l1Sum: () => new nn.L1Loss({ reduction: "sum" }),
  huber: () => new nn.HuberLoss({ delta: 0.5 }),
  smoothL1: () => new nn.SmoothL1Loss({ beta: 0.5 }),
  bce: () => new nn.BCELoss({ weight: ig.zeros([4], F64) }),
  bceWithLogits: () => new nn.BCEWithLogitsLoss({ posWeight: ig.zeros([4], F64) }),
  klDiv: () => new nn.KLDivLoss({ reduction: "batchmean" }),
  sequentialMlp: () => new nn.Sequential(new nn.Linear(3, 5, F64), new nn.Tanh(), new nn.Linear(5, 2, F64)),
};

test("golden file covers every layer case (and nothing is left untested)", () => {
  assert.deepEqual(Object.keys(golden.layers).sort(), Object.keys(builders).sort());
});

for (const [name, c] of Object.entries(golden.layers)) {
  test(`${name}: output, state and gradients match PyTorch`, () => {
    const m = builders[name]();
    // Loading PyTorch's state dict (keys in camelCase) also checks that the names match PyTorch's.
    m.loadStateDict(Object.fromEntries(Object.entries(c.state).map(([k, a]) => [k, f64(a)])));
    m.train(c.train);
    const inputs = c.inputs.map((a) => (a.dtype === "int32" ? ig.tensor(Int32Array.from(a.data), { shape: a.shape }) : f64(a)));
    if (c.inputGrad) inputs[0].requiresGrad_();
    let out = m.call(...inputs);
    for (let s = 1; s < c.steps; s++) out = m.call(...inputs);
    closeArr("output", out, c.output);
    out.mul(f64(c.r)).sum().backward();
    if (c.inputGrad) closeArr("input gradient", inputs[0].grad!, c.inputGrad);
    const params = Object.fromEntries(m.namedParameters());
    assert.deepEqual(Object.keys(c.grads).sort(), Object.keys(params).filter((k) => params[k].grad).sort(), "parameters with gradients");
    for (const [k, g] of Object.entries(c.grads)) closeArr(`grad of ${k}`, params[k].grad!, g);
    const after = m.stateDict();
    assert.deepEqual(Object.keys(after), Object.keys(c.stateAfter), "stateDict keys, in PyTorch's order");
    for (const [k, s] of Object.entries(c.stateAfter)) closeArr(`state ${k}`, after[k].to("float64"), s);
  });
}

// ---------------------------------------------------------------- Module registration

class Block extends nn.Module {
  fc = new nn.Linear(3, 2);
  scale = new nn.Parameter(ig.ones([2]));
  notAParam = ig.ones([2]);
  runningTotal!: Tensor;
  constructor() {
    super();
    this.registerBuffer("runningTotal", ig.zeros([2]));
    this.registerBuffer("scratch", ig.zeros([1]), { persistent: false });
  }
  override forward(x: Tensor): Tensor {
    return this.fc.call(x).mul(this.scale);
  }
}

class Net extends nn.Module {
  encoder = new Block();
  act = new nn.ReLU();
  head: ig.nn.Linear;
  constructor() {
    super();
    this.head = new nn.Linear(2, 1);
  }
  override forward(x: Tensor): Tensor {
    return this.head.call(this.act.call(this.encoder.call(x)));
  }
}

test("properties holding Parameters and Modules register themselves, with dotted names in PyTorch's order", () => {
  const net = new Net();
  // Each module's own parameters come before its children's, as in PyTorch.
  assert.deepEqual(
    net.namedParameters().map(([n]) => n),
    ["encoder.scale", "encoder.fc.weight", "encoder.fc.bias", "head.weight", "head.bias"],
  );
  assert.equal(net.parameters().length, 5);
  assert.deepEqual(net.namedBuffers().map(([n]) => n), ["encoder.runningTotal", "encoder.scratch"]);
  assert.deepEqual(net.namedChildren().map(([n]) => n), ["encoder", "act", "head"]);
  assert.deepEqual(net.namedModules().map(([n]) => n), ["", "encoder", "encoder.fc", "act", "head"]);
  assert.deepEqual(Object.keys(net.stateDict()), ["encoder.scale", "encoder.runningTotal", "encoder.fc.weight", "encoder.fc.bias", "head.weight", "head.bias"]);
  assert.equal(net.numParameters(), 3 * 2 + 2 + 2 + 2 + 1);
  assert.ok(net.parameters().every((p) => p.requiresGrad && p instanceof nn.Parameter));
  assert.equal(net.parameters(false).length, 0, "recurse = false lists only the module's own");
});

test("a parameter shared by two modules is listed once, and stateDict keeps both names", () => {
  const a = new nn.Linear(2, 2);
  const b = new nn.Linear(2, 2);
  b.weight = a.weight;
  const s = new nn.Sequential(a, b);
  assert.deepEqual(s.namedParameters().map(([n]) => n), ["0.weight", "0.bias", "1.bias"]);
  assert.deepEqual(Object.keys(s.stateDict()), ["0.weight", "0.bias", "1.weight", "1.bias"]);
});

test("registerParameter/registerModule/registerBuffer check their arguments", () => {
  const m = new nn.Module();
  m.registerParameter("w", new nn.Parameter(ig.zeros([2])));
  m.registerParameter("b", null);
  m.registerModule("sub", new nn.Linear(1, 1));
  assert.deepEqual(m.namedParameters().map(([n]) => n), ["w", "sub.weight", "sub.bias"]);
  assert.throws(() => m.registerParameter("x", ig.zeros([2]) as never), /registerParameter: 'x' must be a Parameter or null; wrap the tensor: new Parameter\(t\)/);
  assert.throws(() => m.registerBuffer("a.b", ig.zeros([1])), /registerBuffer: name must be a non-empty string without '\.'/);
  assert.throws(() => m.registerBuffer("forward", ig.zeros([1])), /'forward' is already a property or method of Module/);
  assert.throws(() => m.registerBuffer("sub", ig.zeros([1])), /registerBuffer: 'sub' is already a sub-module of Module/);
  assert.throws(() => new nn.Module().call(ig.zeros([1])), /Module: forward\(\) is not implemented/);
});

test("Parameter shares the tensor's storage and starts a new leaf; integer parameters are refused", () => {
  const t = ig.tensor([1, 2, 3]);
  const p = new nn.Parameter(t);
  assert.equal(p.storage, t.storage);
  assert.ok(p.requiresGrad && p.isLeaf);
  assert.ok(!new nn.Parameter(t, false).requiresGrad);
  const strided = new nn.Parameter(ig.tensor([[1, 2], [3, 4]]).t());
  assert.deepEqual(strided.toArray(), [[1, 3], [2, 4]]);
  assert.ok(strided.isContiguous(), "a strided source is copied to contiguous memory (optimizers write in place)");
  assert.throws(() => new nn.Parameter(ig.tensor([1, 2], { dtype: "int32" })), /only floating-point tensors can require gradients/);
  assert.match(p.toString(), /^Parameter containing:\ntensor\(\[1\., 2\., 3\.\], requiresGrad=true\)/);
});

// ---------------------------------------------------------------- stateDict / loadStateDict

test("stateDict round trip: a second model loads the first one's values in place", () => {
  ig.manualSeed(1);
  const a = new Net();
  ig.manualSeed(2);
  const b = new Net();
  const x = ig.randn([4, 3]);
  assert.notDeepEqual(vals(a.call(x)), vals(b.call(x)));
  const wBefore = b.encoder.fc.weight;
  const res = b.loadStateDict(a.stateDict());
  assert.deepEqual(res, { missingKeys: [], unexpectedKeys: [] });
  assert.deepEqual(vals(b.call(x)), vals(a.call(x)));
  assert.equal(b.encoder.fc.weight, wBefore, "parameters keep their identity, so an optimizer built earlier still works");
  // stateDict tensors share storage but are cut from the graph.
  const sd = a.stateDict();
  assert.ok(!sd["head.weight"].requiresGrad);
  assert.equal(sd["head.weight"].storage, a.head.weight.storage);
  assert.equal(a.stateDict({ keepVars: true })["head.weight"], a.head.weight);
});

test("loadStateDict: strict errors name missing and unexpected keys; shape mismatches always fail", () => {
  const net = new Net();
  const sd = net.stateDict();
  const { ["head.bias"]: _drop, ...missing } = sd;
  assert.throws(
    () => net.loadStateDict(missing),
    (e: Error) => e instanceof ig.ValueError && /loadStateDict: the state dict does not fit Net:\n {2}missing keys: 'head\.bias'\n\(pass \{strict: false\}/.test(e.message),
  );
  assert.throws(() => net.loadStateDict({ ...sd, "head.extra": ig.zeros([1]) }), /unexpected keys: 'head\.extra'/);
  assert.throws(
    () => net.loadStateDict({ ...sd, "head.weight": ig.zeros([2, 1]) }),
    (e: Error) => e instanceof ig.ShapeError && /size mismatch for 'head\.weight': the state dict has \[2,1\], the model has \[1,2\]/.test(e.message),
  );
  const other = new Net();
  const before = vals(other.head.bias!);
  const res = other.loadStateDict({ ...missing, stray: ig.zeros([3]) }, { strict: false });
  assert.deepEqual(res, { missingKeys: ["head.bias"], unexpectedKeys: ["stray"] });
  assert.deepEqual(vals(other.head.weight), vals(net.head.weight), "the keys that match are loaded");
  assert.deepEqual(vals(other.head.bias!), before, "the missing one is left alone");
  assert.throws(() => other.loadStateDict({ ...sd, "head.weight": ig.zeros([3]) }, { strict: false }), ig.ShapeError);
});

test("loadStateDict accepts a Map and converts dtypes (a float64 checkpoint into a float32 model)", () => {
  const m = new nn.Linear(2, 1);
  m.loadStateDict(new Map([["weight", ig.tensor([[0.5, -1]], F64)], ["bias", ig.tensor([0.25], F64)]]));
  assert.equal(m.weight.dtype, "float32");
  assert.deepEqual(vals(m.call(ig.tensor([[2, 1]]))), [0.25]);
});

// ---------------------------------------------------------------- modes, apply, zeroGrad, to

test("train()/eval() set the mode everywhere; Dropout is the identity in eval and scales in training", () => {
  const net = new nn.Sequential(new nn.Linear(4, 4), new nn.Sequential(new nn.Dropout(0.5)));
  assert.ok(net.modules().every((m) => m.training));
  assert.equal(net.eval(), net);
  assert.ok(net.modules().every((m) => !m.training));
  const drop = net.at(1) as ig.nn.Sequential;
  const x = ig.ones([200]);
  assert.deepEqual(vals(drop.call(x)), vals(x));
  net.train();
  ig.manualSeed(3);
  const y = vals(drop.call(x));
  assert.ok(y.every((v) => v === 0 || v === 2), "kept elements are scaled by 1/(1 − p)");
  const kept = y.filter((v) => v === 2).length;
  assert.ok(kept > 70 && kept < 130, `about half kept, got ${kept}`);
});

test("apply visits children before the parent; zeroGrad clears gradients; requiresGrad_ freezes", () => {
  const net = new Net();
  const seen: string[] = [];
  net.apply((m) => seen.push(m.constructor.name));
  assert.deepEqual(seen, ["Linear", "Block", "ReLU", "Linear", "Net"]);
  net.apply((m) => {
    if (m instanceof nn.Linear) init.constant_(m.weight, 0.5);
  });
  assert.ok(vals(net.head.weight).every((v) => v === 0.5));
  net.call(ig.randn([2, 3])).sum().backward();
  assert.ok(net.parameters().every((p) => p.grad !== null));
  net.zeroGrad();
  assert.ok(net.parameters().every((p) => p.grad === null));
  net.encoder.requiresGrad_(false);
  assert.equal(net.numParameters(true), 3);
  assert.match(net.summary(), /Non-trainable parameters: 10/);
});

test("to('float64') converts parameters and float buffers; a float64 MLP passes gradcheck", () => {
  ig.manualSeed(4);
  const bn = new nn.BatchNorm1d(3).double();
  assert.equal(bn.weight!.dtype, "float64");
  assert.equal(bn.runningMean!.dtype, "float64");
  assert.equal(bn.numBatchesTracked!.dtype, "int32", "integer buffers stay integers");
  const mlp = new nn.Sequential(new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 2)).double();
  const x = ig.randn([2, 3], F64).requiresGrad_();
  assert.ok(ig.gradcheck((xx) => mlp.call(xx), [x]).ok);
});

// ---------------------------------------------------------------- printing

test("toString prints the nested structure like PyTorch; summary counts parameters", () => {
  const net = new nn.Sequential(new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.ReLU(), new nn.Flatten(), new nn.Linear(64, 10));
  assert.equal(
    String(net),
    [
      "Sequential(",
      "  (0): Conv2d(1, 4, kernelSize=[3, 3], stride=[1, 1], padding=[1, 1])",
      "  (1): ReLU()",
      "  (2): Flatten(startDim=1, endDim=-1)",
      "  (3): Linear(inFeatures=64, outFeatures=10, bias=true)",
      ")",
    ].join("\n"),
  );
  const s = net.summary();
  assert.match(s, /^0 +Conv2d +40 +weight \[4,1,3,3\], bias \[4\]$/m);
  assert.match(s, /^3 +Linear +650 +weight \[10,64\], bias \[10\]$/m);
  assert.match(s, /Total parameters: 690\nTrainable parameters: 690/);
  assert.match(String(new nn.Sequential({ body: new nn.Sequential(new nn.Tanh()) })), /^Sequential\(\n {2}\(body\): Sequential\(\n {4}\(0\): Tanh\(\)\n {2}\)\n\)$/);
});

// ---------------------------------------------------------------- containers

test("Sequential, ModuleList and ModuleDict hold modules in order and index them", () => {
  const seq = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU());
  seq.append(new nn.Linear(3, 1));
  assert.equal(seq.length, 3);
  assert.ok(seq.at(-1) instanceof nn.Linear);
  assert.deepEqual([...seq].map((m) => m.constructor.name), ["Linear", "ReLU", "Linear"]);
  assert.deepEqual(seq.call(ig.zeros([5, 2])).shape, [5, 1]);
  assert.throws(() => seq.at(3), /Sequential\.at: index 3 is out of range for 3 module\(s\)/);
  assert.throws(() => new nn.Sequential(new nn.ReLU(), 3 as never), /Sequential: entry 1 is not a Module/);
  const list = new nn.ModuleList([new nn.Linear(1, 1), new nn.Linear(1, 1)]);
  assert.deepEqual(Object.keys(list.stateDict()), ["0.weight", "0.bias", "1.weight", "1.bias"]);
  const dict = new nn.ModuleDict({ b: new nn.Linear(1, 2), "10": new nn.Tanh(), a: new nn.Linear(2, 1) });
  dict.set("2", new nn.Linear(1, 1));
  // Insertion order, even for integer-like keys (which plain objects would list first).
  assert.deepEqual(dict.keys(), ["10", "b", "a", "2"]);
  assert.deepEqual(Object.keys(dict.stateDict()), ["b.weight", "b.bias", "a.weight", "a.bias", "2.weight", "2.bias"]);
  assert.throws(() => dict.get("zz"), /ModuleDict\.get: no module 'zz'; the keys are '10', 'b', 'a', '2'/);
});

// ---------------------------------------------------------------- init

test("calculateGain and fans follow PyTorch", () => {
  assert.equal(init.calculateGain("linear"), 1);
  assert.equal(init.calculateGain("tanh"), 5 / 3);
  assert.equal(init.calculateGain("relu"), Math.SQRT2);
  assert.equal(init.calculateGain("leakyRelu"), Math.sqrt(2 / (1 + 0.01 ** 2)));
  assert.equal(init.calculateGain("leakyRelu", Math.sqrt(5)), Math.sqrt(1 / 3));
  assert.equal(init.calculateGain("selu"), 0.75);
  assert.deepEqual(init.calculateFanInAndFanOut([8, 3, 5, 5]), [75, 200]);
  assert.deepEqual(init.calculateFanInAndFanOut(ig.zeros([4, 6])), [6, 4]);
  assert.throws(() => init.xavierUniform_(ig.zeros([5])), /init: fan in and fan out need a tensor with at least 2 dimensions, got shape \[5\]/);
  assert.throws(() => init.calculateGain("swish" as never), /calculateGain: unknown nonlinearity 'swish'/);
});

function stats(t: Tensor): { mean: number; std: number; min: number; max: number } {
  const v = vals(t);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { mean, std, min: Math.min(...v), max: Math.max(...v) };
}

test("xavier and kaiming draw with PyTorch's bounds and standard deviations", () => {
  ig.manualSeed(5);
  const w = ig.zeros([200, 100]);
  const a = Math.sqrt(6 / 300);
  let s = stats(init.xavierUniform_(w));
  assert.ok(s.min >= -a && s.max <= a && s.max > 0.99 * a, "within ±√(6/(fanIn+fanOut))");
  assert.ok(Math.abs(s.std - a / Math.sqrt(3)) < 0.01 * a);
  s = stats(init.xavierNormal_(w, 2));
  assert.ok(Math.abs(s.std - 2 * Math.sqrt(2 / 300)) / (2 * Math.sqrt(2 / 300)) < 0.02);
  s = stats(init.kaimingNormal_(w));
  assert.ok(Math.abs(s.std - Math.sqrt(2 / 100)) / Math.sqrt(2 / 100) < 0.02, "std √2/√fanIn");
  s = stats(init.kaimingNormal_(w, { mode: "fanOut", nonlinearity: "relu" }));
  assert.ok(Math.abs(s.std - Math.sqrt(2 / 200)) / Math.sqrt(2 / 200) < 0.02, "std √2/√fanOut");
  s = stats(init.kaimingUniform_(w, { a: Math.sqrt(5) }));
  assert.ok(s.max <= 0.1 && s.min >= -0.1 && s.max > 0.099, "Linear's default: bound 1/√fanIn");
  s = stats(init.heUniform_(w));
  assert.ok(s.max <= Math.sqrt(6 / 100) && s.max > 0.99 * Math.sqrt(6 / 100));
  s = stats(init.normal_(w, 3, 0.5));
  assert.ok(Math.abs(s.mean - 3) < 0.01 && Math.abs(s.std - 0.5) < 0.01);
  s = stats(init.uniform_(w, -1, 3));
  assert.ok(s.min >= -1 && s.max < 3 && Math.abs(s.mean - 1) < 0.02);
  s = stats(init.truncNormal_(w, 0, 1, -0.5, 0.5));
  assert.ok(s.min >= -0.5 && s.max <= 0.5);
});

test("init is seeded by manualSeed and works in place without recording gradients", () => {
  const p = new nn.Parameter(ig.zeros([3, 4]));
  ig.manualSeed(7);
  init.kaimingUniform_(p);
  const first = vals(p);
  ig.manualSeed(7);
  assert.deepEqual(vals(init.kaimingUniform_(p)), first);
  assert.ok(p.isLeaf && p.grad === null);
  assert.deepEqual(vals(init.zeros_(p)), new Array(12).fill(0));
  assert.deepEqual(vals(init.ones_(p)), new Array(12).fill(1));
  assert.deepEqual(vals(init.constant_(p, 0.25)), new Array(12).fill(0.25));
  assert.deepEqual(init.eye_(ig.zeros([2, 3])).toArray(), [[1, 0, 0], [0, 1, 0]]);
});

test("orthogonal_ gives orthonormal rows (wide) or columns (tall), scaled by gain", () => {
  ig.manualSeed(8);
  for (const [shape, gain] of [[[3, 7], 1], [[6, 2, 2], 2], [[5, 5], 1.5]] as [number[], number][]) {
    const w = init.orthogonal_(ig.zeros(shape, F64), gain).reshape(shape[0], -1);
    const [r, c] = w.shape;
    const gram = r <= c ? ig.matmul(w, w.t()) : ig.matmul(w.t(), w);
    const n = Math.min(r, c);
    const want: number[] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) want.push(i === j ? gain * gain : 0);
    close(`gram of ${shape}`, vals(gram), want, 1e-10, 1e-10);
  }
});

test("layers start with PyTorch's default initialization", () => {
  ig.manualSeed(9);
  const fc = new nn.Linear(50, 30);
  const b = 1 / Math.sqrt(50);
  for (const t of [fc.weight, fc.bias!]) assert.ok(vals(t).every((v) => Math.abs(v) <= b));
  assert.ok(stats(fc.weight).max > 0.95 * b);
  const conv = new nn.Conv2d(4, 8, 3, { groups: 2 });
  const cb = 1 / Math.sqrt(2 * 9);
  assert.deepEqual(conv.weight.shape, [8, 2, 3, 3]);
  assert.ok(vals(conv.weight).every((v) => Math.abs(v) <= cb) && vals(conv.bias!).every((v) => Math.abs(v) <= cb));
  const emb = new nn.Embedding(100, 20, { paddingIdx: -1 });
  assert.equal(emb.paddingIdx, 99);
  assert.ok(vals(emb.weight.select(0, 99)).every((v) => v === 0));
  assert.ok(Math.abs(stats(emb.weight.slice(0, 0, 99)).std - 1) < 0.05, "N(0, 1)");
  const bn = new nn.BatchNorm2d(3);
  assert.deepEqual([vals(bn.weight!), vals(bn.bias!), vals(bn.runningMean!), vals(bn.runningVar!)], [[1, 1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1]]);
});

// ---------------------------------------------------------------- layer behaviour not in the golden file

test("BatchNorm: eval uses running statistics, errors name the layer and shapes", () => {
  const bn = new nn.BatchNorm1d(2, F64);
  bn.runningMean = ig.tensor([1, -1], F64);
  bn.runningVar = ig.tensor([4, 0.25], F64);
  bn.eval();
  const y = bn.call(ig.tensor([[3, 0]], F64));
  close("eval output", vals(y), [2 / Math.sqrt(4 + 1e-5), 1 / Math.sqrt(0.25 + 1e-5)]);
  assert.equal(bn.numBatchesTracked!.item(), 0, "eval does not count batches");
  bn.train();
  assert.throws(() => bn.call(ig.tensor([[3, 0]], F64)), /BatchNorm1d: expected more than 1 value per channel when training, got input \[1,2\]/);
  assert.throws(() => bn.call(ig.zeros([4, 3], F64)), /BatchNorm1d: input \[4,3\] has 3 channels \(dim 1\), expected numFeatures = 2/);
  assert.throws(() => new nn.BatchNorm2d(2).call(ig.zeros([2, 2])), /BatchNorm2d: expected a 4-d \[N, C, H, W\] input, got \[2,2\]/);
  const noStats = new nn.BatchNorm1d(2, { trackRunningStats: false });
  assert.deepEqual(noStats.buffers(), []);
  assert.deepEqual(Object.keys(noStats.stateDict()), ["weight", "bias"]);
  noStats.eval();
  const z = vals(noStats.call(ig.tensor([[1, 2], [3, 6]])));
  close("batch statistics in eval without running stats", z, [-1, -1, 1, 1], 1e-4);
});

test("Embedding: lookup, no gradient for the padding row, fromPretrained freezes", () => {
  const w = ig.tensor([[0, 0], [1, 2], [3, 4]]);
  const emb = nn.Embedding.fromPretrained(w);
  assert.ok(!emb.weight.requiresGrad);
  assert.deepEqual(emb.call(ig.tensor([[2, 1]], { dtype: "int32" })).toArray(), [[[3, 4], [1, 2]]]);
  const e2 = nn.Embedding.fromPretrained(w, { freeze: false, paddingIdx: 0 });
  e2.call(ig.tensor([0, 2, 0], { dtype: "int32" })).sum().backward();
  assert.deepEqual(e2.weight.grad!.toArray(), [[0, 0], [0, 0], [1, 1]]);
  assert.throws(() => new nn.Embedding(3, 2, { paddingIdx: 3 }), /Embedding: paddingIdx 3 is out of range for 3 embeddings/);
});

test("layer constructors refuse bad hyper-parameters with the layer's name", () => {
  assert.throws(() => new nn.Linear(3.5, 2), /Linear: inFeatures must be an integer ≥ 0, got 3\.5/);
  assert.throws(() => new nn.Conv2d(3, 4, 3, { groups: 2 }), /Conv2d: inChannels \(3\) and outChannels \(4\) must both be divisible by groups \(2\)/);
  assert.throws(() => new nn.Conv2d(2, 2, 3, { stride: 2, padding: "same" }), /Conv2d: padding 'same' needs stride 1/);
  assert.throws(() => new nn.Conv1d(2, 2, [3, 3]), /Conv1d: kernelSize must be an integer ≥ 1 or 1 of them/);
  assert.throws(() => new nn.Dropout(1), /Dropout: p must be in \[0, 1\), got 1/);
  assert.throws(() => new nn.LayerNorm([3, 0]), /LayerNorm: normalizedShape must be an integer ≥ 1, got 0/);
});

test("Unflatten and Identity reshape as documented; functional.normalize divides by the norm", () => {
  assert.deepEqual(new nn.Unflatten(1, [2, 3]).call(ig.zeros([4, 6])).shape, [4, 2, 3]);
  const x = ig.tensor([[3, 4], [0, 0]]);
  assert.equal(new nn.Identity().call(x), x);
  close("normalize", vals(nn.functional.normalize(x)), [0.6, 0.8, 0, 0], 1e-6);
  close("normalize p=1 dim 0", vals(nn.functional.normalize(ig.tensor([[1, 2], [3, 2]]), 1, 0)), [0.25, 0.5, 0.75, 0.5], 1e-6);
  assert.equal(nn.functional.relu, ig.relu, "functional re-exports the ops");
});

test("a small MLP trains with SGD on a synthetic regression (loss goes down)", () => {
  ig.manualSeed(10);
  const model = new nn.Sequential(new nn.Linear(2, 16), new nn.Tanh(), new nn.Linear(16, 1));
  const x = ig.randn([64, 2]);
  const y = x.select(1, 0).mul(x.select(1, 1)).unsqueeze(1);
  const opt = new ig.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const lossFn = new nn.MSELoss();
  let first = 0;
  let last = 0;
  for (let i = 0; i < 150; i++) {
    opt.zeroGrad();
    const loss = lossFn.call(model.call(x), y);
    loss.backward();
    opt.step();
    if (i === 0) first = loss.item();
    last = loss.item();
  }
  assert.ok(last < 0.25 * first, `loss ${first} → ${last}`);
});

test("init.skipInit: init functions leave tensors as they are and draw nothing; loadGPT still gets every weight", () => {
  const { init } = ig.nn;
  ig.manualSeed(11);
  const expected = ig.randn([3]).toArray();
  ig.manualSeed(11);
  const lin = init.skipInit(() => new ig.nn.Linear(4, 3));
  assert.ok((lin.weight.dataSync() as Float32Array).every((v) => v === 0), "no random draw was written");
  const t = ig.ones([2, 2]);
  init.skipInit(() => [init.normal_(t), init.constant_(t, 5), init.eye_(t), init.orthogonal_(t)]);
  assert.deepEqual(t.toArray(), [[1, 1], [1, 1]]);
  assert.deepEqual(ig.randn([3]).toArray(), expected, "the generator was not advanced");
  assert.ok((new ig.nn.Linear(4, 3).weight.dataSync() as Float32Array).some((v) => v !== 0), "init works again afterwards");
});
