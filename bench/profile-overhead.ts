// The profiler on one MLP training step (784-128-10, linear, relu, linear, crossEntropy, Adam; batch
// 32 and 128): the step's time without and with the profiler (its overhead), and the share of the
// profiled step's wall time that the table's self times cover (the issue asks for ≥ 90 %).
// Run: node dist/bench/profile-overhead.js   → bench/results/profile-overhead.json
import * as ig from "../src/index.js";
import { profile } from "../src/profiler/index.js";
import { ingotVersions, printTable, writeResult } from "./common.js";

const rows: (string | number)[][] = [];
const results: Record<string, unknown>[] = [];
for (const batch of [32, 128]) {
  ig.manualSeed(0);
  const model = new ig.nn.Sequential(new ig.nn.Linear(784, 128), new ig.nn.ReLU(), new ig.nn.Linear(128, 10));
  const opt = new ig.optim.Adam(model.parameters(), { lr: 1e-3 });
  const lossFn = new ig.nn.CrossEntropyLoss();
  const x = ig.randn([batch, 784]);
  const y = ig.randint(0, 10, [batch]);
  const step = () => {
    opt.zeroGrad();
    lossFn.call(model.call(x), y).backward();
    opt.step();
  };
  for (let i = 0; i < 5; i++) step();
  // Plain and profiled steps alternate, so that the machine's load drifts over both alike; each
  // profiled step also gives its coverage (the self-time sum over its wall time).
  const plain: number[] = [];
  const profiled: number[] = [];
  const cover: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    step();
    plain.push(performance.now() - t0);
    const t1 = performance.now();
    const p = profile(step);
    profiled.push(performance.now() - t1);
    cover.push(p.profiler.events.reduce((s, e) => s + e.self, 0) / p.wallMs);
  }
  const med = (a: number[]) => [...a].sort((u, v) => u - v)[a.length >> 1];
  const median = med(cover);
  const minCover = Math.min(...cover);
  const r = { batch, step_ms: med(plain), profiled_step_ms: med(profiled), overhead: med(profiled) / med(plain) - 1, coverage_median: median, coverage_min: minCover, coverage_below_90: cover.filter((c) => c < 0.9).length / cover.length, events_per_step: profile(step).profiler.events.length };
  results.push(r);
  rows.push([batch, r.step_ms.toFixed(3), r.profiled_step_ms.toFixed(3), `${(100 * r.overhead).toFixed(1)}%`, `${(100 * median).toFixed(1)}%`, `${(100 * minCover).toFixed(1)}%`, r.events_per_step]);
}
printTable("profiler on one MLP training step (medians)", ["batch", "step ms", "profiled ms", "overhead", "self/wall median", "self/wall min", "events"], rows);
console.log(writeResult("profile-overhead", { versions: ingotVersions(), results }));
