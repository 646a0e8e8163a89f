// ingot.distributed: post-accumulate-grad hooks, DistributedSampler (+ DataLoader), the TCP store,
// `ingot run`'s arguments, and — with the Gloo addon built — the collectives across two processes
// and DistributedDataParallel's must-show: two processes with batch B per rank end with the same
// parameters after 20 steps as one process with batch 2B (to 1e-5), with and without noSync.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ig from "../../src/index.js";
import * as dist from "../../src/distributed/index.js";
import { parseRunArgs } from "../../src/cli/run.js";

const worker = new URL("./distributed-worker.js", import.meta.url).pathname;
const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "ingot-dist-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const noGloo = dist.isGlooAvailable() ? false : "the Gloo addon is not built (install libgloo-dev, then node scripts/build-native.mjs)";

test("post-accumulate-grad hook: once per backward, after the last contribution, removable", () => {
  const w = ig.tensor([1, 2, 3], { requiresGrad: true });
  const seen: number[][] = [];
  const h = w.registerPostAccumulateGradHook((t) => seen.push(Array.from(t.grad!.dataSync())));
  // w is used twice: the hook must see the sum of both contributions, once.
  w.mul(2).sum().add(w.mul(w).sum()).backward();
  assert.deepEqual(seen, [[4, 6, 8]]);
  w.mul(3).sum().backward(); // accumulates into .grad: the hook sees the total
  assert.deepEqual(seen[1], [7, 9, 11]);
  h.remove();
  w.sum().backward();
  assert.equal(seen.length, 2);
  assert.throws(() => w.mul(2).registerPostAccumulateGradHook(() => {}), /only a leaf tensor/);
  assert.throws(() => ig.tensor([1]).registerPostAccumulateGradHook(() => {}), /only a leaf tensor/);
});

test("post-accumulate-grad hook: leaves fire in backward order, the root leaf too", () => {
  const a = ig.tensor([1, 2], { requiresGrad: true });
  const b = ig.tensor([3, 4], { requiresGrad: true });
  const order: string[] = [];
  a.registerPostAccumulateGradHook(() => order.push("a"));
  b.registerPostAccumulateGradHook(() => order.push("b"));
  // b enters the graph last, so its gradient is ready first.
  a.exp().sum().mul(b.sum()).backward();
  assert.deepEqual(order.sort(), ["a", "b"]);
  const c = ig.tensor([5], { requiresGrad: true });
  let fired = 0;
  c.registerPostAccumulateGradHook(() => fired++);
  c.backward();
  assert.equal(fired, 1);
});

test("DistributedSampler: torch's split — disjoint, padded to equal length, seed+epoch shuffle", () => {
  const n = 10;
  const parts = [0, 1, 2].map((rank) => new dist.DistributedSampler(n, { numReplicas: 3, rank, seed: 3 }));
  assert.ok(parts.every((p) => p.length === 4));
  const all = parts.flatMap((p) => p.indices());
  assert.equal(all.length, 12);
  assert.deepEqual([...new Set(all)].sort((x, y) => x - y), [...Array(n).keys()]); // every sample, 2 repeated
  // The interleaving of torch: rank r takes positions r, r+3, … of one permutation shared by all.
  const perm = [0, 1, 2, 3].flatMap((i) => parts.map((p) => p.indices()[i]));
  assert.deepEqual(perm.slice(10), perm.slice(0, 2)); // padding repeats the start
  const e0 = parts[0].indices();
  parts[0].setEpoch(1);
  assert.notDeepEqual(parts[0].indices(), e0);
  parts[0].setEpoch(0);
  assert.deepEqual(parts[0].indices(), e0);
  assert.deepEqual(new dist.DistributedSampler(n, { numReplicas: 3, rank: 1, shuffle: false }).indices(), [1, 4, 7, 0]); // padded with 0, 1
  const dropped = new dist.DistributedSampler(n, { numReplicas: 3, rank: 0, shuffle: false, dropLast: true });
  assert.deepEqual(dropped.indices(), [0, 3, 6]);
  assert.throws(() => new dist.DistributedSampler(n, { numReplicas: 2, rank: 2 }), /invalid rank 2/);
});

test("DataLoader with a DistributedSampler batches this rank's indices", () => {
  const ds = new ig.data.TensorDataset(ig.arange(10).reshape([10, 1]));
  const sampler = new dist.DistributedSampler(ds, { numReplicas: 2, rank: 1, shuffle: false });
  const loader = new ig.data.DataLoader(ds, { batchSize: 2, sampler });
  assert.equal(loader.length, 3);
  const seen = [...loader].flatMap((b) => Array.from((b as ig.Tensor[])[0].dataSync()));
  assert.deepEqual(seen, [1, 3, 5, 7, 9]);
  assert.throws(() => new ig.data.DataLoader(ds, { sampler, shuffle: true }), /mutually exclusive/);
});

test("TCPStore: set/get/add/check/wait with timeouts, between two clients", async () => {
  const master = await dist.TCPStore.create({ host: "127.0.0.1", port: 0, isMaster: true, timeoutMs: 2000 });
  const client = await dist.TCPStore.create({ host: "127.0.0.1", port: master.port, timeoutMs: 2000 });
  try {
    const later = client.get("k"); // waits for the key
    await master.set("k", "v1");
    assert.equal((await later).toString(), "v1");
    assert.equal(await client.add("n", 3), 3);
    assert.equal(await master.add("n", -1), 2);
    assert.equal(await client.check(["k", "n"]), true);
    assert.equal(await client.check(["k", "absent"]), false);
    await assert.rejects(client.get("absent", 200), /timed out after 200 ms waiting for key 'absent'/);
    await assert.rejects(client.wait(["k", "absent"], 200), /timed out/);
    assert.equal(await client.deleteKey("k"), true);
    assert.equal(await client.check(["k"]), false);
  } finally {
    await client.close();
    await master.close();
  }
  await assert.rejects(dist.TCPStore.create({ host: "127.0.0.1", port: master.port, timeoutMs: 300 }), /could not connect to 127\.0\.0\.1:\d+ within 300 ms/);
});

test("initProcessGroup: clear errors for nccl, missing settings and bad ranks", async () => {
  await assert.rejects(dist.initProcessGroup({ backend: "nccl" }), /needs the CUDA backend/);
  const saved = { ...process.env };
  delete process.env.RANK;
  delete process.env.WORLD_SIZE;
  try {
    await assert.rejects(dist.initProcessGroup({}), /rank is not set; pass it or set RANK/);
    await assert.rejects(dist.initProcessGroup({ rank: 2, worldSize: 2, masterAddr: "127.0.0.1", masterPort: 1 }), /rank must be an integer in \[0, 2\)/);
  } finally {
    Object.assign(process.env, saved);
  }
  assert.equal(dist.isInitialized(), false);
  assert.equal(dist.getWorldSize(), 1);
  assert.throws(() => new dist.DistributedDataParallel(new ig.nn.Linear(2, 2)), /not initialized; call await initProcessGroup/);
});

test("ingot run: options before the script, the rest to the script", () => {
  const a = parseRunArgs(["--nproc-per-node", "2", "--nnodes=2", "--node-rank", "1", "--master", "10.0.0.1:29501", "s.js", "--epochs", "3"]);
  assert.ok(a !== "help");
  assert.deepEqual([a.nprocPerNode, a.nnodes, a.nodeRank, a.masterAddr, a.masterPort, a.script, a.scriptArgs], [2, 2, 1, "10.0.0.1", 29501, "s.js", ["--epochs", "3"]]);
  assert.throws(() => parseRunArgs(["--nproc-per-node", "0", "s.js"]), /--nproc-per-node must be an integer ≥ 1/);
  assert.throws(() => parseRunArgs(["--master", "nohost", "s.js"]), /--master must be ADDR:PORT/);
  assert.throws(() => parseRunArgs(["--nnodes", "2", "--node-rank", "2", "s.js"]), /--node-rank must be in \[0, 2\)/);
  assert.throws(() => parseRunArgs(["--nproc-per-node", "2"]), /name the script/);
  const s = parseRunArgs(["--standalone", "--nproc-per-node", "3", "x.js"]);
  assert.ok(s !== "help" && s.masterPort === null);
});

/** `ingot run --standalone --nproc-per-node n worker mode opts`: exit code, stdout, stderr. */
function runWorkers(n: number, mode: string, opts: object, extra: string[] = []): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [bin, "run", "--standalone", ...extra, "--nproc-per-node", String(n), worker, mode, JSON.stringify(opts)], { env: { ...process.env, INGOT_NUM_THREADS: "1" } });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, out, err, ms: Date.now() - t0 })));
}

function runSingle(mode: string, opts: object): Promise<number | null> {
  const child = spawn(process.execPath, [worker, mode, JSON.stringify(opts)], { stdio: "inherit", env: { ...process.env, WORLD_SIZE: "1", INGOT_NUM_THREADS: "1" } });
  return new Promise((resolve) => child.on("close", resolve));
}

test("collectives across 2 processes: allReduce sum/avg/max/min, broadcast, allGather, reduceScatter", { skip: noGloo, timeout: 60000 }, async () => {
  const out = join(tmp, "coll.json");
  const r = await runWorkers(2, "collectives", { out });
  assert.equal(r.code, 0, r.err);
  const got = JSON.parse(readFileSync(out, "utf8")) as Record<string, number[] | number[][]>[];
  for (const rank of [0, 1]) {
    const g = got[rank];
    assert.deepEqual(g.sum, [3, 10, -1]);
    assert.deepEqual(g.avg, [0.5, 2]);
    assert.deepEqual(g.max, [1, 0]);
    assert.deepEqual(g.min, [0, -1]);
    assert.deepEqual(g.broadcast, [5, 5, 5]);
    assert.deepEqual(g.allGather, [[0, 0], [1, 1]]);
    // input k of rank r is [k + r, 100k]: chunk `rank` summed over r = [2·rank + 1, 200·rank]
    assert.deepEqual(g.reduceScatter, [2 * rank + 1, 200 * rank]);
  }
});

function maxDiff(a: number[][], b: number[][]): number {
  assert.equal(a.length, b.length);
  let m = 0;
  a.forEach((p, i) => {
    assert.equal(p.length, b[i].length);
    p.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j]))));
  });
  return m;
}

test("DDP must-show: 2 processes × batch B = 1 process × batch 2B after 20 steps (1e-5); noSync accumulation too; trace", { skip: noGloo, timeout: 60000 }, async () => {
  const one = join(tmp, "one.json");
  const two = join(tmp, "two.json");
  const acc = join(tmp, "acc.json");
  const trace = join(tmp, "trace-{rank}.json");
  assert.equal(await runSingle("train", { out: one, batch: 8, steps: 20 }), 0);
  const r = await runWorkers(2, "train", { out: two, batch: 4, steps: 20, traceFile: trace });
  assert.equal(r.code, 0, r.err);
  const p1 = JSON.parse(readFileSync(one, "utf8")) as number[][];
  const p2 = JSON.parse(readFileSync(two, "utf8")) as number[][];
  const d = maxDiff(p1, p2);
  assert.ok(d <= 1e-5, `max |Δparam| = ${d}`);
  // The run really trained (the parameters moved from the initial ones by far more than the tolerance).
  const r0 = join(tmp, "zero.json");
  assert.equal(await runSingle("train", { out: r0, batch: 8, steps: 0 }), 0);
  assert.ok(maxDiff(p1, JSON.parse(readFileSync(r0, "utf8"))) > 1e-2);
  // Gradient accumulation: two half batches per step, the first under noSync.
  const ra = await runWorkers(2, "train", { out: acc, batch: 4, steps: 20, accumulate: true });
  assert.equal(ra.code, 0, ra.err);
  const da = maxDiff(p1, JSON.parse(readFileSync(acc, "utf8")));
  assert.ok(da <= 1e-5, `noSync accumulation: max |Δparam| = ${da}`);
  // Each rank's trace holds the all-reduce of every bucket on the communication thread.
  for (const rank of [0, 1]) {
    const f = join(tmp, `trace-${rank}.json`);
    assert.ok(existsSync(f), `rank ${rank} wrote its trace`);
    const ev = (JSON.parse(readFileSync(f, "utf8")) as { traceEvents: { name: string; tid: number; ph: string; dur?: number }[] }).traceEvents;
    const comm = ev.filter((e) => e.ph === "X" && e.name.startsWith("allReduce bucket"));
    const buckets = new Set(comm.map((e) => e.name.split(" ")[2]));
    assert.ok(buckets.size >= 3, `several buckets (bucketCapMb 0.001), got ${buckets.size}`);
    assert.equal(comm.length, buckets.size * 5, "one all-reduce per bucket per traced step (traceSteps 5)");
    assert.ok(comm.every((e) => e.tid === 2 && e.dur! >= 0));
    assert.equal(ev.filter((e) => e.name.startsWith("backward")).length, 5);
  }
});

test("ingot run: a failing rank stops the others and is named", { skip: noGloo, timeout: 60000 }, async () => {
  const r = await runWorkers(2, "forever", { dieAt: 1, timeoutMs: 60000 });
  assert.equal(r.code, 1);
  assert.match(r.err, /ingot run: rank 1 \(local rank 1, pid \d+\) was killed by SIGKILL( \(then rank 0 exited with code 1\))?; stopped the other 1 worker\(s\)/);
  assert.ok(r.ms < 30000, `took ${r.ms} ms`);
});
