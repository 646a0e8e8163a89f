// Benchmark 1: single-precision matrix multiply C = A·B for square N (GFLOP/s), Ingot vs PyTorch
// (OpenBLAS) and TensorFlow.js. Each result is checked against float64 dot products before timing.
import * as ig from "../src/index.js";
import { check, ingotVersions, packageVersion, pairedTiming, PAIRED_CAPTION, PAIRED_METHOD, printTable, ratio, ratioSummary, runTfjs, startTorchPeers, writeResult, type PeerResult, openblasCoretype } from "./common.js";

const SIZES = [256, 512, 1024, 2048];
/** TensorFlow.js's plain-JavaScript backend needs minutes for the big sizes; it runs the small ones. */
const TFJS_CPU_MAX = 512;

function matrix(n: number, seed: number): ig.Tensor {
  const g = new ig.Generator(seed);
  const v = new Float32Array(n * n);
  for (let i = 0; i < v.length; i++) v[i] = g.random() * 2 - 1;
  return ig.tensor(v, { shape: [n, n] });
}

/** Compares 200 entries of C with float64 dot products. */
function validate(n: number, a: ig.Tensor, b: ig.Tensor, c: ig.Tensor): void {
  const [av, bv, cv] = [a.dataSync(), b.dataSync(), c.dataSync()];
  const g = new ig.Generator(99);
  for (let t = 0; t < 200; t++) {
    const i = g.int(0, n);
    const j = g.int(0, n);
    let s = 0;
    for (let k = 0; k < n; k++) s += av[i * n + k] * bv[k * n + j];
    check(Math.abs(cv[i * n + j] - s) <= 1e-4 * Math.sqrt(n), `sgemm ${n}: C[${i},${j}] = ${cv[i * n + j]}, float64 says ${s}`);
  }
}

export async function sgemm(): Promise<void> {
  const rows: (string | number)[][] = [];
  const results: Record<string, unknown>[] = [];
  for (const n of SIZES) {
    const a = matrix(n, 1);
    const b = matrix(n, 2);
    validate(n, a, b, ig.matmul(a, b));
    const flops = 2 * n ** 3;
    const spec = { n };
    const { peers, info } = await startTorchPeers("sgemm", spec);
    let t;
    try {
      t = await pairedTiming(() => ig.matmul(a, b), peers, n >= 2048 ? 0.6 : 0.25);
    } finally {
      for (const p of peers) p.close();
    }
    const gflops = (s: number) => flops / s / 1e9;
    const torch: PeerResult = t.pytorch
      ? { ...info, gflops: gflops(t.pytorch.best), medianGflops: gflops(t.pytorch.median), threads: t.pytorch.threads, windowGflops: t.pytorch.windows.map(gflops) }
      : info;
    const wasm = runTfjs("wasm", "sgemm", spec);
    const tcpu: PeerResult = n <= TFJS_CPU_MAX ? runTfjs("cpu", "sgemm", spec) : { ok: false, error: "skipped (minutes per product)" };
    const ours = gflops(t.ingot.best);
    const paired = ratioSummary(t.ratios);
    const g = (r: PeerResult) => (r.ok ? (r.gflops as number) : undefined);
    rows.push([
      n,
      ours.toFixed(1),
      t.ingot.threads,
      g(torch)?.toFixed(1) ?? "—",
      torch.ok ? `${torch.threads}` : "—",
      ratio(ours, g(torch)),
      paired ? `${(paired.median as number).toFixed(2)}x` : "—",
      g(wasm)?.toFixed(1) ?? "—",
      ratio(ours, g(wasm)),
      g(tcpu)?.toFixed(1) ?? "—",
      ratio(ours, g(tcpu)),
    ]);
    results.push({
      n,
      ingot: { gflops: ours, medianGflops: gflops(t.ingot.median), threads: t.ingot.threads, windowGflops: t.ingot.windows.map(gflops) },
      pytorch: torch,
      paired,
      tfjsWasm: wasm,
      tfjsCpu: tcpu,
    });
    for (const r of [torch, wasm, tcpu]) if (!r.ok) console.error(`  n=${n}: peer unavailable: ${r.error}`);
  }
  printTable(
    `sgemm C = A·B, float32, GFLOP/s (higher is better; ${PAIRED_CAPTION})`,
    ["N", "Ingot", "thr", "PyTorch", "thr", "vs PyTorch", "paired", "tfjs-wasm", "vs wasm", "tfjs-cpu", "vs tfjs-cpu"],
    rows,
  );
  const file = writeResult("sgemm", {
    versions: { ...ingotVersions(), tfjs: packageVersion("@tensorflow/tfjs"), torch: (results[0]?.pytorch as PeerResult)?.version ?? null, openblasCoretype: openblasCoretype() ?? null },
    unit: "GFLOP/s",
    method: PAIRED_METHOD,
    results,
  });
  console.log(`results: ${file}`);
}
