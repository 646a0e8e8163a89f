// Measuring a compression: forward latency (median of timed runs, batch 1 and 64), parameter and
// non-zero counts, file sizes, and the before/after table as rows and as a Markdown report.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Tensor } from "../tensor/index.js";
import { noGrad } from "../autograd/index.js";
import type { Module } from "../nn/module.js";

/** The before/after figures of one compression (snake_case, as the --json line). */
export interface CompressionSummary {
  method: string;
  /** The method's settings (sparsity, rank, bits, …). */
  parameters: Record<string, unknown>;
  source: string;
  out: string;
  size_bytes_before: number;
  size_bytes_after: number;
  params_before: number;
  params_after: number;
  nonzero_before: number;
  nonzero_after: number;
  /** What metric_* measure: 'test_accuracy' (classifiers) or 'val_loss' (language models). */
  metric: string;
  metric_before: number | null;
  metric_after: number | null;
  /** Median forward time at batch 1, in milliseconds. */
  latency_ms_before: number;
  latency_ms_after: number;
  /** Median forward time at batch 64. */
  latency_ms_b64_before: number;
  latency_ms_b64_after: number;
  finetune_epochs: number;
  seconds: number;
}

export interface LatencyOptions {
  /** Timed runs (default 15 at batch 1, 7 at larger batches); the median is reported. */
  runs?: number;
  /** Untimed runs first (default 3). */
  warmup?: number;
}

/** The median of the values. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** The median time in ms of `fn()` over timed runs after warm-up runs. */
export function timeMedian(fn: () => void, opts: LatencyOptions = {}): number {
  const warmup = opts.warmup ?? 3;
  const runs = opts.runs ?? 15;
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/**
 * The median forward latency of `model` on `input` (inference mode, no gradients); the output is
 * read back (dataSync) so lazy work would be counted too.
 */
export function forwardLatency(model: Module, input: Tensor, opts: LatencyOptions = {}): number {
  const mode = model.training;
  model.eval();
  try {
    return timeMedian(
      () =>
        noGrad(() => {
          const out = model.call(input) as Tensor | { logits: Tensor };
          ("logits" in out ? out.logits : out).dataSync();
        }),
      { runs: opts.runs ?? (input.shape[0] > 1 ? 7 : 15), warmup: opts.warmup },
    );
  } finally {
    model.train(mode);
  }
}

/**
 * Median forward latencies of two models on the same input, timed alternately (a, b, a, b, …)
 * after warming both up, so that a drift of the machine's load or the JIT affects both alike.
 */
export function pairedLatency(a: Module, b: Module, input: Tensor, opts: LatencyOptions = {}): [number, number] {
  const runs = opts.runs ?? (input.shape[0] > 1 ? 9 : 25);
  const warmup = opts.warmup ?? 5;
  const modes = [a.training, b.training];
  a.eval();
  b.eval();
  const once = (m: Module) => {
    const t0 = performance.now();
    noGrad(() => {
      const out = m.call(input) as Tensor | { logits: Tensor };
      ("logits" in out ? out.logits : out).dataSync();
    });
    return performance.now() - t0;
  };
  try {
    for (let i = 0; i < warmup; i++) (once(a), once(b));
    const ta: number[] = [];
    const tb: number[] = [];
    for (let i = 0; i < runs; i++) {
      ta.push(once(a));
      tb.push(once(b));
    }
    return [median(ta), median(tb)];
  } finally {
    a.train(modes[0]);
    b.train(modes[1]);
  }
}

/**
 * Stored weights (parameters and saved buffers, so quantized layers' packed weights count too; an
 * int4 byte holds two) and the non-zero ones among them.
 */
export function countWeights(model: Module): { params: number; nonzero: number } {
  let params = 0;
  let nonzero = 0;
  for (const p of new Set(Object.values(model.stateDict({ keepVars: true })))) {
    const v = p.contiguous().dataSync() as ArrayLike<number>;
    params += v.length;
    for (let i = 0; i < v.length; i++) if (v[i] !== 0) nonzero++;
  }
  return { params, nonzero };
}

/** Bytes of a model folder's weights file (model.safetensors), 0 when absent. */
export function weightsBytes(dir: string): number {
  const p = join(dir, "model.safetensors");
  return existsSync(p) ? statSync(p).size : 0;
}

/** `2.3 kB`, `1.4 MB`. */
function fmtBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  return `${(n / 1e6).toFixed(2)} MB`;
}

function fmtMetric(metric: string, v: number | null): string {
  if (v === null) return "—";
  return metric.endsWith("accuracy") ? `${(v * 100).toFixed(2)}%` : v.toFixed(4);
}

function ratio(before: number, after: number): string {
  if (!before || !after) return "—";
  return before >= after ? `${(before / after).toFixed(2)}× smaller` : `${(after / before).toFixed(2)}× larger`;
}

/** The rows [what, before, after, change] of the before/after table. */
export function summaryRows(s: CompressionSummary): [string, string, string, string][] {
  const metricChange =
    s.metric_before === null || s.metric_after === null
      ? "—"
      : s.metric.endsWith("accuracy")
        ? `${((s.metric_after - s.metric_before) * 100 >= 0 ? "+" : "")}${((s.metric_after - s.metric_before) * 100).toFixed(2)} points`
        : `${s.metric_after - s.metric_before >= 0 ? "+" : ""}${(s.metric_after - s.metric_before).toFixed(4)}`;
  const speed = (b: number, a: number) => (!(a > 0 && b > 0) ? "—" : b >= a ? `${(b / a).toFixed(2)}× faster` : `${(a / b).toFixed(2)}× slower`);
  return [
    ["weights file", fmtBytes(s.size_bytes_before), fmtBytes(s.size_bytes_after), ratio(s.size_bytes_before, s.size_bytes_after)],
    ["parameters", s.params_before.toLocaleString("en-US"), s.params_after.toLocaleString("en-US"), ratio(s.params_before, s.params_after)],
    ["non-zero parameters", s.nonzero_before.toLocaleString("en-US"), s.nonzero_after.toLocaleString("en-US"), ratio(s.nonzero_before, s.nonzero_after)],
    [s.metric.replace("_", " "), fmtMetric(s.metric, s.metric_before), fmtMetric(s.metric, s.metric_after), metricChange],
    ["latency, batch 1", `${s.latency_ms_before.toFixed(3)} ms`, `${s.latency_ms_after.toFixed(3)} ms`, speed(s.latency_ms_before, s.latency_ms_after)],
    ["latency, batch 64", `${s.latency_ms_b64_before.toFixed(3)} ms`, `${s.latency_ms_b64_after.toFixed(3)} ms`, speed(s.latency_ms_b64_before, s.latency_ms_b64_after)],
  ];
}

/** The report.md written into the output folder. */
export function markdownReport(s: CompressionSummary, extra: { command?: string; backend?: string; layers?: Record<string, unknown> } = {}): string {
  const rows = summaryRows(s);
  const settings = Object.entries(s.parameters)
    .map(([k, v]) => `\`${k}\` ${JSON.stringify(v)}`)
    .join(", ");
  const lines = [
    `# Compression report: ${s.method}`,
    "",
    `- source: \`${s.source}\``,
    `- output: \`${s.out}\``,
    `- method: ${s.method}${settings ? ` (${settings})` : ""}`,
    `- fine-tuning: ${s.finetune_epochs} epoch(s)`,
    ...(extra.command ? [`- command: \`${extra.command}\``] : []),
    ...(extra.backend ? [`- backend: ${extra.backend}; latency is the median forward time in inference mode`] : []),
    "",
    "| | before | after | change |",
    "|---|---:|---:|---|",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
  ];
  if (extra.layers && Object.keys(extra.layers).length) {
    lines.push("## Layers", "", "| layer | detail |", "|---|---|");
    for (const [k, v] of Object.entries(extra.layers)) lines.push(`| ${k} | ${typeof v === "object" ? JSON.stringify(v) : String(v)} |`);
    lines.push("");
  }
  return lines.join("\n");
}
