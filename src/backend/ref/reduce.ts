// Reference kernels for reductions (sum, max/min, argmax/argmin, prod, variance/std) and the
// backward primitives of max/min and prod. Sums accumulate in float64.
import type { Tensor } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { readF64, reduceOffsets } from "./iter.js";

interface Axes {
  axes: number[];
}

registerKernel("sum", "ref", ["float32", "float64", "int32", "bool"], ([x], [out], a: Axes) => {
  const { offs, outer, inner } = reduceOffsets(x, a.axes);
  const d = x.storage.data;
  const o = out.storage.data;
  for (let i = 0; i < outer; i++) {
    let s = 0;
    for (let j = i * inner, e = j + inner; j < e; j++) s += d[offs[j]];
    o[i] = s;
  }
});

/** Calls fn(group, values) with each output element's reduced values (row-major over the reduced axes). */
function forEachGroup(x: Tensor, axes: readonly number[], fn: (group: number, vals: Float64Array) => void): void {
  const { offs, outer, inner } = reduceOffsets(x, axes);
  const d = x.storage.data;
  const vals = new Float64Array(inner);
  for (let i = 0; i < outer; i++) {
    for (let j = 0, p = i * inner; j < inner; j++, p++) vals[j] = d[offs[p]];
    fn(i, vals);
  }
}

/**
 * Index of the first maximum (sign 1) or minimum (sign -1) of vals; a NaN wins (as in PyTorch,
 * NaN propagates through max/min and argmax points at the first NaN).
 */
function extremumIndex(vals: Float64Array, sign: 1 | -1): number {
  let best = 0;
  let m = vals[0];
  if (m !== m) return 0;
  for (let j = 1; j < vals.length; j++) {
    const v = vals[j];
    if (v !== v) return j;
    if (sign * (v - m) > 0) {
      m = v;
      best = j;
    }
  }
  return best;
}

const PLAIN = ["float32", "float64", "int32", "bool"] as const;
const NUM = ["float32", "float64", "int32"] as const;
const FLOAT = ["float32", "float64"] as const;

for (const [op, sign] of [["max", 1], ["min", -1]] as const) {
  registerKernel(op, "ref", PLAIN, ([x], [out], a: Axes) => {
    const o = out.storage.data;
    forEachGroup(x, a.axes, (i, vals) => (o[i] = vals[extremumIndex(vals, sign)]));
  });
  registerKernel(`arg${op}`, "ref", NUM, ([x], [out], a: { dim: number | null }) => {
    const o = out.storage.data;
    const axes = a.dim === null ? x.shape.map((_, i) => i) : [a.dim];
    forEachGroup(x, axes, (i, vals) => (o[i] = extremumIndex(vals, sign)));
  });
}

// inputs [g, x, y]: g (reduced shape) goes to the elements of x equal to the group's result y,
// split evenly among ties (NaN counts as equal to a NaN result).
registerKernel("extremumBackward", "ref", FLOAT, ([g, x, y], [out], a: Axes) => {
  const gv = readF64(g);
  const yv = readF64(y);
  const o = out.storage.data;
  const { offs: outOffs } = reduceOffsets(out, a.axes);
  const { inner } = reduceOffsets(x, a.axes);
  forEachGroup(x, a.axes, (i, vals) => {
    const m = yv[i];
    const hit = (v: number) => v === m || (v !== v && m !== m);
    let count = 0;
    for (let j = 0; j < inner; j++) if (hit(vals[j])) count++;
    for (let j = 0; j < inner; j++) if (hit(vals[j])) o[outOffs[i * inner + j]] = gv[i] / count;
  });
});

registerKernel("prod", "ref", NUM, ([x], [out], a: Axes) => {
  const o = out.storage.data;
  forEachGroup(x, a.axes, (i, vals) => {
    let p = 1;
    for (let j = 0; j < vals.length; j++) p *= vals[j];
    o[i] = p;
  });
});

// inputs [g, x]: d prod / d x_j is the product of the other elements, computed from prefix and
// suffix products. NOTE: never y / x_j, which is 0/0 when x_j is zero.
registerKernel("prodBackward", "ref", FLOAT, ([g, x], [out], a: Axes) => {
  const gv = readF64(g);
  const o = out.storage.data;
  const { offs: outOffs } = reduceOffsets(out, a.axes);
  const { inner } = reduceOffsets(x, a.axes);
  const suffix = new Float64Array(inner + 1);
  forEachGroup(x, a.axes, (i, vals) => {
    suffix[inner] = 1;
    for (let j = inner - 1; j >= 0; j--) suffix[j] = suffix[j + 1] * vals[j];
    let prefix = 1;
    for (let j = 0; j < inner; j++) {
      o[outOffs[i * inner + j]] = gv[i] * prefix * suffix[j + 1];
      prefix *= vals[j];
    }
  });
});

// Two passes in float64: the mean, then the squared deviations (stable, unlike E[x²] − E[x]²).
// The divisor is max(0, N − correction), as in PyTorch (0 gives inf or NaN).
function varianceOf(vals: Float64Array, correction: number): number {
  const n = vals.length;
  let s = 0;
  for (let j = 0; j < n; j++) s += vals[j];
  const m = s / n;
  let ss = 0;
  for (let j = 0; j < n; j++) ss += (vals[j] - m) * (vals[j] - m);
  return ss / Math.max(0, n - correction);
}

registerKernel("variance", "ref", FLOAT, ([x], [out], a: Axes & { correction: number }) => {
  const o = out.storage.data;
  forEachGroup(x, a.axes, (i, vals) => (o[i] = varianceOf(vals, a.correction)));
});

registerKernel("std", "ref", FLOAT, ([x], [out], a: Axes & { correction: number }) => {
  const o = out.storage.data;
  forEachGroup(x, a.axes, (i, vals) => (o[i] = Math.sqrt(varianceOf(vals, a.correction))));
});
