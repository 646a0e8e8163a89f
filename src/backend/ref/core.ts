// Reference kernels for copies, casts and the adjoint of slicing.
import type { Tensor } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { forEachOffset, mapBinary, mapUnary } from "./iter.js";

const PLAIN = ["float32", "float64", "int32", "bool", "int8", "uint8"] as const;

registerKernel("copy", "ref", PLAIN, ([x], [out]) => mapUnary(x, out, (v) => v));

registerKernel("cast", "ref", PLAIN, ([x], [out], { dtype }: { dtype: string }) => {
  if (dtype === "bool") mapUnary(x, out, (v) => (v !== 0 ? 1 : 0));
  else if (dtype === "float32" || dtype === "float64") mapUnary(x, out, (v) => v);
  else mapUnary(x, out, (v) => Math.trunc(v));
});

registerKernel(
  "sliceBackward",
  "ref",
  ["float32", "float64"],
  ([g], [out], a: { dim: number; start: number; step: number; inShape: number[] }) => {
    // Write g into the strided positions of a zero tensor of the input's shape.
    const o = out.storage.data;
    const strides = out.strides.map((s, i) => (i === a.dim ? s * a.step : s));
    const base = a.start * out.strides[a.dim];
    const gv = (g as Tensor).dataSync();
    forEachOffset(g.shape, strides, base, (i, p) => (o[p] = gv[i]));
  },
);

// In place: dst (inputs[0]) ← src broadcast to dst's shape.
registerKernel("copy_", "ref", PLAIN, ([dst, src]) => mapUnary(src, dst, (v) => v));
// dst is also the output: mapBinary reads each element before it writes it.
registerKernel("add_", "ref", ["float32", "float64", "int32"], ([dst, src]) => mapBinary(dst, src, dst, (a, b) => a + b));
