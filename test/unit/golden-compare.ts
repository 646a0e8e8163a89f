// Reading and comparing the PyTorch golden files of test/golden (ops.json, losses.json): the array
// format both Python scripts write, the fixed gradient weights, and the tolerances.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as ig from "../../src/index.js";
import type { DType, Tensor } from "../../src/index.js";

/** A tensor as the golden scripts write it. */
export interface Arr {
  shape: number[];
  /** PyTorch's dtype name. */
  dtype: string;
  /** Row-major values; NaN and ±Infinity are the strings "NaN", "Infinity", "-Infinity". */
  data: (number | string)[];
}

/** Parses test/golden/<name> (the tests run from dist/test/unit). */
export function readGolden<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../../test/golden/${name}`, import.meta.url), "utf8")) as T;
}

/** Ingot's dtype for PyTorch's. NOTE: int64 → int32: Ingot's integer and index dtype is int32 (DESIGN.md, Numerics); the values are compared. */
export const DTYPE: Record<string, DType> = { float64: "float64", float32: "float32", int64: "int32", int32: "int32", bool: "bool" };

/**
 * |Ingot − PyTorch| ≤ atol + rtol·|PyTorch|. float64: round-off only, with atol for results near 0
 * that PyTorch computes with cancellation (gelu's far tail, elu as exp − 1, log(1 + e⁻⁶⁰)), where
 * Ingot's are the accurate ones; float32 outputs (int / int, int ** 0.5): one float32 ulp.
 */
export const TOL: Record<string, { rtol: number; atol: number }> = {
  float64: { rtol: 1e-10, atol: 1e-15 },
  float32: { rtol: 2 ** -23, atol: 0 },
  int32: { rtol: 0, atol: 0 },
  bool: { rtol: 0, atol: 0 },
};

export const decode = (v: number | string): number => (typeof v === "number" ? v : v === "NaN" ? NaN : v === "Infinity" ? Infinity : -Infinity);

export function fromArr(a: Arr): Tensor {
  return ig.tensor(Float64Array.from(a.data, decode), { dtype: DTYPE[a.dtype], shape: a.shape });
}

/** w_i of the fixed weights in sum(out · w), the same numbers as weight() in the golden scripts. */
export const weightAt = (i: number): number => 0.5 + ((7 * i + 3) % 23) / 22;

/**
 * The weights w for the gradients of sum(out · w), in out's dtype: PyTorch casts the gradient that
 * reaches a float32 output to float32 (Ingot's backward takes the seed as given).
 */
export function weightFor(out: Tensor): Tensor {
  return ig.tensor(Float64Array.from({ length: out.size }, (_, i) => weightAt(i)), { dtype: "float64", shape: [...out.shape] }).to(out.dtype);
}

/** Element i of a row-major tensor of `shape` as "[i0,i1,…]", for messages. */
function position(shape: readonly number[], i: number): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(i % shape[d]);
    i = Math.floor(i / shape[d]);
  }
  return `[${idx.join(",")}]`;
}

/** Asserts shape, dtype and every value (NaN and ±∞ exactly); the message names the element and both values. */
export function expectClose(what: string, got: Tensor, want: Arr, atolOverride?: number): void {
  const dtype = DTYPE[want.dtype];
  assert.deepEqual([...got.shape], want.shape, `${what}: shape [${got.shape}], PyTorch gives [${want.shape}]`);
  assert.equal(got.dtype, dtype, `${what}: dtype ${got.dtype}, expected ${dtype} (PyTorch gives ${want.dtype})`);
  const rtol = TOL[dtype].rtol;
  const atol = atolOverride ?? TOL[dtype].atol;
  const g = got.dataSync() as ArrayLike<number>;
  for (let i = 0; i < want.data.length; i++) {
    const w = decode(want.data[i]);
    const ok = Number.isNaN(w) ? Number.isNaN(g[i]) : Number.isFinite(w) ? Math.abs(g[i] - w) <= atol + rtol * Math.abs(w) : g[i] === w;
    if (!ok)
      assert.fail(`${what}${position(want.shape, i)} is ${g[i]}, PyTorch gives ${w} (difference ${Math.abs(g[i] - w)}, tolerance ${atol} + ${rtol}·|PyTorch|)`);
  }
}
