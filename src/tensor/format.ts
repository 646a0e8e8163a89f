// PyTorch-like printing: `tensor([[1.0000, 2.0000]])`, with dtype shown when it is not the default.
import type { Tensor } from "./tensor.js";

const MAX_ITEMS = 1000;
const EDGE = 3;

function fmtNumber(v: number, isFloat: boolean, intLike: boolean, sci: boolean): string {
  if (!isFloat) return String(v);
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (sci) return v.toExponential(4).replace(/e([+-])(\d)$/, "e$10$2");
  if (intLike) return `${v.toFixed(0)}.`;
  return v.toFixed(4);
}

export function formatTensor(t: Tensor): string {
  const isFloat = t.dtype === "float32" || t.dtype === "float64";
  const flat = t.dataSync() as ArrayLike<number>;
  const finite = Array.from(flat).filter((v) => Number.isFinite(v));
  const intLike = finite.every((v) => Number.isInteger(v));
  const maxAbs = finite.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const minAbs = finite.reduce((m, v) => (v !== 0 ? Math.min(m, Math.abs(v)) : m), Infinity);
  const sci = isFloat && !intLike && (maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity));
  const summarize = t.size > MAX_ITEMS;
  const fmt = (v: number) => (t.dtype === "bool" ? (v ? "True" : "False") : fmtNumber(v, isFloat, intLike, sci));
  const strs = Array.from(flat, fmt);
  const width = strs.reduce((m, s) => Math.max(m, s.length), 0);
  const strides: number[] = [];
  let acc = 1;
  for (let i = t.ndim - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= t.shape[i];
  }
  const indent = "tensor(".length;
  const rec = (d: number, base: number): string => {
    if (d === t.ndim) return strs[base].padStart(width);
    const n = t.shape[d];
    const idx: (number | null)[] = [];
    if (summarize && n > 2 * EDGE) {
      for (let i = 0; i < EDGE; i++) idx.push(i);
      idx.push(null);
      for (let i = n - EDGE; i < n; i++) idx.push(i);
    } else for (let i = 0; i < n; i++) idx.push(i);
    const parts = idx.map((i) => (i === null ? "..." : rec(d + 1, base + i * strides[d])));
    const sep = d === t.ndim - 1 ? ", " : "," + "\n".repeat(t.ndim - d - 1) + " ".repeat(indent + d + 1);
    return `[${parts.join(sep)}]`;
  };
  const body = t.ndim === 0 ? fmt(flat[0]) : rec(0, 0);
  const extras: string[] = [];
  // As in PyTorch, the default float dtype and bool (obvious from True/False) are not named.
  if (t.dtype !== "float32" && t.dtype !== "bool") extras.push(`dtype=${t.dtype}`);
  if (t.size === 0) extras.unshift(`size=[${t.shape.join(", ")}]`);
  if (t.gradFn) extras.push(`gradFn=<${t.gradFn.name}Backward>`);
  else if (t.requiresGrad) extras.push("requiresGrad=true");
  return `tensor(${body}${extras.length ? ", " + extras.join(", ") : ""})`;
}
