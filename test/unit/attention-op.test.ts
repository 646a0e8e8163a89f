// The fused scaledDotProductAttention op beyond its conformance cases: agreement with the composite
// nn.scaledDotProductAttention (values and gradients), the saved log-sum-exp, dropout, masks and errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";

const F64 = { dtype: "float64" as const };
const rnd = (...shape: number[]) => ig.randn(shape, F64);
const sdpa = ig.scaledDotProductAttention;

function assertClose(got: Tensor, want: Tensor, tol: number, what: string): void {
  assert.deepEqual([...got.shape], [...want.shape], `${what}: shape`);
  const [g, w] = [got.dataSync(), want.dataSync()];
  for (let i = 0; i < g.length; i++)
    assert.ok(Math.abs(g[i] - w[i]) <= tol * (1 + Math.abs(w[i])) || (Number.isNaN(g[i]) && Number.isNaN(w[i])), `${what}[${i}]: ${g[i]} vs ${w[i]}`);
}

/** Output and the q, k, v gradients of sum(out · w) for an attention function. */
function run(f: typeof sdpa, q: Tensor, k: Tensor, v: Tensor, opts: ig.ScaledDotProductAttentionOptions): Tensor[] {
  const xs = [q, k, v].map((t) => t.detach().clone().requiresGrad_());
  const out = f(xs[0], xs[1], xs[2], opts);
  out.mul(ig.linspace(0.5, 1.5, out.size, F64).view([...out.shape])).sum().backward();
  return [out, ...xs.map((x) => x.grad!)];
}

test("scaledDotProductAttention: the fused op equals nn.scaledDotProductAttention (written with ops), values and gradients", () => {
  ig.manualSeed(1);
  const [q, k, v] = [rnd(2, 3, 4, 5), rnd(2, 3, 6, 5), rnd(2, 3, 6, 3)];
  const causal = ig.tensor(Array.from({ length: 24 }, (_, i) => (i % 6 <= Math.floor(i / 6) ? 1 : 0)), { dtype: "bool", shape: [4, 6] });
  const options: [string, ig.ScaledDotProductAttentionOptions][] = [
    ["plain", {}],
    ["causal", { isCausal: true }],
    ["scale", { scale: 0.37 }],
    ["bool mask", { attnMask: ig.rand([2, 1, 4, 6], F64).lt(0.7).logicalOr(causal) }],
    ["float mask", { attnMask: rnd(3, 4, 6) }],
  ];
  for (const [name, opts] of options) {
    const fused = run(sdpa, q, k, v, opts);
    const composite = run(ig.nn.scaledDotProductAttention, q, k, v, opts);
    ["out", "dq", "dk", "dv"].forEach((what, i) => assertClose(fused[i], composite[i], 1e-12, `${name}: ${what}`));
  }
});

test("scaledDotProductAttention: causal and a mask together equal the mask ANDed with the causal mask", () => {
  ig.manualSeed(2);
  const [q, k, v] = [rnd(2, 1, 4, 3), rnd(2, 1, 4, 3), rnd(2, 1, 4, 3)];
  const pad = ig.tensor([[1, 1, 0, 1], [1, 0, 1, 1]], { dtype: "bool" }).view(2, 1, 1, 4);
  const tril = ig.tril(ig.ones([4, 4])).bool();
  assertClose(sdpa(q, k, v, { attnMask: pad, isCausal: true }), sdpa(q, k, v, { attnMask: pad.logicalAnd(tril) }), 1e-15, "combined");
});

test("scaledDotProductAttention: causal is top-left aligned (PyTorch): one query sees the first key only", () => {
  ig.manualSeed(3);
  const [q, k, v] = [rnd(1, 2, 1, 4), rnd(1, 2, 5, 4), rnd(1, 2, 5, 4)];
  assertClose(sdpa(q, k, v, { isCausal: true }), v.slice(2, 0, 1), 1e-15, "T = 1");
});

test("scaledDotProductAttention: the saved log-sum-exp is logSumExp of the masked, scaled scores", () => {
  ig.manualSeed(4);
  const [q, k, v] = [rnd(1, 2, 3, 4), rnd(1, 2, 5, 4), rnd(1, 2, 5, 4)];
  const mask = rnd(1, 2, 3, 5);
  const attrs = { scale: 0.3, isCausal: false, hasMask: true, hasKeep: false, dropoutP: 0 };
  const [out, lse] = ig.runOpMulti(ig.getOp("scaledDotProductAttention")!, [q, k, v, mask], attrs);
  const scores = q.matmul(k.transpose(2, 3)).mul(0.3).add(mask);
  assertClose(lse, ig.logSumExp(scores, -1), 1e-14, "lse");
  assertClose(out, ig.softmax(scores, -1).matmul(v), 1e-14, "out");
  const [dq, dk, dv] = ig.runOpMulti(ig.getOp("scaledDotProductAttentionBackward")!, [ig.onesLike(out), q, k, v, out, lse, mask], attrs);
  assert.deepEqual([dq.shape, dk.shape, dv.shape], [q.shape, k.shape, v.shape]);
});

test("scaledDotProductAttention: a fully masked row is NaN with lse −∞ (as PyTorch); no keys give zeros", () => {
  const [q, k, v] = [rnd(1, 1, 2, 2), rnd(1, 1, 3, 2), rnd(1, 1, 3, 2)];
  const m = ig.tensor([[1, 0, 0], [0, 0, 0]], { dtype: "bool" });
  const out = sdpa(q, k, v, { attnMask: m }).dataSync();
  assert.ok(Number.isFinite(out[0]) && Number.isNaN(out[2]) && Number.isNaN(out[3]));
  const empty = sdpa(rnd(1, 1, 2, 2), rnd(1, 1, 0, 2), rnd(1, 1, 0, 3));
  assert.deepEqual([...empty.shape], [1, 1, 2, 3]);
  assert.deepEqual([...empty.dataSync()], [0, 0, 0, 0, 0, 0]);
});

test("scaledDotProductAttention: dropout drops weights with probability p, repeats under manualSeed, and its gradient is exact", () => {
  // v = identity: the output rows are the attention weights after dropout.
  const S = 400;
  const q = ig.zeros([1, 1, 2, 2], F64);
  const k = rnd(1, 1, S, 2);
  const v = ig.eye(S, S, F64).view(1, 1, S, S);
  ig.manualSeed(5);
  const w = sdpa(q, k, v, { dropoutP: 0.25 });
  ig.manualSeed(5);
  assert.deepEqual([...sdpa(q, k, v, { dropoutP: 0.25 }).dataSync()], [...w.dataSync()], "the same seed, the same mask");
  const d = w.dataSync();
  const zeros = d.filter((x) => x === 0).length / d.length;
  assert.ok(Math.abs(zeros - 0.25) < 0.05, `dropped fraction ${zeros}`);
  assert.ok([...d].every((x) => x === 0 || Math.abs(x - 1 / S / 0.75) < 1e-12), "kept weights scaled by 1/(1 − p)");

  ig.manualSeed(6);
  const xs = [rnd(1, 2, 3, 2), rnd(1, 2, 4, 2), rnd(1, 2, 4, 3)].map((t) => t.requiresGrad_());
  const f = (a: Tensor, b: Tensor, c: Tensor) => (ig.manualSeed(9), sdpa(a, b, c, { dropoutP: 0.4, isCausal: true }));
  const r = ig.gradcheck(f, xs);
  assert.ok(r.ok, `gradcheck worst ${r.worst}`);
  const plain = sdpa(xs[0], xs[1], xs[2], { isCausal: true }).dataSync();
  assert.ok(f(xs[0], xs[1], xs[2]).dataSync().some((x, i) => Math.abs(x - plain[i]) > 1e-6), "this mask drops something");
});

test("scaledDotProductAttention: masks — dtype conversion, constants only, and shape errors", () => {
  const [q, k, v] = [rnd(1, 2, 3, 4), rnd(1, 2, 5, 4), rnd(1, 2, 5, 4)].map((t) => t.float());
  const m64 = rnd(3, 5);
  assertClose(sdpa(q, k, v, { attnMask: m64 }), sdpa(q, k, v, { attnMask: m64.float() }), 0, "a float64 mask on float32 inputs");
  const learned = rnd(3, 5).requiresGrad_();
  assert.throws(() => sdpa(q, k, v, { attnMask: learned }), /scaledDotProductAttention: attnMask requires grad, but the fused op treats masks as constants/);
  ig.noGrad(() => sdpa(q, k, v, { attnMask: learned }));
  assert.throws(() => sdpa(q, k, v, { attnMask: rnd(2, 1, 1, 3, 5) }), /attnMask \[2,1,1,3,5\] does not broadcast to the scores \[B, H, T, S\] = \[1,2,3,5\]/);
  assert.throws(() => sdpa(q, k.to("float64"), v), /q, k and v must share one float dtype, got float32, float64 and float32/);
  assert.throws(() => sdpa(q, k, v, { scale: NaN }), /scale must be a finite number/);
  const attrs = { scale: 1, isCausal: false, hasMask: false, hasKeep: false, dropoutP: 0 };
  const [out, lse] = ig.runOpMulti(ig.getOp("scaledDotProductAttention")!, [q, k, v], attrs);
  assert.throws(
    () => ig.runOpMulti(ig.getOp("scaledDotProductAttentionBackward")!, [out.slice(2, 0, 2), q, k, v, out, lse], attrs),
    /scaledDotProductAttentionBackward: gradient is float32\[1,2,2,4\], expected float32\[1,2,3,4\]/,
  );
});
