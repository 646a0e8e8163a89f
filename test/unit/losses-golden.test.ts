// The losses over their option matrix (reductions, class weights, ignoreIndex, label smoothing,
// posWeight, logTarget), layerNorm and batchNorm (with its running statistics) against PyTorch 1.13 in
// float64: test/golden/losses.json, made by test/golden/losses_golden.py.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { type Arr, decode, expectClose, fromArr, readGolden, weightAt, weightFor } from "./golden-compare.js";

/** Options under Ingot's names, as losses_golden.py records them. */
interface Options {
  reduction?: ig.KLDivReduction;
  labelSmoothing?: number;
  ignoreIndex?: number;
  delta?: number;
  beta?: number;
  logTarget?: boolean;
  normalizedShape?: number[];
  eps?: number;
  training?: boolean;
  momentum?: number;
}
interface LossCase {
  fn: string;
  options: Options;
  inputs: Record<string, Arr>;
  output: Arr;
  /** Gradients of sum(out · w) by input name, for the differentiated inputs. */
  grads: Record<string, Arr>;
  /** batchNorm in training: runningMean and runningVar after the update. */
  after?: Record<string, Arr>;
}
const golden = readGolden<{ torch: string; cases: Record<string, LossCase> }>("losses.json");

type Named = Record<string, Tensor>;
const red = (o: Options) => o.reduction as ig.Reduction | undefined;
/** Each function as an Ingot call on the named inputs. */
const CALLS: Record<string, (x: Named, o: Options) => Tensor> = {
  crossEntropy: ({ input, target, weight }, o) => ig.crossEntropy(input, target, { weight, reduction: red(o), labelSmoothing: o.labelSmoothing, ignoreIndex: o.ignoreIndex }),
  nllLoss: ({ input, target, weight }, o) => ig.nllLoss(input, target, { weight, reduction: red(o), ignoreIndex: o.ignoreIndex }),
  mseLoss: ({ input, target }, o) => ig.mseLoss(input, target, { reduction: red(o) }),
  l1Loss: ({ input, target }, o) => ig.l1Loss(input, target, { reduction: red(o) }),
  huberLoss: ({ input, target }, o) => ig.huberLoss(input, target, { reduction: red(o), delta: o.delta }),
  smoothL1Loss: ({ input, target }, o) => ig.smoothL1Loss(input, target, { reduction: red(o), beta: o.beta }),
  binaryCrossEntropy: ({ input, target, weight }, o) => ig.binaryCrossEntropy(input, target, { weight, reduction: red(o) }),
  binaryCrossEntropyWithLogits: ({ input, target, weight, posWeight }, o) => ig.binaryCrossEntropyWithLogits(input, target, { weight, posWeight, reduction: red(o) }),
  klDiv: ({ input, target }, o) => ig.klDiv(input, target, { reduction: o.reduction, logTarget: o.logTarget }),
  layerNorm: ({ input, weight, bias }, o) => ig.layerNorm(input, o.normalizedShape!, weight, bias, o.eps),
  batchNorm: ({ input, weight, bias, runningMean, runningVar }, o) => ig.batchNorm(input, runningMean, runningVar, weight, bias, o.training, o.momentum, o.eps),
};

/**
 * Documented divergence: binaryCrossEntropy's target gradient is the derivative of Ingot's forward,
 * whose logs are clamped to ≥ −100 (loss-elementwise.ts), so at p = 0 or 1 it is ±100 times the
 * upstream gradient where PyTorch's logit(p) gives ±∞. Patches PyTorch's ±∞ to Ingot's value.
 */
function patchBceTargetGrad(c: LossCase): void {
  const g = c.grads.target;
  if (!g) return;
  const { shape } = c.inputs.input;
  const n = shape.reduce((a, b) => a * b, 1);
  const cls = c.inputs.weight ? c.inputs.weight.data.map(decode) : null;
  g.data = g.data.map((v, i) => {
    if (v !== "Infinity" && v !== "-Infinity") return v;
    // The upstream gradient of element i: its w (or w₀ after a reduction), its class weight, 1/n for the mean.
    const r = c.options.reduction ?? "mean";
    const up = (r === "none" ? weightAt(i) : weightAt(0)) * (cls ? cls[i % cls.length] : 1) * (r === "mean" ? 1 / n : 1);
    return (v === "Infinity" ? 100 : -100) * up;
  });
}

test("losses-golden: every case names a function the test can call", () => {
  assert.deepEqual([...new Set(Object.values(golden.cases).map((c) => c.fn))].filter((fn) => !(fn in CALLS)), [], "functions in test/golden/losses.json without an Ingot call");
});

const backend = ig.getBackend();
for (const [key, c] of Object.entries(golden.cases)) {
  const diverges = c.fn === "binaryCrossEntropy" && (c.grads.target?.data ?? []).some((v) => v === "Infinity" || v === "-Infinity");
  test(`${key} matches PyTorch ${golden.torch}${diverges ? " (but for a documented divergence)" : ""} [${backend}]`, () => {
    if (diverges) patchBceTargetGrad(c);
    const xs: Named = Object.fromEntries(Object.entries(c.inputs).map(([k, a]) => [k, fromArr(a)]));
    for (const k of Object.keys(c.grads)) xs[k].requiresGrad_();
    const out = CALLS[c.fn](xs, c.options);
    expectClose("output", out, c.output);
    for (const [k, a] of Object.entries(c.after ?? {})) expectClose(`${k} after the update`, xs[k], a);
    out.backward(weightFor(out));
    for (const [k, g] of Object.entries(c.grads)) expectClose(`gradient of ${k}`, xs[k].grad ?? ig.zerosLike(xs[k]), g);
  });
}
