// ONNX export: exportOnnx(model) for in-memory Keras models and GPTs, exportOnnxDir(dir) for the
// model folders `ingot train` and saveGPT write. The graph is built by keras.ts / gpt.ts on a
// GraphBuilder and encoded by protobufjs with the onnx.proto subset of onnx-proto.ts.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { IngotError, ValueError } from "../tensor/index.js";
import { writeFileAtomic } from "../io/atomic.js";
import { Model } from "../keras/model.js";
import { loadModel } from "../keras/load.js";
import { CONFIG_FORMAT } from "../keras/serialize.js";
import { GPT } from "../models/gpt.js";
import { GPT_ARCHITECTURE, loadGPT } from "../models/gpt-io.js";
import { GraphBuilder, type GraphIO, IR_VERSION_OF_OPSET } from "./graph.js";
import { exportKeras } from "./keras.js";
import { exportGPT } from "./gpt.js";
import { encodeModelProto } from "./onnx-proto.js";

export { KERAS_EXPORTABLE } from "./keras.js";
export { decodeModelProto } from "./onnx-proto.js";
export type { GraphIO } from "./graph.js";

/** The default opset (the one the exporter is tested at). */
export const DEFAULT_OPSET = 17;
/** Opsets the exporter can write. */
export const ONNX_OPSETS = Object.keys(IR_VERSION_OF_OPSET).map(Number);

export interface ExportOnnxOptions {
  /** ONNX opset version (default 17; 17–21 allowed). */
  opset?: number;
  /** Also write the bytes to this file (atomically: a temporary file, then a rename). */
  path?: string;
  /** The graph's name (default the model's name). */
  graphName?: string;
}

export interface OnnxExport {
  /** The serialized ModelProto (what a .onnx file holds). */
  bytes: Uint8Array;
  opset: number;
  /** 'keras' or 'gpt'. */
  kind: "keras" | "gpt";
  inputs: GraphIO[];
  outputs: GraphIO[];
  /** How many nodes of each op type the graph has. */
  ops: Record<string, number>;
  /** Where the file was written, when opts.path was given. */
  path?: string;
}

function checkOpset(opset: unknown): number {
  if (typeof opset !== "number" || !ONNX_OPSETS.includes(opset))
    throw new ValueError(`exportOnnx: opset must be one of ${ONNX_OPSETS.join(", ")} (LayerNormalization needs 17 or later), got ${JSON.stringify(opset)}`);
  return opset;
}

/**
 * Exports a Keras model (Sequential or Functional: Dense, Conv2D, pooling, BatchNormalization, …)
 * or a models.GPT to ONNX, in inference mode. Keras models keep Keras' channels-last input layout
 * and a dynamic batch axis; a GPT takes input_ids int64 [batch, seq] and returns logits
 * [batch, seq, vocab], both axes dynamic.
 * @example const { bytes } = exportOnnx(model, { path: 'mnist.onnx' });
 */
export function exportOnnx(model: Model | GPT, opts: ExportOnnxOptions = {}): OnnxExport {
  const opset = checkOpset(opts.opset ?? DEFAULT_OPSET);
  const g = new GraphBuilder(opset);
  let kind: OnnxExport["kind"];
  let name: string;
  // metadata_props: what a consumer needs besides the graph.
  let metadata: Record<string, string>;
  if (model instanceof GPT) {
    exportGPT(g, model);
    kind = "gpt";
    name = "gpt";
    const c = model.config;
    metadata = { "ingot.architecture": "gpt", "ingot.vocab_size": String(c.vocabSize), "ingot.block_size": String(c.blockSize) };
  } else if (model instanceof Model) {
    exportKeras(g, model);
    kind = "keras";
    name = model.name;
    metadata = { "ingot.architecture": "keras", "ingot.keras_class": model.className, "ingot.input_layout": "keras (channels-last images)" };
  } else
    throw new ValueError(
      `exportOnnx: expected a keras model (Sequential or Functional) or a models.GPT, got ${(model as object)?.constructor?.name ?? typeof model}`,
    );
  const bytes = encodeModelProto(g.model(opts.graphName ?? name, `Exported by Ingot from a ${kind === "gpt" ? "GPT" : `keras ${model.constructor.name}`} (inference mode).`, metadata));
  if (opts.path) writeFileAtomic(opts.path, bytes);
  return { bytes, opset, kind, inputs: g.inputs, outputs: g.outputs, ops: g.opCounts(), ...(opts.path ? { path: opts.path } : {}) };
}

/** The model a folder holds: a keras model (model.save / `ingot train`) or a GPT (saveGPT / `ingot train char-gpt`). */
export function loadExportable(dir: string): Model | GPT {
  if (!existsSync(dir)) throw new IngotError(`exportOnnx: ${dir} does not exist; pass a model folder written by 'ingot train' or model.save(dir)`);
  if (!statSync(dir).isDirectory()) throw new IngotError(`exportOnnx: ${dir} is a file; pass the model folder that holds config.json and model.safetensors`);
  const cfgPath = join(dir, "config.json");
  if (!existsSync(cfgPath))
    throw new IngotError(`exportOnnx: ${dir} has no config.json${existsSync(join(dir, "manifest.json")) ? " (is it encrypted? decrypt it first)" : ""}; pass a model folder written by 'ingot train' or model.save(dir)`);
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(readFileSync(cfgPath, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new IngotError(`exportOnnx: ${cfgPath} is not valid JSON (${(e as Error).message})`);
  }
  if (cfg?.architecture === GPT_ARCHITECTURE) {
    if (cfg.quantization) throw new ValueError(`exportOnnx: ${dir} holds a quantized GPT; ONNX export covers float models — export the folder it was compressed from`);
    return loadGPT(dir).model;
  }
  if (cfg?.format === CONFIG_FORMAT) return loadModel(dir, { compile: false });
  const what = cfg?.architecture ? `architecture '${String(cfg.architecture)}'` : `format ${JSON.stringify(cfg?.format)}`;
  throw new ValueError(`exportOnnx: ${cfgPath} describes a model of ${what}; ONNX export covers keras models (the MLP and CNN recipes, model.save) and GPT folders`);
}

/** Loads a model folder and exports it (see exportOnnx). */
export function exportOnnxDir(dir: string, opts: ExportOnnxOptions = {}): OnnxExport {
  return exportOnnx(loadExportable(dir), opts);
}
