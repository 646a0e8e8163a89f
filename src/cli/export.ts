// `ingot export <modelDir> --format onnx`: writes an ONNX file of a saved keras model (the MLP and
// CNN recipes, model.save) or GPT (saveGPT, `ingot train char-gpt`); --verify runs it in
// onnxruntime-node (when installed) and compares with Ingot's own forward.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import * as ingot from "../index.js";
import { DEFAULT_OPSET, exportOnnx, type GraphIO, loadExportable, ONNX_OPSETS, type OnnxExport } from "../export/index.js";
import { parseCli, reportError, UsageError } from "./recipes/common.js";
import { bytes } from "./progress-table.js";

export const EXPORT_HELP = `Usage: ingot export <modelDir> --format onnx [options]

Writes the model as an ONNX file (inference mode: no dropout, batch-norm moving statistics).
  keras models (Sequential/Functional: Dense, Conv2D, pooling, BatchNormalization, Dropout, Flatten, …)
      input 'input' float32 [batch, …] in Keras' layout (channels-last images) → output 'output'
  GPT folders (ingot train char-gpt, saveGPT)
      input 'input_ids' int64 [batch, seq] → output 'logits' float32 [batch, seq, vocab] (seq ≤ blockSize)

Options:
  --format onnx    the format (onnx, the only one so far; the default)
  --out FILE       where the file goes (default <modelDir>/model.onnx)
  --opset N        ONNX opset (default ${DEFAULT_OPSET}; one of ${ONNX_OPSETS.join(", ")})
  --verify         run the file in onnxruntime-node (when installed) on a random input and print the
                   largest difference from Ingot's forward
  --json           print one JSON object
  -h, --help       show this help

Example: ingot export runs/mnist-mlp --format onnx --out mnist-mlp.onnx --verify
`;

const dimsText = (io: GraphIO) => `'${io.name}' ${io.dtype} [${io.shape.join(", ")}]`;

/** A random input for each graph input (batch 2, seq min(8, blockSize)) and Ingot's outputs for it. */
function sampleRun(model: ingot.keras.Model | ingot.models.GPT, ex: OnnxExport): { feeds: { io: GraphIO; data: Float32Array | BigInt64Array; dims: number[] }[]; want: Float32Array[] } {
  ingot.manualSeed(0);
  if (model instanceof ingot.models.GPT) {
    const dims = [2, Math.min(8, model.config.blockSize)];
    const ids = ingot.randint(0, model.config.vocabSize, dims, { dtype: "int32" });
    const want = ingot.noGrad(() => model.forward(ids).logits);
    return { feeds: [{ io: ex.inputs[0], data: BigInt64Array.from(Array.from(ids.dataSync() as Int32Array, (v) => BigInt(v))), dims }], want: [Float32Array.from(want.dataSync() as Float32Array)] };
  }
  const xs = ex.inputs.map((io) => ingot.rand([2, ...(io.shape.slice(1) as number[])]));
  const out = model.predict(xs.length === 1 ? xs[0] : xs);
  const outs = Array.isArray(out) ? out : [out];
  return {
    feeds: ex.inputs.map((io, i) => ({ io, data: Float32Array.from(xs[i].dataSync() as Float32Array), dims: [...xs[i].shape] })),
    want: outs.map((t) => Float32Array.from(t.dataSync() as Float32Array)),
  };
}

/** Largest |onnxruntime − Ingot| over all outputs, or null when onnxruntime-node is not installed. */
async function verify(model: ingot.keras.Model | ingot.models.GPT, ex: OnnxExport): Promise<number | null> {
  let ort: typeof import("onnxruntime-node");
  try {
    ort = await import("onnxruntime-node");
  } catch {
    return null;
  }
  const session = await ort.InferenceSession.create(ex.bytes);
  const { feeds, want } = sampleRun(model, ex);
  const res = await session.run(Object.fromEntries(feeds.map((f) => [f.io.name, new ort.Tensor(f.io.dtype, f.data, f.dims)])));
  let diff = 0;
  ex.outputs.forEach((io, k) => {
    const got = res[io.name].data as Float32Array;
    if (got.length !== want[k].length) throw new Error(`ingot export --verify: output '${io.name}' has ${got.length} values in onnxruntime but ${want[k].length} in Ingot`);
    for (let i = 0; i < got.length; i++) diff = Math.max(diff, Math.abs(got[i] - want[k][i]) || (Number.isNaN(got[i] - want[k][i]) ? Infinity : 0));
  });
  return diff;
}

export async function run(args: string[]): Promise<number> {
  try {
    const { values: v, positionals } = parseCli("ingot export", args, {
      format: { type: "string", default: "onnx" },
      out: { type: "string" },
      opset: { type: "string" },
      verify: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (v.help) {
      process.stdout.write(EXPORT_HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`ingot export: pass one model folder, e.g. 'ingot export runs/mnist-mlp --format onnx'${positionals.length ? ` (got ${positionals.length})` : ""}`);
    if (v.format !== "onnx") throw new UsageError(`ingot export: unknown --format '${v.format}'; the formats are: onnx`);
    const opset = v.opset === undefined ? DEFAULT_OPSET : Number(v.opset);
    if (!ONNX_OPSETS.includes(opset)) throw new UsageError(`ingot export: --opset must be one of ${ONNX_OPSETS.join(", ")}, got '${v.opset}'`);
    const dir = positionals[0];
    const out = v.out ?? join(dir, "model.onnx");
    if (existsSync(out) && statSync(out).isDirectory()) throw new UsageError(`ingot export: --out ${out} is a folder; give the file to write, e.g. --out ${join(out, "model.onnx")}`);
    const model = loadExportable(dir);
    const ex = exportOnnx(model, { opset, path: out });
    const maxAbsDiff = v.verify ? await verify(model, ex) : undefined;
    const size = statSync(out).size;
    if (v.json) {
      process.stdout.write(`${JSON.stringify({ out, format: "onnx", opset, kind: ex.kind, bytes: size, inputs: ex.inputs, outputs: ex.outputs, ops: ex.ops, ...(v.verify ? { max_abs_diff: maxAbsDiff } : {}) })}\n`);
    } else {
      const nodes = Object.values(ex.ops).reduce((a, b) => a + b, 0);
      const top = Object.entries(ex.ops).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, n]) => `${k} ${n}`).join(", ");
      process.stdout.write(`wrote ${out} (ONNX opset ${opset}, ${bytes(size)}, ${nodes} nodes: ${top}${Object.keys(ex.ops).length > 6 ? ", …" : ""})\n`);
      process.stdout.write(`  inputs:  ${ex.inputs.map(dimsText).join(", ")}\n  outputs: ${ex.outputs.map(dimsText).join(", ")}\n`);
      if (v.verify)
        process.stdout.write(maxAbsDiff === null ? "  verify: onnxruntime-node is not installed (npm i onnxruntime-node); not checked\n" : `  verify: onnxruntime-node vs Ingot on a random input: max |diff| ${maxAbsDiff!.toExponential(2)}\n`);
    }
    return 0;
  } catch (e) {
    // The library's errors start with "exportOnnx: "; the command names itself instead.
    if (e instanceof Error && e.message.startsWith("exportOnnx: ")) e.message = e.message.slice("exportOnnx: ".length);
    return reportError("ingot export", e);
  }
}
