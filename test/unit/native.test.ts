// The native CPU backend: the one-line fallback when the addon cannot load, and the kernels on
// shapes big enough for their blocked, vectorized and multi-threaded paths, against ref.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ig from "../../src/index.js";
import { uniformFrom, useNativeOrSkip } from "./helpers.js";
import type { Tensor } from "../../src/index.js";
import { getNumThreads, nativeInfo, setNumThreads } from "../../src/backend/cpu/index.js";

const indexUrl = new URL("../../src/index.js", import.meta.url).href;

/** Runs a snippet in a fresh Node process (with `ig` imported), returning its stdout, stderr and status. */
function child(code: string, env: Record<string, string | undefined>) {
  const script = `const ig = await import(${JSON.stringify(indexUrl)});\n${code}`;
  // NOTE: NODE_TEST_CONTEXT would make the child talk the test runner's protocol instead of printing.
  const base = { ...process.env, NODE_TEST_CONTEXT: undefined };
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", env: { ...base, ...env } as NodeJS.ProcessEnv });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

test("a missing addon: one line on stderr, then everything runs on ref", () => {
  const r = child(
    `const a = ig.tensor([[1, 2], [3, 4]]);
     console.log(ig.getBackend(), JSON.stringify(ig.matmul(a, a).toArray()), JSON.stringify(ig.relu(a.neg()).sum().item()));
     ig.exp(a); ig.setBackend("ref");`,
    { INGOT_NATIVE_PATH: "/nonexistent/ingot_cpu.node", INGOT_BACKEND: undefined },
  );
  assert.equal(r.status, 0, r.err);
  assert.equal(r.out.trim(), "ref [[7,10],[15,22]] 0");
  const lines = r.err.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${r.err}`);
  assert.match(lines[0], /^ingot: the native CPU backend is not available \(\/nonexistent\/ingot_cpu\.node is missing\); running on the slower reference backend\. Build it with `npm rebuild ingot`\.$/);
});

test("a file that is not an addon, or not Ingot's, is refused the same way, in one line", () => {
  const dir = mkdtempSync(join(tmpdir(), "ingot-native-"));
  const garbage = join(dir, "ingot_cpu.node");
  writeFileSync(garbage, "not a shared object");
  const json = join(dir, "other.json");
  writeFileSync(json, "{}");
  try {
    for (const [path, why] of [
      [garbage, /\(.*ingot_cpu\.node.*\)/],
      [json, /\(.*other\.json is not an Ingot native addon\)/],
    ] as const) {
      const r = child(`console.log(ig.getBackend(), ig.tensor([1, 2]).add(1).toArray().join(","));`, { INGOT_NATIVE_PATH: path, INGOT_BACKEND: undefined });
      assert.equal(r.status, 0, r.err);
      assert.equal(r.out.trim(), "ref 2,3");
      assert.equal(r.err.trim().split("\n").length, 1, r.err);
      assert.match(r.err, /^ingot: the native CPU backend is not available \(.+\); running on the slower reference backend\. Build it with `npm rebuild ingot`\./);
      assert.match(r.err, why);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("INGOT_BACKEND=ref never touches the addon (no notice); INGOT_BACKEND=cpu without it is an error", () => {
  const quiet = child(`console.log(ig.getBackend());`, { INGOT_NATIVE_PATH: "/nonexistent/ingot_cpu.node", INGOT_BACKEND: "ref" });
  assert.equal(quiet.out.trim(), "ref");
  assert.equal(quiet.err, "");
  const loud = child(`try { ig.getBackend(); } catch (e) { console.log(e.name + ": " + e.message); }`, {
    INGOT_NATIVE_PATH: "/nonexistent/ingot_cpu.node",
    INGOT_BACKEND: "cpu",
  });
  assert.match(loud.out, /^BackendError: INGOT_BACKEND=cpu: that backend is not available \(have ref\); unset INGOT_BACKEND or build it \(npm rebuild ingot\)/);
});

// ── the kernels themselves (skipped when the addon is not built) ────────────────────────────────

const skip = useNativeOrSkip();

const gen = new ig.Generator(12345);
const rnd = (shape: number[], lo = -1, hi = 1): Tensor => uniformFrom(gen, shape, lo, hi);

/** f on cpu (float32) against f on ref in float64, elementwise within atol + rtol·|want|. */
function agrees(what: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], atol = 1e-4, rtol = 1e-4): void {
  const got = ig.withBackend("cpu", () => f(...inputs)).toFlatArray();
  const want = ig.withBackend("ref", () => f(...inputs.map((t) => (t.dtype === "float32" ? t.to("float64") : t)))).toFlatArray();
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < got.length; i++) {
    const excess = Math.abs(got[i] - want[i]) - (atol + rtol * Math.abs(want[i]));
    if (!(excess <= worst)) {
      worst = Number.isNaN(excess) ? Infinity : excess;
      at = i;
    }
  }
  assert.ok(at < 0, `${what}: element ${at} is ${got[at]}, expected ${want[at]}`);
}

/** Gradients of sum(f(...)·w) w.r.t. every input, cpu float32 vs ref float64. */
function gradsAgree(what: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], atol = 1e-3, rtol = 1e-3): void {
  const run = (backend: string, dtype: "float32" | "float64") =>
    ig.withBackend(backend, () => {
      const xs = inputs.map((t) => t.to(dtype).detach().requiresGrad_());
      const y = f(...xs);
      // A fixed non-uniform weighting (exact in float32), so every output element counts differently.
      const w = ig.tensor(Float64Array.from({ length: y.size }, (_, i) => 0.5 + ((i * 7919) % 13) / 13), { dtype, shape: [...y.shape] });
      y.mul(w).sum().backward();
      return xs.map((x) => x.grad!.toFlatArray());
    });
  const got = run("cpu", "float32");
  const want = run("ref", "float64");
  got.forEach((g, k) => {
    for (let i = 0; i < g.length; i++)
      assert.ok(Math.abs(g[i] - want[k][i]) <= atol + rtol * Math.abs(want[k][i]), `${what}: d/d input ${k} element ${i} is ${g[i]}, expected ${want[k][i]}`);
  });
}

test("the addon reports its instruction set and thread count", { skip }, () => {
  const info = nativeInfo();
  assert.equal(info.loaded, true);
  assert.match(info.isa!, /^(avx512|avx2|portable|scalar)$/);
  assert.ok(getNumThreads() >= 1);
});

test("sgemm across block edges, in every transpose, batched and broadcast, fused bias", { skip }, () => {
  // M = 151 > MC, K = 300 > KC, N = 271: partial micro-tiles on every side.
  const a = rnd([151, 300]);
  const b = rnd([300, 271]);
  agrees("a·b", (x, y) => ig.matmul(x, y), [a, b], 2e-4);
  agrees("aᵀ·b", (x, y) => ig.matmul(x.t(), y), [rnd([300, 151]), b], 2e-4);
  agrees("a·bᵀ", (x, y) => ig.matmul(x, y.t()), [a, rnd([271, 300])], 2e-4);
  agrees("aᵀ·bᵀ", (x, y) => ig.matmul(x.t(), y.t()), [rnd([300, 151]), rnd([271, 300])], 2e-4);
  agrees("batched, b broadcast", (x, y) => ig.matmul(x, y), [rnd([3, 2, 37, 70]), rnd([70, 45])]);
  agrees("batched, both transposed", (x, y) => ig.matmul(x.transpose(1, 2), y.transpose(1, 2)), [rnd([4, 70, 37]), rnd([4, 45, 70])]);
  agrees("many small products", (x, y) => ig.bmm(x, y), [rnd([64, 9, 7]), rnd([64, 7, 11])]);
  // Big enough for the threads to share one packing of B (M ≥ 576, ≥ 10⁸ flops).
  agrees("shared packing, aᵀ·b", (x, y) => ig.matmul(x.t(), y), [rnd([301, 601]), rnd([301, 290])], 3e-4);
  agrees("linear with bias", (x, w, bias) => ig.linear(x, w, bias), [rnd([200, 3, 33]), rnd([130, 33]), rnd([130])]);
  gradsAgree("linear gradients", (x, w, bias) => ig.linear(x, w, bias), [rnd([64, 100]), rnd([70, 100]), rnd([70])]);
});

test("sgemm gives bit-identical results on 1 and 2 threads (no split of the K sums)", { skip }, () => {
  const prev = getNumThreads();
  try {
    for (const [m, k, n] of [
      [300, 500, 200],
      [700, 300, 260],
    ]) {
      const a = rnd([m, k]);
      const b = rnd([k, n]);
      setNumThreads(1);
      const one = ig.matmul(a, b).toFlatArray();
      setNumThreads(2);
      const two = ig.matmul(a, b).toFlatArray();
      assert.deepEqual(two, one);
    }
  } finally {
    setNumThreads(prev);
  }
});

test("elementwise math on large, broadcast and strided inputs (the parallel, vectorized paths)", { skip }, () => {
  const x = rnd([300, 257], -6, 6);
  const row = rnd([257]);
  agrees("add row", (p, q) => ig.add(p, q), [x, row]);
  agrees("mul of a transposed view", (p, q) => ig.mul(p.t(), q), [x, rnd([257, 300])]);
  agrees("div column", (p, q) => ig.div(p, q), [x, rnd([300, 1], 0.5, 2)]);
  agrees("maximum", (p, q) => ig.maximum(p, q), [x, row]);
  for (const [name, f] of [
    ["exp", ig.exp], ["tanh", ig.tanh], ["sigmoid", ig.sigmoid], ["erf", ig.erf], ["gelu", (t: Tensor) => ig.gelu(t)],
    ["gelu tanh", (t: Tensor) => ig.gelu(t, "tanh")], ["silu", ig.silu], ["relu", ig.relu], ["abs", ig.abs],
  ] as const)
    agrees(name, f as (t: Tensor) => Tensor, [x], 1e-5, 1e-5);
  agrees("log", ig.log, [rnd([300, 257], 1e-30, 50)], 1e-5, 1e-5);
  agrees("sqrt", ig.sqrt, [rnd([70000], 0, 9)], 1e-6, 1e-6);
  agrees("where", (c, p, q) => ig.where(ig.gt(c, 0), p, q), [x, x.mul(2), row]);
  agrees("compare", (p, q) => ig.lt(p, q).to("float32"), [x, row]);
});

test("reductions over rows, columns and everything (column and chunked paths)", { skip }, () => {
  const x = rnd([400, 300]);
  agrees("sum all", (t) => ig.sum(t), [x], 1e-3);
  agrees("sum dim 0", (t) => ig.sum(t, 0), [x]);
  agrees("sum dim 1", (t) => ig.sum(t, 1), [x]);
  agrees("sum of a transposed view", (t) => ig.sum(t.t(), 0), [x]);
  agrees("mean dims [0,2]", (t) => ig.mean(t, [0, 2]), [rnd([30, 40, 50])]);
  agrees("max dim 0", (t) => ig.max(t, 0), [x], 0, 0);
  agrees("argmax dim 1", (t) => ig.argmax(t, 1), [x], 0, 0);
  agrees("variance", (t) => ig.variance(t, 1), [x]);
});

test("softmax, logSoftmax and crossEntropy forward and backward on wide rows", { skip }, () => {
  const z = rnd([64, 1000], -8, 8);
  agrees("softmax", (t) => ig.softmax(t, -1), [z], 1e-6, 1e-4);
  agrees("logSoftmax dim 0", (t) => ig.logSoftmax(t, 0), [z], 1e-5, 1e-5);
  const target = ig.randint(0, 1000, [64], { generator: new ig.Generator(7) });
  agrees("crossEntropy", (t) => ig.crossEntropy(t, target), [z], 1e-5);
  gradsAgree("crossEntropy gradient", (t) => ig.crossEntropy(t, target, { labelSmoothing: 0.1 }), [z], 1e-6);
  gradsAgree("softmax gradient", (t) => ig.softmax(t, 1), [rnd([32, 300])], 1e-5);
});

test("layerNorm forward and backward", { skip }, () => {
  gradsAgree("layerNorm", (x, w, b) => ig.layerNorm(x, [256], w, b), [rnd([300, 256]), rnd([256]), rnd([256])], 2e-3);
});

test("conv2d and pooling, forward and both backward passes, batched and single images", { skip }, () => {
  for (const [n, opts] of [
    [8, { padding: 1 }],
    [1, { stride: 2, padding: 1 }],
    [5, { groups: 2, dilation: 2 }],
  ] as const) {
    const x = rnd([n, 4, 19, 17]);
    const w = rnd([6, 4 / (opts.groups ?? 1), 3, 3]);
    const b = rnd([6]);
    agrees(`conv2d n=${n}`, (p, q, r) => ig.conv2d(p, q, r, opts), [x, w, b], 2e-4);
    gradsAgree(`conv2d grads n=${n}`, (p, q, r) => ig.conv2d(p, q, r, opts), [x, w, b], 2e-3);
  }
  // Small feature maps: many images share one GEMM (their column matrices side by side).
  gradsAgree("valid 3x3 conv of 16 small images", (p, q, r) => ig.conv2d(p, q, r), [rnd([16, 8, 6, 6]), rnd([8, 8, 3, 3]), rnd([8])], 2e-3);
  gradsAgree("1x1 conv", (p, q) => ig.conv2d(p, q), [rnd([4, 8, 6, 6]), rnd([5, 8, 1, 1])]);
  gradsAgree("maxPool2d", (p) => ig.maxPool2d(p, 2), [rnd([8, 16, 15, 15])]);
  gradsAgree("avgPool2d", (p) => ig.avgPool2d(p, 3, { stride: 2, padding: 1 }), [rnd([8, 16, 15, 15])]);
});

test("maxPool2d picks the same values and indices as ref, NaN included, on every vector path", { skip }, () => {
  const x = rnd([2, 3, 30, 37]);
  const d = x.storage.data;
  for (let i = 0; i < d.length; i += 97) d[i] = NaN;
  for (const [k, opts] of [
    [2, {}], // 2-wide windows at stride 2
    [3, { stride: 1 }], // contiguous loads
    [3, { stride: 3, padding: 1 }], // gathers, padded borders
    [[2, 3], { stride: [1, 2], dilation: 2 }],
  ] as const) {
    const [gv, gi] = ig.withBackend("cpu", () => ig.maxPool2dWithIndices(x, k as number, opts));
    const [wv, wi] = ig.withBackend("ref", () => ig.maxPool2dWithIndices(x, k as number, opts));
    assert.deepEqual(gi.toFlatArray(), wi.toFlatArray(), `indices, kernel ${JSON.stringify(k)} ${JSON.stringify(opts)}`);
    assert.deepEqual(gv.toFlatArray().map(String), wv.toFlatArray().map(String), `values, kernel ${JSON.stringify(k)}`);
  }
});

test("embedding and its scatter-add gradient with repeated indices", { skip }, () => {
  const idx = ig.randint(0, 50, [40, 25], { generator: new ig.Generator(3) });
  gradsAgree("embedding", (w) => ig.embedding(idx, w), [rnd([50, 64])], 1e-5);
});

test("adamUpdate_ in place matches ref over several steps (Adam and AdamW)", { skip }, () => {
  for (const decoupled of [false, true]) {
    const init = [rnd([70001]), rnd([70001]), rnd([70001], -0.1, 0.1), rnd([70001], 0, 0.1)];
    const run = (backend: string, dtype: "float32" | "float64") =>
      ig.withBackend(backend, () => {
        const [p, g, m, v] = init.map((t) => t.to(dtype).clone());
        const data = p.storage.data;
        for (let step = 1; step <= 3; step++)
          ig.optim.adamUpdate_(p, g, m, v, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step, decoupled });
        assert.equal(p.storage.data, data, "updated in place");
        return p.toFlatArray();
      });
    const got = run("cpu", "float32");
    const want = run("ref", "float64");
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 + 1e-4 * Math.abs(want[i]), `element ${i}: ${got[i]} vs ${want[i]}`);
  }
});

test("kernels write the JavaScript arrays in place (zero-copy) and refuse arrays that are too short", { skip }, () => {
  const dst = ig.zeros([4, 5]);
  const before = dst.storage.data;
  dst.copy_(ig.arange(0, 5));
  assert.equal(dst.storage.data, before);
  assert.deepEqual(dst.toArray(), Array.from({ length: 4 }, () => [0, 1, 2, 3, 4]));
  // A glue bug (an array shorter than the shape says) is an error, never a write out of bounds.
  const tooShort = ig.tensor([1, 2, 3]);
  const fake = new ig.Tensor(tooShort.storage, [3, 3]);
  assert.throws(() => ig.withBackend("cpu", () => ig.exp(fake)), /ingot native: argument 0 holds 3 elements, the call needs 9/);
});
