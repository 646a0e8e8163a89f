// `ingot estimate`: parameters, FLOPs per token, training and inference memory, time and cost of a
// saved model folder, a config file or a preset, on a datasheet device at a stated utilization.
// The formulas and their sources are in docs/estimator.md.
import * as est from "../estimate/index.js";
import { formatPairs, formatTable, grouped } from "./progress-table.js";
import { parseCli, reportError, UsageError } from "./recipes/common.js";

const CMD = "ingot estimate";

export const ESTIMATE_HELP = `Usage: ingot estimate (<modelDir> | --config FILE | --preset NAME) [options]

Parameters (exact for what Ingot builds), FLOPs per token for training and inference, training and
inference memory, and the time and cost of training on a device at an assumed utilization.
Formulas and sources: docs/estimator.md.

Model (one of):
  <modelDir>              a saved model folder: loaded and counted, and described from config.json
  --config FILE           a config.json, or a bare GPT / BERT / {"family": "llama", ...} config
  --preset NAME           ${Object.keys(est.PRESETS).join(", ")}

Options:
  --tokens N              tokens (samples for keras models) to train on: 10e9, 10B, 300M, 60k
                          (default 20 × parameters, Hoffmann et al. 2022; keras: 60k samples)
  --batch B               micro-batch for the memory estimate (default: the model's or preset's)
  --seq T                 sequence length (default: the model's context)
  --device NAME           ${est.deviceNames().join(", ")} (default h100)
  --utilization U         fraction of the device's peak reached (default ${est.DEFAULT_UTILIZATION}, a model-FLOPs utilization)
  --price-per-hour X      USD per device-hour (default: an assumed round figure per device)
  --dtype D               fp32 | tf32 | bf16 | int8 (default bf16 mixed precision; fp32 on cpu-2core)
  --recompute             full activation recomputation (keep only each layer's input)
  --list                  the presets and devices
  --json                  print the estimate as one JSON object (the last line of stdout)
  -h, --help              show this help

Example: ingot estimate --preset gpt2-124m --tokens 10B --device h100
`;

/** 10B, 1.5e9, 300M, 60k → a number. */
export function parseCount(flag: string, s: string): number {
  const m = /^([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kKmMbBtT]?)$/.exec(s.trim().replace(/_/g, ""));
  if (!m) throw new UsageError(`${CMD}: ${flag} must be a number such as 10e9, 10B, 300M or 60k, got '${s}'`);
  const scale = { "": 1, k: 1e3, m: 1e6, b: 1e9, t: 1e12 }[m[2].toLowerCase() as "" | "k" | "m" | "b" | "t"];
  const v = Number(m[1]) * scale;
  if (!(v > 0)) throw new UsageError(`${CMD}: ${flag} must be positive, got '${s}'`);
  return v;
}

function parseNumber(flag: string, s: string, integer: boolean): number {
  const v = Number(s);
  if (s.trim() === "" || !Number.isFinite(v) || (integer && !Number.isInteger(v))) throw new UsageError(`${CMD}: ${flag} must be ${integer ? "an integer" : "a number"}, got '${s}'`);
  return v;
}

/** 1.23 GB (decimal units, as device memory is sold). */
export function fmtBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) (n /= 1000), i++;
  return `${i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)} ${units[i]}`;
}

/** 855.2 MFLOP, 8.55 EFLOP. */
export function fmtFlops(n: number, unit = "FLOP"): string {
  const p = ["", "k", "M", "G", "T", "P", "E", "Z", "Y"];
  let i = 0;
  while (n >= 1000 && i < p.length - 1) (n /= 1000), i++;
  return `${n.toFixed(n < 10 ? 2 : 1)} ${p[i]}${unit}`;
}

/** 42 s, 12.5 min, 6.01 h, 3.2 days. */
export function fmtDuration(s: number): string {
  if (s < 60) return `${s.toPrecision(3)} s`;
  if (s < 3600) return `${(s / 60).toPrecision(3)} min`;
  if (s < 86400 * 2) return `${(s / 3600).toPrecision(3)} h`;
  if (s < 86400 * 365 * 2) return `${(s / 86400).toPrecision(3)} days`;
  return `${(s / 86400 / 365).toPrecision(3)} years`;
}

const money = (x: number) => `$${x < 100 ? x.toFixed(2) : grouped(x)}`;

/** The human report. */
export function estimateReport(e: est.Estimate): string {
  const per = e.unit;
  const pairs: [string, string][] = [];
  const params =
    e.parameters_loaded !== null
      ? `${grouped(e.parameters)} (loaded from the folder; the formula gives ${grouped(e.parameters_formula)}${e.parameters_formula === e.parameters_loaded ? ", equal" : ", DIFFERENT"})`
      : `${grouped(e.parameters)} (by formula)`;
  pairs.push(["parameters", params + (e.trainable_parameters !== e.parameters ? `; trainable ${grouped(e.trainable_parameters)}` : "")]);
  if (e.non_embedding_parameters !== null) pairs.push(["", `non-embedding N ${grouped(e.non_embedding_parameters)} (Kaplan); in matmuls N ${grouped(e.compute_parameters!)} (PaLM)`]);
  pairs.push(["shape", e.seq !== null ? `batch ${e.batch} × sequence ${e.seq}, ${e.dtype}${e.recompute ? ", full recomputation" : ""}` : `batch ${e.batch}, ${e.dtype}`]);
  const f = e.flops_formulas;
  pairs.push(["FLOPs/" + per, `train ${fmtFlops(e.train_flops_per_token)} (3 × forward${f ? " = 6N + 12·L·H·Q·T" : ""}), inference ${fmtFlops(e.inference_flops_per_token)} (forward)`]);
  if (f) pairs.push(["", `Kaplan 2020: train ${fmtFlops(f.kaplan_train)} (6N + 6·L·T·d, N non-embedding); PaLM 2022: ${fmtFlops(f.palm_train)}`]);
  if (e.recompute) pairs.push(["", `executed with recomputation: ${fmtFlops(e.hardware_flops_per_token)} per ${per} (one more forward)`]);
  const head = `estimate ${e.model} — ${e.kind === "transformer" ? `${e.family} transformer` : /^(Sequential|Functional|Model)$/.test(e.family) ? `keras ${e.family}` : e.family}\n\n`;

  const mem = formatTable(
    ["memory", "training", "inference"],
    [
      ["weights", fmtBytes(e.train_memory.weights), fmtBytes(e.inference_memory.weights)],
      ["gradients", fmtBytes(e.train_memory.gradients), "—"],
      ["fp32 master weights", e.train_memory.master_weights ? fmtBytes(e.train_memory.master_weights) : "—", "—"],
      ["Adam moments (fp32)", fmtBytes(e.train_memory.optimizer), "—"],
      [e.recompute ? "activations (recomputed)" : "activations", fmtBytes(e.train_memory.activations), fmtBytes(e.inference_memory.activations)],
      ["KV cache", "—", e.inference_memory.kv_cache ? fmtBytes(e.inference_memory.kv_cache) : "—"],
      ["total", fmtBytes(e.train_memory_bytes), fmtBytes(e.inference_memory_bytes)],
      [`fits in ${fmtBytes(e.device.memory_bytes)}`, e.fits_train ? "yes" : "NO", e.fits_inference ? "yes" : "NO"],
    ],
  );

  const d = e.device;
  const tail: [string, string][] = [
    ["device", `${d.name}: ${d.description}; peak ${fmtFlops(d.peak_flops, d.peak_dtype === "int8" ? "OP/s" : "FLOP/s")} ${d.peak_dtype}`],
    ["", `source: ${d.source}`],
    ["utilization", `${(e.utilization * 100).toFixed(1)} % of peak${e.utilization_assumed ? " (assumed default; set --utilization)" : " (--utilization)"}`],
    [
      "time",
      `${grouped(e.tokens)} ${per}s × ${fmtFlops(e.hardware_flops_per_token)} = ${(e.tokens * e.hardware_flops_per_token).toExponential(3)} FLOP at ${(e.utilization * 100).toFixed(1)} % of ${fmtFlops(d.peak_flops, "FLOP/s")} → ${fmtDuration(e.seconds)}`,
    ],
    ["cost", `${e.hours < 100 ? e.hours.toFixed(2) : grouped(e.hours)} h × ${money(e.price_per_hour)}/h${e.price_assumed ? " (assumed price; set --price-per-hour)" : ""} = ${money(e.cost)}`],
  ];
  if (e.inference_tokens_per_second !== null)
    tail.push(["generation", `≈ ${e.inference_tokens_per_second.toPrecision(3)} tokens/s at batch ${e.batch} (${d.bandwidth === null ? "compute bound only: no memory bandwidth figure for this device" : "roofline: compute at the utilization or reading weights + KV cache at full bandwidth"})`]);
  for (const n of e.notes) tail.push(["note", n]);
  return head + formatPairs(pairs) + "\n" + mem + "\n" + formatPairs(tail);
}

function listing(): string {
  const presets = formatTable(
    ["preset", "parameters", "what"],
    Object.entries(est.PRESETS).map(([k, p]) => [k, grouped(est.transformerParams(p.spec).total), p.summary]),
  );
  const devices = formatTable(
    ["device", "fp32", "tf32", "bf16", "int8", "memory", "$/h (assumed)"],
    est.deviceNames().map((n) => {
      const d = est.getDevice(n);
      const t = (v: number | null) => (v === null ? "—" : v < 1 ? v.toFixed(3) : String(v));
      return [n, t(d.peakTflops.fp32), t(d.peakTflops.tf32), t(d.peakTflops.bf16), t(d.peakTflops.int8), fmtBytes(d.memoryBytes), d.pricePerHour.toFixed(2)];
    }),
  );
  return `${presets}\npeak TFLOP/s (int8: TOP/s), dense, from the datasheets (docs/estimator.md):\n${devices}`;
}

export async function run(args: string[]): Promise<number> {
  try {
    const { values: v, positionals } = parseCli(CMD, args, {
      config: { type: "string" },
      preset: { type: "string" },
      tokens: { type: "string" },
      batch: { type: "string" },
      seq: { type: "string" },
      device: { type: "string" },
      utilization: { type: "string" },
      "price-per-hour": { type: "string" },
      dtype: { type: "string" },
      recompute: { type: "boolean", default: false },
      list: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (v.help) {
      process.stdout.write(ESTIMATE_HELP);
      return 0;
    }
    if (v.list) {
      process.stdout.write(listing());
      return 0;
    }
    const given = [positionals.length > 0, v.config !== undefined, v.preset !== undefined].filter(Boolean).length;
    if (given !== 1 || positionals.length > 1)
      throw new UsageError(`${CMD}: name one model: a model folder, --config FILE or --preset NAME (e.g. ${CMD} --preset gpt2-124m); run '${CMD} --help'`);
    if (v.dtype !== undefined && !(est.COMPUTE_DTYPES as readonly string[]).includes(v.dtype))
      throw new UsageError(`${CMD}: --dtype must be one of ${est.COMPUTE_DTYPES.join(", ")}, got '${v.dtype}'`);
    const src = positionals.length ? est.fromModelDir(positionals[0]) : v.config !== undefined ? est.fromConfigFile(v.config) : est.fromPreset(v.preset!);
    const e = est.estimate(src, {
      tokens: v.tokens !== undefined ? parseCount("--tokens", v.tokens) : undefined,
      batch: v.batch !== undefined ? parseNumber("--batch", v.batch, true) : undefined,
      seq: v.seq !== undefined ? parseNumber("--seq", v.seq, true) : undefined,
      device: v.device,
      utilization: v.utilization !== undefined ? parseNumber("--utilization", v.utilization, false) : undefined,
      pricePerHour: v["price-per-hour"] !== undefined ? parseNumber("--price-per-hour", v["price-per-hour"], false) : undefined,
      dtype: v.dtype as est.ComputeDType | undefined,
      recompute: v.recompute,
    });
    process.stdout.write(v.json ? JSON.stringify(e) + "\n" : estimateReport(e));
    return 0;
  } catch (e) {
    return reportError(CMD, e);
  }
}
