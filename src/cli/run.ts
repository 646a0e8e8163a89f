// `ingot run`: the distributed launcher (torchrun's shape). Starts --nproc-per-node workers of a
// script with RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set; the script calls
// `await ingot.distributed.initProcessGroup()`. Output lines carry a [rankN]: prefix; when a worker
// fails the others are stopped within seconds and the exit status is 1, naming the rank.
import { freePort, launch } from "../distributed/launcher.js";
import { reportError, UsageError } from "./recipes/common.js";

export const RUN_HELP = `Usage: ingot run [options] script.js [script arguments]

Starts distributed workers of script.js on this node (like torchrun). Each worker gets RANK,
LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR and MASTER_PORT, and
INGOT_NUM_THREADS = cores / nproc-per-node unless already set; the script joins with
\`await ingot.distributed.initProcessGroup()\` (Gloo).

Options (before the script):
  --nproc-per-node N     workers on this node (default 1)
  --nnodes M             nodes in the job (default 1)
  --node-rank R          this node's index in [0, M) (default 0)
  --master ADDR:PORT     where rank 0 hosts the rendezvous store (default 127.0.0.1:29500)
  --master-addr ADDR     the same, in two options (torchrun's names)
  --master-port PORT
  --standalone           one node on a free port (ignores --master)
  --stop-timeout-ms MS   after a failure, the grace the other workers get before SIGKILL (default 5000)
  -h, --help             show this help

Example: ingot run --nproc-per-node 2 train.js --epochs 3
         ingot run --nnodes 2 --node-rank 0 --nproc-per-node 1 --master 10.0.0.1:29500 train.js
`;

export interface RunArgs {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort: number | null;
  stopTimeoutMs: number;
  script: string;
  scriptArgs: string[];
}

function int(flag: string, raw: string | undefined, min: number): number {
  const n = Number(raw);
  if (raw === undefined || !Number.isInteger(n) || n < min) throw new UsageError(`ingot run: ${flag} must be an integer ≥ ${min}, got '${raw ?? ""}'`);
  return n;
}

/** Options up to the script; everything after the script belongs to it. */
export function parseRunArgs(args: string[]): RunArgs | "help" {
  const r: RunArgs = { nprocPerNode: 1, nnodes: 1, nodeRank: 0, masterAddr: "127.0.0.1", masterPort: 29500, stopTimeoutMs: 5000, script: "", scriptArgs: [] };
  let standalone = false;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("-")) break;
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => inline ?? args[++i];
    switch (flag) {
      case "-h":
      case "--help":
        return "help";
      case "--nproc-per-node":
      case "--nproc_per_node":
        r.nprocPerNode = int("--nproc-per-node", value(), 1);
        break;
      case "--nnodes":
        r.nnodes = int("--nnodes", value(), 1);
        break;
      case "--node-rank":
      case "--node_rank":
        r.nodeRank = int("--node-rank", value(), 0);
        break;
      case "--master": {
        const v = value() ?? "";
        const m = /^(.+):(\d+)$/.exec(v);
        if (!m) throw new UsageError(`ingot run: --master must be ADDR:PORT (e.g. 10.0.0.1:29500), got '${v}'`);
        r.masterAddr = m[1].replace(/^\[(.*)\]$/, "$1");
        r.masterPort = int("the --master port", m[2], 1);
        break;
      }
      case "--master-addr":
      case "--master_addr":
        r.masterAddr = value() ?? "";
        if (!r.masterAddr) throw new UsageError("ingot run: --master-addr needs a host");
        break;
      case "--master-port":
      case "--master_port":
        r.masterPort = int("--master-port", value(), 1);
        break;
      case "--standalone":
        standalone = true;
        break;
      case "--stop-timeout-ms":
        r.stopTimeoutMs = int("--stop-timeout-ms", value(), 0);
        break;
      default:
        throw new UsageError(`ingot run: unknown option '${flag}'; options go before the script (run 'ingot run --help')`);
    }
  }
  if (i >= args.length) throw new UsageError("ingot run: name the script to run, e.g. ingot run --nproc-per-node 2 train.js");
  if (r.masterPort !== null && r.masterPort > 65535) throw new UsageError(`ingot run: the master port must be ≤ 65535, got ${r.masterPort}`);
  if (r.nodeRank >= r.nnodes) throw new UsageError(`ingot run: --node-rank must be in [0, ${r.nnodes}), got ${r.nodeRank}`);
  if (standalone) {
    if (r.nnodes !== 1) throw new UsageError("ingot run: --standalone runs one node; drop --nnodes or --standalone");
    r.masterAddr = "127.0.0.1";
    r.masterPort = null;
  }
  r.script = args[i];
  r.scriptArgs = args.slice(i + 1);
  return r;
}

export async function run(args: string[]): Promise<number> {
  try {
    const a = parseRunArgs(args);
    if (a === "help") {
      process.stdout.write(RUN_HELP);
      return 0;
    }
    const res = await launch({
      script: a.script,
      args: a.scriptArgs,
      nprocPerNode: a.nprocPerNode,
      nnodes: a.nnodes,
      nodeRank: a.nodeRank,
      masterAddr: a.masterAddr,
      masterPort: a.masterPort ?? (await freePort()),
      stopTimeoutMs: a.stopTimeoutMs,
    });
    if (res.exitCode !== 0) process.stderr.write(`ingot run: ${res.message}\n`);
    return res.exitCode;
  } catch (e) {
    return reportError("ingot run", e);
  }
}
