// Per-key access control in `ingot serve`: model scopes (403, OpenAI-shaped), token-bucket rate
// limits (429 with Retry-After), the keys file format with its optional fields, reload.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as ig from "../../src/index.js";
import { AccessControl, parseKeyLine, TokenBucket } from "../../src/serve/access.js";
import { saveAll } from "./serve-fixtures.js";

let paths: ReturnType<typeof saveAll>;
let server: ig.serve.IngotServer;
let base: string;
let keysFile: string;

before(async () => {
  paths = saveAll();
  keysFile = join(paths.root, "keys.txt");
  writeFileSync(keysFile, ["# team keys", "sk-admin", "sk-clf models=clf   # predict only", "sk-lm models=lm,reg rpm=60 burst=2", ""].join("\n"));
  server = await ig.serve.createServer({ models: [`clf=${paths.clf}`, `reg=${paths.reg}`, `lm=${paths.lm}`], port: 0, log: () => {}, apiKeysFile: keysFile, apiKeys: [{ key: "sk-prog", models: ["reg"] }] });
  base = await server.listen();
});
after(async () => {
  await server.close();
  rmSync(paths.root, { recursive: true, force: true });
});

async function call(path: string, key: string, body?: unknown): Promise<{ status: number; headers: Headers; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(base + path, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

const predictClf = { inputs: [[[1, 2], [3, 4]]] };
const complete = (model: string) => ({ model, prompt: "hello", max_tokens: 2, temperature: 0 });

test("keys file lines: key alone or with models/rpm/burst; mistakes named", () => {
  assert.deepEqual(parseKeyLine("sk-a models=a,b rpm=30 burst=5", "f"), { key: "sk-a", models: ["a", "b"], rpm: 30, burst: 5 });
  assert.deepEqual(parseKeyLine("sk-b", "f"), { key: "sk-b", models: null, rpm: null, burst: null });
  assert.throws(() => parseKeyLine("sk-c rpm=0", "keys line 3"), /keys line 3: rpm must be an integer ≥ 1/);
  assert.throws(() => parseKeyLine("sk-c modles=a", "f"), /unknown field 'modles=a'/);
  assert.throws(() => parseKeyLine("sk-c burst=3", "f"), /burst= needs rpm=/);
});

test("token bucket: a burst, then one request per 60/rpm seconds", () => {
  let now = 0;
  const b = new TokenBucket(60, 2, () => now);
  assert.equal(b.take(), 0);
  assert.equal(b.take(), 0);
  assert.equal(b.take(), 1); // empty: one token per second at 60 rpm
  now = 500;
  assert.equal(b.take(), 0.5);
  now = 1000;
  assert.equal(b.take(), 0);
  now = 100_000; // a long quiet spell refills to the burst, not beyond
  assert.equal(b.take(), 0);
  assert.equal(b.take(), 0);
  assert.ok(b.take() > 0);
});

test("a scoped key gets its models and 403 (OpenAI-shaped) for the others", async () => {
  const ok = await call("/v1/models/clf/predict", "sk-clf", predictClf);
  assert.equal(ok.status, 200);
  assert.equal(ok.json.predictions.length, 1);
  const no = await call("/v1/models/reg/predict", "sk-clf", { inputs: [[1, 2, 3]] });
  assert.equal(no.status, 403);
  assert.deepEqual(no.json, { error: { message: "this API key may not use the model 'reg'; it may use 'clf'", type: "invalid_request_error", param: "model", code: "model_not_allowed" } });
  // The model named in a completion body is checked the same way, before the body is validated.
  assert.equal((await call("/v1/completions", "sk-clf", complete("lm"))).status, 403);
  assert.equal((await call("/v1/completions", "sk-clf", { model: "lm" })).status, 403);
  assert.equal((await call("/v1/models/lm", "sk-clf")).status, 403);
  // Keys given programmatically carry scopes too.
  assert.equal((await call("/v1/models/reg/predict", "sk-prog", { inputs: [[1, 2, 3]] })).status, 200);
  assert.equal((await call("/v1/models/clf/predict", "sk-prog", predictClf)).status, 403);
  // An unscoped key uses every model and the admin routes; a scoped one may not reload.
  assert.equal((await call("/v1/models/reg/predict", "sk-admin", { inputs: [[1, 2, 3]] })).status, 200);
  assert.equal((await call("/admin/reload", "sk-clf", { models: ["clf"] })).status, 403);
  assert.equal((await call("/admin/reload", "sk-admin", { models: ["clf"] })).status, 200);
  assert.equal((await call("/v1/models/clf/predict", "sk-nope", predictClf)).status, 401);
});

test("a rate-limited key gets 429 with Retry-After once its bucket is empty; other keys are unaffected", async () => {
  // Cheap requests (GET /v1/models/lm), so that the bucket does not refill between them on a slow machine.
  const r1 = await call("/v1/models/lm", "sk-lm");
  const r2 = await call("/v1/models/lm", "sk-lm");
  assert.equal(r1.status, 200);
  assert.equal(r2.status, 200);
  const r3 = await call("/v1/models/lm", "sk-lm");
  assert.equal(r3.status, 429);
  assert.equal(r3.headers.get("retry-after"), "1"); // 60 rpm: a token a second (whole seconds, rounded up)
  assert.equal(r3.json.error.type, "rate_limit_error");
  assert.equal(r3.json.error.code, "rate_limit_exceeded");
  assert.match(r3.json.error.message, /60 requests per minute \(burst 2\)/);
  assert.equal((await call("/v1/models/lm", "sk-admin")).status, 200);
  await new Promise((r) => setTimeout(r, 1100)); // a second refills one token
  assert.equal((await call("/v1/completions", "sk-lm", complete("lm"))).status, 200);
});

test("reload reads the keys file again with its new scopes", async () => {
  writeFileSync(keysFile, "sk-admin\nsk-clf models=reg\n");
  const r = await call("/admin/reload", "sk-admin", {});
  assert.equal(r.status, 200);
  assert.equal((await call("/v1/models/clf/predict", "sk-clf", predictClf)).status, 403);
  assert.equal((await call("/v1/models/reg/predict", "sk-clf", { inputs: [[1, 2, 3]] })).status, 200);
  assert.equal((await call("/v1/models/reg/predict", "sk-lm", { inputs: [[1, 2, 3]] })).status, 401); // removed from the file
});

test("AccessControl compares keys by digest and finds the right entry", () => {
  const a = new AccessControl();
  a.setKeys(["k1", { key: "k2", models: ["m"] }]);
  assert.equal(a.find("k1")!.policy.models, null);
  assert.deepEqual(a.find("k2")!.policy.models, ["m"]);
  assert.equal(a.find("k3"), undefined);
  assert.throws(() => a.setKeys([""]), /API key is empty/);
});
