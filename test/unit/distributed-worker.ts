// A worker for the distributed tests (test/unit/distributed*.test.ts, test/e2e/distributed*.test.ts).
// Not a test file itself. Run as `node distributed-worker.js <mode> [options as JSON]`, one process per
// rank with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT set (or alone, WORLD_SIZE unset, as one process).
//
// modes:
//   collectives  every collective on known inputs; rank 0 writes what each rank got to opts.out
//   train        a small conv net, SGD with momentum, `steps` steps of `batch` samples per rank from a
//                fixed data set; with one process `batch` is the global batch; writes the parameters
//                (rank 0) to opts.out. opts.accumulate: two half micro-batches per step, the first in noSync.
//   forever      trains until killed; opts.dieAt: the rank that SIGKILLs itself at step 5
import { writeFileSync } from "node:fs";
import * as ig from "../../src/index.js";
import * as dist from "../../src/distributed/index.js";

interface Opts {
  out?: string;
  steps?: number;
  batch?: number;
  accumulate?: boolean;
  bucketCapMb?: number;
  traceFile?: string;
  timeoutMs?: number;
  dieAt?: number;
}

const mode = process.argv[2];
const opts = JSON.parse(process.argv[3] ?? "{}") as Opts;
const distributed = Number(process.env.WORLD_SIZE ?? "1") > 1;

/** The data: 64 fixed samples of 1×8×8 images with 3 classes, from a private generator. */
function dataset(n: number): { x: ig.Tensor; y: ig.Tensor } {
  const g = new ig.Generator(1234);
  const x = ig.randn([n, 1, 8, 8], { generator: g });
  const y = ig.randint(0, 3, [n], { generator: g });
  return { x, y };
}

function model(): ig.nn.Sequential {
  ig.manualSeed(7);
  const { nn } = ig;
  return new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.ReLU(), new nn.Flatten(), new nn.Linear(4 * 6 * 6, 16), new nn.Tanh(), new nn.Linear(16, 3));
}

async function collectives(): Promise<void> {
  const pg = await dist.initProcessGroup({ timeoutMs: opts.timeoutMs ?? 20000 });
  const r = pg.rank;
  const got: Record<string, number[] | number[][]> = {};
  const sum = ig.tensor([1 + r, 10 * r, -r], { dtype: "float32" });
  await dist.allReduce(sum, "sum");
  got.sum = Array.from(sum.dataSync());
  const avg = new Float64Array([r, 2 * r + 1]);
  await dist.allReduce(avg, "avg");
  got.avg = Array.from(avg);
  const mx = new Int32Array([r, -r]);
  await dist.allReduce(mx, "max");
  got.max = Array.from(mx);
  const mn = new Float32Array([r, -r]);
  await dist.allReduce(mn, dist.ReduceOp.MIN);
  got.min = Array.from(mn);
  const bc = new Float32Array(3).fill(r === 1 ? 5 : -1);
  await dist.broadcast(bc, 1);
  got.broadcast = Array.from(bc);
  const outs = Array.from({ length: pg.worldSize }, () => ig.zeros([2], { dtype: "int32" }));
  await dist.allGather(outs, ig.tensor([r, r * r], { dtype: "int32" }));
  got.allGather = outs.map((t) => Array.from(t.dataSync()));
  const rs = new Float32Array(2);
  await dist.reduceScatter(rs, Array.from({ length: pg.worldSize }, (_, k) => new Float32Array([k + r, 100 * k])));
  got.reduceScatter = Array.from(rs);
  await dist.barrier();
  // Gather every rank's results to rank 0 through the store.
  await pg.store.set(`result/${r}`, JSON.stringify(got));
  if (r === 0) {
    const all = [];
    for (let k = 0; k < pg.worldSize; k++) all.push(JSON.parse((await pg.store.get(`result/${k}`)).toString()));
    writeFileSync(opts.out!, JSON.stringify(all));
  }
  await dist.barrier();
  await dist.destroyProcessGroup();
}

async function train(forever: boolean): Promise<void> {
  const pg = distributed ? await dist.initProcessGroup({ timeoutMs: opts.timeoutMs ?? 30000 }) : null;
  const rank = pg?.rank ?? 0;
  const world = pg?.worldSize ?? 1;
  const net = model();
  // Ranks other than 0 start from different weights: DDP's broadcast must make them equal.
  if (rank !== 0) ig.noGrad(() => net.parameters().forEach((p) => p.copy_(p.mul(0.5))));
  const ddp = pg ? new dist.DistributedDataParallel(net, { bucketCapMb: opts.bucketCapMb ?? 0.001, traceFile: opts.traceFile, traceSteps: 5 }) : null;
  const opt = new ig.optim.SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
  const steps = opts.steps ?? 20;
  const B = opts.batch ?? 4; // per rank
  const global = B * world;
  const { x, y } = dataset(64);
  const lossOf = (from: number, n: number, scale: number) => {
    const xb = x.narrow(0, from, n);
    const yb = y.narrow(0, from, n);
    const out = ddp ? ddp.call(xb) : net.call(xb);
    return ig.crossEntropy(out, yb).mul(scale);
  };
  for (let s = 0; forever || s < steps; s++) {
    if (forever && s === 5 && rank === opts.dieAt) process.kill(process.pid, "SIGKILL");
    const start = (s * global) % 64; // this step's global batch: samples [start, start + global)
    const mine = start + rank * B;
    net.zeroGrad();
    if (opts.accumulate) {
      const h = B / 2;
      ddp ? ddp.noSync(() => lossOf(mine, h, 0.5).backward()) : lossOf(mine, h, 0.5).backward();
      lossOf(mine + h, h, 0.5).backward();
    } else lossOf(mine, B, 1).backward();
    if (ddp) await ddp.step(opt);
    else opt.step();
  }
  if (rank === 0 && opts.out) writeFileSync(opts.out, JSON.stringify(net.parameters().map((p) => Array.from(p.dataSync() as Float32Array))));
  if (pg) await dist.destroyProcessGroup();
}

const run = mode === "collectives" ? collectives() : mode === "train" ? train(false) : mode === "forever" ? train(true) : Promise.reject(new Error(`unknown mode ${mode}`));
run.catch((e: Error) => {
  process.stderr.write(`worker rank ${process.env.RANK ?? 0}: ${e.message}\n`);
  process.exit(1);
});
