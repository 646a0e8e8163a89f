// Distillation: Hinton's loss against a hand computation (value and gradient), language-model
// logits per token, one-hot labels, the size-mismatch error, keras logits before the softmax, and
// a short distill() run in which the student moves towards the teacher.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";

const { keras, compress, nn } = ig;
const values = (t: Tensor) => Array.from(t.contiguous().dataSync() as ArrayLike<number>);

function softmaxRow(z: number[], T = 1): number[] {
  const m = Math.max(...z.map((v) => v / T));
  const e = z.map((v) => Math.exp(v / T - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

const S = [
  [1.0, -0.5, 2.0],
  [0.3, 0.8, -1.2],
];
const Tl = [
  [0.5, 0.1, 3.0],
  [-0.4, 1.5, 0.2],
];
const Y = [2, 0];

/** α·CE + (1 − α)·T²·KL(p_t ‖ p_s), by hand in float64. */
function byHand(T: number, alpha: number): { loss: number; grad: number[][] } {
  let ce = 0;
  let kl = 0;
  const grad: number[][] = [];
  S.forEach((s, i) => {
    const p1 = softmaxRow(s);
    const ps = softmaxRow(s, T);
    const pt = softmaxRow(Tl[i], T);
    ce += -Math.log(p1[Y[i]]);
    kl += pt.reduce((acc, p, j) => acc + p * (Math.log(p) - Math.log(ps[j])), 0);
    // d/ds: α·(p1 − onehot)/N + (1 − α)·T²·(ps − pt)/(T·N).
    grad.push(s.map((_, j) => (alpha * (p1[j] - (j === Y[i] ? 1 : 0)) + (1 - alpha) * T * (ps[j] - pt[j])) / S.length));
  });
  return { loss: (alpha * ce + (1 - alpha) * T * T * kl) / S.length, grad };
}

test("distillationLoss: value and gradient equal the hand computation (T = 2.5, α = 0.3)", () => {
  const s = ig.tensor(S, { dtype: "float64", requiresGrad: true });
  const t = ig.tensor(Tl, { dtype: "float64" });
  const loss = compress.distillationLoss(s, t, ig.tensor(Y, { dtype: "int32" }), { temperature: 2.5, alpha: 0.3 });
  const want = byHand(2.5, 0.3);
  assert.ok(Math.abs(loss.item() - want.loss) < 1e-12, `${loss.item()} vs ${want.loss}`);
  loss.backward();
  values(s.grad!).forEach((g, i) => assert.ok(Math.abs(g - want.grad.flat()[i]) < 1e-12, `grad ${i}: ${g} vs ${want.grad.flat()[i]}`));
  // The soft term alone (α = 0, no labels), and one-hot labels giving the same as indices.
  const soft = compress.distillationLoss(s.detach(), t, null, { temperature: 1, alpha: 0 }).item();
  assert.ok(Math.abs(soft - byHand(1, 0).loss) < 1e-12);
  const oneHot = ig.tensor([[0, 0, 1], [1, 0, 0]], { dtype: "float64" });
  const a = compress.distillationLoss(s.detach(), t, oneHot, { temperature: 2.5, alpha: 0.3 }).item();
  assert.ok(Math.abs(a - want.loss) < 1e-12);
});

test("distillationLoss: language-model logits [B, T, V] are averaged per token", () => {
  ig.manualSeed(1);
  const s = ig.randn([2, 3, 5], { dtype: "float64" });
  const t = ig.randn([2, 3, 5], { dtype: "float64" });
  const y = ig.randint(0, 5, [2, 3]);
  const lm = compress.distillationLoss(s, t, y, { temperature: 2, alpha: 0.5 }).item();
  const flat = compress.distillationLoss(s.reshape([6, 5]), t.reshape([6, 5]), y.reshape([6]), { temperature: 2, alpha: 0.5 }).item();
  assert.ok(Math.abs(lm - flat) < 1e-14);
  // The same distributions give no soft loss.
  assert.ok(Math.abs(compress.distillationLoss(s, s, null, { alpha: 0 }).item()) < 1e-14);
});

test("errors: a teacher with another output size names both sizes; bad temperature and alpha", () => {
  const s = ig.randn([4, 10]);
  assert.throws(() => compress.distillationLoss(s, ig.randn([4, 12]), null, { alpha: 0 }), {
    name: "ShapeError",
    message: /distillationLoss: the teacher outputs 12 values per sample \(shape \[4,12\]\) but the student outputs 10 \(shape \[4,10\]\)/,
  });
  assert.throws(() => compress.distillationLoss(s, s, null, { temperature: 0 }), /temperature must be a number > 0, got 0/);
  assert.throws(() => compress.distillationLoss(s, s, null, { alpha: 1.5 }), /alpha must be in \[0, 1\], got 1\.5/);
  assert.throws(() => compress.distillationLoss(s, s, null, { alpha: 0.5 }), /no labels were given/);
});

test("keras logits are the values before the softmax; halfStudent halves the hidden layers", () => {
  ig.manualSeed(2);
  const teacher = keras.sequential([keras.dense({ units: 12, activation: "relu", inputShape: [6] }), keras.dense({ units: 4, activation: "softmax" })]);
  teacher.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  const x = ig.randn([5, 6]);
  const logits = compress.logitsOf(teacher, x);
  const probs = values(teacher.predict(x) as Tensor);
  values(ig.softmax(logits, -1)).forEach((p, i) => assert.ok(Math.abs(p - probs[i]) < 1e-6));
  const student = compress.halfStudent(teacher);
  assert.deepEqual(
    student.layers.map((l) => (l as ig.keras.Dense).units),
    [6, 4],
  );
  assert.ok(student.compiled);
});

test("distill: the student's outputs move towards the teacher's; a mismatched teacher fails before training", async () => {
  ig.manualSeed(3);
  const teacher = new nn.Sequential(new nn.Linear(6, 16), new nn.Tanh(), new nn.Linear(16, 4));
  const student = new nn.Sequential(new nn.Linear(6, 8), new nn.Tanh(), new nn.Linear(8, 4));
  const x = ig.randn([64, 6]);
  const gap = () => compress.distillationLoss(student.call(x), teacher.call(x), null, { alpha: 0, temperature: 1 }).item();
  const g0 = gap();
  const losses = await compress.distill(student, teacher, x, null, { epochs: 15, batchSize: 16, alpha: 0, temperature: 1, optimizer: new ig.optim.Adam(student.parameters(), { lr: 0.02 }) });
  assert.equal(losses.length, 15);
  assert.ok(losses[14] < losses[0], `losses ${losses}`);
  assert.ok(gap() < 0.5 * g0, `KL to the teacher ${g0} → ${gap()}`);
  const wrong = new nn.Sequential(new nn.Linear(6, 5));
  await assert.rejects(compress.distill(wrong, teacher, x, null, { alpha: 0 }), /the teacher outputs 4 values per sample .* but the student outputs 5/);
});
