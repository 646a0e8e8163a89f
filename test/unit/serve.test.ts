// ingot serve, in process: predict for classifiers/regressors, the OpenAI routes driven by the official
// openai client, every error class followed by a good request, dynamic batching, reload, metrics, CORS.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { rmSync } from "node:fs";
import OpenAI from "openai";
import * as ig from "../../src/index.js";
import { greedyText, saveAll, saveClassifier } from "./serve-fixtures.js";

const KEY = "sk-test-key";
let paths: ReturnType<typeof saveAll>;
let server: ig.serve.IngotServer;
let base: string;
const servers: ig.serve.IngotServer[] = [];

/** A server over the fixture folders (closed after the tests). */
async function start(models: string[], opts: Partial<ig.serve.ServeOptions> = {}): Promise<[ig.serve.IngotServer, string]> {
  const s = await ig.serve.createServer({ models, port: 0, log: () => {}, ...opts });
  servers.push(s);
  return [s, await s.listen()];
}

interface Res {
  status: number;
  headers: Headers;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}
async function call(url: string, path: string, o: { method?: string; body?: unknown; raw?: string; key?: string | null; headers?: Record<string, string> } = {}): Promise<Res> {
  const headers: Record<string, string> = { ...o.headers };
  const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  if (body !== undefined) headers["content-type"] = "application/json";
  const key = o.key === undefined ? KEY : o.key;
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(url + path, { method: o.method ?? (body === undefined ? "GET" : "POST"), headers, body });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** The OpenAI error shape, with the status and code expected. */
function isError(r: Res, status: number, code?: string | null): void {
  assert.equal(r.status, status, r.text);
  const e = r.json?.error;
  assert.ok(e && typeof e.message === "string" && e.message.length > 0 && typeof e.type === "string", `not an OpenAI error body: ${r.text}`);
  assert.ok("param" in e && "code" in e, r.text);
  if (code !== undefined) assert.equal(e.code, code, r.text);
}

const row = (i: number) => [
  [i % 7, (i * 3) % 11],
  [(i * 5) % 13, 10 - (i % 10)],
];
/** What the classifier gives for raw rows (the server divides by 10, as card.json says). */
function expected(dir: string, rows: number[][][]): number[][] {
  const m = ig.keras.loadModel(dir);
  const y = m.predict(ig.tensor(rows).div(10)) as ig.Tensor;
  return y.toArray() as number[][];
}
const near = (got: number[][], want: number[][]) =>
  want.forEach((r, i) => r.forEach((v, j) => assert.ok(Math.abs(got[i][j] - v) <= 1e-6, `row ${i} col ${j}: ${got[i][j]} vs ${v}`)));
const predictOk = async (url = base, model = "clf", rows: unknown[] = [row(1)]) => {
  const r = await call(url, `/v1/models/${model}/predict`, { body: { inputs: rows } });
  assert.equal(r.status, 200, r.text);
  return r.json;
};

before(async () => {
  paths = saveAll();
  saveClassifier(join(paths.root, "clf2"), 1);
  [server, base] = await start([paths.clf, `reg=${paths.reg}`, `lm=${paths.lm}`, `clf2=${join(paths.root, "clf2")}`], { apiKeys: [KEY], bodyLimit: 100_000 });
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(paths.root, { recursive: true, force: true });
});

test("predict: outputs of a classifier (preprocessing from card.json) and argmax predictions; any batch size; nested or flat rows", async () => {
  const rows = [row(0), row(1), row(2), row(3), row(4)];
  const r = await predictOk(base, "clf", rows);
  const want = expected(paths.clf, rows);
  near(r.outputs, want);
  assert.deepEqual(r.predictions, want.map((o) => o.indexOf(Math.max(...o))));
  const flat = await predictOk(base, "clf", [row(2).flat()]);
  near(flat.outputs, [want[2]]);
  // preprocess: false sends model-ready inputs (already divided).
  const pre = await call(base, "/v1/models/clf/predict", { body: { inputs: [row(3).map((r) => r.map((v) => v / 10))], preprocess: false } });
  near(pre.json.outputs, [want[3]]);
  const reg = await call(base, "/v1/models/reg/predict", { body: { inputs: [[1, 2, 3], [0, 0, 0]] } });
  assert.equal(reg.status, 200, reg.text);
  const m = ig.keras.loadModel(paths.reg);
  near(reg.json.outputs, (m.predict(ig.tensor([[1, 2, 3], [0, 0, 0]])) as ig.Tensor).toArray() as number[][]);
  assert.equal(reg.json.predictions, undefined, "a regressor has no predictions");
});

test("the official openai client: a completion, a streamed chat completion, n with a seed, and errors as it expects", async () => {
  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: KEY, maxRetries: 0 });
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id).sort(), ["clf", "clf2", "lm", "reg"]);

  const c = await client.completions.create({ model: "lm", prompt: "hello", max_tokens: 12, temperature: 0 });
  assert.equal(c.object, "text_completion");
  assert.equal(c.choices[0].text, greedyText(paths.lm, "hello", 12));
  assert.equal(c.choices[0].finish_reason, "length");
  assert.deepEqual(c.usage, { prompt_tokens: 5, completion_tokens: 12, total_tokens: 17 });

  const messages = [
    { role: "system" as const, content: "the fox" },
    { role: "user" as const, content: "hello world" },
  ];
  const stream = await client.chat.completions.create({ model: "lm", messages, stream: true, max_tokens: 24, temperature: 0, stream_options: { include_usage: true } });
  let text = "";
  const roles: string[] = [];
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | null | undefined = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "chat.completion.chunk");
    if (chunk.usage) usage = chunk.usage;
    for (const ch of chunk.choices) {
      if (ch.delta.role) roles.push(ch.delta.role);
      text += ch.delta.content ?? "";
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  const prompt = ig.serve.chatPrompt(messages);
  assert.equal(prompt, "System: the fox\nUser: hello world\nAssistant:");
  const full = greedyText(paths.lm, prompt, 24);
  const cut = full.indexOf(ig.serve.CHAT_STOP);
  assert.equal(text, cut >= 0 ? full.slice(0, cut) : full);
  assert.equal(finish, cut >= 0 ? "stop" : "length");
  assert.deepEqual(roles, ["assistant"]);
  assert.equal(usage?.prompt_tokens, prompt.length);

  // n choices with a seed repeat exactly.
  const a = await client.completions.create({ model: "lm", prompt: "the", max_tokens: 6, n: 3, seed: 7 });
  const b = await client.completions.create({ model: "lm", prompt: "the", max_tokens: 6, n: 3, seed: 7 });
  assert.equal(a.choices.length, 3);
  assert.deepEqual(
    a.choices.map((x) => x.text),
    b.choices.map((x) => x.text),
  );
  assert.equal(a.usage?.completion_tokens, 18);

  await assert.rejects(client.completions.create({ model: "missing", prompt: "x" }), (e: unknown) => e instanceof OpenAI.NotFoundError && e.code === "model_not_found");
  await assert.rejects(client.chat.completions.create({ model: "lm", messages, max_tokens: 0 }), (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === "max_tokens");
  await assert.rejects(new OpenAI({ baseURL: `${base}/v1`, apiKey: "wrong", maxRetries: 0 }).models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError);
  const again = await client.chat.completions.create({ model: "lm", messages, max_tokens: 3, temperature: 0 });
  assert.equal(again.choices[0].message.role, "assistant");
  assert.equal(again.object, "chat.completion");
});

test("400 malformed JSON, then a good request succeeds", async () => {
  isError(await call(base, "/v1/models/clf/predict", { raw: '{"inputs": [[1,2' }), 400, "invalid_json");
  await predictOk();
});

test("400 wrong shapes and types, then a good request succeeds", async () => {
  isError(await call(base, "/v1/models/clf/predict", { body: { inputs: [[1, 2, 3]] } }), 400);
  isError(await call(base, "/v1/models/clf/predict", { body: { inputs: [[[1, 2], [3]]] } }), 400);
  isError(await call(base, "/v1/models/clf/predict", { body: { inputs: [[[1, 2], [3, "x"]]] } }), 400);
  const missing = await call(base, "/v1/models/clf/predict", { body: { rows: [] } });
  isError(missing, 400, "invalid_value");
  assert.equal(missing.json.error.param, "inputs");
  isError(await call(base, "/v1/completions", { body: { model: "lm", prompt: "hello", temperature: "hot" } }), 400, "invalid_value");
  isError(await call(base, "/v1/completions", { body: { model: "clf", prompt: "hello" } }), 400, "wrong_endpoint");
  isError(await call(base, "/v1/completions", { body: { model: "lm", prompt: "~~~" } }), 400); // not in the vocabulary
  await predictOk();
  assert.equal((await call(base, "/v1/completions", { body: { model: "lm", prompt: "hello", max_tokens: 2 } })).status, 200);
});

test("401 without a valid key when keys are configured, then a good request succeeds; health routes stay open", async () => {
  isError(await call(base, "/v1/models/clf/predict", { body: { inputs: [row(1)] }, key: null }), 401, "invalid_api_key");
  isError(await call(base, "/v1/models", { key: "sk-wrong" }), 401, "invalid_api_key");
  isError(await call(base, "/admin/reload", { body: {}, key: null }), 401);
  assert.equal((await call(base, "/healthz", { key: null })).status, 200);
  assert.equal((await call(base, "/readyz", { key: null })).json.status, "ready");
  await predictOk();
});

test("404 unknown model or route, then a good request succeeds", async () => {
  isError(await call(base, "/v1/models/nope/predict", { body: { inputs: [row(1)] } }), 404, "model_not_found");
  isError(await call(base, "/v1/chat/completions", { body: { model: "nope", messages: [{ role: "user", content: "hi" }] } }), 404, "model_not_found");
  isError(await call(base, "/v2/else"), 404, "not_found");
  await predictOk();
});

test("413 oversized body, then a good request succeeds", async () => {
  const big = { inputs: Array.from({ length: 12_000 }, () => row(1)) }; // ~ 170 kB > bodyLimit 100 kB
  isError(await call(base, "/v1/models/clf/predict", { body: big }), 413, "request_too_large");
  await predictOk();
});

test("429 with Retry-After when the queue is full, then a good request succeeds", async () => {
  const [s, url] = await start([`clf=${paths.clf}`], { maxQueue: 1, maxWaitMs: 250, maxBatch: 64 });
  const first = call(url, "/v1/models/clf/predict", { body: { inputs: [row(1)] } });
  while (s.models.get("clf")!.batcher!.depth < 1) await new Promise((r) => setTimeout(r, 5));
  const refused = await call(url, "/v1/models/clf/predict", { body: { inputs: [row(2)] } });
  isError(refused, 429, "rate_limit_exceeded");
  assert.ok(Number(refused.headers.get("retry-after")) >= 1);
  assert.equal((await first).status, 200);
  await predictOk(url);
  assert.equal(s.metrics.rejected.get({ model: "clf" }), 1);
});

test("504 past --timeout-ms (the generation stops), then a good request succeeds", async () => {
  const [s, url] = await start([`lm=${paths.lm}`], { timeoutMs: 300 });
  const t0 = performance.now();
  isError(await call(url, "/v1/completions", { body: { model: "lm", prompt: "hello", max_tokens: 4000 } }), 504, "timeout");
  assert.ok(performance.now() - t0 < 3000, "the timeout answered promptly");
  assert.equal(s.models.get("lm")!.gate!.active, 0, "the generation gave its slot back");
  const ok = await call(url, "/v1/completions", { body: { model: "lm", prompt: "hello", max_tokens: 3 } });
  assert.equal(ok.status, 200, ok.text);
  // A stream that times out ends with an error event, which the openai client raises.
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "none", maxRetries: 0 });
  const stream = await client.completions.create({ model: "lm", prompt: "hello", max_tokens: 4000, stream: true });
  await assert.rejects(
    (async () => {
      for await (const _ of stream);
    })(),
    (e: unknown) => e instanceof OpenAI.APIError && /--timeout-ms/.test(e.message),
  );
  // A client that goes away mid-stream stops its generation and frees the slot.
  const ac = new AbortController();
  const res = await fetch(`${url}/v1/completions`, { method: "POST", signal: ac.signal, headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "lm", prompt: "hi", max_tokens: 4000, stream: true }) });
  await res.body!.getReader().read();
  assert.equal(s.models.get("lm")!.gate!.active, 1);
  ac.abort();
  const t1 = performance.now();
  while (s.models.get("lm")!.gate!.active > 0 && performance.now() - t1 < 2000) await new Promise((r) => setTimeout(r, 10));
  assert.equal(s.models.get("lm")!.gate!.active, 0, "the generation stopped when the client left");
});

test("dynamic batching: concurrent requests share forwards and each gets its own rows; --max-batch 1 does not batch", async () => {
  const rows = Array.from({ length: 24 }, (_, i) => row(i));
  const want = expected(paths.clf, rows);
  for (const maxBatch of [64, 1]) {
    const [s, url] = await start([`clf=${paths.clf}`], { maxBatch, maxWaitMs: 40 });
    const got = await Promise.all(rows.map((r) => predictOk(url, "clf", [r])));
    got.forEach((g, i) => near(g.outputs, [want[i]]));
    const h = s.metrics.batchSize.get({ model: "clf" });
    assert.equal(h.sum, 24, "every row ran once");
    if (maxBatch === 1) assert.equal(h.count, 24);
    else {
      assert.ok(h.count < 24 && h.counts[0] < h.count, `some forward had more than one row (forwards ${h.count}, of size 1: ${h.counts[0]})`);
      const text = (await call(url, "/metrics")).text;
      assert.match(text, /^ingot_batch_size_count\{model="clf"\} (\d+)$/m);
      assert.equal(Number(/^ingot_batch_size_bucket\{model="clf",le="\+Inf"\} (\d+)$/m.exec(text)![1]), h.count);
    }
  }
});

test("reload: the admin route swaps in the folder's new weights without dropping requests in flight", async () => {
  const dir = join(paths.root, "clf2");
  const before = expected(dir, [row(1)]);
  saveClassifier(dir, 9); // new weights on disk
  const after = expected(dir, [row(1)]);
  assert.notDeepEqual(before, after);
  const inflight = Array.from({ length: 20 }, () => call(base, "/v1/models/clf2/predict", { body: { inputs: [row(1)] } }));
  const r = await call(base, "/admin/reload", { body: { models: ["clf2"] } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.reloaded, ["clf2"]);
  for (const x of await Promise.all(inflight)) assert.equal(x.status, 200, x.text);
  near((await predictOk(base, "clf2", [row(1)])).outputs, after);
  isError(await call(base, "/admin/reload", { body: { models: ["nope"] } }), 404);
});

test("metrics: Prometheus text with request counts by route and status, latency histograms, queue depth, tokens/s", async () => {
  const text = (await call(base, "/metrics", { key: null })).text;
  assert.match(text, /^# TYPE ingot_http_requests_total counter$/m);
  assert.match(text, /^ingot_http_requests_total\{route="\/v1\/models\/:name\/predict",method="POST",status="200"\} \d+$/m);
  assert.match(text, /^ingot_http_requests_total\{route="\/v1\/models\/:name\/predict",method="POST",status="413"\} 1$/m);
  assert.match(text, /^ingot_http_request_duration_seconds_bucket\{route="\/v1\/completions",le="\+Inf"\} \d+$/m);
  assert.match(text, /^ingot_queue_depth\{model="clf"\} 0$/m);
  assert.match(text, /^ingot_generated_tokens_total\{model="lm"\} \d+$/m);
  const tps = Number(/^ingot_generated_tokens_per_second\{model="lm"\} (\S+)$/m.exec(text)?.[1]);
  assert.ok(tps > 0, `tokens/s ${tps}`);
  assert.match(text, /^process_resident_memory_bytes \d+$/m);
});

test("CORS: preflight and responses carry the allowed origin", async () => {
  const [, url] = await start([`clf=${paths.clf}`], { cors: "https://app.example", apiKeys: [KEY] });
  const pre = await fetch(`${url}/v1/models/clf/predict`, {
    method: "OPTIONS",
    headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
  });
  assert.ok(pre.status === 204 || pre.status === 200, `preflight status ${pre.status}`);
  assert.equal(pre.headers.get("access-control-allow-origin"), "https://app.example");
  const r = await call(url, "/v1/models/clf/predict", { body: { inputs: [row(1)] }, headers: { origin: "https://app.example" } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("access-control-allow-origin"), "https://app.example");
  const other = await call(url, "/v1/models", { headers: { origin: "https://evil.example" } });
  assert.equal(other.headers.get("access-control-allow-origin"), null);
});
