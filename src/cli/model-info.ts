// `ingot info <modelDir>`: what a model folder holds — its layers with output shapes and parameter
// counts (keras models), or its tensors grouped by module (nn models), the files and their sizes,
// and the metrics and lineage from card.json.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import * as ingot from "../index.js";
import { CliError, parseCli, reportError, UsageError } from "./recipes/common.js";
import { openFolder, readFolderJson } from "./eval.js";
import { bytes, formatPairs, formatTable, grouped, percent } from "./progress-table.js";

export const INFO_HELP = `Usage: ingot info [--kernels]          the backend in use (and which backend serves each op)
       ingot info <modelDir> [--json]  a model folder: layers, output shapes, parameter counts, files and sizes, card.json

An encrypted folder ('ingot encrypt') is read with INGOT_MODEL_KEY or INGOT_MODEL_PASSPHRASE, as 'ingot serve' does.
`;

export interface LayerInfo {
  name: string;
  type: string;
  output_shape: (number | null)[] | null;
  params: number;
}

export interface ModelInfo {
  dir: string;
  api: "keras" | "nn";
  class_name: string | null;
  layers: LayerInfo[];
  params: { total: number; trainable: number };
  tensors: { name: string; dtype: string; shape: number[] }[];
  /** The files on disk and their sizes (for an encrypted folder, the encrypted files). */
  files: Record<string, number>;
  size_bytes: number;
  /** True for a folder encrypted by `ingot encrypt` (read with INGOT_MODEL_KEY / INGOT_MODEL_PASSPHRASE). */
  encrypted: boolean;
  card: Record<string, unknown>;
}

/** `(None, 28, 28)`, as Keras prints shapes. */
function shapeText(s: (number | null)[] | null): string {
  if (!s) return "?";
  return `(${s.map((d) => (d === null ? "None" : d)).join(", ")}${s.length === 1 ? "," : ""})`;
}

/** Tensors grouped by the module that owns them (`fc1.weight`, `fc1.bias` → fc1). */
function layersFromTensors(tensors: Record<string, ingot.Tensor>): LayerInfo[] {
  const groups = new Map<string, LayerInfo>();
  for (const [name, t] of Object.entries(tensors)) {
    const owner = name.includes(".") ? name.slice(0, name.lastIndexOf(".")) : name;
    const g = groups.get(owner) ?? { name: owner, type: "", output_shape: null, params: 0 };
    g.params += t.size;
    g.type = g.type ? `${g.type}, ${name.slice(owner.length + 1)} ${ingot.shapeStr(t.shape)}` : `${name.slice(owner.length + 1) || "tensor"} ${ingot.shapeStr(t.shape)}`;
    groups.set(owner, g);
  }
  return [...groups.values()];
}

/** Reads what `ingot info <dir>` shows. */
export function modelInfo(dir: string): ModelInfo {
  const folder = openFolder("ingot info", dir);
  const config = readFolderJson(folder, "config.json", true)!;
  const card = readFolderJson(folder, "card.json", false) ?? {};
  const files: Record<string, number> = {};
  for (const f of readdirSync(dir).sort()) {
    const st = statSync(join(dir, f));
    if (st.isFile() && !f.includes(".tmp-")) files[f] = st.size;
  }
  if (!folder.has("model.safetensors")) throw new CliError(`ingot info: ${dir} has config.json but no model.safetensors; the folder is incomplete`);
  let tensors: Record<string, ingot.Tensor>;
  try {
    tensors = ingot.parseSafetensors(folder.read("model.safetensors"), join(dir, "model.safetensors")).tensors;
  } catch (e) {
    throw new CliError(`ingot info: ${join(dir, "model.safetensors")} cannot be read: ${(e as Error).message}`);
  }
  const tensorList = Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: [...t.shape] }));
  const size = Object.values(files).reduce((a, b) => a + b, 0);
  const total = Object.values(tensors).reduce((n, t) => n + t.size, 0);
  const common = { dir, tensors: tensorList, files, size_bytes: size, encrypted: folder.encrypted, card };
  if (config.format === "ingot.keras") {
    const model = ingot.keras.loadModelFrom(ingot.security.kerasModelFiles(folder), { compile: false });
    const layers = model.layers.map((l) => ({ name: l.name, type: l.className, output_shape: l.outputShapeSeen ? [...l.outputShapeSeen] : null, params: l.countParams() }));
    return { ...common, api: "keras", class_name: model.className, layers, params: { total: model.countParams(), trainable: model.countTrainableParams() } };
  }
  const trainable = (card.params as { trainable?: number } | undefined)?.trainable ?? total;
  const className = (config.architecture ?? config.className ?? null) as string | null;
  return { ...common, api: "nn", class_name: className, layers: layersFromTensors(tensors), params: { total, trainable } };
}

/** The human report. */
export function infoReport(info: ModelInfo): string {
  const keras = info.api === "keras";
  const table = keras
    ? formatTable(
        ["layer", "type", "output shape", "params"],
        info.layers.map((l) => [l.name, l.type, shapeText(l.output_shape), grouped(l.params)]),
      )
    : formatTable(
        ["module", "tensors", "params"],
        info.layers.map((l) => [l.name, l.type, grouped(l.params)]),
      );
  const c = info.card as Record<string, any>;
  const pairs: [string, string][] = [
    ["params", `${grouped(info.params.total)} (trainable ${grouped(info.params.trainable)})`],
    ["files", `${Object.entries(info.files).map(([f, n]) => `${f} ${bytes(n)}`).join(", ")}; ${bytes(info.size_bytes)} in all${info.encrypted ? " (encrypted; read with the key)" : ""}`],
  ];
  // Every number in card.json's metrics, accuracies as percentages.
  const metrics = Object.entries((c.metrics ?? {}) as Record<string, unknown>)
    .filter((e): e is [string, number] => typeof e[1] === "number")
    .map(([k, v]) => `${k.replace(/_/g, " ")} ${/acc/.test(k) ? percent(v) : v.toPrecision(4)}`);
  if (c.dataset || metrics.length) pairs.push(["data", [c.dataset ?? "dataset not recorded", ...metrics].join(" · ")]);
  const t = c.training as Record<string, any> | undefined;
  if (t) pairs.push(["training", `${t.epochs} epoch(s), batch ${t.batch_size}, ${t.optimizer ?? "?"} lr ${t.lr}${c.seed !== undefined ? `, seed ${c.seed}` : ""}${typeof t.seconds === "number" ? `, ${t.seconds.toFixed(1)} s` : ""}${c.backend ? ` on ${c.backend}` : ""}`]);
  if (c.command) pairs.push(["command", String(c.command)]);
  return `model ${info.dir} — ${info.class_name ?? "?"} (${info.api}${c.recipe ? `, recipe ${c.recipe}` : ""})\n\n${table}\n${formatPairs(pairs)}`;
}

export function run(args: string[]): number {
  try {
    const { values, positionals } = parseCli("ingot info", args, { json: { type: "boolean", default: false }, help: { type: "boolean", short: "h", default: false } });
    if (values.help) {
      process.stdout.write(INFO_HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`ingot info: pass one model folder, e.g. ingot info runs/mnist-mlp`);
    const info = modelInfo(positionals[0]);
    process.stdout.write(values.json ? JSON.stringify(info) + "\n" : infoReport(info));
    return 0;
  } catch (e) {
    return reportError("ingot info", e);
  }
}
