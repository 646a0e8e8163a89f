// cpu kernels for reductions (native/cpu/reduce.cc): sum, max/min, argmax/argmin, variance/std.
import type { DType, Tensor } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { DT, native, P, putView } from "./native.js";
import { MAX_DIMS, refKernel } from "./util.js";

const OPS = ["sum", "max", "min", "argmax", "argmin", "variance", "std"];

function reduce(op: string, dtypes: DType[], axesOf: (x: Tensor, a: any) => number[]): void {
  const code = OPS.indexOf(op);
  registerKernel(op, "cpu", dtypes, ([x], [out], a: any) => {
    if (x.ndim > MAX_DIMS) return refKernel(op, [x], [out], a);
    let i = 0;
    P[i++] = code;
    P[i++] = DT[x.dtype]!;
    i = putView(i, x);
    const axes = axesOf(x, a);
    P[i++] = axes.length;
    for (const ax of axes) P[i++] = ax;
    P[i++] = a.correction ?? 0;
    native.reduce(x.storage.data, out.storage.data);
  }, { overwrites: true });
}

const byAxes = (_x: Tensor, a: { axes: number[] }) => a.axes;
const byDim = (x: Tensor, a: { dim: number | null }) => (a.dim === null ? x.shape.map((_, i) => i) : [a.dim]);

reduce("sum", ["float32", "int32", "bool"], byAxes);
reduce("max", ["float32", "int32"], byAxes);
reduce("min", ["float32", "int32"], byAxes);
reduce("argmax", ["float32", "int32"], byDim);
reduce("argmin", ["float32", "int32"], byDim);
reduce("variance", ["float32"], byAxes);
reduce("std", ["float32"], byAxes);
