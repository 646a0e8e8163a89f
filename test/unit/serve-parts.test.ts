// The server's parts on their own: the dynamic batcher and gate, the Prometheus exposition, stop
// strings in streamed text, model names and input parsing.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";

const { DynamicBatcher, Gate, QueueFullError, Counter, Histogram, Registry, Gauge } = ig.serve;
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

test("DynamicBatcher gathers concurrent items up to maxBatch rows, keeps order, and runs a large item alone", async () => {
  const batches: number[][] = [];
  const b = new DynamicBatcher<number, number>(
    (xs) => {
      batches.push(xs);
      return xs.map((x) => x * 10);
    },
    (x) => (x >= 100 ? 5 : 1),
    { maxBatch: 4, maxWaitMs: 20, maxQueue: 100 },
  );
  const out = await Promise.all([1, 2, 3, 4, 5, 6, 100].map((x) => b.submit(x)));
  assert.deepEqual(out, [10, 20, 30, 40, 50, 60, 1000]);
  assert.deepEqual(batches, [[1, 2, 3, 4], [5, 6], [100]]);
});

test("DynamicBatcher waits at most maxWaitMs for a partial batch; maxBatch 1 runs each item alone", async () => {
  const b = new DynamicBatcher<number, number>((xs) => xs, () => 1, { maxBatch: 8, maxWaitMs: 30, maxQueue: 10 });
  const t0 = performance.now();
  await b.submit(1);
  const waited = performance.now() - t0;
  assert.ok(waited >= 25 && waited < 1000, `waited ${waited} ms`);
  const sizes: number[] = [];
  const one = new DynamicBatcher<number, number>((xs) => xs, () => 1, { maxBatch: 1, maxWaitMs: 30, maxQueue: 10, onBatch: (rows) => sizes.push(rows) });
  await Promise.all([1, 2, 3].map((x) => one.submit(x)));
  assert.deepEqual(sizes, [1, 1, 1]);
});

test("DynamicBatcher: a full queue refuses, an aborted item leaves the queue, drain runs at once, errors reach every item", async () => {
  const b = new DynamicBatcher<number, number>((xs) => xs, () => 1, { maxBatch: 8, maxWaitMs: 10_000, maxQueue: 2 });
  const ac = new AbortController();
  const p1 = b.submit(1, ac.signal);
  const p2 = b.submit(2);
  await assert.rejects(b.submit(3), QueueFullError);
  ac.abort(new Error("gone"));
  await assert.rejects(p1, /gone/);
  assert.equal(b.depth, 1);
  const t0 = performance.now();
  await b.drain();
  assert.equal(await p2, 2);
  assert.ok(performance.now() - t0 < 1000, "drain did not wait for maxWaitMs");
  const bad = new DynamicBatcher<number, number>(() => {
    throw new Error("boom");
  }, () => 1, { maxBatch: 8, maxWaitMs: 0, maxQueue: 8 });
  const r = await Promise.allSettled([bad.submit(1), bad.submit(2)]);
  assert.deepEqual(r.map((x) => x.status), ["rejected", "rejected"]);
});

test("Gate: at most maxActive hold a slot, maxQueue wait in order, more are refused", async () => {
  const g = new Gate(2, 1);
  const r1 = await g.acquire();
  const r2 = await g.acquire();
  let third = false;
  const p3 = g.acquire().then((r) => ((third = true), r));
  await assert.rejects(g.acquire(), QueueFullError);
  await tick();
  assert.equal(third, false);
  r1();
  r1(); // a second release is ignored
  const r3 = await p3;
  assert.equal(g.active, 2);
  r2();
  r3();
  assert.equal(g.active, 0);
  await g.drain();
});

test("Prometheus exposition: counters, gauges, cumulative histograms, escaped labels", () => {
  const reg = new Registry();
  const c = reg.add(new Counter("t_requests_total", "Requests.", ["route", "status"]));
  const h = reg.add(new Histogram("t_latency_seconds", "Latency.", [0.1, 1], ["route"]));
  const g = reg.add(new Gauge("t_depth", "Depth.", [], (x) => x.set({}, 7)));
  c.inc({ route: '/a"b', status: "200" });
  c.inc({ route: '/a"b', status: "200" }, 2);
  h.observe({ route: "/a" }, 0.05);
  h.observe({ route: "/a" }, 0.5);
  h.observe({ route: "/a" }, 5);
  assert.equal(g.get(), 0);
  const text = reg.expose();
  assert.equal(
    text,
    [
      "# HELP t_requests_total Requests.",
      "# TYPE t_requests_total counter",
      't_requests_total{route="/a\\"b",status="200"} 3',
      "# HELP t_latency_seconds Latency.",
      "# TYPE t_latency_seconds histogram",
      't_latency_seconds_bucket{route="/a",le="0.1"} 1',
      't_latency_seconds_bucket{route="/a",le="1"} 2',
      't_latency_seconds_bucket{route="/a",le="+Inf"} 3',
      't_latency_seconds_sum{route="/a"} 5.55',
      't_latency_seconds_count{route="/a"} 3',
      "# HELP t_depth Depth.",
      "# TYPE t_depth gauge",
      "t_depth 7",
      "",
    ].join("\n"),
  );
});

/** A language model whose "generation" spells fixed texts, one character per token and row. */
function scripted(texts: string[]): ig.serve.LanguageModel {
  const tokenizer = ig.text.trainChar(texts.join("") + "x");
  const gpt = {
    async *stream(_prompts: number[][], max: number) {
      const ids = texts.map((t) => tokenizer.encode(t));
      for (let step = 0; step < max; step++)
        for (let row = 0; row < ids.length; row++) if (step < ids[row].length) yield { row, token: ids[row][step], step, done: step + 1 === max || step + 1 === ids[row].length };
    },
  };
  return { kind: "language-model", name: "s", dir: "", gpt: gpt as unknown as ig.models.GPT, tokenizer, blockSize: 64, created: 0 };
}

async function collect(texts: string[], stop: string[], maxTokens = 100) {
  const deltas: ig.serve.TextDelta[] = [];
  const totals = { completionTokens: 0 };
  const params = { maxTokens, temperature: 1, topP: null, topK: null, repetitionPenalty: 1, stop, seed: null, n: texts.length };
  for await (const d of ig.serve.generateText(scripted(texts), [0], params, totals)) deltas.push(d);
  return { deltas, totals };
}

test("streamed text: a stop string is cut off and never half-sent; a partial match is released when it fails", async () => {
  const { deltas } = await collect(["ab\nUser: more", "a\nb"], ["\nUser:"]);
  const row = (i: number) => deltas.filter((d) => d.index === i);
  assert.equal(row(0).map((d) => d.text).join(""), "ab");
  assert.ok(row(0).every((d) => !d.text.includes("\n")), "no part of the stop string was sent");
  assert.equal(row(0).at(-1)!.finishReason, "stop");
  assert.equal(row(1).map((d) => d.text).join(""), "a\nb");
  assert.equal(row(1).filter((d) => d.finishReason).length, 1);
  const limited = await collect(["abcdef"], [], 3);
  assert.deepEqual(limited.deltas.map((d) => d.text).join(""), "abc");
  assert.equal(limited.deltas.at(-1)!.finishReason, "length");
  assert.equal(limited.totals.completionTokens, 3);
});

test("model names: dir or name=dir; inputs: nested, flat, and clear errors", () => {
  assert.deepEqual(ig.serve.parseModelArg("runs/mnist-mlp"), { name: "mnist-mlp", dir: "runs/mnist-mlp" });
  assert.deepEqual(ig.serve.parseModelArg("digits=runs/mnist-mlp"), { name: "digits", dir: "runs/mnist-mlp" });
  assert.deepEqual(ig.serve.parseModelArg("runs/a=b"), { name: "a=b", dir: "runs/a=b" });
  const m = { kind: "predictor", name: "p", dir: "", task: "regression", inputShape: [2, 2], features: 4, outputWidth: 1, divide: 2, forward: () => new Float32Array(), created: 0 } as ig.serve.Predictor;
  const it = ig.serve.parseInputs(m, [[[2, 4], [6, 8]], [1, 2, 3, 4]]);
  assert.equal(it.rows, 2);
  assert.deepEqual([...it.data], [1, 2, 3, 4, 0.5, 1, 1.5, 2]);
  assert.throws(() => ig.serve.parseInputs(m, [[1, 2, 3]]), /inputs\[0\] has shape \[3\].*\[2,2\]/);
  assert.throws(() => ig.serve.parseInputs(m, []), /non-empty list/);
  assert.throws(() => ig.serve.parseInputs(m, [[[1, 2], [3, null]]]), /inputs\[0\]\[1\]\[1\] is null, not a number/);
});
