// Load test of `ingot serve` (not a timed test): mnist-mlp predict with single-row requests over 64
// connections, --max-batch 1 against dynamic batching in the same run, then tokens/s of concurrent
// streamed generations. Writes bench/results/serve.json.
//
//   node dist/bench/serve-load.js [--model DIR] [--lm DIR] [--requests 10000] [--connections 64] [--streams 8] [--tokens 200]
//
// DIR defaults to runs/mnist-mlp (train it: INGOT_DATA=../shared/data node dist/src/cli/main.js train mnist-mlp).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as ig from "../src/index.js";
import { check, ingotVersions, packageVersion, printTable, ROOT, writeResult } from "./common.js";

interface CannonResult {
  duration: number;
  latency: { p50: number; p99: number; mean: number };
  "2xx": number;
  "4xx": number;
  "5xx": number;
  non2xx: number;
  errors: number;
  timeouts: number;
  resets: number;
}
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;

const { values: a } = parseArgs({
  options: {
    model: { type: "string", default: "runs/mnist-mlp" },
    lm: { type: "string" },
    requests: { type: "string", default: "10000" },
    connections: { type: "string", default: "64" },
    streams: { type: "string", default: "8" },
    tokens: { type: "string", default: "200" },
    "max-batch": { type: "string", default: "32" },
    "max-wait-ms": { type: "string", default: "2" },
  },
});
const REQUESTS = Number(a.requests);
const CONNECTIONS = Number(a.connections);
const STREAMS = Number(a.streams);
const TOKENS = Number(a.tokens);

interface Server {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

/** Starts `ingot serve` in its own process (the load generator must not share its event loop). */
function serve(args: string[]): Promise<Server> {
  const child = spawn(process.execPath, [join(ROOT, "dist/src/cli/main.js"), "serve", ...args, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<number | null>((r) => child.on("exit", r));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1], exited });
    });
    void exited.then((code) => reject(new Error(`ingot serve exited with ${code} before listening`)));
  });
}

async function stop(s: Server): Promise<number | null> {
  s.child.kill("SIGTERM");
  return s.exited;
}

/** The server's resident memory, read after a second without load (the last responses settle). */
const settledRss = async (url: string) => {
  await new Promise((r) => setTimeout(r, 1000));
  return rss(url);
};
const rss = async (url: string) => Number(/^process_resident_memory_bytes (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text())![1]);

/** Single-row request bodies: MNIST test images when INGOT_DATA has them, else seeded noise. */
function bodies(): { bodies: string[]; source: string } {
  const root = process.env.INGOT_DATA;
  let images: number[][];
  let source: string;
  if (root && existsSync(join(root, "mnist"))) {
    const t = ig.loadMnist({ root }).test.images;
    images = Array.from({ length: 32 }, (_, i) => Array.from(t.select(0, i).reshape([784]).to("float32").dataSync()));
    source = "MNIST test images 0-31";
  } else {
    const g = new ig.Generator(0);
    images = Array.from({ length: 32 }, () => Array.from({ length: 784 }, () => Math.floor(g.random() * 256)));
    source = "seeded random pixels (INGOT_DATA not set)";
  }
  return { bodies: images.map((im) => JSON.stringify({ inputs: [im] })), source };
}

async function predictLoad(cannon: Cannon, dir: string, maxBatch: number, maxWaitMs: number, b: string[]) {
  const s = await serve([`mnist=${dir}`, "--max-batch", String(maxBatch), "--max-wait-ms", String(maxWaitMs), "--max-queue", "4096"]);
  try {
    // Validate before timing: the served outputs are the model's own.
    const x = JSON.parse(b[0]).inputs as number[][];
    const res = (await (await fetch(`${s.url}/v1/models/mnist/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: b[0] })).json()) as { outputs: number[][] };
    const card = JSON.parse(readFileSync(join(dir, "card.json"), "utf8")) as { preprocessing?: { divide?: number } };
    const want = (ig.keras.loadModel(dir).predict(ig.tensor(x).div(card.preprocessing?.divide ?? 1).reshape([1, 28, 28])) as ig.Tensor).dataSync();
    check(res.outputs[0].every((v, i) => Math.abs(v - want[i]) < 1e-5), "served outputs equal keras predict");
    const opts = { url: `${s.url}/v1/models/mnist/predict`, connections: CONNECTIONS, method: "POST", headers: { "content-type": "application/json" }, requests: b.map((body) => ({ method: "POST", body })) };
    // Warm-up with as many requests as the measured run: JIT, kernels, sockets, and the heap grown to
    // its working size, so that the growth below compares two equal runs (a leak shows as growth).
    await cannon({ ...opts, amount: REQUESTS });
    const before = await settledRss(s.url);
    const r = await cannon({ ...opts, amount: REQUESTS });
    const after = await settledRss(s.url);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    const forwards = Number(/^ingot_batch_size_count\{model="mnist"\} (\d+)$/m.exec(metrics)![1]);
    const rows = Number(/^ingot_batch_size_sum\{model="mnist"\} (\d+)$/m.exec(metrics)![1]);
    const code = await stop(s);
    return {
      max_batch: maxBatch,
      max_wait_ms: maxWaitMs,
      requests: r["2xx"] + r.non2xx,
      requests_per_second: (r["2xx"] + r.non2xx) / r.duration,
      latency_ms: { p50: r.latency.p50, p99: r.latency.p99, mean: r.latency.mean },
      status_2xx: r["2xx"],
      status_4xx: r["4xx"],
      status_5xx: r["5xx"],
      errors: r.errors,
      timeouts: r.timeouts,
      resets: r.resets,
      rss_before_mb: before / 2 ** 20,
      rss_after_mb: after / 2 ** 20,
      rss_growth: after / before - 1,
      mean_rows_per_forward: rows / forwards,
      exit_code: code,
    };
  } catch (e) {
    s.child.kill("SIGKILL");
    throw e;
  }
}

/** A GPT folder to generate with: --lm, or a small random GPT with a character tokenizer. */
function lmFolder(): { dir: string; desc: string; cleanup: () => void } {
  if (a.lm) return { dir: a.lm, desc: a.lm, cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), "ingot-serve-bench-"));
  const root = process.env.INGOT_DATA;
  const text = root && existsSync(join(root, "tinyshakespeare/input.txt")) ? readFileSync(join(root, "tinyshakespeare/input.txt"), "utf8") : "ROMEO: the quick brown fox jumps over the lazy dog.\nJULIET: ";
  const tok = ig.text.trainChar(text);
  ig.manualSeed(0);
  const config = { vocabSize: tok.vocabSize, blockSize: 256, nLayer: 4, nHead: 4, nEmbd: 128 };
  ig.models.saveGPT(dir, new ig.models.GPT(config), { tokenizer: tok });
  return { dir, desc: `random-weight GPT ${JSON.stringify(config)}, character tokenizer`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** n streamed completions at once: tokens/s over all of them, and the time to the first token. */
async function streamLoad(url: string, n: number) {
  const t0 = performance.now();
  const one = async (seed: number) => {
    const res = await fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "lm", prompt: "ROMEO:", max_tokens: TOKENS, seed, temperature: 0.8, stream: true, stream_options: { include_usage: true } }),
    });
    check(res.status === 200, `stream status ${res.status}`);
    let text = "";
    let first = 0;
    const dec = new TextDecoder();
    for await (const chunk of res.body!) {
      if (!first) first = performance.now() - t0;
      text += dec.decode(chunk as Uint8Array, { stream: true });
    }
    check(text.endsWith("data: [DONE]\n\n"), "the stream ends with [DONE]");
    const usage = text
      .split("\n\n")
      .filter((e) => e.startsWith("data: {"))
      .map((e) => JSON.parse(e.slice(6)) as { usage?: { completion_tokens: number } })
      .find((e) => e.usage)!.usage!;
    return { tokens: usage.completion_tokens, firstMs: first };
  };
  const rs = await Promise.all(Array.from({ length: n }, (_, i) => one(i + 1)));
  const seconds = (performance.now() - t0) / 1000;
  const tokens = rs.reduce((s, r) => s + r.tokens, 0);
  return { streams: n, tokens, seconds, tokens_per_second: tokens / seconds, first_token_ms_max: Math.max(...rs.map((r) => r.firstMs)) };
}

async function main(): Promise<void> {
  if (!existsSync(join(a.model!, "config.json"))) {
    console.error(`bench serve: ${a.model} is not a model folder; train one: INGOT_DATA=../shared/data node dist/src/cli/main.js train mnist-mlp --out ${a.model}`);
    process.exit(2);
  }
  const cannon = ((await import("autocannon" as string)) as { default: Cannon }).default;
  const { bodies: b, source } = bodies();
  const single = await predictLoad(cannon, a.model!, 1, 0, b);
  const batched = await predictLoad(cannon, a.model!, Number(a["max-batch"]), Number(a["max-wait-ms"]), b);
  printTable(
    `mnist-mlp predict, 1 row per request, ${CONNECTIONS} connections, ${REQUESTS} requests (${source})`,
    ["server", "req/s", "p50 ms", "p99 ms", "rows/forward", "5xx", "errors", "RSS growth"],
    [single, batched].map((r) => [
      `--max-batch ${r.max_batch} --max-wait-ms ${r.max_wait_ms}`,
      r.requests_per_second.toFixed(0),
      r.latency_ms.p50,
      r.latency_ms.p99,
      r.mean_rows_per_forward.toFixed(1),
      r.status_5xx,
      r.errors + r.timeouts + r.resets,
      `${(100 * r.rss_growth).toFixed(1)} %`,
    ]),
  );
  const speedup = batched.requests_per_second / single.requests_per_second;
  console.log(`dynamic batching: ${speedup.toFixed(2)}x the requests/s of --max-batch 1`);

  const lm = lmFolder();
  const s = await serve([`lm=${lm.dir}`, "--max-generations", String(STREAMS)]);
  let gen;
  try {
    await streamLoad(s.url, 1); // warm-up
    const alone = await streamLoad(s.url, 1);
    const together = await streamLoad(s.url, STREAMS);
    gen = { model: lm.desc, max_tokens: TOKENS, one_stream: alone, concurrent: together };
  } finally {
    await stop(s);
    lm.cleanup();
  }
  printTable(`streamed generation, ${TOKENS} tokens per stream (${lm.desc})`, ["streams", "tokens", "seconds", "tokens/s", "first token ms (max)"], [gen.one_stream, gen.concurrent].map((r) => [r.streams, r.tokens, r.seconds.toFixed(2), r.tokens_per_second.toFixed(0), r.first_token_ms_max.toFixed(0)]));

  const ok = [single, batched].every((r) => r.status_5xx === 0 && r.errors === 0 && r.timeouts === 0 && r.resets === 0 && r.rss_growth < 0.1 && r.exit_code === 0);
  const file = writeResult("serve", {
    versions: { ...ingotVersions(), fastify: packageVersion("fastify"), autocannon: packageVersion("autocannon") },
    predict: { model: a.model, inputs: source, connections: CONNECTIONS, max_batch_1: single, dynamic_batching: batched, speedup },
    generation: gen,
    must_show: { zero_5xx_zero_dropped_rss_under_10pct: ok, batching_faster: speedup > 1 },
  });
  console.log(`\nwrote ${file}`);
  if (!ok || speedup <= 1) process.exitCode = 1;
}

await main();
