// Devices for the time and cost estimate: datasheet peak throughput per dtype (dense, i.e. without
// the 2:4 structured-sparsity doubling the datasheets also print), memory size and bandwidth, and an
// assumed rental price. `cpu-2core` is this machine as measured by `node dist/bench/run.js sgemm`.
import { existsSync, readFileSync } from "node:fs";
import { totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { ValueError } from "../tensor/index.js";

/** What the arithmetic runs in: fp32 (IEEE, no TF32), tf32 (fp32 storage, TF32 tensor cores), bf16 (mixed precision), int8. */
export type ComputeDType = "fp32" | "tf32" | "bf16" | "int8";
export const COMPUTE_DTYPES: readonly ComputeDType[] = ["fp32", "tf32", "bf16", "int8"];

export interface Device {
  name: string;
  description: string;
  /** Peak TFLOP/s (TOP/s for int8) per dtype; null where the datasheet lists none. */
  peakTflops: Record<ComputeDType, number | null>;
  memoryBytes: number;
  /** Memory bandwidth, bytes/s (null: not known). */
  bandwidth: number | null;
  /** Assumed price per device-hour in USD (a round figure for an on-demand cloud rental; pass --price-per-hour). */
  pricePerHour: number;
  source: string;
}

const GB = 1e9;

export const DEVICES: Record<string, Device> = {
  h100: {
    name: "h100",
    description: "NVIDIA H100 SXM5 80 GB",
    peakTflops: { fp32: 67, tf32: 494.7, bf16: 989.4, int8: 1978.9 },
    memoryBytes: 80 * GB,
    bandwidth: 3.35e12,
    pricePerHour: 2.5,
    source: "NVIDIA H100 Tensor Core GPU datasheet (SXM column; TF32/BF16/INT8 are the sparsity figures halved)",
  },
  "h100-pcie": {
    name: "h100-pcie",
    description: "NVIDIA H100 PCIe 80 GB",
    peakTflops: { fp32: 51, tf32: 378, bf16: 756, int8: 1513 },
    memoryBytes: 80 * GB,
    bandwidth: 2.0e12,
    pricePerHour: 2.0,
    source: "NVIDIA H100 Tensor Core GPU datasheet (PCIe column; sparsity figures halved)",
  },
  h200: {
    name: "h200",
    description: "NVIDIA H200 SXM 141 GB",
    peakTflops: { fp32: 67, tf32: 494.7, bf16: 989.4, int8: 1978.9 },
    memoryBytes: 141 * GB,
    bandwidth: 4.8e12,
    pricePerHour: 3.5,
    source: "NVIDIA H200 Tensor Core GPU datasheet (SXM column; sparsity figures halved)",
  },
  a100: {
    name: "a100",
    description: "NVIDIA A100 SXM4 80 GB",
    peakTflops: { fp32: 19.5, tf32: 156, bf16: 312, int8: 624 },
    memoryBytes: 80 * GB,
    bandwidth: 2.039e12,
    pricePerHour: 1.5,
    source: "NVIDIA A100 Tensor Core GPU datasheet (80GB SXM column; dense figures)",
  },
  "a100-40gb": {
    name: "a100-40gb",
    description: "NVIDIA A100 SXM4 40 GB",
    peakTflops: { fp32: 19.5, tf32: 156, bf16: 312, int8: 624 },
    memoryBytes: 40 * GB,
    bandwidth: 1.555e12,
    pricePerHour: 1.2,
    source: "NVIDIA A100 Tensor Core GPU datasheet (40GB SXM column; dense figures)",
  },
  v100: {
    name: "v100",
    description: "NVIDIA V100 SXM2 32 GB (no TF32, BF16 or INT8 tensor cores: bf16 uses its FP16 tensor-core peak)",
    peakTflops: { fp32: 15.7, tf32: null, bf16: 125, int8: null },
    memoryBytes: 32 * GB,
    bandwidth: 900e9,
    pricePerHour: 0.8,
    source: "NVIDIA Tesla V100 datasheet (SXM2: single precision 15.7, tensor performance 125 TFLOPS)",
  },
  t4: {
    name: "t4",
    description: "NVIDIA T4 16 GB (no TF32 or BF16: bf16 uses its FP16 tensor-core peak)",
    peakTflops: { fp32: 8.1, tf32: null, bf16: 65, int8: 130 },
    memoryBytes: 16 * GB,
    bandwidth: 320e9,
    pricePerHour: 0.35,
    source: "NVIDIA T4 Tensor Core GPU datasheet",
  },
  rtx4090: {
    name: "rtx4090",
    description: "NVIDIA GeForce RTX 4090 24 GB",
    peakTflops: { fp32: 82.6, tf32: 82.6, bf16: 165.2, int8: 660.6 },
    memoryBytes: 24 * GB,
    bandwidth: 1008e9,
    pricePerHour: 0.4,
    source: "NVIDIA Ada Lovelace GPU architecture whitepaper, appendix A (RTX 4090: FP16/BF16 tensor with FP32 accumulate, dense)",
  },
};

/** Ingot's measured sgemm peak on this machine (bench/results/sgemm.json), GFLOP/s; null when the file is missing. */
export function measuredCpuGflops(path = fileURLToPath(new URL("../../../bench/results/sgemm.json", import.meta.url))): { gflops: number; source: string } | null {
  if (!existsSync(path)) return null;
  try {
    const r = JSON.parse(readFileSync(path, "utf8")) as { date?: string; machine?: { cpu?: string; cores?: number }; results?: { n: number; ingot?: { medianGflops?: number } }[] };
    const best = (r.results ?? []).filter((x) => typeof x.ingot?.medianGflops === "number").sort((a, b) => b.ingot!.medianGflops! - a.ingot!.medianGflops!)[0];
    if (!best) return null;
    return {
      gflops: best.ingot!.medianGflops!,
      source: `bench/results/sgemm.json (${r.date ?? "undated"}): Ingot's native sgemm, median of the best size n=${best.n}, ${r.machine?.cpu ?? "CPU"} × ${r.machine?.cores ?? "?"} cores`,
    };
  } catch {
    return null;
  }
}

/** The recorded figure when bench/results/sgemm.json is absent (its value on 2026-11-23, n=1024). */
const CPU_FALLBACK_GFLOPS = 142.3;

function cpuDevice(): Device {
  const m = measuredCpuGflops();
  const gflops = m?.gflops ?? CPU_FALLBACK_GFLOPS;
  return {
    name: "cpu-2core",
    description: `2 CPU cores through Ingot's native backend (${gflops.toFixed(0)} GFLOP/s fp32 sgemm as bench/results/sgemm.json measured it; no bf16/int8 peak: fp32 is used)`,
    peakTflops: { fp32: gflops / 1000, tf32: null, bf16: null, int8: null },
    memoryBytes: totalmem(),
    bandwidth: null,
    pricePerHour: 0.05,
    source: m?.source ?? `recorded ${CPU_FALLBACK_GFLOPS} GFLOP/s (bench/results/sgemm.json of 2026-11-23; run 'node dist/bench/run.js sgemm' to measure again)`,
  };
}

export function deviceNames(): string[] {
  return [...Object.keys(DEVICES), "cpu-2core"];
}

/** The device by name (case-insensitive); an error lists the known names. */
export function getDevice(name: string): Device {
  const key = name.toLowerCase();
  if (key === "cpu-2core" || key === "cpu") return cpuDevice();
  const d = DEVICES[key];
  if (!d) throw new ValueError(`estimate: unknown device '${name}'; known devices: ${deviceNames().join(", ")}`);
  return d;
}

/** The peak FLOP/s a dtype gets on a device, and the dtype whose peak was used (fp32 when the device lists none for it). */
export function peakFlops(d: Device, dtype: ComputeDType): { flops: number; used: ComputeDType; note: string | null } {
  const order: ComputeDType[] = dtype === "int8" ? ["int8", "bf16", "fp32"] : dtype === "bf16" ? ["bf16", "fp32"] : dtype === "tf32" ? ["tf32", "fp32"] : ["fp32"];
  for (const t of order) {
    const v = d.peakTflops[t];
    if (v !== null) return { flops: v * 1e12, used: t, note: t === dtype ? null : `${d.name} lists no ${dtype} peak; its ${t} peak is used` };
  }
  throw new ValueError(`estimate: ${d.name} has no peak for ${dtype}`);
}
