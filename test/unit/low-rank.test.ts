// Low-rank factorization: the Jacobi SVD (reconstruction, orthogonality, rank-deficient inputs,
// singular values against torch.linalg.svdvals), full-rank factorization reproducing Linear, Conv2d,
// Dense and Conv2D layers, rank by energy and by a parameter budget, and the option errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";

const { nn, keras, compress } = ig;
const values = (t: Tensor) => Array.from(t.contiguous().dataSync() as ArrayLike<number>);

function randomMatrix(m: number, n: number, seed: number): Float64Array {
  ig.manualSeed(seed);
  return Float64Array.from(ig.randn([m * n], { dtype: "float64" }).dataSync() as Float64Array);
}

/** max |A − U·diag(S)·Vᵀ|, max |UᵀU − I|, max |VᵀV − I|. */
function svdErrors(a: Float64Array, m: number, n: number): { rec: number; u: number; v: number; S: Float64Array } {
  const { U, S, V, k } = compress.svd(a, m, n);
  let rec = 0;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let r = 0; r < k; r++) s += U[i * k + r] * S[r] * V[j * k + r];
      rec = Math.max(rec, Math.abs(s - a[i * n + j]));
    }
  const ortho = (X: Float64Array, rows: number) => {
    let e = 0;
    for (let p = 0; p < k; p++)
      for (let q = 0; q < k; q++) {
        let s = 0;
        for (let i = 0; i < rows; i++) s += X[i * k + p] * X[i * k + q];
        e = Math.max(e, Math.abs(s - (p === q ? 1 : 0)));
      }
    return e;
  };
  return { rec, u: ortho(U, m), v: ortho(V, n), S };
}

test("svd: A = U·diag(S)·Vᵀ with orthonormal U and V, S descending, tall and wide", () => {
  for (const [m, n] of [
    [7, 5],
    [5, 7],
    [1, 4],
    [40, 40],
  ]) {
    const { rec, u, v, S } = svdErrors(randomMatrix(m, n, m * 10 + n), m, n);
    assert.ok(rec < 1e-12, `${m}×${n}: reconstruction error ${rec}`);
    assert.ok(u < 1e-12 && v < 1e-12, `${m}×${n}: orthogonality errors ${u}, ${v}`);
    for (let i = 1; i < S.length; i++) assert.ok(S[i - 1] >= S[i] && S[i] >= 0);
  }
});

test("svd: a rank-2 matrix has two non-zero singular values and still an orthonormal U", () => {
  const m = 6;
  const n = 4;
  const x = randomMatrix(m, 2, 1);
  const y = randomMatrix(2, n, 2);
  const a = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) a[i * n + j] = x[i * 2] * y[j] + x[i * 2 + 1] * y[n + j];
  const { rec, u, v, S } = svdErrors(a, m, n);
  assert.ok(S[1] > 0.1 && S[2] < 1e-12 && S[3] < 1e-12, `singular values ${S}`);
  assert.ok(rec < 1e-12 && u < 1e-12 && v < 1e-12, `${rec} ${u} ${v}`);
});

test("svd: singular values match torch.linalg.svdvals (PyTorch 1.13, float64)", () => {
  const a = [
    [-0.7, -0.4, 0.2, 0.8],
    [0.4, 1.3, -0.6, 0.0],
    [-0.4, 0.2, 1.1, -0.8],
    [1.0, -0.6, 0.0, 0.9],
    [0.2, 0.8, -0.8, -0.2],
    [-0.6, 0.0, 0.6, -1.0],
  ];
  const torchS = [2.2726924980475847, 2.0393980850647337, 1.0352440498467264, 0.6663287606050616];
  const { S } = compress.svd(a.flat(), 6, 4);
  S.forEach((s, i) => assert.ok(Math.abs(s - torchS[i]) < 1e-13, `σ${i}: ${s} vs ${torchS[i]}`));
  assert.throws(() => compress.svd([1, 2, 3], 2, 2), /svd: expected 2×2 = 4 values, got 3/);
});

function closeArrays(got: number[], want: number[], tol: number, what: string): void {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= tol * (1 + Math.abs(want[i])), `${what} ${i}: ${g} vs ${want[i]}`));
}

test("full-rank factorization reproduces nn Linear and Conv2d layers", () => {
  ig.manualSeed(7);
  const net = new nn.Sequential(new nn.Conv2d(2, 3, 3, { padding: 1 }), new nn.ReLU(), new nn.Flatten(), new nn.Linear(3 * 5 * 5, 6), new nn.ReLU(), new nn.Linear(6, 4));
  const x = ig.randn([2, 2, 5, 5]);
  const want = values(net.call(x));
  const { report } = compress.lowRank(net, { rank: 1000 });
  assert.deepEqual(Object.keys(report), ["0", "3", "5"]);
  assert.equal(report["0"].rank, 3); // min(3, 2·3·3)
  assert.equal(report["3"].rank, 6);
  assert.ok(net.at(0) instanceof nn.Sequential && net.at(3) instanceof nn.Sequential);
  const conv = (net.at(0) as ig.nn.Sequential).at(1) as ig.nn.Conv2d;
  assert.deepEqual([...conv.weight.shape], [3, 3, 1, 1]);
  closeArrays(values(net.call(x)), want, 1e-5, "output");
});

test("full-rank factorization reproduces keras Dense and Conv2D; the result saves and loads", async () => {
  ig.manualSeed(8);
  const m = keras.sequential([
    keras.conv2d({ filters: 4, kernelSize: 3, activation: "relu", inputShape: [6, 6, 2], padding: "same" }),
    keras.flatten(),
    keras.dense({ units: 8, activation: "relu" }),
    keras.dense({ units: 3, activation: "softmax" }),
  ]);
  m.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  const x = ig.rand([3, 6, 6, 2]);
  const want = values(m.predict(x) as Tensor);
  const { model: f, report } = compress.lowRank(m, { energy: 1 });
  assert.deepEqual(
    Object.fromEntries(Object.entries(report).map(([k, r]) => [k, r.rank])),
    { conv2d_1: 4, dense_1: 8, dense_2: 3 },
  );
  assert.deepEqual(
    f.layers.map((l) => l.name),
    ["conv2d_1_in", "conv2d_1", "flatten_1", "dense_1_in", "dense_1", "dense_2_in", "dense_2"],
  );
  closeArrays(values(f.predict(x) as Tensor), want, 1e-5, "output");
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "ingot-lowrank-"));
  try {
    f.save(dir);
    const back = keras.loadModel(dir);
    closeArrays(values(back.predict(x) as Tensor), want, 1e-5, "reloaded output");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rank by energy and by a parameter budget", () => {
  assert.equal(compress.rankForEnergy([3, 2, 1], 9 / 14), 1);
  assert.equal(compress.rankForEnergy([3, 2, 1], 0.65), 2);
  assert.equal(compress.rankForEnergy([3, 2, 1], 1), 3);
  ig.manualSeed(9);
  const m = keras.sequential([keras.dense({ units: 64, activation: "relu", inputShape: [100] }), keras.dense({ units: 10, activation: "softmax" })]);
  m.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy" });
  const before = m.countParams();
  const { model: f, report } = compress.lowRank(m, { paramFraction: 0.5 });
  // Only the big layer is factorized: r·(100 + 64) + 64 + 650 ≤ 0.5·7114 → r = 17.
  assert.deepEqual(Object.keys(report), ["dense_1"]);
  assert.equal(report.dense_1.rank, 17);
  assert.ok(f.countParams() <= 0.5 * before && f.countParams() > 0.45 * before, `${f.countParams()} of ${before}`);
  assert.ok(report.dense_1.energy > 0 && report.dense_1.energy < 1);
});

test("errors: one rank option at a time, in range", () => {
  const m = new nn.Sequential(new nn.Linear(4, 4));
  assert.throws(() => compress.lowRank(m, { rank: 2, energy: 0.9 }), /lowRank: give exactly one of rank, energy and paramFraction, got rank, energy/);
  assert.throws(() => compress.lowRank(m, {}), /got none/);
  assert.throws(() => compress.lowRank(m, { energy: 0 }), /energy must be in \(0, 1\], got 0/);
  assert.throws(() => compress.lowRank(m, { rank: 1.5 }), /rank must be an integer ≥ 1, got 1\.5/);
  assert.throws(() => compress.lowRank(m, { paramFraction: 0.01 }), /cannot bring the model to 0\.01 of its 20 parameters/);
});
