// Distributed training across two "hosts": two Linux network namespaces joined by a veth pair
// (10.77.<n>.1 and 10.77.<n>.2), one `ingot run --nnodes 2` per namespace, Gloo over TCP between
// them. The result must equal the one-process run with the doubled batch (the DDP must-show). Needs
// root (CAP_NET_ADMIN) and iproute2; skips saying so otherwise. The namespaces are always removed.
// Also: killing one rank ends the other (started without the launcher) with Gloo's clear error
// within 30 s.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, isGlooAvailable } from "../../src/distributed/index.js";

const worker = new URL("../unit/distributed-worker.js", import.meta.url).pathname;
const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "ingot-dist-e2e-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

const tag = `${process.pid % 10000}`;
const nsA = `ingot-a-${tag}`;
const nsB = `ingot-b-${tag}`;
const vethA = `ig${tag}a`;
const vethB = `ig${tag}b`;
const subnet = `10.77.${process.pid % 250}`;

function ip(...args: string[]): { ok: boolean; err: string } {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  return { ok: r.status === 0, err: (r.stderr || r.error?.message || "").trim() };
}

/** Why the namespace test cannot run here, or false. */
function netnsUnavailable(): string | false {
  if (!isGlooAvailable()) return "the Gloo addon is not built";
  if (process.platform !== "linux") return "network namespaces are Linux only";
  const probe = `ingot-probe-${tag}`;
  const r = ip("netns", "add", probe);
  if (!r.ok) return `cannot create a network namespace (needs root / CAP_NET_ADMIN and iproute2): ${r.err}`;
  ip("netns", "del", probe);
  return false;
}

function cleanup(): void {
  ip("netns", "del", nsA);
  ip("netns", "del", nsB);
  ip("link", "del", vethA);
}

function setup(): void {
  const steps: string[][] = [
    ["netns", "add", nsA],
    ["netns", "add", nsB],
    ["link", "add", vethA, "type", "veth", "peer", "name", vethB],
    ["link", "set", vethA, "netns", nsA],
    ["link", "set", vethB, "netns", nsB],
    ["-n", nsA, "addr", "add", `${subnet}.1/24`, "dev", vethA],
    ["-n", nsB, "addr", "add", `${subnet}.2/24`, "dev", vethB],
    ["-n", nsA, "link", "set", vethA, "up"],
    ["-n", nsB, "link", "set", vethB, "up"],
    ["-n", nsA, "link", "set", "lo", "up"],
    ["-n", nsB, "link", "set", "lo", "up"],
  ];
  for (const s of steps) {
    const r = ip(...s);
    if (!r.ok) throw new Error(`ip ${s.join(" ")}: ${r.err}`);
  }
}

function run(cmd: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const t0 = Date.now();
  const child = spawn(cmd[0], cmd.slice(1), { env: { ...process.env, INGOT_NUM_THREADS: "1", ...env } });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, out, err, ms: Date.now() - t0 })));
}

const skip = netnsUnavailable();

test("two hosts (network namespaces + veth): ingot run --nnodes 2 trains like one process with the doubled batch", { skip, timeout: 90000 }, async () => {
  cleanup();
  try {
    setup();
    const one = join(tmp, "one.json");
    const two = join(tmp, "two.json");
    const single = await run([process.execPath, worker, "train", JSON.stringify({ out: one, batch: 8, steps: 20 })]);
    assert.equal(single.code, 0, single.err);
    const master = `${subnet}.1:29555`;
    const node = (ns: string, rank: number) =>
      run(["ip", "netns", "exec", ns, process.execPath, bin, "run", "--nnodes", "2", "--node-rank", String(rank), "--nproc-per-node", "1", "--master", master, worker, "train", JSON.stringify({ out: two, batch: 4, steps: 20 })]);
    const [a, b] = await Promise.all([node(nsA, 0), node(nsB, 1)]);
    assert.equal(a.code, 0, `node 0: ${a.err}`);
    assert.equal(b.code, 0, `node 1: ${b.err}`);
    const p1 = JSON.parse(readFileSync(one, "utf8")) as number[][];
    const p2 = JSON.parse(readFileSync(two, "utf8")) as number[][];
    let d = 0;
    p1.forEach((p, i) => p.forEach((v, j) => (d = Math.max(d, Math.abs(v - p2[i][j])))));
    assert.ok(d <= 1e-5, `max |Δparam| between the namespaces' run and one process: ${d}`);
    // The namespaces cannot reach each other except over the veth: the traffic really crossed it.
    const stats = spawnSync("ip", ["-n", nsA, "-s", "link", "show", vethA], { encoding: "utf8" }).stdout;
    const tx = Number(/TX:[^\n]*\n\s*(\d+)/.exec(stats)?.[1] ?? 0);
    assert.ok(tx > 20 * 1000, `bytes sent over ${vethA}: ${tx}`);
  } finally {
    cleanup();
  }
});

test("killing one rank ends the other with a clear error within 30 s (no launcher)", { skip: isGlooAvailable() ? false : "the Gloo addon is not built", timeout: 60000 }, async () => {
  const port = String(await freePort());
  const env = (rank: number) => ({ RANK: String(rank), WORLD_SIZE: "2", MASTER_ADDR: "127.0.0.1", MASTER_PORT: port });
  const opts = JSON.stringify({ dieAt: 1, timeoutMs: 120000 });
  const [r0, r1] = await Promise.all([run([process.execPath, worker, "forever", opts], env(0)), run([process.execPath, worker, "forever", opts], env(1))]);
  assert.equal(r1.code, null, "rank 1 was killed by its signal");
  assert.equal(r0.code, 1, r0.err);
  assert.match(r0.err, /allReduce failed on rank 0 of 2: .*(Connection closed by peer|Connection reset).*another rank exited or lost its connection/);
  assert.ok(r0.ms < 30000, `rank 0 ended after ${r0.ms} ms`);
});
