// Every op's float64 forward values and gradients against PyTorch 1.13 (test/golden/ops.json, made by
// test/golden/ops_golden.py): an independent check of ref, which the conformance suite compares with itself.
// The Ingot calls are in ops-golden-calls.ts; this file holds the comparison and its exceptions.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import { type Arr, decode, expectClose, fromArr, readGolden, weightAt, weightFor } from "./golden-compare.js";
import { calls } from "./ops-golden-calls.js";

interface GoldenCase {
  inputs: Arr[];
  output: Arr;
  /** Gradients of sum(out · w) per input; null for inputs that are not differentiated. */
  grads?: (Arr | null)[];
}
const golden = readGolden<{ torch: string; cases: Record<string, GoldenCase> }>("ops.json");

/** Cases that need a looser tolerance than TOL, and why. */
const LOOSER: Record<string, { atol: number; why: string }> = {
  "batchNorm › constant channel": { atol: 1e-13, why: "the output (x − mean)·rstd has rstd = 1/√eps ≈ 316, which amplifies PyTorch's round-off in the mean (it gives −6e-15, Ingot 0)" },
};

/** Rewrites the gradient of a 0-d output (so w = w₀) where f returns a value: the expected gradient becomes f(…)·w₀. */
function patchGrad(c: GoldenCase, input: number, f: (v: number | string, i: number) => number | undefined): void {
  assert.equal(c.output.shape.length, 0, "patchGrad expects a 0-d output");
  const g = c.grads![input]!;
  g.data = g.data.map((v, i) => {
    const p = f(v, i);
    return p === undefined ? v : p * weightAt(0);
  });
}

/**
 * Documented divergences: where Ingot deliberately differs from PyTorch 1.13, the expected values are
 * PyTorch's patched to Ingot's choice (everything else in the case is compared as usual).
 */
const DIVERGES: Record<string, { why: string; patch: (c: GoldenCase) => void }> = {
  "binaryCrossEntropy › probabilities 0 and 1, gradients": {
    why: "the target's gradient is the derivative of Ingot's forward, whose logs are clamped to ≥ −100 (loss-elementwise.ts): ±100 where PyTorch's logit(p) gives ±∞",
    patch: (c) => patchGrad(c, 1, (v) => (v === "Infinity" ? 100 : v === "-Infinity" ? -100 : undefined)),
  },
  "klDiv › zero targets, target gradient": {
    why: "where the target is 0, Ingot holds 0·log 0 = 0 constant (loss-elementwise.ts: log reads 1 there), so the target's gradient is −x; PyTorch 1.13 differentiates xlogy into 0/0 = NaN",
    patch: (c) => patchGrad(c, 1, (_, i) => (c.inputs[1].data[i] === 0 ? -decode(c.inputs[0].data[i]) : undefined)),
  },
};

/** Disagreements with PyTorch reported as bugs: todo tests (shown, not failing the run); remove the entry with the fix. */
const KNOWN_BUGS: Record<string, string> = {};

/** Op records whose values are checked through other functions' cases (the backward ops: through the gradients). */
const CHECKED_VIA: Record<string, string[]> = {
  extremumBackward: ["max", "min"], prodBackward: ["prod"], reshape: ["reshape", "view", "flatten"], permute: ["permute", "transpose"],
  squeeze: ["squeeze", "unsqueeze"], expand: ["expand", "broadcastTo"], slice: ["slice", "narrow", "select"], sliceBackward: ["slice", "split"],
  copy: ["clone", "contiguous"], cast: ["to"], matmul: ["matmul", "mm", "bmm"], padBackward: ["pad"], conv2d: ["conv2d", "conv1d"],
  maxPool2d: ["maxPool2d", "maxPool2dWithIndices"], maxPool2dBackward: ["maxPool2d"], avgPool2dBackward: ["avgPool2d"],
  adaptiveAvgPool2dBackward: ["adaptiveAvgPool2d"], layerNormBackward: ["layerNorm"], batchNormBackward: ["batchNorm"],
  crossEntropyBackward: ["crossEntropy"], nllLossBackward: ["nllLoss"],
};
/** Op records PyTorch cannot check, and why. */
const NOT_COMPARED: Record<string, string> = {
  dropout: "random: PyTorch draws from another generator (p = 0 and eval return the input itself)",
  adamUpdate_: "an optimizer step, checked against torch.optim.Adam in optim's golden tests (test/golden/nn-optim.json)",
};

test("ops-golden: every golden case has an Ingot call, and every call a golden case", () => {
  const names = Object.keys(golden.cases);
  assert.deepEqual(names.filter((k) => !(k in calls)), [], "cases in test/golden/ops.json without a call in ops-golden-calls.ts");
  assert.deepEqual(Object.keys(calls).filter((k) => !(k in golden.cases)), [], "calls without a case in ops.json: add them to ops_golden.py and rerun it");
  const stale = [LOOSER, DIVERGES, KNOWN_BUGS].flatMap((t) => Object.keys(t)).filter((k) => !(k in golden.cases));
  assert.deepEqual(stale, [], "LOOSER, DIVERGES or KNOWN_BUGS name cases that do not exist");
});

test("ops-golden: every op record is compared with PyTorch (or listed in NOT_COMPARED with the reason)", () => {
  const fns = new Set(Object.keys(golden.cases).map((k) => k.split(" › ")[0]));
  const missing = ig
    .allOps()
    .map((op) => op.name)
    .filter((name) => !(name in NOT_COMPARED) && !(CHECKED_VIA[name] ?? [name]).some((f) => fns.has(f)));
  assert.deepEqual(missing, [], "ops without a PyTorch golden case: add cases to test/golden/ops_golden.py and their calls to ops-golden-calls.ts");
});

const backend = ig.getBackend();
for (const [key, c] of Object.entries(golden.cases)) {
  const title = `${key} matches PyTorch ${golden.torch}${key in DIVERGES ? " (but for a documented divergence)" : ""} [${backend}]`;
  test(title, { todo: KNOWN_BUGS[key] }, () => {
    DIVERGES[key]?.patch(c);
    const atol = LOOSER[key]?.atol;
    const xs = c.inputs.map(fromArr);
    c.grads?.forEach((g, i) => g && xs[i].requiresGrad_());
    assert.ok(calls[key], `no Ingot call for '${key}' in ops-golden-calls.ts`);
    const out = calls[key](xs);
    expectClose("output", out, c.output, atol);
    if (!c.grads) return;
    out.backward(weightFor(out));
    c.grads.forEach((g, i) => g && expectClose(`gradient of input ${i}`, xs[i].grad ?? ig.zerosLike(xs[i]), g, atol));
  });
}
