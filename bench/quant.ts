// `npm run bench -- quant`: the int8 (integer GEMM, dynamic activations) and int4 g32 (fused
// dequantizing GEMV/GEMM) forward passes against float32 in the same process, batch 1 and 64,
// on a 784-1024-1024-10 MLP and a 4096×4096 Linear. Outputs are validated before timing.
import * as ig from "../src/index.js";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Int4Linear, quantize } from "../src/compress/quantize.js";
import { quantIsa } from "../src/backend/cpu/quant.js";
import { check, measure, printTable, writeResult } from "./common.js";

const { nn } = ig;

function relErr(a: ig.Tensor, b: ig.Tensor): number {
  const [x, y] = [a.dataSync(), b.dataSync()];
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i] - y[i]) ** 2;
    den += y[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** Copies of one float model: float32, int8 dynamic, int4 g32 (each built from the same seed). */
function variants(make: () => ig.nn.Module): Record<string, ig.nn.Module> {
  const out: Record<string, ig.nn.Module> = {};
  for (const v of ["float32", "int8", "int4 g32"]) {
    ig.manualSeed(0);
    const m = make().eval();
    if (v === "int8") quantize(m, { bits: 8 });
    // 784 inputs do not split into groups of 32: such layers stay float32 under int4.
    const skip = m.namedModules().filter(([, l]) => l instanceof nn.Linear && l.inFeatures % 32 !== 0).map(([n]) => n);
    if (v === "int4 g32") quantize(m, { bits: 4, group: 32, skip });
    out[v] = m;
  }
  return out;
}

export function quant(): void {
  const workloads: [string, () => ig.nn.Module, number][] = [
    ["mlp 784-1024-1024-10", () => new nn.Sequential(new nn.Linear(784, 1024), new nn.ReLU(), new nn.Linear(1024, 1024), new nn.ReLU(), new nn.Linear(1024, 10)), 784],
    ["linear 4096x4096", () => new nn.Sequential(new nn.Linear(4096, 4096)), 4096],
  ];
  const results: Record<string, unknown>[] = [];
  const rows: (string | number)[][] = [];
  for (const [name, make, inF] of workloads) {
    const ms = variants(make);
    for (const batch of [1, 64]) {
      ig.manualSeed(1);
      const x = ig.randn([batch, inF]);
      const want = ig.noGrad(() => ms.float32.call(x));
      const r: Record<string, unknown> = { workload: name, batch };
      const base = measure(() => ig.noGrad(() => ms.float32.call(x)), { windows: 6, windowS: 0.2 });
      r.float32 = { ms: base.best * 1e3, medianMs: base.median * 1e3 };
      const row: (string | number)[] = [name, batch, (base.best * 1e3).toFixed(3)];
      for (const v of ["int8", "int4 g32"]) {
        const err = relErr(ig.noGrad(() => ms[v].call(x)), want);
        check(err < (v === "int8" ? 0.05 : 0.15), `${name} ${v}: relative error ${err} against float32`);
        const t = measure(() => ig.noGrad(() => ms[v].call(x)), { windows: 6, windowS: 0.2 });
        r[v] = { ms: t.best * 1e3, medianMs: t.median * 1e3, speedup: base.best / t.best, relErr: err };
        row.push((t.best * 1e3).toFixed(3), `${(base.best / t.best).toFixed(2)}x`);
      }
      results.push(r);
      rows.push(row);
    }
  }
  printTable(
    `quantized forward vs float32 (best ms; same process; ${ig.getNumThreads()} threads; integer kernels: ${quantIsa()})`,
    ["workload", "batch", "float32", "int8", "speedup", "int4 g32", "speedup"],
    rows,
  );
  const file = writeResult("quant", { unit: "ms per forward", isa: quantIsa(), threads: ig.getNumThreads(), results });
  console.log(`wrote ${file}`);
}

// ---------------------------------------------------------------- the must-show experiments on trained model folders
// node dist/bench/quant.js mnist <keras model dir>   (INGOT_DATA set): int8 file size and test accuracy
// node dist/bench/quant.js gpt <gpt model dir> <text>: int4 g32 weight size and validation loss (last 10 % of the text)

function dirBytes(dir: string): number {
  return statSync(join(dir, "model.safetensors")).size;
}

function mnistExperiment(dir: string): void {
  const { test } = ig.loadMnist();
  const x = test.images.to("float32").div(255);
  const y = Array.from(test.labels.dataSync() as ArrayLike<number>);
  const acc = (m: ig.keras.Model) => {
    const p = ig.argmax(m.predict(x, { batchSize: 1000 }) as ig.Tensor, 1).dataSync();
    return y.filter((v, i) => p[i] === v).length / y.length;
  };
  const m = ig.keras.loadModel(dir);
  const before = acc(m);
  quantize(m, { bits: 8 });
  const out = mkdtempSync(join(tmpdir(), "ingot-int8-"));
  m.save(out);
  const after = acc(ig.keras.loadModel(out));
  const r = { model: dir, accuracy_float32: before, accuracy_int8: after, drop_points: (before - after) * 100, bytes_float32: dirBytes(dir), bytes_int8: dirBytes(out), smaller: dirBytes(dir) / dirBytes(out) };
  console.log(JSON.stringify(r));
}

function gptExperiment(dir: string, textPath: string): void {
  const { model, tokenizer } = ig.models.loadGPT(dir);
  if (!tokenizer) throw new Error(`${dir} has no tokenizer.json`);
  const text = readFileSync(textPath, "utf8");
  const ids = tokenizer.encode(text.slice(Math.floor(text.length * 0.9)));
  const T = model.config.blockSize;
  const windows = Math.min(200, Math.floor((ids.length - 1) / T));
  const valLoss = (g: ig.models.GPT) =>
    ig.noGrad(() => {
      let s = 0;
      for (let b = 0; b < windows; b += 20) {
        const n = Math.min(20, windows - b);
        const xs: number[] = [];
        const ys: number[] = [];
        for (let w = b; w < b + n; w++) {
          xs.push(...ids.slice(w * T, w * T + T));
          ys.push(...ids.slice(w * T + 1, w * T + T + 1));
        }
        s += g.forward(ig.tensor(xs, { dtype: "int32", shape: [n, T] }), ig.tensor(ys, { dtype: "int32", shape: [n, T] })).loss!.item() * n;
      }
      return s / windows;
    });
  const linBytes = (g: ig.nn.Module, kinds: (new (...a: any[]) => ig.nn.Module)[]) =>
    g.modules().filter((m) => kinds.some((k) => m instanceof k)).reduce((n, m) => n + [...m.namedParameters({ recurse: false }), ...m.namedBuffers({ recurse: false })].filter(([k]) => k.startsWith("weight")).reduce((a, [, t]) => a + t.storage.data.BYTES_PER_ELEMENT * t.storage.data.length, 0), 0);
  model.eval();
  const before = valLoss(model);
  const floatLinear = linBytes(model, [nn.Linear]) - model.transformer.wte.weight.size * 4; // the tied head is the embedding
  quantize(model, { bits: 4, group: 32 });
  const out = mkdtempSync(join(tmpdir(), "ingot-int4-"));
  ig.models.saveGPT(out, model, { tokenizer });
  const back = ig.models.loadGPT(out).model;
  const after = valLoss(back);
  const int4Linear = linBytes(back, [Int4Linear]);
  const r = { model: dir, windows, val_loss_float32: before, val_loss_int4: after, increase: after - before, linear_weight_bytes_float32: floatLinear, linear_weight_bytes_int4: int4Linear, weights_smaller: floatLinear / int4Linear, file_bytes_float32: dirBytes(dir), file_bytes_int4: dirBytes(out), file_smaller: dirBytes(dir) / dirBytes(out) };
  console.log(JSON.stringify(r));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [what, dir, extra] = process.argv.slice(2);
  if (what === "mnist") mnistExperiment(dir);
  else if (what === "gpt") gptExperiment(dir, extra ?? join(process.env.INGOT_DATA ?? "../shared/data", "tinyshakespeare", "input.txt"));
  else console.error("usage: node dist/bench/quant.js mnist <keras model dir> | gpt <gpt model dir> [text file]");
}
