// Loss values and gradients against numbers computed by hand or in plain JavaScript (not by Ingot),
// following PyTorch's documented definitions: the conformance suite compares backends with ref,
// these pin ref itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import { close, f64, vals } from "./helpers.js";

const i32 = (data: number[]) => ig.tensor(data, { dtype: "int32" });

/** Plain-JS log-softmax of one row. */
function logSoftmaxRow(z: number[]): number[] {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}

const LOGITS = [
  [1, 2, 3],
  [1, 1, 1],
  [0.5, -1, 2],
];

test("crossEntropy of known logits matches hand-computed values", () => {
  // Row 0: 3 − logsumexp(1,2,3) is −0.40760596444…; row 1: log 3.
  const l = ig.crossEntropy(f64(LOGITS.slice(0, 2)), i32([2, 0]), { reduction: "none" });
  close(vals(l), [0.40760596444438013, Math.log(3)], 1e-14);
  close(ig.crossEntropy(f64(LOGITS.slice(0, 2)), i32([2, 0])).item(), (0.40760596444438013 + Math.log(3)) / 2, 1e-14);
  close(ig.crossEntropy(f64(LOGITS.slice(0, 2)), i32([2, 0]), { reduction: "sum" }).item(), 0.40760596444438013 + Math.log(3), 1e-14);
});

test("crossEntropy weighted mean divides by the weights of the non-ignored targets", () => {
  const w = [0.5, 2, 3];
  const t = [2, -100, 1];
  const got = ig.crossEntropy(f64(LOGITS), i32(t), { weight: f64(w) }).item();
  const lp0 = logSoftmaxRow(LOGITS[0]);
  const lp2 = logSoftmaxRow(LOGITS[2]);
  const want = (-w[2] * lp0[2] - w[1] * lp2[1]) / (w[2] + w[1]);
  close(got, want);
  // ignoreIndex other than −100: target 1 is skipped, −100 would now be out of range.
  assert.throws(() => ig.crossEntropy(f64(LOGITS), i32(t), { ignoreIndex: 1 }), ig.IndexError);
  const got2 = ig.crossEntropy(f64(LOGITS), i32([2, 0, 1]), { ignoreIndex: 1, reduction: "none" });
  close(vals(got2), [-lp0[2], -logSoftmaxRow(LOGITS[1])[0], 0]);
});

test("crossEntropy label smoothing: (1 − ε)·nll + ε/C·Σ −logp, by hand and with weights", () => {
  // logits [1,2,3], target 0, ε = 0.1: 0.9·2.40760596 + 0.1·mean(2.40760596, 1.40760596, 0.40760596).
  const got = ig.crossEntropy(f64([[1, 2, 3]]), i32([0]), { labelSmoothing: 0.1 }).item();
  close(got, 0.9 * 2.4076059644443801 + 0.1 * 1.4076059644443801, 1e-14);
  // With weights and an ignored row, PyTorch divides both terms by Σ w_t of the kept rows.
  const w = [0.5, 2, 3];
  const eps = 0.2;
  const t = [1, 0, -100];
  let num = 0;
  let den = 0;
  t.forEach((ti, i) => {
    if (ti === -100) return;
    const lp = logSoftmaxRow(LOGITS[i]);
    num += (1 - eps) * -w[ti] * lp[ti] + (eps / 3) * lp.reduce((s, v, c) => s - w[c] * v, 0);
    den += w[ti];
  });
  close(ig.crossEntropy(f64(LOGITS), i32(t), { weight: f64(w), labelSmoothing: eps }).item(), num / den);
});

test("crossEntropy with weights, ignoreIndex and label smoothing matches PyTorch 1.13 (golden values)", () => {
  // F.cross_entropy(x, [2, -100, 0], weight=[0.5, 2, 1], label_smoothing=0.2) in float64, and its gradient.
  const x = f64([
    [0.5, -1, 2],
    [1.5, 0.2, -0.3],
    [0, 0, 1],
  ]).requiresGrad_();
  const l = ig.crossEntropy(x, i32([2, -100, 0]), { weight: f64([0.5, 2, 1]), labelSmoothing: 0.2 });
  close(l.item(), 1.0768466613573522);
  l.backward();
  close(vals(x.grad!), [0.09853338125202528, -0.06194467174685976, -0.036588709505165455, 0, 0, 0, -0.1994024534505639, 0.0005975465494360714, 0.19880490690112784], 1e-12, 1e-15);
  const none = ig.crossEntropy(f64([[0.5, -1, 2, 0.25], [1.5, 0.2, -0.3, 3]]), i32([3, 1]), { labelSmoothing: 0.1, reduction: "none" });
  close(vals(none), [2.1005289984482536, 2.9882553225636515]);
});

test("crossEntropy gradient is (softmax − target distribution)·w_t / Σw_t", () => {
  const x = f64(LOGITS).requiresGrad_();
  const eps = 0.1;
  ig.crossEntropy(x, i32([2, -100, 0]), { labelSmoothing: eps }).backward();
  const want: number[] = [];
  LOGITS.forEach((row, i) => {
    const sm = logSoftmaxRow(row).map(Math.exp);
    const t = [2, -100, 0][i];
    sm.forEach((s, c) => want.push(t === -100 ? 0 : (s - (1 - eps) * (c === t ? 1 : 0) - eps / 3) / 2));
  });
  close(vals(x.grad!), want);
});

test("crossEntropy over [N, C, L] equals the per-position losses, and huge logits stay finite", () => {
  // x[n, c, l]: classes on dim 1.
  const x = [
    [
      [1, 0],
      [2, 5],
      [3, -1],
    ],
  ];
  const t = ig.tensor([[0, 1]], { dtype: "int32" });
  const got = ig.crossEntropy(ig.tensor(x, { dtype: "float64" }), t, { reduction: "none" });
  assert.deepEqual([...got.shape], [1, 2]);
  close(vals(got), [-logSoftmaxRow([1, 2, 3])[0], -logSoftmaxRow([0, 5, -1])[1]]);
  const big = ig.tensor([[1000, 0, -1000]]).requiresGrad_();
  const l = ig.crossEntropy(big, i32([1]));
  close(l.item(), 1000, 1e-7);
  l.backward();
  close(vals(big.grad!), [1, -1, 0], 0, 1e-6);
});

test("nllLoss picks −w_t·logp[t] and averages over Σ w_t", () => {
  const lp = [
    [-0.1, -2.5, -3],
    [-1.2, -0.4, -2],
  ];
  close(ig.nllLoss(f64(lp), i32([1, 2])).item(), (2.5 + 2) / 2);
  close(ig.nllLoss(f64(lp), i32([1, 2]), { weight: f64([1, 3, 0.5]) }).item(), (3 * 2.5 + 0.5 * 2) / 3.5);
  close(vals(ig.nllLoss(f64(lp), i32([-100, 0]), { reduction: "none" })), [0, 1.2]);
  const x = f64(lp).requiresGrad_();
  ig.nllLoss(x, i32([1, 2]), { weight: f64([1, 3, 0.5]), reduction: "sum" }).backward();
  close(vals(x.grad!), [0, -3, 0, 0, 0, -0.5]);
});

test("mseLoss, l1Loss, huberLoss, smoothL1Loss of known differences", () => {
  const x = f64([1, 2, -3]);
  const y = f64([1, 0, 0]); // differences 0, 2, −3
  close(ig.mseLoss(x, y).item(), 13 / 3);
  close(ig.l1Loss(x, y, { reduction: "sum" }).item(), 5);
  close(vals(ig.huberLoss(x, y, { reduction: "none" })), [0, 1.5, 2.5]);
  close(vals(ig.huberLoss(x, y, { delta: 2.5, reduction: "none" })), [0, 2, 2.5 * (3 - 1.25)]);
  close(vals(ig.smoothL1Loss(x, y, { beta: 2, reduction: "none" })), [0, 1, 2]);
  close(vals(ig.smoothL1Loss(x, y, { beta: 0, reduction: "none" })), [0, 2, 3]);
  // Gradients: mse 2d/n; huber d inside, δ·sign(d) outside.
  const a = f64([1, 2, -3]).requiresGrad_();
  ig.mseLoss(a, y).backward();
  close(vals(a.grad!), [0, 4 / 3, -2]);
  const b = f64([0.5, 2, -3]).requiresGrad_();
  ig.huberLoss(b, f64([0, 0, 0]), { reduction: "sum" }).backward();
  close(vals(b.grad!), [0.5, 1, -1]);
});

test("binaryCrossEntropy matches −(y log p + (1 − y) log(1 − p)), clamps logs at −100, keeps gradients finite", () => {
  close(ig.binaryCrossEntropy(f64([0.8, 0.3]), f64([1, 0])).item(), -(Math.log(0.8) + Math.log(0.7)) / 2);
  close(vals(ig.binaryCrossEntropy(f64([0, 1, 1]), f64([1, 0, 1]), { reduction: "none" })), [100, 100, 0]);
  close(ig.binaryCrossEntropy(f64([0.8, 0.3]), f64([1, 0]), { weight: f64([2, 0.5]), reduction: "sum" }).item(), -2 * Math.log(0.8) - 0.5 * Math.log(0.7));
  // A saturated sigmoid gives exactly 1.0 in float32; PyTorch's gradient (p − y)/max(p(1 − p), 1e-12) stays finite.
  const p = ig.tensor([1, 0.25, 0]).requiresGrad_();
  ig.binaryCrossEntropy(p, ig.tensor([1, 1, 0]), { reduction: "sum" }).backward();
  close(vals(p.grad!), [0, -4, 0], 1e-6);
  assert.throws(() => ig.binaryCrossEntropy(f64([1.2]), f64([1])), ig.ValueError);
});

test("binaryCrossEntropyWithLogits: stable softplus form, posWeight, and agreement with BCE of sigmoid", () => {
  const got = vals(ig.binaryCrossEntropyWithLogits(f64([0, 2, -3, 100, -100]), f64([1, 0, 1, 0, 1]), { reduction: "none" }));
  close(got, [Math.log(2), Math.log(1 + Math.exp(2)), Math.log(1 + Math.exp(3)), 100, 100], 1e-12);
  // posWeight multiplies the positive term only: y·pw·softplus(−x) + (1 − y)·softplus(x).
  const pw = vals(ig.binaryCrossEntropyWithLogits(f64([[0, 1]]), f64([[1, 0.5]]), { posWeight: f64([3, 2]), reduction: "none" }));
  close(pw, [3 * Math.log(2), 0.5 * 2 * Math.log(1 + Math.exp(-1)) + 0.5 * Math.log(1 + Math.exp(1))]);
  const x = [-1.5, 0.2, 2.5];
  const sig = x.map((v) => 1 / (1 + Math.exp(-v)));
  close(ig.binaryCrossEntropyWithLogits(f64(x), f64([0, 1, 0.3])).item(), ig.binaryCrossEntropy(f64(sig), f64([0, 1, 0.3])).item(), 1e-12);
  // d/dx = σ(x) − y, also at x = 0 (a zero-initialized head).
  const z = f64([0, 0]).requiresGrad_();
  ig.binaryCrossEntropyWithLogits(z, f64([1, 0]), { reduction: "sum" }).backward();
  close(vals(z.grad!), [-0.5, 0.5]);
});

test("klDiv: y·(log y − x), 0·log 0 = 0, batchmean and logTarget", () => {
  const x = f64([[Math.log(0.25), Math.log(0.75)]]);
  const want = 0.5 * Math.log(0.5 / 0.25) + 0.5 * Math.log(0.5 / 0.75);
  close(ig.klDiv(x, f64([[0.5, 0.5]]), { reduction: "sum" }).item(), want);
  close(ig.klDiv(x, f64([[0.5, 0.5]])).item(), want / 2);
  close(ig.klDiv(x, f64([[Math.log(0.5), Math.log(0.5)]]), { reduction: "batchmean", logTarget: true }).item(), want);
  close(vals(ig.klDiv(x, f64([[0, 1]]), { reduction: "none" })), [0, -Math.log(0.75)]);
  const two = f64([
    [Math.log(0.25), Math.log(0.75)],
    [Math.log(0.5), Math.log(0.5)],
  ]);
  close(ig.klDiv(two, f64([[0.5, 0.5], [0.5, 0.5]]), { reduction: "batchmean" }).item(), want / 2);
});

test("loss errors name the op and say what was expected", () => {
  assert.throws(() => ig.crossEntropy(ig.randn([2, 3]), i32([0, 3])), /crossEntropy: target 3 is out of range for 3 classes/);
  assert.throws(() => ig.mseLoss(ig.randn([2]), ig.randn([2]), { reduction: "avg" as "mean" }), /mseLoss: reduction must be one of "mean", "sum", "none"; got "avg"/);
  assert.throws(() => ig.crossEntropy(ig.randn([2, 3]), ig.tensor([0, 1])), ig.DTypeError);
});
