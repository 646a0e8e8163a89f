// `ingot serve` as a child process: SIGHUP reloads; SIGTERM under load lets requests in flight finish,
// refuses new ones, and exits 0.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import { rmSync } from "node:fs";
import { saveAll } from "../unit/serve-fixtures.js";

const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
let paths: ReturnType<typeof saveAll>;

before(() => {
  paths = saveAll();
});
after(() => rmSync(paths.root, { recursive: true, force: true }));

interface Served {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `ingot serve` on a free port and waits for its "listening on" line. */
function serve(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [bin, "serve", ...args, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return new Promise((resolve, reject) => {
    const fail = setTimeout(() => reject(new Error(`ingot serve did not start: ${out}${err}`)), 20_000);
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(fail);
        resolve({ child, url: m[1], stderr: () => err, exited });
      }
    });
    void exited.then((code) => reject(new Error(`ingot serve exited with ${code}: ${err}`)));
  });
}

const post = (url: string, path: string, body: unknown) => fetch(url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** A request on a new connection (no keep-alive pool): its status, or the connection error's code. */
function fresh(url: string, path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(url + path, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

const until = async (cond: () => boolean, ms = 10_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
};

test("SIGHUP reloads; SIGTERM under load: requests in flight complete, new connections are refused, exit code 0", async () => {
  const s = await serve([`clf=${paths.clf}`, `lm=${paths.lm}`, "--max-wait-ms", "3000", "--max-batch", "64"]);
  s.child.kill("SIGHUP");
  await until(() => s.stderr().includes("reloaded 'lm'"));
  assert.match(await (await fetch(`${s.url}/metrics`)).text(), /^ingot_model_reloads_total\{model="clf",result="ok"\} 1$/m);

  // Three streamed generations, each read until its first token arrives (so they are in flight).
  const streams = await Promise.all(
    [1, 2, 3].map(async (seed) => {
      const res = await post(s.url, "/v1/completions", { model: "lm", prompt: "hello", max_tokens: 100, seed, stream: true, stream_options: { include_usage: true } });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      let text = "";
      while (!text.includes('"text"')) text += new TextDecoder().decode((await reader.read()).value);
      return { reader, text };
    }),
  );
  // Predict requests that wait in the batcher (--max-wait-ms 3000): shutdown must run them, not drop them.
  const predicts = Array.from({ length: 8 }, (_, i) =>
    post(s.url, "/v1/models/clf/predict", { inputs: [[i, 1, 2, 3]] }).then(
      async (r) => {
        const text = await r.text();
        return [r.status, (JSON.parse(text) as { outputs?: number[][] }).outputs?.length ?? text];
      },
      (e: Error & { cause?: Error }) => [`${e.message}: ${e.cause?.message}`, s.stderr()],
    ),
  );
  // SIGTERM once all eight wait in the server's queue (a request still in the socket buffer is a new one).
  const depth = async () => Number(/^ingot_queue_depth\{model="clf"\} (\d+)$/m.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1] ?? 0);
  while ((await depth()) < 8) await new Promise((r) => setTimeout(r, 20));
  const t0 = Date.now();
  s.child.kill("SIGTERM");
  await until(() => s.stderr().includes("SIGTERM"));
  await new Promise((r) => setTimeout(r, 100));
  const refused = await fresh(s.url, "/healthz");
  assert.ok(refused === "ECONNREFUSED" || refused === 503, `a new request after SIGTERM got ${refused}`);

  for (const p of await Promise.all(predicts)) assert.deepEqual(p, [200, 1]);
  for (const st of streams) {
    for (;;) {
      const { value, done } = await st.reader.read();
      if (done) break;
      st.text += new TextDecoder().decode(value);
    }
    assert.ok(st.text.endsWith("data: [DONE]\n\n"), "the stream ran to its end");
    const usage = st.text
      .split("\n\n")
      .filter((e) => e.startsWith("data: {"))
      .map((e) => JSON.parse(e.slice(6)))
      .find((e) => e.usage)?.usage;
    assert.equal(usage?.completion_tokens, 100);
  }
  assert.equal(await s.exited, 0);
  assert.ok(Date.now() - t0 < 20_000);
});
