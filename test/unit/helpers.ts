// Helpers shared by several unit tests. Not a test file itself (the runner picks up *.test.js only):
// value extraction, tolerance checks, a print sink for fit/evaluate, and the PyTorch fixture loop.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import type { Module } from "../../src/nn/module.js";
import { nativeInfo } from "../../src/backend/cpu/index.js";
import { checkCase, fixtures } from "../golden/nn-fixtures.js";

/** A float64 tensor from nested numbers. */
export const f64 = (data: number[] | number[][]) => ig.tensor(data, { dtype: "float64" });

/** The values of a tensor as a plain array (in its own dtype). */
export const vals = (t: Tensor) => Array.from(t.dataSync() as ArrayLike<number>);

/** Elementwise |got − want| ≤ atol + rtol·|want|, with the first failing element in the message. */
export function close(got: ArrayLike<number> | number, want: ArrayLike<number> | number, rtol = 1e-12, atol = 1e-14): void {
  const g = typeof got === "number" ? [got] : got;
  const w = typeof want === "number" ? [want] : want;
  assert.equal(g.length, w.length, "length");
  for (let i = 0; i < w.length; i++)
    assert.ok(Math.abs(g[i] - w[i]) <= atol + rtol * Math.abs(w[i]), `element ${i}: got ${g[i]}, expected ${w[i]}`);
}

/** Collects what fit/evaluate print. */
export function sink(isTTY = false): { stream: { write(s: string): boolean; isTTY: boolean }; text: () => string } {
  let text = "";
  return {
    stream: {
      write: (s: string) => ((text += s), true),
      isTTY,
    },
    text: () => text,
  };
}

/** Runs a module on a fixture's inputs and names its outputs as the fixture does. */
export type FixtureRun = (xs: Record<string, Tensor>) => Record<string, Tensor | null>;

/**
 * The PyTorch-fixture tests of one family of layers: every fixture name that `mine` accepts has a
 * builder (and no builder lacks a fixture), and each builder's module matches its fixture.
 */
export function fixtureTests(what: string, builders: Record<string, () => [Module | null, FixtureRun]>, mine: (name: string) => boolean): void {
  test(`every ${what} fixture has a builder`, () => {
    const names = Object.keys(fixtures).filter(mine);
    assert.deepEqual(names.sort(), Object.keys(builders).sort());
  });

  for (const [name, build] of Object.entries(builders)) {
    test(`${name}: state names, outputs and gradients match PyTorch`, () => {
      const [m, run] = build();
      checkCase(fixtures[name], m, run);
    });
  }
}

/**
 * Makes the native backend current for the file's tests; returns false when it is, else the reason
 * to skip (the addon is not built here), for `test(name, { skip }, …)`.
 */
export function useNativeOrSkip(): false | string {
  try {
    ig.setBackend("cpu");
    return false;
  } catch {
    return `the native addon is not built here (${nativeInfo().error}); run npm rebuild`;
  }
}

/** A float32 tensor of the given shape, uniform in [lo, hi) from `gen`. */
export function uniformFrom(gen: ig.Generator, shape: number[], lo = -1, hi = 1): Tensor {
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) v[i] = lo + (hi - lo) * gen.random();
  return ig.tensor(v, { shape });
}
