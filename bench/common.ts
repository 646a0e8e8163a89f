// Shared machinery of the benchmarks: timing (best window of several, the same rule as the peers
// use), the peers run as subprocesses, the machine description, tables, and bench/results/*.json.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ig from "../src/index.js";
import { getNumThreads, nativeInfo, setNumThreads } from "../src/backend/cpu/index.js";

/** The repository root (this file runs from dist/bench/). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const PEERS = join(ROOT, "bench", "peers");

export interface Timing {
  /** Seconds per iteration in the fastest window. */
  best: number;
  /** Median over the windows. */
  median: number;
  iterations: number;
}

/**
 * Times fn: warm-up, then `windows` windows of about `windowS` seconds each; reports the fastest
 * window (the machine is shared, so the minimum is the least disturbed estimate) and the median.
 */
export function measure(fn: () => void, { windows = 8, windowS = 0.25, warmup = 3 } = {}): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const per: number[] = [];
  let iterations = 0;
  for (let w = 0; w < windows; w++) {
    const t0 = performance.now();
    let n = 0;
    do {
      fn();
      n++;
    } while (performance.now() - t0 < windowS * 1000);
    per.push((performance.now() - t0) / 1000 / n);
    iterations += n;
  }
  per.sort((a, b) => a - b);
  return { best: per[0], median: per[Math.floor(per.length / 2)], iterations };
}

export interface IngotTiming extends Timing {
  /** The thread count of the faster pass. */
  threads: number;
}

/**
 * Times Ingot the way PyTorch is timed: once with all cores (before the peers run) and once with
 * one thread (after them); the faster pass is kept. On a shared machine one thread can win.
 */
export function measureIngot(fn: () => void, between: () => void, opts?: Parameters<typeof measure>[1]): IngotTiming {
  const all = getNumThreads();
  const many = { ...measure(fn, opts), threads: all };
  between();
  if (all === 1) return many;
  setNumThreads(1);
  try {
    const one = { ...measure(fn, opts), threads: 1 };
    return one.best < many.best ? one : many;
  } finally {
    setNumThreads(all);
  }
}

const loadAtStart = Number(loadavg()[0].toFixed(2));

/** The CPU, its cores and SIMD flags, and how busy the machine was (other work skews timings). */
export function machine(): Record<string, unknown> {
  let model = cpus()[0]?.model ?? "unknown";
  let flags = "";
  let family: string | undefined;
  let modelNumber: string | undefined;
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    model = /model name\s*:\s*(.*)/.exec(info)?.[1] ?? model;
    flags = /flags\s*:\s*(.*)/.exec(info)?.[1] ?? "";
    family = /cpu family\s*:\s*(\d+)/.exec(info)?.[1];
    modelNumber = /^model\s*:\s*(\d+)/m.exec(info)?.[1];
  } catch {
    // not Linux
  }
  const simd = ["avx512f", "avx2", "fma"].filter((f) => flags.split(" ").includes(f));
  return {
    cpu: model,
    family: family && modelNumber ? `${family}/${modelNumber}` : undefined,
    cores: cpus().length,
    simd,
    loadAverage1m: { start: loadAtStart, end: Number(loadavg()[0].toFixed(2)) },
  };
}

/** Ingot's side of the versions record. */
export function ingotVersions(): Record<string, unknown> {
  const info = nativeInfo();
  return { ingot: ig.VERSION, node: process.version, backend: ig.getBackend(), isa: info.isa ?? null, threads: getNumThreads() };
}

/** The installed version of an npm package, or null. */
export function packageVersion(name: string): string | null {
  const p = join(ROOT, "node_modules", name, "package.json");
  return existsSync(p) ? (JSON.parse(readFileSync(p, "utf8")) as { version: string }).version : null;
}

export interface PeerResult {
  ok: boolean;
  error?: string;
  [k: string]: unknown;
}

/** Runs a peer program and parses the JSON object on its last stdout line. */
export function runPeer(cmd: string, args: string[], env: Record<string, string> = {}, timeoutS = 300): PeerResult {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, timeout: timeoutS * 1000, maxBuffer: 64 << 20 });
  if (r.error) return { ok: false, error: `${cmd}: ${r.error.message}` };
  const last = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return { ok: true, ...(JSON.parse(last) as object) };
  } catch {
    // The error line itself (Node's "Error: …", Python's "ValueError: …"), else the last lines.
    const lines = (r.stderr || r.stdout).trim().split("\n");
    const why = lines.find((l) => /^\w*(Error|Exception)\b.*:/.test(l.trim())) ?? lines.slice(-3).join(" | ");
    return { ok: false, error: `${why.trim()} (exit ${r.status})` };
  }
}

let python: string | null | undefined;

/** A Python with PyTorch: INGOT_BENCH_PYTHON, else /usr/bin/python3 (Debian's python3-torch), else python3. */
export function torchPython(): string | null {
  if (python !== undefined) return python;
  const candidates = [process.env.INGOT_BENCH_PYTHON, "/usr/bin/python3", "python3"].filter((c): c is string => !!c);
  python = candidates.find((c) => spawnSync(c, ["-c", "import torch"], { encoding: "utf8" }).status === 0) ?? null;
  return python;
}

/**
 * The OpenBLAS kernel set for this CPU, or undefined to let OpenBLAS choose. Debian's OpenBLAS 0.3.21
 * does not know newer CPU models and falls back to its generic "Prescott" kernels: on an Intel Xeon
 * of family 6 model 207 (AVX-512) PyTorch's 2048² matmul ran at 33–42 GFLOP/s instead of 200–209
 * with the SkylakeX kernels. So the peer is given the kernels its instruction set supports (an
 * OPENBLAS_CORETYPE the user set is kept).
 */
export function openblasCoretype(): string | undefined {
  if (process.env.OPENBLAS_CORETYPE) return process.env.OPENBLAS_CORETYPE;
  const simd = machine().simd as string[];
  return simd.includes("avx512f") ? "SkylakeX" : simd.includes("avx2") && simd.includes("fma") ? "Haswell" : undefined;
}

/** The environment of a PyTorch peer process with `threads` threads. */
export function torchEnv(threads: number): Record<string, string> {
  const core = openblasCoretype();
  return {
    OMP_WAIT_POLICY: "PASSIVE",
    OMP_NUM_THREADS: String(threads),
    OPENBLAS_NUM_THREADS: String(threads),
    MKL_NUM_THREADS: String(threads),
    ...(core ? { OPENBLAS_CORETYPE: core } : {}),
  };
}

/**
 * PyTorch at its best here: OpenBLAS (with the right kernels, see openblasCoretype),
 * OMP_WAIT_POLICY=PASSIVE, run once with 1 thread and once with 2 (as separate processes, so
 * OpenBLAS's own pool follows); the faster result is kept.
 */
export function runTorch(workload: string, spec: object, better: (a: PeerResult, b: PeerResult) => boolean): PeerResult {
  const py = torchPython();
  if (!py) return { ok: false, error: "no Python with torch (apt-get install python3-torch libopenblas0-pthread, or set INGOT_BENCH_PYTHON)" };
  let best: PeerResult | null = null;
  for (const threads of [1, 2]) {
    const env = torchEnv(threads);
    const r = runPeer(py, [join(PEERS, "torch_peer.py"), workload, JSON.stringify({ ...spec, threads })], env);
    if (!r.ok) return r;
    if (!best || better(r, best)) best = r;
  }
  return best!;
}

/** Runs the TensorFlow.js peer on one backend ("wasm" or "cpu"). */
export function runTfjs(backend: "wasm" | "cpu", workload: string, spec: object): PeerResult {
  if (!packageVersion("@tensorflow/tfjs")) return { ok: false, error: "@tensorflow/tfjs is not installed (npm install --include=dev)" };
  return runPeer(process.execPath, [join(PEERS, "tfjs_peer.mjs"), workload, JSON.stringify({ ...spec, backend })]);
}

/** Prints a table with aligned columns. */
export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const width = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(width[c]) : v.padStart(width[c]))).join("  ");
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(width.map((w) => "-".repeat(w)).join("  "));
  for (const r of cells.slice(1)) console.log(line(r));
}

/** A ratio for the table ("—" when the peer has no number). */
export function ratio(ours: number, theirs: number | undefined | null, higherIsBetter = true): string {
  if (!theirs || !Number.isFinite(theirs)) return "—";
  return `${(higherIsBetter ? ours / theirs : theirs / ours).toFixed(2)}x`;
}

const BENCH_ENV = ["OMP_WAIT_POLICY", "OPENBLAS_CORETYPE", "INGOT_BENCH_LM", "INGOT_NUM_THREADS", "INGOT_BACKEND", "INGOT_BENCH_PYTHON"];

/** Writes bench/results/<name>.json with the machine, versions and the command that produced it. */
export function writeResult(name: string, body: Record<string, unknown>): string {
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  const record = {
    benchmark: name,
    date: new Date().toISOString(),
    // The environment settings that change what runs or how the peers run come first, as typed.
    command: [
      ...BENCH_ENV.filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]}`),
      process.env.npm_lifecycle_event === "bench"
        ? ["npm run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" ")
        : `node ${process.argv.slice(1).map((a) => a.replace(ROOT + "/", "")).join(" ")}`,
    ].join(" "),
    machine: machine(),
    ...body,
  };
  writeFileSync(file, JSON.stringify(record, null, 2) + "\n");
  return file;
}

/** Fails loudly (the benchmark prints it and records it) when a check before timing does not hold. */
export function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`validation failed: ${what}`);
}
