// Benchmark 1: single-precision matrix multiply C = A·B for square N (GFLOP/s), Ingot vs PyTorch
// (OpenBLAS) and TensorFlow.js. Each result is checked against float64 dot products before timing.
import * as ig from "../src/index.js";
import { check, ingotVersions, measureIngot, packageVersion, printTable, ratio, runTfjs, runTorch, writeResult, type PeerResult, openblasCoretype } from "./common.js";

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

export function sgemm(): void {
  const rows: (string | number)[][] = [];
  const results: Record<string, unknown>[] = [];
  for (const n of SIZES) {
    const a = matrix(n, 1);
    const b = matrix(n, 2);
    validate(n, a, b, ig.matmul(a, b));
    const flops = 2 * n ** 3;
    const spec = { n };
    let torch: PeerResult = { ok: false };
    let wasm: PeerResult = { ok: false };
    let tcpu: PeerResult = { ok: false };
    const t = measureIngot(
      () => ig.matmul(a, b),
      () => {
        torch = runTorch("sgemm", spec, (x, y) => (x.gflops as number) > (y.gflops as number));
        wasm = runTfjs("wasm", "sgemm", spec);
        tcpu = n <= TFJS_CPU_MAX ? runTfjs("cpu", "sgemm", spec) : { ok: false, error: "skipped (minutes per product)" };
      },
      { windows: n >= 2048 ? 4 : 8, windowS: n >= 2048 ? 0.6 : 0.25 },
    );
    const ours = flops / t.best / 1e9;
    const g = (r: PeerResult) => (r.ok ? (r.gflops as number) : undefined);
    rows.push([
      n,
      ours.toFixed(1),
      t.threads,
      g(torch)?.toFixed(1) ?? "—",
      torch.ok ? `${torch.threads}` : "—",
      ratio(ours, g(torch)),
      g(wasm)?.toFixed(1) ?? "—",
      ratio(ours, g(wasm)),
      g(tcpu)?.toFixed(1) ?? "—",
      ratio(ours, g(tcpu)),
    ]);
    results.push({ n, ingot: { gflops: ours, medianGflops: flops / t.median / 1e9, threads: t.threads }, pytorch: torch, tfjsWasm: wasm, tfjsCpu: tcpu });
    for (const r of [torch, wasm, tcpu]) if (!r.ok) console.error(`  n=${n}: peer unavailable: ${r.error}`);
  }
  printTable("sgemm C = A·B, float32, GFLOP/s (higher is better; best window of several)", ["N", "Ingot", "thr", "PyTorch", "thr", "vs PyTorch", "tfjs-wasm", "vs wasm", "tfjs-cpu", "vs tfjs-cpu"], rows);
  const file = writeResult("sgemm", {
    versions: { ...ingotVersions(), tfjs: packageVersion("@tensorflow/tfjs"), torch: (results[0]?.pytorch as PeerResult)?.version ?? null, openblasCoretype: openblasCoretype() ?? null },
    unit: "GFLOP/s",
    results,
  });
  console.log(`results: ${file}`);
}
