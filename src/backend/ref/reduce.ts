// Reference kernels for reductions; sums accumulate in float64.
import { registerKernel } from "../registry.js";
import { reduceOffsets } from "./iter.js";

registerKernel("sum", "ref", ["float32", "float64", "int32", "bool"], ([x], [out], a: { axes: number[] }) => {
  const { offs, outer, inner } = reduceOffsets(x, a.axes);
  const d = x.storage.data;
  const o = out.storage.data;
  for (let i = 0; i < outer; i++) {
    let s = 0;
    for (let j = i * inner, e = j + inner; j < e; j++) s += d[offs[j]];
    o[i] = s;
  }
});
