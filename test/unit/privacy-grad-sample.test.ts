// ingot.privacy per-sample gradients: for every vectorized layer type and for the per-sample
// fallback, the gradients computed from one batched backward equal the gradients of each sample's
// loss computed one sample at a time (to 1e-5), for "mean" and "sum" loss reductions.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { GradSampleModule } from "../../src/privacy/index.js";

const { nn, keras } = ig;

/** Per-sample loss: a fixed non-uniform weighting of the output, so every output element counts. */
function sampleLoss(out: Tensor): Tensor {
  const w = ig.arange(0, out.size / out.shape[0], 1, { dtype: out.dtype }).reshape([1, ...out.shape.slice(1)]).mul(0.37).sin().add(0.5);
  return ig.sum(out.mul(w), Array.from({ length: out.ndim - 1 }, (_, i) => i + 1)); // [B]
}

function firstOut(o: unknown): Tensor {
  return Array.isArray(o) ? firstOut(o[0]) : (o as Tensor);
}

/** Compares GradSampleModule's per-sample gradients with a loop over samples, for both reductions. */
function checkPerSample(name: string, makeModel: () => ig.nn.Module, x: Tensor, tol = 1e-5): Map<string, string> {
  let rules = new Map<string, string>();
  for (const reduction of ["mean", "sum"] as const) {
    const model = makeModel();
    const params = model.parameters().filter((p) => p.requiresGrad);
    // Reference: one sample at a time, on the unwrapped model.
    const B = x.shape[0];
    const want: number[][][] = params.map(() => []);
    for (let i = 0; i < B; i++) {
      model.zeroGrad();
      sampleLoss(firstOut(model.call(x.slice(0, i, i + 1)))).sum().backward();
      params.forEach((p, k) => want[k].push(Array.from((p.grad ?? ig.zerosLike(p)).dataSync() as ArrayLike<number>)));
    }
    model.zeroGrad();
    const gsm = new GradSampleModule(model, { lossReduction: reduction });
    rules = gsm.rules;
    const l = sampleLoss(firstOut(model.call(x)));
    (reduction === "mean" ? l.mean() : l.sum()).backward();
    const { batchSize, grads } = gsm.gradSamples();
    assert.equal(batchSize, B, `${name}: batch size`);
    params.forEach((p, k) => {
      const g = grads.get(p);
      assert.ok(g, `${name}: no per-sample gradient for a parameter of shape [${p.shape}]`);
      assert.deepEqual(g!.shape, [B, ...p.shape], `${name}: per-sample gradient shape`);
      const got = g!.dataSync() as ArrayLike<number>;
      const per = p.size;
      let maxErr = 0;
      for (let i = 0; i < B; i++)
        for (let j = 0; j < per; j++) {
          const err = Math.abs(got[i * per + j] - want[k][i][j]);
          maxErr = Math.max(maxErr, err / Math.max(1, Math.abs(want[k][i][j])));
        }
      assert.ok(maxErr <= tol, `${name} (${reduction}): parameter ${k} [${p.shape}] differs from the one-sample-at-a-time gradient by ${maxErr}`);
    });
    // The batch gradient left in .grad is untouched (it is the ordinary one).
    assert.ok(params.every((p) => p.grad !== null), `${name}: the batched backward still fills .grad`);
    gsm.remove();
    assert.ok(!Object.prototype.hasOwnProperty.call(model, "forward"), `${name}: remove() restores the modules`);
  }
  return rules;
}

test("Linear: per-sample gradients equal one-sample-at-a-time gradients (2-D and 3-D inputs)", () => {
  ig.manualSeed(1);
  const x = ig.randn([5, 7], { dtype: "float64" });
  const rules = checkPerSample("Linear", () => new nn.Sequential(new nn.Linear(7, 4, { dtype: "float64" }), new nn.Tanh(), new nn.Linear(4, 3, { dtype: "float64" })), x);
  assert.deepEqual([...rules.values()], ["Linear", "Linear"]);
  const x3 = ig.randn([4, 3, 6], { dtype: "float64" });
  checkPerSample("Linear 3-D", () => new nn.Linear(6, 2, { dtype: "float64" }), x3);
});

test("Conv2d: per-sample gradients via unfold match (stride, padding, dilation, groups, 'same', bias off)", () => {
  ig.manualSeed(2);
  const x = ig.randn([3, 4, 9, 8], { dtype: "float64" });
  const cases: [string, () => ig.nn.Module][] = [
    ["stride 2 pad 3 (the TF Privacy CNN's first layer)", () => new nn.Conv2d(4, 5, 4, { stride: 2, padding: 3, dtype: "float64" })],
    ["groups 2, dilation 2", () => new nn.Conv2d(4, 6, [3, 2], { groups: 2, dilation: 2, dtype: "float64" })],
    ["same, no bias", () => new nn.Conv2d(4, 3, 3, { padding: "same", bias: false, dtype: "float64" })],
    ["reflect padding", () => new nn.Conv2d(4, 2, 3, { padding: 1, paddingMode: "reflect", dtype: "float64" })],
  ];
  for (const [name, make] of cases) {
    const rules = checkPerSample(`Conv2d ${name}`, make, x);
    assert.equal(rules.get("(model)"), "Conv2d");
  }
});

test("Conv1d: vectorized per-sample gradients match (padding, stride, groups, replicate padding)", () => {
  ig.manualSeed(3);
  const x = ig.randn([3, 4, 10], { dtype: "float64" });
  for (const [name, make] of [
    ["pad 1", () => new nn.Conv1d(4, 2, 3, { padding: 1, dtype: "float64" })],
    ["stride 2, groups 2, dilation 2", () => new nn.Conv1d(4, 6, 3, { stride: 2, groups: 2, dilation: 2, dtype: "float64" })],
    ["replicate", () => new nn.Conv1d(4, 3, 3, { padding: 2, paddingMode: "replicate", bias: false, dtype: "float64" })],
  ] as [string, () => ig.nn.Module][]) {
    const rules = checkPerSample(`Conv1d ${name}`, make, x);
    assert.equal(rules.get("(model)"), "Conv1d");
  }
});

test("Embedding (with a padding row and repeated ids) and LayerNorm: vectorized per-sample gradients match", () => {
  ig.manualSeed(4);
  const ids = ig.tensor([[1, 2, 2, 0], [3, 3, 3, 1], [0, 0, 4, 2]], { dtype: "int32" });
  const rules = checkPerSample(
    "Embedding+LayerNorm",
    () => new nn.Sequential(new nn.Embedding(5, 6, { paddingIdx: 0, dtype: "float64" }), new nn.LayerNorm(6, { dtype: "float64" }), new nn.Linear(6, 2, { dtype: "float64" })),
    ids,
  );
  assert.deepEqual([...rules.values()], ["Embedding", "LayerNorm", "Linear"]);
  // LayerNorm over two trailing dims.
  const x = ig.randn([3, 2, 4, 5], { dtype: "float64" });
  checkPerSample("LayerNorm [4, 5]", () => new nn.LayerNorm([4, 5], { dtype: "float64" }), x);
});

test("keras Dense: the probe sits before the activation; per-sample gradients match", () => {
  ig.manualSeed(5);
  const x = ig.randn([4, 6], { dtype: "float32" });
  const rules = checkPerSample(
    "keras Dense",
    () => {
      ig.manualSeed(6);
      return keras.sequential([keras.dense({ units: 5, activation: "relu", inputShape: [6] }), keras.dense({ units: 3, activation: "softmax" })]);
    },
    x,
  );
  assert.deepEqual([...rules.values()], ["keras Dense", "keras Dense"]);
});

test("keras Conv2D (channels last; 'same' with strides, 'valid' with dilation): per-sample gradients match", () => {
  ig.manualSeed(10);
  const x = ig.randn([3, 9, 8, 2], { dtype: "float32" });
  const rules = checkPerSample(
    "keras Conv2D",
    () => {
      ig.manualSeed(6);
      return keras.sequential([
        keras.conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: "same", activation: "relu", inputShape: [9, 8, 2] }),
        keras.conv2d({ filters: 2, kernelSize: 2, dilationRate: 2, activation: "tanh" }),
        keras.flatten(),
        keras.dense({ units: 2 }),
      ]);
    },
    x,
  );
  assert.deepEqual([...rules.values()], ["keras Conv2D", "keras Conv2D", "keras Dense"]);
});

/** A module with a parameter of its own and a child: y = child(x) · scale (not vectorized: the fallback). */
class Scaled extends nn.Module {
  scale = new nn.Parameter(ig.randn([3], { dtype: "float64" }));
  inner = new nn.Linear(4, 3, { dtype: "float64" });
  override forward(x: Tensor): Tensor {
    return this.inner.call(x).mul(this.scale).tanh();
  }
}

test("fallback (per-sample loop) is exact for other modules: GRU (tuple output, hidden state batch on dim 1), a custom module with a child", () => {
  ig.manualSeed(7);
  const gru = checkPerSample("GRU", () => new nn.GRU(4, 3, { batchFirst: true, dtype: "float64" }), ig.randn([3, 5, 4], { dtype: "float64" }));
  assert.equal(gru.get("(model)"), "per-sample loop");
  const custom = checkPerSample("custom", () => new Scaled(), ig.randn([4, 4], { dtype: "float64" }));
  assert.equal(custom.get("(model)"), "per-sample loop");
  assert.equal(custom.get("inner"), "Linear");
});

test("a layer called twice in one forward gets the sum of both calls' per-sample gradients", () => {
  ig.manualSeed(8);
  class Twice extends nn.Module {
    fc = new nn.Linear(3, 3, { dtype: "float64" });
    override forward(x: Tensor): Tensor {
      return this.fc.call(this.fc.call(x).tanh());
    }
  }
  checkPerSample("shared Linear", () => new Twice(), ig.randn([4, 3], { dtype: "float64" }));
});

test("frozen parameters get no per-sample gradient; a model without trainable parameters is refused", () => {
  const fc = new nn.Linear(3, 2);
  fc.bias!.requiresGrad_(false);
  const gsm = new GradSampleModule(fc);
  fc.call(ig.randn([2, 3])).sum().backward();
  const { grads } = gsm.gradSamples();
  assert.ok(grads.has(fc.weight));
  assert.ok(!grads.has(fc.bias!));
  gsm.remove();
  fc.weight.requiresGrad_(false);
  assert.throws(() => new GradSampleModule(fc), /no trainable parameters/);
});

test("GroupNorm: per-sample gradients match (vectorized), inside a conv model", () => {
  ig.manualSeed(9);
  const x = ig.randn([3, 4, 5, 5], { dtype: "float64" });
  const rules = checkPerSample(
    "Conv2d+GroupNorm",
    () => new nn.Sequential(new nn.Conv2d(4, 6, 3, { dtype: "float64" }), new nn.GroupNorm(3, 6, { dtype: "float64" }), new nn.ReLU(), new nn.Flatten(), new nn.Linear(54, 2, { dtype: "float64" })),
    x,
  );
  assert.deepEqual([...rules.values()], ["Conv2d", "GroupNorm", "Linear"]);
});
