// ONNX export of the recipes' saved folders: `ingot train mnist-mlp`, `cnn` and `char-gpt --size
// small` (short runs: timing and agreement do not depend on how long they trained), each exported
// with exportOnnxDir, run in onnxruntime-node and in Ingot on the same inputs: export time, file
// size, max |onnxruntime − Ingot|, and the forward latency of each (inference; Ingot timed by
// bench/common.ts's measure, onnxruntime by the same fastest-window rule). Writes bench/results/onnx.json.
//   INGOT_DATA=../shared/data node dist/bench/onnx.js
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import * as ig from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { exportOnnxDir, loadExportable } from "../src/export/index.js";
import { check, ingotVersions, machine, measure, packageVersion, printTable, ROOT, type Timing, writeResult } from "./common.js";

/** Fastest-window timing of an async call: n calls per window, n set so a window lasts ~0.25 s. */
async function timeAsync(fn: () => Promise<unknown>, windows = 8): Promise<Timing> {
  for (let i = 0; i < 3; i++) await fn();
  const t0 = performance.now();
  await fn();
  const n = Math.max(1, Math.round(250 / Math.max(performance.now() - t0, 1e-3)));
  const per: number[] = [];
  for (let w = 0; w < windows; w++) {
    const start = performance.now();
    for (let k = 0; k < n; k++) await fn();
    per.push((performance.now() - start) / 1000 / n);
  }
  per.sort((a, b) => a - b);
  return { best: per[0], median: per[Math.floor(per.length / 2)], iterations: n * windows };
}

if (!process.env.INGOT_DATA) {
  console.error("bench onnx: set INGOT_DATA (e.g. INGOT_DATA=../shared/data): the recipes train on MNIST and tinyshakespeare");
  process.exit(2);
}
const tmp = mkdtempSync(join(tmpdir(), "ingot-bench-onnx-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const bin = join(ROOT, "dist", "src", "cli", "main.js");
function train(args: string[], out: string): string {
  const r = spawnSync(process.execPath, [bin, "train", ...args, "--out", out, "--json"], { encoding: "utf8", env: { ...process.env, INGOT_HOME: join(tmp, "home") } });
  if (r.status !== 0) throw new Error(`ingot train ${args.join(" ")} failed: ${r.stderr}`);
  return out;
}

interface Case {
  name: string;
  dir: string;
  /** Ingot's forward on this case's input, and onnxruntime's feed for the same input. */
  make: (model: ig.keras.Model | ig.models.GPT) => { forward: () => Tensor; feed: ort.Tensor };
}

const image = (shape: number[]) => (model: ig.keras.Model | ig.models.GPT) => {
  const x = ig.rand(shape);
  return { forward: () => (model as ig.keras.Model).predict(x) as Tensor, feed: new ort.Tensor("float32", Float32Array.from(x.dataSync() as Float32Array), shape) };
};
const tokens = (B: number, T: number) => (model: ig.keras.Model | ig.models.GPT) => {
  const gpt = model as ig.models.GPT;
  const ids = ig.randint(0, gpt.config.vocabSize, [B, T], { dtype: "int32" });
  return { forward: () => ig.noGrad(() => gpt.forward(ids).logits), feed: new ort.Tensor("int64", BigInt64Array.from(Array.from(ids.dataSync() as Int32Array, (v) => BigInt(v))), [B, T]) };
};

ig.manualSeed(0);
const mlpDir = train(["mnist-mlp", "--epochs", "1", "--limit", "2000", "--test-limit", "200"], join(tmp, "mnist-mlp"));
const cnnDir = train(["cnn", "--dataset", "mnist", "--epochs", "1", "--limit", "300", "--test-limit", "100"], join(tmp, "cnn"));
const gptDir = train(["char-gpt", "--size", "small", "--max-iters", "10"], join(tmp, "char-gpt-small"));
const cases: Case[] = [
  { name: "mnist-mlp b64", dir: mlpDir, make: image([64, 28, 28]) },
  { name: "cnn b64", dir: cnnDir, make: image([64, 28, 28, 1]) },
  { name: "char-gpt small b1 t64", dir: gptDir, make: tokens(1, 64) },
  { name: "char-gpt small b12 t64", dir: gptDir, make: tokens(12, 64) },
];

const rows: Record<string, unknown>[] = [];
const sessions = new Map<string, { session: ort.InferenceSession; model: ig.keras.Model | ig.models.GPT; exportS: number; bytes: number }>();
for (const c of cases) {
  if (!sessions.has(c.dir)) {
    const t0 = performance.now();
    const ex = exportOnnxDir(c.dir, { path: join(c.dir, "model.onnx") });
    const exportS = (performance.now() - t0) / 1000; // loading the folder, building the graph, encoding, writing
    sessions.set(c.dir, { session: await ort.InferenceSession.create(ex.bytes), model: loadExportable(c.dir), exportS, bytes: ex.bytes.length });
  }
  const { session, model, exportS, bytes } = sessions.get(c.dir)!;
  const { forward, feed } = c.make(model);
  const outName = session.outputNames[0];
  const got = (await session.run({ [session.inputNames[0]]: feed }))[outName].data as Float32Array;
  const want = forward().dataSync() as Float32Array;
  check(got.length === want.length, `${c.name}: output sizes`);
  let diff = 0;
  for (let i = 0; i < got.length; i++) diff = Math.max(diff, Math.abs(got[i] - want[i]));
  check(diff <= 1e-4, `${c.name}: max |onnxruntime − ingot| ${diff} ≤ 1e-4`);
  const ingotT = measure(() => void forward().dataSync());
  const ortT = await timeAsync(() => session.run({ [session.inputNames[0]]: feed }));
  rows.push({ case: c.name, export_s: exportS, onnx_bytes: bytes, max_abs_diff: diff, ingot_ms: ingotT.best * 1e3, ingot_median_ms: ingotT.median * 1e3, ort_ms: ortT.best * 1e3, ort_median_ms: ortT.median * 1e3 });
}

console.log("machine:", JSON.stringify(machine()), "ingot:", JSON.stringify(ingotVersions()));
printTable(
  "ONNX export: onnxruntime-node vs Ingot (inference, float32)",
  ["case", "export s", "file", "max |diff|", "ingot ms", "onnxruntime ms"],
  rows.map((r) => [r.case as string, (r.export_s as number).toFixed(3), `${((r.onnx_bytes as number) / 1e3).toFixed(0)} kB`, (r.max_abs_diff as number).toExponential(1), (r.ingot_ms as number).toFixed(3), (r.ort_ms as number).toFixed(3)]),
);
const file = writeResult("onnx", { versions: { ...ingotVersions(), onnxruntime_node: packageVersion("onnxruntime-node"), protobufjs: packageVersion("protobufjs") }, opset: 17, results: rows });
console.log(`wrote ${file}`);
