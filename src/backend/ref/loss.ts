// Reference kernels for the class-index losses: crossEntropy (fused log-softmax + NLL, with weights,
// ignoreIndex and label smoothing) and nllLoss, each with its backward; and binaryCrossEntropy.
// Sums accumulate in float64.
import type { Tensor } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { offsetsOf, readF64, writeOut } from "./iter.js";

const F = ["float32", "float64"] as const;

interface ClassLossAttrs {
  ignoreIndex: number;
  labelSmoothing: number;
  reduction: "mean" | "sum" | "none";
  hasWeight: boolean;
}

/** Scores [N, C, d…] (or [C]) as N × C × S with S = Π d; element (n, c, s) is at (n·C + c)·S + s. */
function layout(shape: readonly number[]): [number, number, number] {
  if (shape.length === 1) return [1, shape[0], 1];
  return [shape[0], shape[1], shape.slice(2).reduce((a, b) => a * b, 1)];
}

/** The weight of each position's target (0 where ignored) and their sum, the mean's denominator. */
function targetWeights(target: Float64Array, weight: Float64Array | null, ignoreIndex: number): [Float64Array, number] {
  const wt = new Float64Array(target.length);
  let total = 0;
  for (let p = 0; p < target.length; p++) {
    const t = target[p];
    wt[p] = t === ignoreIndex ? 0 : weight ? weight[t] : 1;
    total += wt[p];
  }
  return [wt, total];
}

/**
 * Per-position losses from log-probabilities (row-major [N, C, S]) reduced as asked. With label
 * smoothing ε each position adds (ε/C)·Σ_c w_c·(−logp_c) to (1 − ε)·w_t·(−logp_t); the mean divides
 * by the summed target weights of non-ignored positions, as PyTorch does (also when smoothing).
 */
function classLoss(logp: Float64Array, shape: readonly number[], target: Float64Array, weight: Float64Array | null, a: ClassLossAttrs, out: Tensor): void {
  const [N, C, S] = layout(shape);
  const [wt, total] = targetWeights(target, weight, a.ignoreIndex);
  const eps = a.labelSmoothing;
  const losses = new Float64Array(N * S);
  for (let n = 0; n < N; n++)
    for (let s = 0; s < S; s++) {
      const p = n * S + s;
      const t = target[p];
      if (t === a.ignoreIndex) continue;
      let l = -wt[p] * logp[(n * C + t) * S + s];
      if (eps > 0) {
        let smooth = 0;
        for (let c = 0; c < C; c++) smooth -= (weight ? weight[c] : 1) * logp[(n * C + c) * S + s];
        l = (1 - eps) * l + (eps / C) * smooth;
      }
      losses[p] = l;
    }
  if (a.reduction === "none") return writeOut(out, losses);
  let sum = 0;
  for (let p = 0; p < losses.length; p++) sum += losses[p];
  // NOTE: a mean over no (or only ignored) targets is 0/0 = NaN, as in PyTorch.
  writeOut(out, [a.reduction === "sum" ? sum : sum / total]);
}

/** The upstream gradient of each position: g (sum), g / Σ w_t (mean), or g[p] (none). */
function upstream(g: Float64Array, total: number, reduction: ClassLossAttrs["reduction"]): (p: number) => number {
  if (reduction === "none") return (p) => g[p];
  const k = reduction === "sum" ? g[0] : g[0] / total;
  return () => k;
}

// inputs: logits, target (int32), weight?   outputs: loss, softmax (saved for the backward)
registerKernel("crossEntropy", "ref", F, (inputs, [lossOut, smOut], a: ClassLossAttrs) => {
  const [N, C, S] = layout(inputs[0].shape);
  const z = readF64(inputs[0]);
  const logp = new Float64Array(z.length);
  const sm = new Float64Array(z.length);
  for (let n = 0; n < N; n++)
    for (let s = 0; s < S; s++) {
      // NOTE: subtract the max before exp; log-softmax = z − max − log Σ exp(z − max).
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, z[(n * C + c) * S + s]);
      let se = 0;
      for (let c = 0; c < C; c++) se += Math.exp(z[(n * C + c) * S + s] - m);
      const lse = m + Math.log(se);
      for (let c = 0; c < C; c++) {
        const i = (n * C + c) * S + s;
        logp[i] = z[i] - lse;
        sm[i] = Math.exp(logp[i]);
      }
    }
  classLoss(logp, inputs[0].shape, readF64(inputs[1]), a.hasWeight ? readF64(inputs[2]) : null, a, lossOut);
  writeOut(smOut, sm);
});

// inputs: g, softmax, target, weight?   output: dlogits
// d loss_p / d z_c = s_c·((1 − ε)·w_t + (ε/C)·Σw) − (1 − ε)·w_t·[c = t] − (ε/C)·w_c
registerKernel("crossEntropyBackward", "ref", F, (inputs, [dz], a: ClassLossAttrs) => {
  const [N, C, S] = layout(inputs[1].shape);
  const sm = readF64(inputs[1]);
  const target = readF64(inputs[2]);
  const weight = a.hasWeight ? readF64(inputs[3]) : null;
  const [wt, total] = targetWeights(target, weight, a.ignoreIndex);
  const up = upstream(readF64(inputs[0]), total, a.reduction);
  const eps = a.labelSmoothing;
  let wsum = C;
  if (weight) {
    wsum = 0;
    for (let c = 0; c < C; c++) wsum += weight[c];
  }
  const out = new Float64Array(sm.length);
  for (let n = 0; n < N; n++)
    for (let s = 0; s < S; s++) {
      const p = n * S + s;
      const t = target[p];
      if (t === a.ignoreIndex) continue;
      const k = up(p);
      const coef = (1 - eps) * wt[p] + (eps / C) * wsum;
      for (let c = 0; c < C; c++) {
        const i = (n * C + c) * S + s;
        let d = sm[i] * coef - (eps / C) * (weight ? weight[c] : 1);
        if (c === t) d -= (1 - eps) * wt[p];
        out[i] = k * d;
      }
    }
  writeOut(dz, out);
});

// inputs: logProbs, target (int32), weight?   output: loss
registerKernel("nllLoss", "ref", F, (inputs, [lossOut], a: ClassLossAttrs) => {
  classLoss(readF64(inputs[0]), inputs[0].shape, readF64(inputs[1]), a.hasWeight ? readF64(inputs[2]) : null, a, lossOut);
});

// inputs: g, target, weight?   output: dlogProbs = −g_p·w_t at each target, 0 elsewhere
registerKernel("nllLossBackward", "ref", F, (inputs, [dOut], a: ClassLossAttrs) => {
  const [N, C, S] = layout(dOut.shape);
  const target = readF64(inputs[1]);
  const [wt, total] = targetWeights(target, a.hasWeight ? readF64(inputs[2]) : null, a.ignoreIndex);
  const up = upstream(readF64(inputs[0]), total, a.reduction);
  const d = dOut.storage.data;
  for (let n = 0; n < N; n++)
    for (let s = 0; s < S; s++) {
      const p = n * S + s;
      const t = target[p];
      if (t !== a.ignoreIndex) d[(n * C + t) * S + s] = -up(p) * wt[p];
    }
});

// inputs: probs, target (same shape), weight? (broadcast to probs)   output: loss
// −w·(y·max(log p, −100) + (1 − y)·max(log(1 − p), −100)), the clamp as in PyTorch.
registerKernel("binaryCrossEntropy", "ref", F, (inputs, [out], a: { reduction: "mean" | "sum" | "none"; hasWeight: boolean }) => {
  const p = readF64(inputs[0]);
  const y = readF64(inputs[1]);
  let wAt = (_i: number) => 1;
  if (a.hasWeight) {
    const w = inputs[2];
    const wd = w.storage.data;
    const offs = offsetsOf(w, inputs[0].shape);
    wAt = offs ? (i) => wd[offs[i]] : (i) => wd[w.offset + i];
  }
  const l = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++)
    l[i] = -wAt(i) * (y[i] * Math.max(Math.log(p[i]), -100) + (1 - y[i]) * Math.max(Math.log1p(-p[i]), -100));
  if (a.reduction === "none") return writeOut(out, l);
  let s = 0;
  for (let i = 0; i < l.length; i++) s += l[i];
  writeOut(out, [a.reduction === "sum" ? s : s / l.length]);
});
