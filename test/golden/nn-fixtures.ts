// Loads test/golden/nn_fixtures.json (PyTorch numbers from make_nn_fixtures.py) and checks an Ingot
// layer against one case: state_dict names and order, outputs, input and parameter gradients.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mul, sum, tensor, type Tensor } from "../../src/index.js";
import type { Module } from "../../src/nn/module.js";

export interface Arr {
  shape: number[];
  /** "-inf" stands for −∞ (JSON has no infinities). */
  data: (number | "-inf")[];
  /** Absent for float64. */
  dtype?: "bool";
}

export interface FixtureCase {
  train: boolean;
  state: Record<string, Arr>;
  inputs: Record<string, Arr>;
  outputs: Record<string, Arr>;
  w: Record<string, Arr>;
  inputGrads: Record<string, Arr>;
  paramGrads: Record<string, Arr>;
}

export const fixtures = (
  JSON.parse(readFileSync(new URL("../../../test/golden/nn_fixtures.json", import.meta.url), "utf8")) as { torch: string; cases: Record<string, FixtureCase> }
).cases;

const num = (v: number | "-inf") => (v === "-inf" ? -Infinity : v);

/** A float64 tensor (or a bool one) from a fixture array. */
export function fromArr(a: Arr): Tensor {
  if (a.dtype === "bool") return tensor(Uint8Array.from(a.data as number[]), { shape: a.shape, dtype: "bool" });
  return tensor(Float64Array.from(a.data, num), { shape: a.shape, dtype: "float64" });
}

/** |got − want| ≤ atol + rtol·|want| elementwise (float64 numbers agree to ~1e-14 here). */
export function closeArr(what: string, got: Tensor, want: Arr, rtol = 1e-10, atol = 1e-11): void {
  assert.deepEqual([...got.shape], want.shape, `${what}: shape`);
  const g = Array.from(got.to("float64").dataSync() as Float64Array);
  want.data.forEach((w0, i) => {
    const w = num(w0);
    const ok = Number.isFinite(w) ? Math.abs(g[i] - w) <= atol + rtol * Math.abs(w) : g[i] === w;
    assert.ok(ok, `${what}: element ${i} is ${g[i]}, expected ${w}`);
  });
}

/**
 * Loads the case's state into m by PyTorch's names (m's stateDict must list the same keys in the
 * same order), runs `run` on the inputs (float ones require grad), compares the outputs, then the
 * gradients of Σ sum(out·w) w.r.t. the float inputs and every parameter.
 */
export function checkCase(c: FixtureCase, m: Module | null, run: (xs: Record<string, Tensor>) => Record<string, Tensor | null>): void {
  if (m) {
    assert.deepEqual(Object.keys(m.stateDict()), Object.keys(c.state), "stateDict keys, in PyTorch's order");
    m.loadStateDict(Object.fromEntries(Object.entries(c.state).map(([k, a]) => [k, fromArr(a)])));
    m.train(c.train);
  }
  const xs = Object.fromEntries(
    Object.entries(c.inputs).map(([k, a]) => {
      const t = fromArr(a);
      return [k, a.dtype === "bool" ? t : t.requiresGrad_()];
    }),
  );
  const outs = Object.entries(run(xs)).filter((e): e is [string, Tensor] => e[1] !== null);
  assert.deepEqual(outs.map(([k]) => k).sort(), Object.keys(c.outputs).sort(), "outputs");
  for (const [k, o] of outs) closeArr(`output ${k}`, o, c.outputs[k]);
  let loss: Tensor | null = null;
  for (const [k, o] of outs) {
    const term = sum(mul(o, fromArr(c.w[k])));
    loss = loss ? loss.add(term) : term;
  }
  loss!.backward();
  for (const [k, g] of Object.entries(c.inputGrads)) {
    assert.ok(xs[k].grad, `input ${k} got no gradient`);
    closeArr(`gradient of input ${k}`, xs[k].grad!, g);
  }
  if (m) {
    const params = Object.fromEntries(m.namedParameters());
    assert.deepEqual(Object.keys(params).filter((k) => params[k].grad).sort(), Object.keys(c.paramGrads).sort(), "parameters with gradients");
    for (const [k, g] of Object.entries(c.paramGrads)) closeArr(`gradient of ${k}`, params[k].grad!, g);
  }
}
