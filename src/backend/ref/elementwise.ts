// Reference kernels for elementwise ops. Values are computed as JavaScript numbers (float64) and
// rounded once when written to the output's dtype.
import type { DType } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { mapBinary, mapUnary } from "./iter.js";

const F: DType[] = ["float32", "float64"];
const N: DType[] = ["float32", "float64", "int32"];

/** Registers a unary kernel out = f(x). */
export function refUnary(op: string, dtypes: DType[], f: (x: number) => number): void {
  registerKernel(op, "ref", dtypes, ([x], [out]) => mapUnary(x, out, f));
}

/** Registers a binary kernel out = f(a, b) with broadcasting. */
export function refBinary(op: string, dtypes: DType[], f: (a: number, b: number) => number): void {
  registerKernel(op, "ref", dtypes, ([a, b], [out]) => mapBinary(a, b, out, f));
}

refBinary("add", N, (a, b) => a + b);
refBinary("sub", N, (a, b) => a - b);
refBinary("mul", N, (a, b) => a * b);
refBinary("div", F, (a, b) => a / b);

refUnary("neg", N, (x) => -x);
refUnary("exp", F, Math.exp);
