// The native fused attention kernels (native/cpu/attention.cc) against ref on shapes that cross the
// kernel's 16-row query blocks and vector widths: outputs, the saved log-sum-exp, and dq, dk, dv.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import { uniformFrom, useNativeOrSkip } from "./helpers.js";
import type { Tensor } from "../../src/index.js";
import { getOp, runOpMulti } from "../../src/ops/op.js";
import { describeKernels } from "../../src/backend/registry.js";
import { getNumThreads, setNumThreads } from "../../src/backend/cpu/index.js";

const skip = useNativeOrSkip();

const sdpaOp = getOp("scaledDotProductAttention")!;
const sdpaBackwardOp = getOp("scaledDotProductAttentionBackward")!;

const gen = new ig.Generator(2024);
const rnd = (shape: number[], lo = -1, hi = 1): Tensor => uniformFrom(gen, shape, lo, hi);
function boolRnd(shape: number[], pTrue: number): Tensor {
  const v = new Uint8Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) v[i] = gen.random() < pTrue ? 1 : 0;
  return ig.tensor(v, { shape, dtype: "bool" });
}

interface Attrs {
  scale: number;
  isCausal: boolean;
  hasMask: boolean;
  hasKeep: boolean;
  dropoutP: number;
}

/** Runs forward and backward primitives on one backend; returns [out, lse, dq, dk, dv] as float64 arrays. */
function run(backend: "cpu" | "ref", dtype: "float32" | "float64", inputs: Tensor[], g: Tensor, a: Attrs): Float64Array[] {
  return ig.withBackend(backend, () => {
    const xs = inputs.map((t) => (t.dtype === "float32" ? t.to(dtype) : t));
    const [q, k, v, ...masks] = xs;
    const [out, lse] = runOpMulti(sdpaOp, xs, a);
    const grads = runOpMulti(sdpaBackwardOp, [g.to(dtype), q, k, v, out, lse, ...masks], a);
    return [out, lse, ...grads].map((t) => Float64Array.from(t.toFlatArray() as number[]));
  });
}

function close(what: string, got: Float64Array, want: Float64Array, atol: number, rtol: number): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    const ok = Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i]) || (Number.isNaN(got[i]) && Number.isNaN(want[i]));
    if (!ok) assert.fail(`${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
  }
}

/** cpu float32 against ref float64 for one configuration; q is [B,H,T,D], k and v [B,H,S,D|Dv]. */
function check(what: string, [B, H, T, S, D, Dv]: number[], opts: { causal?: boolean; mask?: "bool" | "float" | "padding"; keep?: boolean; scale?: number } = {}): void {
  const q = rnd([B, H, T, D]);
  const k = rnd([B, H, S, D]);
  const v = rnd([B, H, S, Dv]);
  const g = rnd([B, H, T, Dv]);
  const inputs = [q, k, v];
  const a: Attrs = { scale: opts.scale ?? 1 / Math.sqrt(D), isCausal: !!opts.causal, hasMask: false, hasKeep: false, dropoutP: 0 };
  if (opts.mask === "bool") {
    // Key 0 always allowed, so no row is fully masked.
    const m = boolRnd([T, S], 0.7);
    const d = m.dataSync();
    for (let i = 0; i < T; i++) d[i * S] = 1;
    inputs.push(m.reshape([1, 1, T, S]).expand([B, H, T, S]));
    a.hasMask = true;
  } else if (opts.mask === "float") {
    inputs.push(rnd([B, 1, T, S], -3, 1).expand([B, H, T, S]));
    a.hasMask = true;
  } else if (opts.mask === "padding") {
    const m = boolRnd([B, 1, 1, S], 0.8);
    const d = m.dataSync();
    for (let b = 0; b < B; b++) d[b * S] = 1;
    inputs.push(m.expand([B, H, T, S]));
    a.hasMask = true;
  }
  if (opts.keep) {
    inputs.push(boolRnd([B, H, T, S], 0.8));
    a.hasKeep = true;
    a.dropoutP = 0.2;
  }
  const got = run("cpu", "float32", inputs, g, a);
  const want = run("ref", "float64", inputs, g, a);
  ["out", "lse", "dq", "dk", "dv"].forEach((name, i) => close(`${what}: ${name}`, got[i], want[i], name === "out" || name === "lse" ? 2e-5 : 5e-5, 2e-4));
}

test("the native backend serves float32 attention itself (float64 through ref)", { skip }, () => {
  const served = describeKernels("cpu").filter((k) => k.op.startsWith("scaledDotProductAttention"));
  for (const op of ["scaledDotProductAttention", "scaledDotProductAttentionBackward"]) {
    assert.equal(served.find((k) => k.op === op && k.dtype === "float32")?.from, "cpu", op);
    assert.equal(served.find((k) => k.op === op && k.dtype === "float64")?.from, "ref", op);
  }
});

test("T = S from 1 to 130 (block edges 15, 16, 17, 33), causal and not", { skip }, () => {
  for (const T of [1, 2, 15, 16, 17, 33, 64, 130])
    for (const causal of [false, true]) check(`T=S=${T} causal=${causal}`, [2, 2, T, T, 16, 16], { causal });
});

test("head sizes that are not multiples of the vector width, Dv ≠ D", { skip }, () => {
  for (const [D, Dv] of [[1, 1], [3, 5], [8, 8], [13, 7], [32, 32], [64, 64], [20, 40]]) check(`D=${D} Dv=${Dv}`, [1, 3, 19, 23, D, Dv], { causal: D % 2 === 1 });
});

test("the KV-cache cases: one query over many keys, and causal with T < S and T > S", { skip }, () => {
  for (const S of [1, 7, 64, 129]) check(`decode T=1 S=${S}`, [1, 6, 1, S, 64, 64]);
  // The one-row path (read K and V in place): odd head sizes, masks, dropout, causal with S > 1.
  check("decode T=1, D=13 Dv=7", [2, 3, 1, 37, 13, 7]);
  for (const mask of ["bool", "float", "padding"] as const) check(`decode T=1 with a ${mask} mask`, [2, 2, 1, 33, 16, 24], { mask });
  check("decode T=1 with dropout", [1, 2, 1, 20, 16, 16], { keep: true });
  check("decode T=1 causal over S=9 (sees key 0 only)", [1, 2, 1, 9, 16, 16], { causal: true });
  check("causal T=5 < S=40 (top-left aligned)", [2, 2, 5, 40, 16, 16], { causal: true });
  check("causal T=40 > S=9", [1, 2, 40, 9, 16, 16], { causal: true });
});

test("bool, float and padding masks (broadcast views), combined with causal", { skip }, () => {
  check("bool [T,S]", [2, 2, 37, 41, 16, 16], { mask: "bool" });
  check("float [B,1,T,S]", [2, 2, 37, 41, 16, 16], { mask: "float" });
  check("padding [B,1,1,S] + causal", [3, 2, 33, 33, 16, 16], { mask: "padding", causal: true });
  check("bool + causal", [1, 2, 20, 20, 8, 8], { mask: "bool", causal: true });
});

test("dropout through the keep mask, as the ref kernel does it", { skip }, () => {
  check("keep mask", [2, 2, 21, 21, 16, 16], { keep: true, causal: true });
  check("keep mask and float mask", [1, 2, 18, 30, 8, 12], { keep: true, mask: "float" });
});

test("strided views: the heads split from a packed (B, T, 3, H, D) projection, as GPT does", { skip }, () => {
  const [B, T, H, D] = [2, 35, 4, 16];
  const qkv = rnd([B, T, 3, H, D]).permute(2, 0, 3, 1, 4); // (3, B, H, T, D)
  const [q, k, v] = [0, 1, 2].map((i) => qkv.select(0, i));
  const f = (x: Tensor, y: Tensor, z: Tensor) => ig.scaledDotProductAttention(x, y, z, { isCausal: true });
  const got = ig.withBackend("cpu", () => f(q, k, v)).toFlatArray() as number[];
  const want = ig.withBackend("ref", () => f(q.to("float64"), k.to("float64"), v.to("float64"))).toFlatArray() as number[];
  close("permuted views", Float64Array.from(got), Float64Array.from(want), 2e-5, 2e-4);
});

test("one thread and all threads give the same bits", { skip }, () => {
  const [q, k, v] = [rnd([2, 3, 40, 32]), rnd([2, 3, 40, 32]), rnd([2, 3, 40, 32])];
  const go = () => {
    const xs = [q, k, v].map((t) => t.detach().requiresGrad_());
    const y = ig.scaledDotProductAttention(xs[0], xs[1], xs[2], { isCausal: true });
    y.square().sum().backward();
    return [y, ...xs.map((x) => x.grad!)].map((t) => t.toFlatArray().join(","));
  };
  const many = go();
  const all = getNumThreads();
  setNumThreads(1);
  try {
    assert.deepEqual(go(), many);
  } finally {
    setNumThreads(all);
  }
});
