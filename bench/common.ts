// Shared machinery of the benchmarks: timing (best window of several, the same rule as the peers
// use), the peers run as subprocesses, the machine description, tables, and bench/results/*.json.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
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

/** Calls fn for at least `seconds` (and at least `min` times); returns the calls and the seconds they took. */
function callFor(fn: () => void, seconds: number, min = 1): { calls: number; seconds: number } {
  const t0 = performance.now();
  let calls = 0;
  do {
    fn();
    calls++;
  } while (calls < min || performance.now() - t0 < seconds * 1000);
  return { calls, seconds: (performance.now() - t0) / 1000 };
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
    const r = callFor(fn, windowS);
    per.push(r.seconds / r.calls);
    iterations += r.calls;
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
 * A PyTorch peer process that stays up (`peers/torch_peer.py`): it sets its workload up once, with
 * OpenBLAS (the right kernels, see openblasCoretype), OMP_WAIT_POLICY=PASSIVE and `threads` threads,
 * then times one window per request. So its windows can alternate with Ingot's (pairedTiming).
 */
export class TorchPeer {
  private lines: string[] = [];
  private waiting: ((line: string | null) => void) | null = null;
  private closed = false;
  private stderr = "";

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly threads: number,
  ) {
    createInterface({ input: child.stdout }).on("line", (l) => this.push(l));
    child.stderr.on("data", (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    child.on("close", () => {
      this.closed = true;
      this.push(null);
    });
    child.on("error", (e) => {
      this.stderr += `\n${e.message}`;
      this.closed = true;
      this.push(null);
    });
  }

  private push(line: string | null): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(line);
    } else if (line !== null) this.lines.push(line);
  }

  private next(timeoutS: number): Promise<string | null> {
    if (this.lines.length) return Promise.resolve(this.lines.shift()!);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        resolve(null);
      }, timeoutS * 1000);
      this.waiting = (l) => {
        clearTimeout(timer);
        resolve(l);
      };
    });
  }

  private async reply(timeoutS: number): Promise<PeerResult> {
    const line = await this.next(timeoutS);
    if (line !== null)
      try {
        return { ok: true, ...(JSON.parse(line) as object) };
      } catch {
        return { ok: false, error: `unexpected output: ${line.slice(0, 200)}` };
      }
    // The error line itself (Python's "ValueError: …"), else the last lines.
    const lines = this.stderr.trim().split("\n");
    const why = lines.find((l) => /^\w*(Error|Exception)\b.*:/.test(l.trim())) ?? lines.slice(-3).join(" | ");
    return { ok: false, error: `${why.trim() || "no answer"} (${this.closed ? `exit ${this.child.exitCode}` : `no answer in ${timeoutS} s`})` };
  }

  /** Starts the peer; `info` is its first line (the workload's check, version, BLAS) or the error. */
  static async start(workload: string, spec: object, threads: number): Promise<{ peer: TorchPeer | null; info: PeerResult }> {
    const py = torchPython();
    if (!py) return { peer: null, info: { ok: false, error: "no Python with torch (apt-get install python3-torch libopenblas0-pthread, or set INGOT_BENCH_PYTHON)" } };
    const child = spawn(py, [join(PEERS, "torch_peer.py"), workload, JSON.stringify({ ...spec, threads })], { env: { ...process.env, ...torchEnv(threads) } });
    const peer = new TorchPeer(child, threads);
    const info = await peer.reply(300);
    if (!info.ok) {
      peer.close();
      return { peer: null, info };
    }
    return { peer, info };
  }

  /** Seconds per iteration over one window of about windowS seconds, after warmupS seconds of untimed calls. */
  async window(windowS: number, warmupS: number): Promise<number> {
    this.child.stdin.write(`${JSON.stringify({ windowS, warmupS })}\n`);
    const r = await this.reply(120 + 10 * windowS);
    if (!r.ok) throw new Error(`PyTorch peer (${this.threads} threads): ${r.error}`);
    return r.secPerIter as number;
  }

  close(): void {
    if (!this.closed) this.child.stdin.end();
  }
}

/** One timing window: untimed calls for at least warmupS seconds (and 2 calls), then calls for about windowS seconds; seconds per call. */
export function timeWindow(fn: () => void, windowS: number, warmupS: number): number {
  callFor(fn, warmupS, 2);
  const r = callFor(fn, windowS);
  return r.seconds / r.calls;
}

export interface SideTiming {
  /** Seconds per iteration in the fastest window. */
  best: number;
  /** Median over the rounds. */
  median: number;
  /** The thread count kept: the one with the fastest window. */
  threads: number;
  /** Seconds per iteration, one window per round, with that thread count. */
  windows: number[];
}

export interface PairedTiming {
  ingot: SideTiming;
  /** Null when no PyTorch peer could be started. */
  pytorch: SideTiming | null;
  /**
   * PyTorch's time over Ingot's (above 1: Ingot is faster), one per round, each from two windows
   * measured seconds apart: the median is the steadiest comparison on a shared machine.
   */
  ratios: number[];
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

function side(byThreads: Map<number, number[]>): SideTiming {
  let kept: SideTiming | null = null;
  for (const [threads, windows] of byThreads) {
    const best = Math.min(...windows);
    if (!kept || best < kept.best) kept = { threads, windows, best, median: median(windows) };
  }
  return kept!;
}

/** pairedTiming's rounds, and the warm-up and pause before each window (seconds). */
const PAIRED = { rounds: 8, warmupS: 0.1, pauseS: 0.2 };

/** How pairedTiming measures, for the results files. */
export const PAIRED_METHOD = `${PAIRED.rounds} rounds; each round times one window (untimed calls for ${PAIRED.warmupS} s and at least 2, then calls for windowS seconds) of Ingot with all cores and with 1 thread and of PyTorch with 1 and 2 threads (two peer processes that stay up), in an order that rotates, each after a ${PAIRED.pauseS} s pause; each side keeps the thread count of its fastest window (best = that window, median = the median of its rounds); paired.median = the median over rounds of PyTorch's time / Ingot's time`;

/** The tables' note on what their columns are. */
export const PAIRED_CAPTION = `best window of ${PAIRED.rounds}; paired: median of ${PAIRED.rounds} rounds' Ingot/PyTorch`;

/**
 * Times Ingot's fn and the PyTorch peers (one per thread count) in alternation: each round runs one
 * window of every variant (Ingot with all cores and with one, PyTorch with each peer's threads), in
 * an order that rotates from round to round, each after a pause of pauseS seconds (OpenBLAS's idle
 * threads spin for about 0.13 s after a call and would slow whatever runs next) and warmupS seconds
 * of untimed calls (after a pause the host gives the CPUs back slowly, and both sides' first calls
 * are slow: with 2 warm-up calls instead, Ingot's 256² and 512² lost 10–20 % more than OpenBLAS's,
 * docs/native-gemm.md). Each side keeps
 * the thread count of its fastest window; the ratios pair the two sides' windows round by round,
 * so a minute in which the shared host is slow costs both alike.
 */
export async function pairedTiming(fn: () => void, peers: TorchPeer[], windowS: number): Promise<PairedTiming> {
  const { rounds, warmupS, pauseS } = PAIRED;
  const all = getNumThreads();
  const ingotThreads = all > 1 ? [all, 1] : [1];
  type Variant = { run: () => Promise<number>; out: number[] };
  const ours = new Map(ingotThreads.map((t) => [t, [] as number[]]));
  const theirs = new Map(peers.map((p) => [p.threads, [] as number[]]));
  const variants: Variant[] = [];
  for (const t of ingotThreads)
    variants.push({
      run: async () => {
        if (getNumThreads() !== t) setNumThreads(t); // (restarts the pool: only when the count changes)
        return timeWindow(fn, windowS, warmupS);
      },
      out: ours.get(t)!,
    });
  for (const p of peers) variants.push({ run: () => p.window(windowS, warmupS), out: theirs.get(p.threads)! });
  const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
  for (let r = 0; r < rounds; r++)
    for (let v = 0; v < variants.length; v++) {
      const x = variants[(v + r) % variants.length];
      await sleep(pauseS);
      x.out.push(await x.run());
    }
  if (getNumThreads() !== all) setNumThreads(all);
  const ingot = side(ours);
  const pytorch = peers.length ? side(theirs) : null;
  const ratios = pytorch ? ingot.windows.map((w, i) => pytorch.windows[i] / w) : [];
  return { ingot, pytorch, ratios };
}

/** Starts one PyTorch peer per thread count (1 and 2, as the issue's "better of 1 and 2 threads"). */
export async function startTorchPeers(workload: string, spec: object): Promise<{ peers: TorchPeer[]; info: PeerResult }> {
  const peers: TorchPeer[] = [];
  let info: PeerResult = { ok: false, error: "not started" };
  for (const threads of [1, 2]) {
    const r = await TorchPeer.start(workload, spec, threads);
    if (!r.peer) {
      for (const p of peers) p.close();
      return { peers: [], info: r.info };
    }
    peers.push(r.peer);
    info = r.info;
  }
  return { peers, info };
}

/** The paired ratios' summary for the results file: median and the 10th and 90th percentiles. */
export function ratioSummary(ratios: number[]): Record<string, unknown> | null {
  if (!ratios.length) return null;
  const s = [...ratios].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return { rounds: s.length, median: q(0.5), p10: q(0.1), p90: q(0.9), ratios };
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
