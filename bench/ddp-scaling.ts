// Data-parallel scaling of the CNN recipe (src/cli/recipes/cnn.ts, MNIST) on this machine:
// 1 process × 2 threads with batch 64 against `ingot train cnn --nproc 2` (2 processes × 1 thread,
// batch 32 each: the same global batch), each run several times alternating (the machine may be
// shared; the best and the median are kept). Then the overlap of the gradient all-reduce with
// backward, read from DistributedDataParallel's Chrome traces, with small buckets (INGOT_DDP_BUCKET_CAP_MB)
// and with the default 25 MB (one bucket: it can only start after the last gradient).
//
//   INGOT_DATA=../shared/data node dist/bench/ddp-scaling.js [--limit N] [--repeats K]
// writes bench/results/ddp-scaling.json.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeJsonAtomic } from "../src/io/atomic.js";
import { ingotVersions, machine, ROOT } from "./common.js";

const argv = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const limit = opt("limit", 4096);
const repeats = opt("repeats", 3);
const bin = join(ROOT, "dist", "src", "cli", "main.js");
const data = resolve(process.env.INGOT_DATA ?? join(ROOT, "..", "shared", "data"));
if (!existsSync(join(data, "mnist"))) {
  console.error(`ddp-scaling: no MNIST under ${data}; set INGOT_DATA`);
  process.exit(2);
}
const tmp = mkdtempSync(join(tmpdir(), "ingot-ddp-bench-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  samplesPerSecond: number;
  seconds: number;
  testAccuracy: number;
}

function train(nproc: number, batch: number, env: Record<string, string>): Run {
  const args = [bin, "train", "cnn", "--data", data, "--limit", String(limit), "--test-limit", "200", "--epochs", "1", "--batch-size", String(batch), "--json", "--no-track", "--out", join(tmp, "out")];
  if (nproc > 1) args.push("--nproc", String(nproc));
  const r = spawnSync(process.execPath, args, { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`ingot train cnn${nproc > 1 ? ` --nproc ${nproc}` : ""} failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout.trim().split("\n").pop()!) as { samples_per_second: number; seconds: number; test_accuracy: number };
  return { samplesPerSecond: j.samples_per_second, seconds: j.seconds, testAccuracy: j.test_accuracy };
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { best: s[s.length - 1], median: s[Math.floor(s.length / 2)], all: xs.map((x) => Math.round(x)) };
};

interface Ev {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  tid: number;
}

/**
 * From rank 0's trace, per traced step: the buckets whose all-reduce ran entirely inside backward's
 * first→last-gradient-ready span (hidden behind computation), the all-reduce time, and the time
 * finishGradSync waited after backward (the exposed communication, including waiting for the slower rank).
 */
function overlap(file: string) {
  const ev = (JSON.parse(readFileSync(file, "utf8")) as { traceEvents: Ev[] }).traceEvents.filter((e) => e.ph === "X");
  const back = ev.filter((e) => e.name.startsWith("backward"));
  const comm = ev.filter((e) => e.name.startsWith("allReduce bucket"));
  const wait = ev.filter((e) => e.name.startsWith("finishGradSync"));
  let hidden = 0;
  for (const c of comm) if (back.some((b) => c.ts >= b.ts && c.ts + c.dur! <= b.ts + b.dur!)) hidden++;
  const n = back.length;
  return {
    steps: n,
    buckets: new Set(comm.map((c) => c.name.split(" ")[2])).size,
    bucketsDoneInsideBackward: comm.length ? hidden / comm.length : 0,
    allReduceMsPerStep: comm.reduce((a, c) => a + c.dur!, 0) / 1000 / n,
    backwardMsPerStep: back.reduce((a, b) => a + b.dur!, 0) / 1000 / n,
    exposedWaitMsPerStep: wait.reduce((a, b) => a + b.dur!, 0) / 1000 / n,
  };
}

console.log(`ddp-scaling: CNN recipe on MNIST (${limit} samples, 1 epoch), ${cpus().length} cores, ${repeats} runs each`);
const one: Run[] = [];
const two: Run[] = [];
for (let k = 0; k < repeats; k++) {
  one.push(train(1, 64, { INGOT_NUM_THREADS: "2" }));
  two.push(train(2, 32, { INGOT_NUM_THREADS: "1" }));
  console.log(`  run ${k + 1}: 1×2 threads ${one[k].samplesPerSecond.toFixed(0)} samples/s · 2 processes × 1 thread ${two[k].samplesPerSecond.toFixed(0)} samples/s`);
}
const s1 = stats(one.map((r) => r.samplesPerSecond));
const s2 = stats(two.map((r) => r.samplesPerSecond));
const small = join(tmp, "small-{rank}.json");
train(2, 32, { INGOT_NUM_THREADS: "1", INGOT_DDP_TRACE: small, INGOT_DDP_BUCKET_CAP_MB: "0.05" });
const big = join(tmp, "big-{rank}.json");
train(2, 32, { INGOT_NUM_THREADS: "1", INGOT_DDP_TRACE: big });
const ovSmall = overlap(small.replace("{rank}", "0"));
const ovBig = overlap(big.replace("{rank}", "0"));
console.log(`  speed-up 2 processes / 1 process: best ${(s2.best / s1.best).toFixed(2)}×, median ${(s2.median / s1.median).toFixed(2)}×`);
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
console.log(`  overlap (rank 0, first ${ovSmall.steps} steps): 0.05 MB buckets (${ovSmall.buckets}): ${pct(ovSmall.bucketsDoneInsideBackward)} of the all-reduces done inside backward, ${ovSmall.exposedWaitMsPerStep.toFixed(1)} ms/step waited after it`);
console.log(`                                  25 MB (${ovBig.buckets} bucket): ${pct(ovBig.bucketsDoneInsideBackward)} inside backward, ${ovBig.exposedWaitMsPerStep.toFixed(1)} ms/step waited after it (backward ${ovBig.backwardMsPerStep.toFixed(0)} ms/step)`);
const file = join(ROOT, "bench", "results", "ddp-scaling.json");
writeJsonAtomic(file, {
  benchmark: "ddp-scaling",
  date: new Date().toISOString(),
  command: `INGOT_DATA=${process.env.INGOT_DATA ?? "../shared/data"} node dist/bench/ddp-scaling.js --limit ${limit} --repeats ${repeats}`,
  machine: machine(),
  node: process.version,
  versions: ingotVersions(),
  provisional: "the machine was shared with other jobs while this ran; the figures move with the load average",
  workload: { recipe: "cnn", dataset: "mnist", train_samples: limit, epochs: 1, global_batch: 64, test_limit: 200 },
  one_process_two_threads: { batch: 64, samples_per_second: s1, runs: one },
  two_processes_one_thread: { batch_per_rank: 32, samples_per_second: s2, runs: two },
  speedup: { best: s2.best / s1.best, median: s2.median / s1.median },
  overlap: { small_buckets_0_05mb: ovSmall, default_25mb: ovBig, note: "rank 0's trace: bucketsDoneInsideBackward = all-reduces that started and ended within backward's first→last-gradient-ready span; exposedWaitMsPerStep = finishGradSync's wait after backward (includes waiting for the slower rank)" },
});
console.log(`wrote ${file}`);
