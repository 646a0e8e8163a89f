// models.GPT against nanoGPT in PyTorch (test/golden/gpt.json from gpt_golden.py: logits, loss, every
// gradient, 10 AdamW steps), its structure and KV cache, and generation (greedy, sampling, stops, streaming).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { DType, Tensor } from "../../src/index.js";
import { type Arr, fromArr, readGolden } from "./golden-compare.js";

const { GPT, KVCache, pickToken } = ig.models;
type GPT = InstanceType<typeof GPT>;

interface GoldenModel {
  config: { vocabSize: number; blockSize: number; nLayer: number; nHead: number; nEmbd: number; dropout: number; bias: boolean };
  params: Record<string, Arr>;
  idx: Arr;
  targets: Arr;
  short: Arr;
  shortLogits: Arr;
  logits: Arr;
  loss: number;
  grads: Record<string, Arr>;
  adamw?: { lr: number; betas: [number, number]; weightDecay: number };
  losses?: number[];
  paramsAfter?: Record<string, Arr>;
}
const golden = readGolden<{ torch: string; tiny: GoldenModel; noBias: GoldenModel }>("gpt.json");

/** |got − want| ≤ atol + rtol·|want| for every element, naming the first that is not. */
function close(what: string, got: Tensor | number[], want: Arr | number[], atol: number, rtol = atol): void {
  const g = Array.isArray(got) ? got : [...got.dataSync()];
  const w = Array.isArray(want) ? want : (want.data as number[]);
  if (!Array.isArray(got) && !Array.isArray(want)) assert.deepEqual([...got.shape], want.shape, `${what}: shape`);
  assert.equal(g.length, w.length, `${what}: length`);
  g.forEach((v, i) => assert.ok(Math.abs(v - w[i]) <= atol + rtol * Math.abs(w[i]), `${what}[${i}] is ${v}, PyTorch gives ${w[i]}`));
}

/** The golden model's architecture and weights in Ingot. */
function fromGolden(g: GoldenModel, dtype: DType = "float64"): GPT {
  const m = new GPT({ ...g.config, dtype });
  assert.deepEqual(m.namedParameters().map(([n, p]) => [n, p.shape]), Object.entries(g.params).map(([n, a]) => [n, a.shape]), "parameter names and shapes (nanoGPT / GPT-2 layout)");
  ig.noGrad(() => m.namedParameters().forEach(([n, p]) => ig.copy_(p, fromArr(g.params[n]))));
  return m;
}

const ids = (rows: number[][]) => ig.tensor(rows, { dtype: "int32" });
const argmax = (xs: ArrayLike<number>) => Array.prototype.indexOf.call(xs, Math.max(...Array.from(xs)));

for (const [name, g] of Object.entries({ tiny: golden.tiny, "no bias": golden.noBias })) {
  test(`GPT (${name}): logits, loss and every gradient match nanoGPT in PyTorch ${golden.torch} (float64)`, () => {
    const m = fromGolden(g);
    const { logits, loss } = m.forward(fromArr(g.idx), fromArr(g.targets));
    close("logits", logits, g.logits, 1e-12, 1e-10);
    close("loss", [loss!.item()], [g.loss], 1e-12, 1e-12);
    loss!.backward();
    for (const [n, p] of m.namedParameters()) close(`grad of ${n}`, p.grad!, g.grads[n], 1e-12, 1e-9);
    close("logits of a shorter sequence", m.forward(fromArr(g.short)).logits, g.shortLogits, 1e-12, 1e-10);
  });
}

test("GPT: 10 AdamW steps (nanoGPT's decay groups) give PyTorch's losses and parameters", () => {
  const g = golden.tiny;
  const m = fromGolden(g);
  const { lr, betas, weightDecay } = g.adamw!;
  const opt = m.configureOptimizers({ lr, betas, weightDecay });
  assert.deepEqual(opt.paramGroups.map((pg) => pg.params.length), [10, 18], "matrices decay, vectors do not");
  const [x, y] = [fromArr(g.idx), fromArr(g.targets)];
  const losses: number[] = [];
  for (let i = 0; i < 10; i++) {
    opt.zeroGrad();
    const { loss } = m.forward(x, y);
    loss!.backward();
    opt.step();
    losses.push(loss!.item());
  }
  close("losses", losses, g.losses!, 1e-11, 1e-10);
  for (const [n, p] of m.namedParameters()) close(`${n} after 10 steps`, p, g.paramsAfter![n], 1e-10, 1e-8);
});

test("GPT: float32 matches the float64 golden to float32 precision", () => {
  const g = golden.tiny;
  const m = fromGolden(g, "float32");
  const { logits, loss } = m.forward(fromArr(g.idx), fromArr(g.targets));
  assert.equal(logits.dtype, "float32");
  close("logits", logits, g.logits, 1e-5, 1e-4);
  close("loss", [loss!.item()], [g.loss], 1e-5, 1e-5);
});

test("GPT: structure — tied head, GPT-2 names, parameter count, init, dtype conversion keeps the tie", () => {
  ig.manualSeed(0);
  const c = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8 };
  const m = new GPT(c);
  assert.equal(m.lm_head.weight, m.transformer.wte.weight);
  const sd = Object.keys(m.stateDict());
  assert.ok(sd.includes("lm_head.weight") && sd.includes("transformer.h.1.attn.c_attn.weight") && sd.includes("transformer.ln_f.bias"));
  // V·C + T·C + L·(12C² + 13C) + 2C: the tied head is counted once.
  const [V, T, C, L] = [11, 8, 8, 2];
  assert.equal(m.numParameters(), V * C + T * C + L * (12 * C * C + 13 * C) + 2 * C);
  assert.equal(new GPT({ ...c, bias: false }).numParameters(), V * C + T * C + L * 12 * C * C + L * 2 * C + C);
  m.double();
  assert.equal(m.lm_head.weight, m.transformer.wte.weight, "still tied after double()");
  assert.equal(m.transformer.wte.weight.dtype, "float64");
  assert.equal(m.forward(ids([[1, 2]])).logits.dtype, "float64");

  const big = new GPT({ vocabSize: 50, blockSize: 16, nLayer: 4, nHead: 2, nEmbd: 64 });
  const std = (t: Tensor) => Math.sqrt(t.square().mean().item());
  const p = Object.fromEntries(big.namedParameters());
  assert.ok(Math.abs(std(p["transformer.h.0.mlp.c_fc.weight"]) - 0.02) < 0.001);
  assert.ok(Math.abs(std(p["transformer.h.0.mlp.c_proj.weight"]) - 0.02 / Math.sqrt(8)) < 0.0005, "residual projections scaled by 1/√(2·nLayer)");
  assert.ok(Math.abs(std(p["transformer.wte.weight"]) - 0.02) < 0.002);
  assert.deepEqual([...p["transformer.h.0.attn.c_attn.bias"].dataSync()], new Array(192).fill(0));
  assert.deepEqual([...p["transformer.h.0.ln_1.weight"].dataSync()], new Array(64).fill(1));
});

test("GPT: dropout is active in training only; generate runs in eval mode", () => {
  ig.manualSeed(1);
  const m = new GPT({ vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, dropout: 0.5, dtype: "float64" });
  const x = ids([[1, 2, 3, 4]]);
  const [a, b] = [m.forward(x, x), m.forward(x, x)];
  assert.notDeepEqual([...a.logits.dataSync()], [...b.logits.dataSync()], "training mode: dropout differs per call");
  a.loss!.backward();
  assert.ok(m.parameters().every((p) => p.grad && [...p.grad.dataSync()].every(Number.isFinite)));
  const greedy = m.generate([[1, 2, 3]], 6, { temperature: 0 });
  assert.equal(m.training, true);
  m.eval();
  assert.deepEqual([...m.forward(x).logits.dataSync()], [...m.forward(x).logits.dataSync()]);
  assert.deepEqual(greedy, [naiveGreedy(m, [1, 2, 3], 6)]);
});

test("GPT: targets of -1 are ignored; errors name the problem", () => {
  const m = fromGolden(golden.tiny);
  const x = ids([[1, 2, 3, 4]]);
  const all = m.forward(x, ids([[2, 3, 4, 5]])).loss!.item();
  const ignored = m.forward(x, ids([[2, -1, 4, 5]])).loss!.item();
  const ce = (t: number[]) => ig.crossEntropy(m.forward(x).logits.view(4, 11), ig.tensor(t, { dtype: "int32" }), { reduction: "none" }).dataSync();
  const each = ce([2, 3, 4, 5]);
  assert.ok(Math.abs(all - (each[0] + each[1] + each[2] + each[3]) / 4) < 1e-12);
  assert.ok(Math.abs(ignored - (each[0] + each[2] + each[3]) / 3) < 1e-12);
  assert.throws(() => m.forward(ig.tensor([1, 2], { dtype: "int32" })), /GPT: idx must be int32 token ids of shape \(B, T\), got int32\[2\]/);
  assert.throws(() => m.forward(ig.tensor([[1, 2]])), /GPT: idx must be int32/);
  assert.throws(() => m.forward(ids([[1, 2, 3, 4, 5, 6, 7, 8, 9]])), /GPT: 9 positions exceed blockSize 8; crop the context/);
  assert.throws(() => m.forward(x, ids([[1, 2]])), /GPT: targets must have idx's shape \[1,4\], got \[1,2\]/);
  assert.throws(() => new GPT({ nEmbd: 10, nHead: 3 }), /GPT: nEmbd \(10\) must be divisible by nHead \(3\)/);
  assert.throws(() => new GPT({ vocabSize: 0 }), /GPT: config.vocabSize must be a positive integer, got 0/);
});

test("GPT: forwarding in pieces through a KV cache gives the full forward's logits", () => {
  const m = fromGolden(golden.tiny);
  const x = [[3, 1, 4, 1, 5, 9, 2], [2, 7, 1, 8, 2, 8, 1]];
  const full = m.forward(ids(x)).logits; // (2, 7, 11)
  const cache = new KVCache();
  const parts = [[0, 3], [3, 4], [4, 7]].map(([a, b]) => m.forward(ids(x.map((r) => r.slice(a, b))), null, { cache }).logits);
  assert.equal(cache.length, 7);
  assert.deepEqual(cache.keys[1].shape, [2, 2, 7, 4]);
  close("cached logits", ig.cat(parts, 1), { shape: [...full.shape], dtype: "float64", data: [...full.dataSync()] }, 1e-13, 1e-12);
  const one = new KVCache();
  m.forward(ids([[1, 2]]), null, { cache: one });
  assert.throws(() => m.forward(ids([[1], [2]]), null, { cache: one }), /GPT: idx has 2 row\(s\) but the KV cache holds 1; use one cache per batch/);
});

test("GPT: without gradients the cache takes the fused path (kvCacheWrite_ + kvCacheAttention); logits and cached keys agree", () => {
  const m = fromGolden(golden.tiny);
  const x = [[3, 1, 4, 1, 5, 9, 2], [2, 7, 1, 8, 2, 8, 1]];
  const full = m.forward(ids(x)).logits;
  const general = new KVCache();
  for (const [a, b] of [[0, 3], [3, 4], [4, 5]]) m.forward(ids(x.map((r) => r.slice(a, b))), null, { cache: general }); // grad on: general path
  const cache = new KVCache();
  const seen: string[] = [];
  const p = ig.profiler.profile(() =>
    ig.noGrad(() => [[0, 3], [3, 4], [4, 5], [5, 7]].map(([a, b]) => m.forward(ids(x.map((r) => r.slice(a, b))), null, { cache }).logits)),
  );
  for (const e of p.profiler.events) if (e.name.startsWith("kvCache") || e.name === "scaledDotProductAttention") seen.push(e.name);
  // 2 layers: prefill and two single steps fused; the last piece (2 new after 5 cached) needs a mask, so the general path.
  assert.equal(seen.filter((n) => n === "kvCacheAttention").length, 6);
  assert.equal(seen.filter((n) => n === "scaledDotProductAttention").length, 2);
  close("fused, then general, cached logits", ig.cat(p.result, 1), { shape: [...full.shape], dtype: "float64", data: [...full.dataSync()] }, 1e-13, 1e-12);
  assert.equal(cache.length, 7);
  assert.deepEqual(cache.keys[1].shape, [2, 2, 7, 4]);
  const fusedOnly = new KVCache();
  ig.noGrad(() => [[0, 3], [3, 4], [4, 5]].forEach(([a, b]) => m.forward(ids(x.map((r) => r.slice(a, b))), null, { cache: fusedOnly })));
  for (let l = 0; l < 2; l++) {
    close(`layer ${l} keys`, fusedOnly.keys[l], { shape: [...general.keys[l].shape], dtype: "float64", data: [...general.keys[l].contiguous().dataSync()] }, 1e-15, 1e-15);
    close(`layer ${l} values`, fusedOnly.values[l], { shape: [...general.values[l].shape], dtype: "float64", data: [...general.values[l].contiguous().dataSync()] }, 1e-15, 1e-15);
  }
  const qkv = ig.randn([1, 1, 12]).requiresGrad_();
  assert.throws(() => ig.kvCacheAttention(qkv, ig.zeros([2, 2, 1, 2, 2]), { past: 0, nHead: 2 }), /kvCacheAttention: this op has no gradient/);
});

test("GPT: a left-padded row with its attention mask gives the logits of the row alone", () => {
  const m = fromGolden(golden.tiny);
  const alone = m.forward(ids([[5, 6, 7]])).logits.dataSync();
  const mask = ig.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]], { dtype: "int32" });
  const batch = m.forward(ids([[0, 0, 5, 6, 7], [1, 2, 3, 4, 5]]), null, { attentionMask: mask }).logits; // (2, 5, 11)
  close("padded row", [...batch.select(0, 0).slice(0, 2, 5).dataSync()], [...alone], 1e-13, 1e-12);
  assert.ok([...batch.dataSync()].every(Number.isFinite), "padding positions stay finite");
});

/** Greedy decoding without a cache: the whole (cropped) context through forward at every step, as nanoGPT. */
function naiveGreedy(m: GPT, prompt: number[], n: number): number[] {
  const toks = [...prompt];
  for (let i = 0; i < n; i++) {
    const ctx = toks.slice(-m.config.blockSize);
    const logits = ig.noGrad(() => m.forward(ids([ctx])).logits);
    toks.push(argmax(logits.select(1, ctx.length - 1).dataSync()));
  }
  return toks;
}

test("generate: greedy with the KV cache gives exactly the tokens of the full forward at every step (past blockSize too)", () => {
  const m = fromGolden(golden.tiny);
  for (const prompt of [[1], [3, 1, 4], [2, 7, 1, 8, 2, 8, 1, 8, 2]]) {
    const want = naiveGreedy(m, prompt, 12);
    assert.deepEqual(m.generate([prompt], 12, { temperature: 0 }), [want]);
  }
});

test("generate: batched prompts of different lengths give each prompt's own continuation", () => {
  const m = fromGolden(golden.tiny);
  const prompts = [[3, 1, 4], [5], [2, 7, 1, 8, 2, 8]];
  const got = m.generate(prompts, 9, { temperature: 0 });
  assert.deepEqual(got, prompts.map((p) => naiveGreedy(m, p, 9)));
  assert.deepEqual(m.generate(ids([[3, 1, 4], [2, 7, 1]]), 2, { temperature: 0 }), [naiveGreedy(m, [3, 1, 4], 2), naiveGreedy(m, [2, 7, 1], 2)]);
});

test("generate: sampling with a seed repeats; top-k 1 and a tiny top-p are greedy", () => {
  const m = fromGolden(golden.tiny, "float32");
  const p = [[1, 2], [3]];
  const a = m.generate(p, 10, { seed: 7, temperature: 1.5 });
  assert.deepEqual(m.generate(p, 10, { seed: 7, temperature: 1.5 }), a);
  assert.notDeepEqual(m.generate(p, 10, { seed: 8, temperature: 1.5 }), a);
  ig.manualSeed(3);
  const b = m.generate(p, 10);
  ig.manualSeed(3);
  assert.deepEqual(m.generate(p, 10), b, "without a seed, manualSeed makes it repeat");
  const greedy = m.generate(p, 10, { temperature: 0 });
  assert.deepEqual(m.generate(p, 10, { seed: 1, topK: 1 }), greedy);
  assert.deepEqual(m.generate(p, 10, { seed: 2, topP: 1e-6 }), greedy);
});

test("pickToken: temperature, top-k, top-p and repetition penalty", () => {
  const logits = Float64Array.from([2, 1, 0.5, 3, -1, 3]);
  const draw = (opts: ig.models.GenerateOptions, n = 400) => {
    const rng = new ig.Generator(11);
    const seen = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const t = pickToken(logits, [], opts, rng);
      seen.set(t, (seen.get(t) ?? 0) + 1);
    }
    return seen;
  };
  assert.equal(pickToken(logits, [], { temperature: 0 }), 3, "greedy takes the first maximum");
  assert.deepEqual([...draw({ topK: 2 }).keys()].sort(), [3, 5], "top-2: the two 3s");
  assert.deepEqual([...draw({ topK: 3 }).keys()].sort(), [0, 3, 5]);
  assert.deepEqual([...draw({ topK: 1, temperature: 5 }).keys()].sort(), [3, 5], "ties with the k-th are kept");
  // softmax: p(3) = p(5) ≈ 0.39, p(0) ≈ 0.14: top-p 0.7 keeps {3, 5}, 0.8 adds 0.
  assert.deepEqual([...draw({ topP: 0.7 }).keys()].sort(), [3, 5]);
  assert.deepEqual([...draw({ topP: 0.8 }).keys()].sort(), [0, 3, 5]);
  assert.equal(draw({}, 2000).size, 6, "plain sampling reaches every token");
  const cold = draw({ temperature: 0.05 });
  assert.deepEqual([...cold.keys()].sort(), [3, 5], "a low temperature concentrates on the maxima");
  assert.equal(pickToken(logits, [3, 5, 5], { temperature: 0, repetitionPenalty: 2 }), 0, "3/2 = 1.5 < 2");
  assert.equal(pickToken(Float64Array.from([-1, -1.5]), [0], { temperature: 0, repetitionPenalty: 2 }), 1, "negative logits are multiplied");
});

test("generate: stop sequences and strings end a row (stop included); onToken sees every token", () => {
  const m = fromGolden(golden.tiny);
  const greedy = { temperature: 0, repetitionPenalty: 1.3 }; // the penalty varies the tokens of this tiny model
  const free = m.generate([[3, 1, 4], [5]], 8, greedy);
  const newOf = (r: number) => free[r].slice(r === 0 ? 3 : 1);
  const stop = newOf(0).slice(2, 4);
  /** The row cut after the first occurrence of the stop among its new tokens (or whole). */
  const cutAtStop = (r: number) => {
    const xs = newOf(r);
    const i = xs.findIndex((_, j) => j >= 1 && xs[j - 1] === stop[0] && xs[j] === stop[1]);
    return free[r].slice(0, free[r].length - xs.length + (i < 0 ? xs.length : i + 1));
  };
  const events: ig.models.GeneratedToken[] = [];
  const got = m.generate([[3, 1, 4], [5]], 8, { ...greedy, stop: [[9, 9, 9, 9, 9, 9, 9, 9, 9], stop], onToken: (t) => events.push(t) });
  assert.deepEqual(got, [cutAtStop(0), cutAtStop(1)]);
  assert.deepEqual([got[0].length, got[1].length], [3 + 4, 1 + 8], "row 0 stopped after its 4th token, row 1 ran on");
  assert.deepEqual(events.filter((e) => e.row === 0).map((e) => e.token), got[0].slice(3));
  assert.deepEqual(events.filter((e) => e.row === 1).map((e) => e.token), got[1].slice(1));
  assert.deepEqual(events.filter((e) => e.done).map((e) => e.row).sort(), [0, 1]);
  assert.deepEqual(events.filter((e) => e.row === 0).map((e) => e.step), got[0].slice(3).map((_, i) => i));

  const letters = "abcdefghijk";
  const tokenizer = { decode: (xs: number[]) => xs.map((i) => letters[i]).join("") };
  const text = tokenizer.decode(newOf(1));
  const s = text.slice(3, 5);
  assert.deepEqual(m.generate([[5]], 8, { ...greedy, stop: [s], tokenizer }), [free[1].slice(0, 1 + text.indexOf(s) + 2)]);
  assert.ok(text.indexOf(s) + 2 < 8);
});

test("stream: yields generate's tokens; breaking out stops and restores training mode", async () => {
  const m = fromGolden(golden.tiny);
  m.train();
  const want = m.generate([[1, 2], [4]], 5, { seed: 4 });
  assert.equal(m.training, true, "generate runs in eval mode and restores the mode");
  const rows: number[][] = [[1, 2], [4]];
  for await (const t of m.stream([[1, 2], [4]], 5, { seed: 4 })) rows[t.row].push(t.token);
  assert.deepEqual(rows, want);
  let n = 0;
  for await (const t of m.stream([1], 100, { seed: 1 })) if (t && ++n === 3) break;
  assert.equal(n, 3);
  assert.equal(m.transformer.h.at(0).training, true);
});

test("generate: errors name the problem", () => {
  const m = fromGolden(golden.tiny);
  assert.throws(() => m.generate([[1], []], 2), /generate: prompt 1 is empty/);
  assert.throws(() => m.generate([[1, 11]], 2), /generate: prompt 0 holds token id 11, outside the vocabulary \[0, 11\)/);
  assert.throws(() => m.generate([1], 2, { stop: ["ab"] }), /generate: the stop string "ab" needs a tokenizer/);
  assert.throws(() => m.generate([1], 2, { temperature: -1 }), /generate: temperature must be ≥ 0/);
  assert.throws(() => m.generate([1], 2, { topK: 0 }), /generate: topK must be an integer ≥ 1, got 0/);
  assert.throws(() => m.generate([1], 2, { topP: 1.5 }), /generate: topP must be in \(0, 1\], got 1.5/);
  assert.throws(() => m.generate([1], -1), /generate: maxNewTokens must be an integer ≥ 0, got -1/);
  assert.deepEqual(m.generate([1, 2], 0), [[1, 2]]);
});
