// layerNorm, batchNorm (incl. the in-place running statistics) and dropout (statistics, scaling,
// gradient, seeding) against values computed by hand or in plain JavaScript.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import { close, f64, vals } from "./helpers.js";


test("layerNorm of known rows, with weight and bias", () => {
  // [1,2,3,4]: mean 2.5, biased variance 1.25.
  const r = 1 / Math.sqrt(1.25 + 1e-5);
  const y = ig.layerNorm(f64([[1, 2, 3, 4], [2, 2, 2, 2]]), [4], f64([1, 2, 1, 0.5]), f64([0, 0, 1, -1]));
  close(vals(y), [-1.5 * r, -0.5 * r * 2, 0.5 * r + 1, 1.5 * r * 0.5 - 1, 0, 0, 1, -1]);
  // eps matters where the variance is small.
  const z = ig.layerNorm(f64([[0, 0.02]]), 2, null, null, 1e-4);
  close(vals(z), [-0.01 / Math.sqrt(1e-4 + 1e-4), 0.01 / Math.sqrt(2e-4)]);
});

test("layerNorm gradients: dx by the textbook formula, dweight = Σ g·x̂, dbias = Σ g", () => {
  const xs = [
    [0.3, -1.2, 2.0],
    [1.0, 0.5, -0.5],
  ];
  const gs = [
    [1, -2, 0.5],
    [0.3, 0.3, 1],
  ];
  const wv = [1.5, -0.5, 2];
  const x = f64(xs).requiresGrad_();
  const w = f64(wv).requiresGrad_();
  const b = f64([0, 0, 0]).requiresGrad_();
  ig.layerNorm(x, [3], w, b).backward(f64(gs));
  const dx: number[] = [];
  const dw = [0, 0, 0];
  const db = [0, 0, 0];
  xs.forEach((row, i) => {
    const mu = row.reduce((a, v) => a + v, 0) / 3;
    const rs = 1 / Math.sqrt(row.reduce((a, v) => a + (v - mu) ** 2, 0) / 3 + 1e-5);
    const xh = row.map((v) => (v - mu) * rs);
    const gh = gs[i].map((g, j) => g * wv[j]);
    const mg = gh.reduce((a, v) => a + v, 0) / 3;
    const mgx = gh.reduce((a, v, j) => a + v * xh[j], 0) / 3;
    xh.forEach((h, j) => {
      dx.push(rs * (gh[j] - mg - h * mgx));
      dw[j] += gs[i][j] * h;
      db[j] += gs[i][j];
    });
  });
  close(vals(x.grad!), dx, 1e-10);
  close(vals(w.grad!), dw, 1e-10);
  close(vals(b.grad!), db, 1e-12);
});

test("batchNorm training normalizes per channel and updates the running stats in place (unbiased variance)", () => {
  // Channels: [1, 3] (mean 2, biased var 1, unbiased 2) and [2, 6] (mean 4, var 4, unbiased 8).
  const x = f64([
    [1, 2],
    [3, 6],
  ]);
  const rm = f64([0, 0]);
  const rv = f64([1, 1]);
  const y = ig.batchNorm(x, rm, rv, null, null, true);
  const r0 = 1 / Math.sqrt(1 + 1e-5);
  const r1 = 1 / Math.sqrt(4 + 1e-5);
  close(vals(y), [-r0, -2 * r1, r0, 2 * r1]);
  close(vals(rm), [0.2, 0.4], 1e-12);
  close(vals(rv), [0.9 + 0.1 * 2, 0.9 + 0.1 * 8], 1e-9);
  // A second step with momentum 0.5 compounds.
  ig.batchNorm(x, rm, rv, null, null, true, 0.5);
  close(vals(rm), [0.5 * 0.2 + 0.5 * 2, 0.5 * 0.4 + 0.5 * 4], 1e-12);
  close(vals(rv), [0.5 * 1.1 + 0.5 * 2, 0.5 * 1.7 + 0.5 * 8], 1e-9);
  // float32 running stats with a float32 input.
  const rv32 = ig.tensor([1, 1]);
  ig.batchNorm(x.to("float32"), null, rv32, null, null, true);
  close(vals(rv32), [1.1, 1.7], 1e-6);
});

test("batchNorm training matches PyTorch 1.13 (golden values): output, running stats, gradients", () => {
  // F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2) in float64, backward with g.
  const x = f64([
    [1, 2],
    [3, 6],
    [0, -1],
  ]).requiresGrad_();
  const rm = f64([0.5, -0.5]);
  const rv = f64([1, 2]);
  const w = f64([2, 0.5]).requiresGrad_();
  const b = f64([0.1, 0]).requiresGrad_();
  const y = ig.batchNorm(x, rm, rv, w, b, true, 0.2);
  close(vals(y), [-0.43452076572514864, -0.05812378402637608, 2.7726038286257437, 0.6393616242901365, -2.038083062900595, -0.5812378402637606]);
  close(vals(rm), [0.6666666666666667, 0.06666666666666671]);
  close(vals(rv), [1.2666666666666668, 4.066666666666666], 1e-10);
  y.backward(f64([[1, -1], [0.5, 2], [-0.25, 0.75]]));
  close(vals(x.grad!), [1.0308608631515666, -0.2639134125482824, -0.34361742423149505, 0.11310590476505554, -0.6872434389200719, 0.1508075077832268], 1e-10);
  close(vals(w.grad!), [0.668150957156436, 1.8018373048176575], 1e-10);
  close(vals(b.grad!), [1.25, 1.75]);
});

test("batchNorm eval uses the running stats and leaves them alone; 4-d input matches plain JS", () => {
  const rm = f64([1, -1]);
  const rv = f64([4, 0.25]);
  const x = ig.arange(0, 8, 1, { dtype: "float64" }).reshape(2, 2, 2); // [N=2, C=2, L=2]
  const y = ig.batchNorm(x, rm, rv, f64([2, 1]), f64([0, 1]));
  const want = [0, 1, 2, 3, 4, 5, 6, 7].map((v, i) => {
    const c = Math.floor(i / 2) % 2;
    return c === 0 ? ((v - 1) / Math.sqrt(4 + 1e-5)) * 2 : (v + 1) / Math.sqrt(0.25 + 1e-5) + 1;
  });
  close(vals(y), want);
  close(vals(rm), [1, -1]);
  close(vals(rv), [4, 0.25]);
  // Training on [N, C, H, W]: channel c pools N·H·W values.
  const x4 = ig.randn([3, 2, 2, 2], { dtype: "float64" });
  const xv = vals(x4);
  const y4 = vals(ig.batchNorm(x4, null, null, null, null, true));
  for (let c = 0; c < 2; c++) {
    const idx = xv.map((_, i) => i).filter((i) => Math.floor(i / 4) % 2 === c);
    const mu = idx.reduce((a, i) => a + xv[i], 0) / idx.length;
    const v = idx.reduce((a, i) => a + (xv[i] - mu) ** 2, 0) / idx.length;
    for (const i of idx) close(y4[i], (xv[i] - mu) / Math.sqrt(v + 1e-5), 1e-10, 1e-12);
  }
});

test("batchNorm training gradient flows through the batch statistics", () => {
  // With loss = Σ y·g, dx per channel sums to zero (the mean path) and is orthogonal to x̂ (the
  // variance path; exactly so only as eps → 0, hence eps = 1e-12 here).
  const x = ig.randn([4, 3], { dtype: "float64" }).requiresGrad_();
  const rm = f64([0, 0, 0]);
  const g = ig.randn([4, 3], { dtype: "float64" });
  ig.batchNorm(x, rm, null, null, null, true, 0.1, 1e-12).mul(g).sum().backward();
  const dx = vals(x.grad!);
  const y = vals(ig.noGrad(() => ig.batchNorm(x, null, null, null, null, true, 0.1, 1e-12)));
  for (let c = 0; c < 3; c++) {
    let s = 0;
    let sx = 0;
    for (let n = 0; n < 4; n++) {
      s += dx[n * 3 + c];
      sx += dx[n * 3 + c] * y[n * 3 + c];
    }
    close(s, 0, 0, 1e-12);
    close(sx, 0, 0, 1e-9);
  }
  assert.equal(rm.requiresGrad, false);
});

test("dropout: the kept fraction is 1 − p and kept values are scaled by 1/(1 − p)", () => {
  ig.manualSeed(1234);
  const n = 20000;
  for (const p of [0.1, 0.5, 0.8]) {
    const y = vals(ig.dropout(ig.ones([n], { dtype: "float64" }), p));
    const kept = y.filter((v) => v !== 0);
    const frac = kept.length / n;
    // 5 standard deviations of a binomial proportion.
    assert.ok(Math.abs(frac - (1 - p)) < 5 * Math.sqrt((p * (1 - p)) / n), `p = ${p}: kept ${frac}`);
    assert.ok(kept.every((v) => v === 1 / (1 - p)), "kept values are exactly 1/(1 − p)");
    const mean = y.reduce((a, v) => a + v, 0) / n;
    assert.ok(Math.abs(mean - 1) < 5 * Math.sqrt(p / (1 - p) / n), `mean ${mean} is about 1`);
  }
});

test("dropout gradient is g·mask/(1 − p)", () => {
  ig.manualSeed(7);
  const x = ig.randn([6, 5], { dtype: "float64" }).requiresGrad_();
  const g = ig.randn([6, 5], { dtype: "float64" });
  const y = ig.dropout(x, 0.4);
  y.backward(g);
  const yv = vals(y);
  const xv = vals(x);
  const gv = vals(g);
  const dx = vals(x.grad!);
  yv.forEach((v, i) => {
    const kept = v !== 0;
    if (kept) close(v, xv[i] / 0.6, 1e-15);
    close(dx[i], kept ? gv[i] / 0.6 : 0, 1e-15);
  });
  assert.ok(yv.some((v) => v === 0) && yv.some((v) => v !== 0));
});

test("dropout repeats under manualSeed, is the identity in eval or with p = 0, rejects p outside [0, 1)", () => {
  const x = ig.randn([4, 8]);
  ig.manualSeed(42);
  const a = vals(ig.dropout(x, 0.5));
  ig.manualSeed(42);
  const b = vals(ig.dropout(x, 0.5));
  ig.manualSeed(43);
  const c = vals(ig.dropout(x, 0.5));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(ig.dropout(x, 0.5, false), x);
  assert.equal(ig.dropout(x, 0), x);
  assert.throws(() => ig.dropout(x, 1), ig.ValueError);
  assert.throws(() => ig.dropout(x, -0.5, false), /dropout: p must be in \[0, 1\), got -0.5/);
  // float32: the scale is rounded once.
  const y = vals(ig.dropout(ig.ones([100]), 0.3)).filter((v) => v !== 0);
  assert.ok(y.every((v) => v === Math.fround(1 / 0.7)));
});
