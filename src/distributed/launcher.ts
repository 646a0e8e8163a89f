// The launcher behind `ingot run` (torchrun's shape): starts nprocPerNode workers of a script on this
// node with RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR and MASTER_PORT
// set, prefixes their output lines with their rank, and when one worker fails (a non-zero exit or a
// signal) stops the others (SIGTERM, then SIGKILL after stopTimeoutMs) and reports which rank failed.
import { spawn, type ChildProcess } from "node:child_process";
import { cpus } from "node:os";
import type { Writable } from "node:stream";
import { ValueError } from "../tensor/index.js";

export interface LaunchOptions {
  /** The worker script (run with this Node). */
  script: string;
  args?: string[];
  nprocPerNode: number;
  /** Number of nodes (default 1). */
  nnodes?: number;
  /** This node's index in [0, nnodes) (default 0). */
  nodeRank?: number;
  /** Rank 0's host (default 127.0.0.1). */
  masterAddr?: string;
  /** Rank 0's store port (default 29500, torchrun's). */
  masterPort?: number;
  /** Extra environment for the workers. */
  env?: NodeJS.ProcessEnv;
  /** Node options for the workers (e.g. --enable-source-maps). */
  nodeArgs?: string[];
  /** This rank's stdout is passed through without a prefix (`ingot train --nproc --json`: rank 0's JSON line). */
  rawStdoutRank?: number | null;
  /** After a failure, how long the other workers get to exit after SIGTERM before SIGKILL (default 5000 ms). */
  stopTimeoutMs?: number;
  stdout?: Writable;
  stderr?: Writable;
}

export interface WorkerFailure {
  rank: number;
  localRank: number;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchResult {
  /** 0 when every worker exited with 0. */
  exitCode: number;
  /** The first worker that failed, or null. */
  failure: WorkerFailure | null;
  /** A sentence naming the failed rank (empty when all succeeded). */
  message: string;
}

/** Writes lines of `src` to `dst`, each prefixed (a partial last line is held until it ends). */
function pipeLines(src: NodeJS.ReadableStream, dst: Writable, prefix: string): Promise<void> {
  let rest = "";
  src.setEncoding("utf8");
  src.on("data", (chunk: string) => {
    const text = rest + chunk;
    const lines = text.split("\n");
    rest = lines.pop() ?? "";
    if (lines.length) dst.write(lines.map((l) => `${prefix}${l}\n`).join(""));
  });
  return new Promise((resolve) =>
    src.on("end", () => {
      if (rest) dst.write(`${prefix}${rest}\n`);
      resolve();
    }),
  );
}

function checkInt(name: string, v: number, min: number, max = Infinity): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new ValueError(`ingot run: ${name} must be an integer in [${min}, ${max === Infinity ? "∞" : max}], got ${v}`);
  return v;
}

/**
 * The failure to report: not one we caused by stopping the workers; a worker killed by a signal
 * (which cannot have been reacting to another's failure) before one that exited with an error
 * (typically "connection closed by peer" after the real failure); then the earliest.
 */
function rootCause<F extends WorkerFailure & { stopped: boolean }>(failures: F[]): F | null {
  const own = failures.filter((f) => !f.stopped);
  const pool = own.length ? own : failures;
  return pool.find((f) => f.signal) ?? pool[0] ?? null;
}

/** Starts the workers and resolves when all have exited. */
export function launch(opts: LaunchOptions): Promise<LaunchResult> {
  const nproc = checkInt("--nproc-per-node", opts.nprocPerNode, 1);
  const nnodes = checkInt("--nnodes", opts.nnodes ?? 1, 1);
  const nodeRank = checkInt("--node-rank", opts.nodeRank ?? 0, 0, nnodes - 1);
  const masterAddr = opts.masterAddr ?? "127.0.0.1";
  const masterPort = checkInt("the master port", opts.masterPort ?? 29500, 1, 65535);
  const worldSize = nproc * nnodes;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 5000;
  // Like torchrun's OMP_NUM_THREADS=1: workers on one node share its cores instead of each taking all.
  const threads = String(Math.max(1, Math.floor(cpus().length / nproc)));
  const children: { child: ChildProcess; rank: number; localRank: number; done: boolean; sent: Set<NodeJS.Signals> }[] = [];
  // Failures in the order seen. When one rank dies the others fail within milliseconds (their peer
  // connection closes), and exit events may arrive in either order: see rootCause below.
  const failures: (WorkerFailure & { stopped: boolean })[] = [];
  let killTimer: NodeJS.Timeout | null = null;

  const stopOthers = () => {
    for (const c of children)
      if (!c.done) {
        c.sent.add("SIGTERM");
        c.child.kill("SIGTERM");
      }
    killTimer ??= setTimeout(() => {
      for (const c of children)
        if (!c.done) {
          c.sent.add("SIGKILL");
          c.child.kill("SIGKILL");
        }
    }, stopTimeoutMs);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    for (const c of children) if (!c.done) c.child.kill(sig);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const exits: Promise<void>[] = [];
  const pipes: Promise<void>[] = [];
  for (let localRank = 0; localRank < nproc; localRank++) {
    const rank = nodeRank * nproc + localRank;
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.script, ...(opts.args ?? [])], {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        INGOT_NUM_THREADS: threads,
        ...process.env,
        ...opts.env,
        RANK: String(rank),
        LOCAL_RANK: String(localRank),
        WORLD_SIZE: String(worldSize),
        LOCAL_WORLD_SIZE: String(nproc),
        GROUP_RANK: String(nodeRank),
        MASTER_ADDR: masterAddr,
        MASTER_PORT: String(masterPort),
      },
    });
    const entry = { child, rank, localRank, done: false, sent: new Set<NodeJS.Signals>() };
    children.push(entry);
    const prefix = `[rank${rank}]: `;
    pipes.push(opts.rawStdoutRank === rank ? new Promise((r) => { child.stdout!.pipe(stdout, { end: false }); child.stdout!.on("end", () => r()); }) : pipeLines(child.stdout!, stdout, prefix));
    pipes.push(pipeLines(child.stderr!, stderr, prefix));
    exits.push(
      new Promise((resolve) => {
        const finish = (code: number | null, signal: NodeJS.Signals | null) => {
          if (entry.done) return;
          entry.done = true;
          if (code !== 0 || signal) {
            // "stopped": ended by the signal the launcher sent (not a failure of its own).
            failures.push({ rank, localRank, pid: child.pid ?? -1, code, signal, stopped: signal !== null && entry.sent.has(signal) });
            if (failures.length === 1) stopOthers();
          }
          resolve();
        };
        child.on("exit", finish);
        child.on("error", (e) => {
          stderr.write(`ingot run: could not start rank ${rank}: ${e.message}\n`);
          finish(127, null);
        });
      }),
    );
  }
  return Promise.all(exits).then(async () => {
    await Promise.all(pipes);
    if (killTimer) clearTimeout(killTimer);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    const f = rootCause(failures);
    if (!f) return { exitCode: 0, failure: null, message: "" };
    const how = (w: WorkerFailure) => (w.signal ? `was killed by ${w.signal}` : `exited with code ${w.code}`);
    const also = failures.filter((w) => w !== f && !w.stopped).map((w) => `rank ${w.rank} ${how(w)}`);
    const others = nproc - 1;
    const message =
      `rank ${f.rank} (local rank ${f.localRank}, pid ${f.pid}) ${how(f)}` +
      (also.length ? ` (then ${also.join(", ")})` : "") +
      (others ? `; stopped the other ${others} worker(s) on this node` : "");
    const { stopped: _s, ...failure } = f;
    return { exitCode: 1, failure, message };
  });
}

/** A free TCP port on this host (for a single-node run: torchrun's --standalone). */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
