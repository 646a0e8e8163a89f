// `ingot fl server` and three `ingot fl client` processes on localhost: 2 rounds of FedAvg with secure
// aggregation on a small non-IID MNIST subset; the saved model must beat the initial one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ingot from "../../src/index.js";
import * as fl from "../../src/federated/index.js";

const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const data = process.env.INGOT_DATA;
const skip = data && existsSync(join(data, "mnist")) ? false : "set INGOT_DATA to a folder holding mnist/ to run this test";

interface Proc {
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
  kill: () => void;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [bin, "fl", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, INGOT_NUM_THREADS: "1" } });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  return { out: () => out, err: () => err, exited: new Promise((r) => child.on("exit", (c) => r(c))), kill: () => child.kill("SIGKILL") };
}

async function waitFor(p: Proc, re: RegExp, ms: number): Promise<RegExpExecArray> {
  const t0 = Date.now();
  for (;;) {
    const m = re.exec(p.out() + p.err());
    if (m) return m;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${re}: ${p.out()}${p.err()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("ingot fl: a server and 3 clients, secure aggregation, 2 rounds; the model improves", { skip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "ingot-fl-"));
  const out = join(dir, "model");
  const procs: Proc[] = [];
  try {
    const server = start(["server", "--rounds", "2", "--min-clients", "3", "--port", "0", "--secure-agg", "--lr", "0.05", "--test-limit", "1000", "--out", out, "--json", "--round-timeout", "90"]);
    procs.push(server);
    const url = (await waitFor(server, /listening on (http:\/\/\S+);/, 30_000))[1];
    for (let i = 0; i < 3; i++)
      procs.push(start(["client", "--server", url, "--client-id", String(i), "--num-clients", "3", "--partition", "dirichlet:0.5", "--limit", "3000", "--json"]));
    const codes = await Promise.all(procs.map((p) => p.exited));
    assert.deepEqual(codes, [0, 0, 0, 0], procs.map((p) => p.err()).join("\n"));
    const result = JSON.parse(server.out().trim().split("\n").pop()!);
    assert.equal(result.history.length, 2);
    assert.deepEqual(result.history[0].received, [0, 1, 2]);
    assert.ok(result.test_accuracy > result.initial_test_accuracy + 0.3, `accuracy ${result.initial_test_accuracy} → ${result.test_accuracy}`);
    for (let i = 1; i <= 3; i++) assert.deepEqual(JSON.parse(procs[i].out().trim().split("\n").pop()!).rounds, [1, 2]);
    // The saved folder is a Keras model folder: loading it and evaluating repeats the server's figure.
    const model = ingot.keras.loadModel(out);
    const test = fl.loadImageData({ root: data, limit: 0, testLimit: 1000 }).test;
    const ev = fl.evaluate(model, test);
    assert.ok(Math.abs(ev.accuracy - result.test_accuracy) < 1e-9, `reloaded ${ev.accuracy} vs ${result.test_accuracy}`);
    assert.ok(!existsSync(`${out}.tmp-${process.pid}`));
  } finally {
    for (const p of procs) p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("ingot fl: clear errors for a bad command line and an unreachable server", { timeout: 60_000 }, async () => {
  const bad = start(["server", "--strategy", "fedsgd"]);
  assert.equal(await bad.exited, 2);
  assert.match(bad.err(), /--strategy must be fedavg, fedprox or fedadam, got 'fedsgd'/);
  const noId = start(["client", "--server", "http://127.0.0.1:1"]);
  assert.equal(await noId.exited, 2);
  assert.match(noId.err(), /--client-id I and --num-clients N are required/);
  if (skip) return;
  const lost = start(["client", "--server", "http://127.0.0.1:1", "--client-id", "0", "--num-clients", "2", "--limit", "100", "--connect-timeout", "1"]);
  assert.equal(await lost.exited, 1);
  assert.match(lost.err(), /cannot reach the server at http:\/\/127\.0\.0\.1:1 .*is 'ingot fl server' running there\?/);
});
