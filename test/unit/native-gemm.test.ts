// The native SGEMM (native/cpu/gemm.cc) on the shapes its blocking cuts unevenly: M, N, K off the
// MR×NR micro-tile and the KC/MC/NC blocks, K = 1, every transpose, batches with broadcasting,
// strided views, the fused bias, and the threads' shared-packing path, against float64 dot products.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import { uniformFrom, useNativeOrSkip } from "./helpers.js";
import type { Tensor } from "../../src/index.js";
import { getNumThreads, setNumThreads } from "../../src/backend/cpu/index.js";

const skip = useNativeOrSkip();

const gen = new ig.Generator(2024);
const rnd = (shape: number[]): Tensor => uniformFrom(gen, shape);

/**
 * Checks out = a·b (+ bias along columns) for logical [..., M, K] · [..., K, N] with broadcast batch
 * dims, entry by entry against a float64 dot product, within 4·ε·√K·Σ|a·b| (the usual probabilistic
 * bound for a float32 sum of K products; one missing or doubled product is far outside it).
 * `every` > 1 checks only every so many entries of a big result (plus the last row and column).
 */
function check(what: string, a: Tensor, b: Tensor, out: Tensor, bias?: Tensor, every = 1): void {
  const [M, K] = a.shape.slice(-2);
  const N = b.shape[b.ndim - 1];
  assert.equal(b.shape[b.ndim - 2], K, `${what}: inner dims`);
  const av = a.toFlatArray() as Float32Array | number[];
  const bv = b.toFlatArray() as Float32Array | number[];
  const ov = out.toFlatArray();
  const biasv = bias?.toFlatArray();
  const batch = out.shape.slice(0, -2);
  assert.deepEqual(out.shape, [...batch, M, N], `${what}: output shape`);
  const count = batch.reduce((x, y) => x * y, 1);
  // Offset of batch entry t of an operand whose batch dims broadcast against `batch` (right-aligned).
  const offsetOf = (t: Tensor, idx: number[], per: number) => {
    const dims = t.shape.slice(0, -2);
    let off = 0;
    for (let d = 0; d < dims.length; d++) off = off * dims[d] + (dims[d] === 1 ? 0 : idx[idx.length - dims.length + d]);
    return off * per;
  };
  const eps = 2 ** -23;
  let checked = 0;
  for (let t = 0; t < count; t++) {
    const idx: number[] = [];
    for (let d = batch.length - 1, r = t; d >= 0; d--) idx.unshift(r % batch[d]), (r = Math.floor(r / batch[d]));
    const ao = offsetOf(a, idx, M * K);
    const bo = offsetOf(b, idx, K * N);
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        if ((i * N + j) % every !== 0 && i !== M - 1 && j !== N - 1) continue;
        let s = biasv ? biasv[j] : 0;
        let scale = biasv ? Math.abs(biasv[j]) : 0;
        for (let k = 0; k < K; k++) {
          const p = av[ao + i * K + k] * bv[bo + k * N + j];
          s += p;
          scale += Math.abs(p);
        }
        const got = ov[t * M * N + i * N + j];
        const tol = 4 * eps * Math.sqrt(K) * scale + 1e-30;
        if (!(Math.abs(got - s) <= tol)) assert.fail(`${what}: C${JSON.stringify([...idx, i, j])} = ${got}, float64 says ${s} (tolerance ${tol.toExponential(2)})`);
        checked++;
      }
  }
  assert.ok(checked > 0, `${what}: nothing checked`);
}

const mm = (what: string, a: Tensor, b: Tensor, every = 1) => check(what, a, b, ig.matmul(a, b), undefined, every);

test("sizes off the micro-tile and across the KC, MC and NC blocks", { skip }, () => {
  for (const [m, k, n] of [
    [1, 1, 1],
    [5, 1, 17], // K = 1
    [7, 3, 15],
    [13, 255, 33], // K just under KC
    [6, 256, 16], // exactly one block and one tile (AVX2: MR × NR = 6 × 16, KC = 256)
    [14, 512, 32], // the same with AVX-512 (14 × 32, KC = 512)
    [29, 515, 95], // AVX-512: two whole row panels and one of 1; K two steps of 258 and 257
    [11, 257, 31], // K just over KC: two K steps of 129 and 128
    [143, 513, 17], // M under MC, K over 2·KC
    [145, 100, 47], // M just over MC
    [289, 40, 9],
    [3, 5, 4097], // N over NC
  ])
    mm(`${m}×${k}·${k}×${n}`, rnd([m, k]), rnd([k, n]));
});

test("all four transposes, read in place", { skip }, () => {
  const [m, k, n] = [37, 261, 45];
  const a = rnd([m, k]);
  const at = rnd([k, m]);
  const b = rnd([k, n]);
  const bt = rnd([n, k]);
  mm("a·b", a, b);
  mm("aᵀ·b", at.t(), b);
  mm("a·bᵀ", a, bt.t());
  mm("aᵀ·bᵀ", at.t(), bt.t());
});

test("batched products with broadcast batch dims, and strided views", { skip }, () => {
  mm("[3,1]·[2] batches", rnd([3, 1, 13, 70]), rnd([2, 70, 19]));
  mm("batch · one matrix", rnd([4, 9, 300]), rnd([300, 23]));
  mm("transposed batches", rnd([2, 40, 11]).transpose(1, 2), rnd([2, 29, 40]).transpose(1, 2));
  // Every second column of A and every third row of B: no unit stride on either side.
  const a = rnd([20, 2 * 150]).slice(1, 0, 300, 2);
  const b = rnd([3 * 150, 33]).slice(0, 0, 450, 3);
  assert.equal(a.isContiguous(), false);
  mm("strided a, strided b", a, b);
  mm("strided and transposed", rnd([31, 2 * 90]).slice(1, 1, 180, 2), rnd([27, 90]).t());
});

test("linear: bias fused in the epilogue, on the small and the shared-packing paths", { skip }, () => {
  for (const [r, k, n] of [
    [33, 70, 21],
    [640, 300, 290], // ≥ 10⁸ flops and M ≥ 576: the threads share B's packing
  ]) {
    const x = rnd([r, k]);
    const w = rnd([n, k]);
    const bias = rnd([n]);
    check(`linear ${r}×${k} → ${n}`, x, w.t(), ig.linear(x, w, bias), bias, r > 100 ? 7 : 1);
  }
});

test("the shared-packing path: uneven row blocks, column slabs, 1 and 2 threads bit-identical", { skip }, () => {
  const prev = getNumThreads();
  try {
    for (const [m, k, n, every] of [
      [601, 290, 291, 5], // every edge uneven
      [577, 8192, 530, 97], // all of K per column slab does not fit: two slabs (512 + 18 columns)
    ]) {
      const a = rnd([m, k]);
      const b = rnd([k, n]);
      setNumThreads(2);
      const two = ig.matmul(a, b);
      check(`shared ${m}×${k}·${k}×${n}`, a, b, two, undefined, every);
      setNumThreads(1);
      const one = ig.matmul(a, b);
      assert.deepEqual(two.toFlatArray(), one.toFlatArray(), `${m}×${k}·${k}×${n}: 1 and 2 threads differ`);
    }
    setNumThreads(2);
    mm("shared, aᵀ·bᵀ", rnd([300, 700]).t(), rnd([260, 300]).t(), 3);
  } finally {
    setNumThreads(prev);
  }
});
