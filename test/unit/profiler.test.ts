// ingot.profiler: op calls, autograd nodes and optimizer steps recorded with self time, FLOPs and
// bytes; the table of one MLP training step (matmul, activations, optimizer, self times summing to
// the step's wall time); Chrome trace JSON; sync and async profile(); the fit callback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ingot from "../../src/index.js";
import * as profiler from "../../src/profiler/index.js";
import { profilerHooks } from "../../src/profiler/hooks.js";

const { nn, optim } = ingot;
const tmp = mkdtempSync(join(tmpdir(), "ingot-profiler-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

const B = 64;
const IN = 784;
const HID = 128;
const OUT = 10;

function mlpStep() {
  ingot.manualSeed(0);
  const model = new nn.Sequential(new nn.Linear(IN, HID), new nn.ReLU(), new nn.Linear(HID, OUT));
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = ingot.randn([B, IN]);
  const y = ingot.randint(0, OUT, [B]);
  const lossFn = new nn.CrossEntropyLoss();
  const step = () => {
    opt.zeroGrad();
    const loss = lossFn.call(model.call(x), y);
    loss.backward();
    opt.step();
    return loss;
  };
  return step;
}

test("one MLP training step: the table lists matmul, the activation and the optimizer; self times sum to the step's wall time", () => {
  const step = mlpStep();
  step(); // the first step allocates Adam's state
  step();
  // The best of a few tries, so that a busy machine's preemption in one try does not decide it.
  let best = Infinity;
  let p: profiler.Profile<unknown> | null = null;
  for (let i = 0; i < 5; i++) {
    const q = profiler.profile(step);
    const selfSum = q.profiler.events.reduce((s, e) => s + e.self, 0);
    const gap = Math.abs(q.wallMs - selfSum) / q.wallMs;
    if (gap < best) (best = gap), (p = q);
  }
  const rows = p!.keyAverages();
  const names = rows.map((r) => r.name);
  const table = p!.table();
  for (const name of ["linear", "matmul", "relu", "crossEntropy", "autograd.backward", "Adam.step", "adamUpdate_", "relu.backward"])
    assert.ok(names.includes(name), `the table lists ${name}:\n${table}`);
  // Sorted by self time, descending.
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].selfMs >= rows[i].selfMs);
  // Every recorded range's self time together: within 10 % of the wall time of the profiled step.
  const selfSum = rows.reduce((s, r) => s + r.selfMs, 0);
  assert.ok(best <= 0.1, `self times sum to ${selfSum.toFixed(3)} ms, the step took ${p!.wallMs.toFixed(3)} ms (${(100 * best).toFixed(1)}% apart):\n${table}`);
  assert.match(table, /Self time total: [\d.]+(ms|us) of [\d.]+(ms|us) wall/);
  // Adam updates four parameters, each once, inside the step's range.
  assert.equal(rows.find((r) => r.name === "adamUpdate_")!.count, 4);
  assert.equal(rows.find((r) => r.name === "Adam.step")!.count, 1);
  // Self time never exceeds total time, and nested ranges are not double-counted.
  for (const e of p!.profiler.events) assert.ok(e.self <= e.dur + 1e-9 && e.self >= 0);
  const top = p!.profiler.events.filter((e) => e.depth === 0).reduce((s, e) => s + e.dur, 0);
  assert.ok(Math.abs(top - selfSum) < 1e-6, "the self times add up to the top-level ranges' durations");
});

test("FLOPs: 2·B·in·out per linear forward; the backward's products counted once (linear decomposed into matmul counts once)", () => {
  const step = mlpStep();
  step();
  const p = profiler.profile(step);
  // Either the linear kernel carries the FLOPs, or (decomposed) its matmul does; never both.
  const linearFlops = p.profiler.events.filter((e) => e.category === "op" && e.depth === 0 && e.name === "linear");
  assert.equal(linearFlops.length, 2);
  const perLayer = [2 * B * IN * HID, 2 * B * HID * OUT];
  const counted = linearFlops.map((e) => e.flops || p.profiler.events.filter((c) => c.start >= e.start && c.start < e.start + e.dur && c.depth > e.depth).reduce((s, c) => s + c.flops, 0));
  assert.deepEqual(counted.sort((a, b) => b - a), perLayer);
  // Backward: layer 2 needs dX = g·W and dW = gᵀ·X; layer 1 only dW (its input needs no gradient).
  const total = p.profiler.events.reduce((s, e) => s + e.flops, 0);
  assert.equal(total, 2 * (2 * B * IN * HID) + 3 * (2 * B * HID * OUT));
  // The FLOP/s column is filled for the product rows.
  const row = p.keyAverages().find((r) => r.name === "matmul")!;
  assert.ok(row.flops > 0);
  assert.match(p.table(), /FLOP\/s/);
});

test("bytes: inputs + outputs of an op; views move none; FLOPs of conv2d and attention follow the documented formulas", () => {
  const a = ingot.randn([8, 16]);
  const b = ingot.randn([16, 4]);
  const p = profiler.profile(() => {
    ingot.matmul(a, b);
    a.reshape([16, 8]);
  });
  const mm = p.profiler.events.find((e) => e.name === "matmul")!;
  assert.equal(mm.bytes, 4 * (8 * 16 + 16 * 4 + 8 * 4));
  assert.equal(mm.flops, 2 * 8 * 16 * 4);
  assert.deepEqual(mm.shapes, [[8, 16], [16, 4]]);
  assert.equal(p.profiler.events.find((e) => e.name === "reshape")!.bytes, 0);

  const x = ingot.randn([2, 3, 9, 9]);
  const w = ingot.randn([4, 3, 3, 3]);
  const pc = profiler.profile(() => ingot.nn.functional.conv2d(x, w, null, { stride: 2 }));
  // out [2, 4, 4, 4]: 2 · 128 outputs · 3·3·3 products each
  assert.equal(pc.profiler.events.find((e) => e.name === "conv2d")!.flops, 2 * 128 * 27);

  const q = ingot.randn([1, 2, 5, 4]);
  const k = ingot.randn([1, 2, 7, 4]);
  const v = ingot.randn([1, 2, 7, 3]);
  const pa = profiler.profile(() => ingot.nn.functional.scaledDotProductAttention(q, k, v));
  const att = pa.profiler.events.filter((e) => e.flops > 0);
  assert.equal(att.reduce((s, e) => s + e.flops, 0), 2 * 2 * 5 * 7 * 4 + 2 * 2 * 5 * 7 * 3);
});

test("Chrome trace: complete events with µs times that nest, named process and thread, args with shapes and FLOPs", () => {
  const step = mlpStep();
  step();
  const p = profiler.profile(step);
  const file = join(tmp, "trace.json");
  p.exportChromeTrace(file);
  const trace = JSON.parse(readFileSync(file, "utf8")) as profiler.ChromeTrace;
  const xs = trace.traceEvents.filter((e) => e.ph === "X");
  assert.equal(xs.length, p.profiler.events.length);
  assert.ok(trace.traceEvents.some((e) => e.ph === "M" && e.name === "thread_name"));
  for (const e of xs) {
    assert.equal(typeof e.name, "string");
    assert.ok(e.ts! >= 0 && e.dur! >= 0 && e.pid === process.pid && e.tid === 1);
  }
  // Sorted by start; a range that starts inside another ends inside it (viewers rely on it).
  for (let i = 1; i < xs.length; i++) assert.ok(xs[i].ts! >= xs[i - 1].ts!);
  const backward = xs.find((e) => e.name === "autograd.backward")!;
  const inside = xs.filter((e) => e.ts! > backward.ts! && e.ts! < backward.ts! + backward.dur!);
  assert.ok(inside.length > 3);
  for (const e of inside) assert.ok(e.ts! + e.dur! <= backward.ts! + backward.dur! + 0.002, `${e.name} ends inside autograd.backward`);
  const lin = xs.find((e) => e.name === "linear")!;
  assert.deepEqual(lin.args!["Input Dims"], [[B, IN], [HID, IN], [HID]]);
  // The step's wall time matches the trace's extent.
  const end = Math.max(...xs.map((e) => e.ts! + e.dur!));
  assert.ok(end <= p.wallMs * 1000 + 0.01);
});

test("profile: async functions, results, errors, one profiler at a time, hooks off afterwards", async () => {
  const t = ingot.randn([4, 4]);
  const p = await profiler.profile(async () => {
    const a = ingot.relu(t);
    await new Promise((r) => setTimeout(r, 5));
    return ingot.exp(a).sum().item();
  });
  assert.equal(typeof p.result, "number");
  assert.ok(p.wallMs >= 4);
  assert.deepEqual(p.keyAverages({ sortBy: "name" }).map((r) => r.name), ["exp", "relu", "sum"]);
  assert.equal(profilerHooks.op, null);
  assert.equal(profilerHooks.range, null);
  assert.throws(() => profiler.profile(() => { throw new RangeError("boom"); }), /boom/);
  assert.equal(profilerHooks.op, null, "hooks are removed after an error");
  await assert.rejects(profiler.profile(async () => { throw new RangeError("later"); }), /later/);
  assert.equal(profilerHooks.op, null);
  const outer = new profiler.Profiler().start();
  try {
    assert.throws(() => profiler.profile(() => 1), /another profiler is recording/);
  } finally {
    outer.stop();
  }
  assert.throws(() => profiler.profile(42 as unknown as () => number), /expected a function/);
  assert.throws(() => p.keyAverages({ sortBy: "speed" as profiler.SortKey }), /sortBy must be one of/);
  // recordFunction: a user range when profiling, the plain call otherwise.
  assert.equal(profiler.recordFunction("x", () => 3), 3);
  const u = profiler.profile(() => profiler.recordFunction("my block", () => ingot.relu(t)));
  const block = u.profiler.events.find((e) => e.name === "my block")!;
  assert.equal(block.category, "user");
  assert.equal(u.profiler.events.find((e) => e.name === "relu")!.depth, block.depth + 1);
});

test("ProfilerCallback in fit: skips the warm-up batch, records N steps as ProfilerStep ranges, stops training", async () => {
  ingot.manualSeed(0);
  const model = ingot.keras.sequential({ layers: [ingot.keras.layers.dense({ units: 16, activation: "relu", inputShape: [8] }), ingot.keras.layers.dense({ units: 1 })] });
  model.compile({ optimizer: "adam", loss: "meanSquaredError" });
  const cb = new profiler.ProfilerCallback({ wait: 1, active: 2, stopAfter: true });
  let batches = 0;
  await model.fit(ingot.randn([64, 8]), ingot.randn([64, 1]), { epochs: 3, batchSize: 8, verbose: 0, callbacks: [cb, { onBatchEnd: async () => void batches++ }] });
  assert.equal(batches, 3, "training stopped after the warm-up batch and two recorded ones");
  const steps = cb.profiler.events.filter((e) => e.category === "step").map((e) => e.name);
  assert.deepEqual(steps.sort(), ["ProfilerStep#0", "ProfilerStep#1"]);
  const rows = cb.profiler.keyAverages();
  assert.equal(rows.find((r) => r.name === "Adam.step")!.count, 2);
  assert.ok(rows.some((r) => r.name === "relu"));
});

const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;

test("ingot profile regression-mlp --json --out, and ingot train --profile: the table, the trace, the errors", async () => {
  const { spawnSync } = await import("node:child_process");
  const env = { ...process.env, INGOT_HOME: join(tmp, "home") };
  const trace = join(tmp, "cli-trace.json");
  const r = spawnSync(process.execPath, [bin, "profile", "regression-mlp", "--steps", "2", "--warmup", "1", "--json", "--out", trace], { encoding: "utf8", env });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { rows: { name: string; kind: string; calls: number; self_ms: number }[]; wall_ms: number; self_ms: number };
  const row = (n: string) => j.rows.find((x) => x.name === n);
  assert.equal(row("Adam.step")!.calls, 2);
  assert.deepEqual(j.rows.filter((x) => x.kind === "step").map((x) => x.name).sort(), ["ProfilerStep#0", "ProfilerStep#1"]);
  assert.equal(row("linear")!.calls, 4, "two Linear layers × two steps");
  assert.ok(j.self_ms <= j.wall_ms && j.self_ms > 0.9 * j.wall_ms, `${j.self_ms} of ${j.wall_ms} ms`);
  const t = JSON.parse(readFileSync(trace, "utf8")) as profiler.ChromeTrace;
  assert.equal(t.traceEvents.filter((e) => e.name === "Adam.step").length, 2);

  const out = join(tmp, "reg");
  const tr = spawnSync(process.execPath, [bin, "train", "regression-mlp", "--epochs", "1", "--limit", "64", "--test-limit", "16", "--out", out, "--profile", join(tmp, "train-trace.json")], { encoding: "utf8", env });
  assert.equal(tr.status, 0, tr.stderr);
  assert.match(tr.stdout, /profile of the training on \w+\nName +Kind/);
  const tt = JSON.parse(readFileSync(join(tmp, "train-trace.json"), "utf8")) as profiler.ChromeTrace;
  assert.equal(tt.traceEvents.filter((e) => e.name === "Adam.step").length, 2, "64 samples in batches of 32");

  for (const [args, msg] of [
    [["profile"], /name a recipe/],
    [["profile", "mnist-mlp", "--steps", "0"], /--steps must be an integer ≥ 1, got '0'/],
    [["profile", "nope"], /unknown recipe 'nope'/],
    [["profile", "mnist-mlp", "--sort", "speed"], /--sort must be one of self, total/],
  ] as [string[], RegExp][]) {
    const e = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env });
    assert.equal(e.status, 2, args.join(" "));
    assert.match(e.stderr, msg);
  }
});
