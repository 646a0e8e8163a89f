// cpu kernels for the fused neural-network ops (native/cpu/nn.cc): softmax, logSoftmax,
// crossEntropy (+ backward), layerNorm (+ backward), embedding (+ backward) and adamUpdate_.
import type { Tensor } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { layerNormRows, type AdamUpdateAttrs, type LayerNormAttrs } from "../contracts.js";
import { native, P, putView } from "./native.js";
import { flat, MAX_DIMS, refKernel } from "./util.js";

const F = ["float32"] as const;
// Kernels that write every output element get uninitialized outputs (embeddingBackward accumulates
// into zeros and keeps the zero fill).
const OVERWRITES = { overwrites: true };

for (const [op, log] of [["softmax", 0], ["logSoftmax", 1]] as const)
  registerKernel(op, "cpu", F, ([x], [out], a: { dim: number }) => {
    if (x.ndim > MAX_DIMS) return refKernel(op, [x], [out], a);
    P[0] = log;
    P[putView(1, x)] = a.dim;
    native.softmax(x.storage.data, out.storage.data);
  }, OVERWRITES);

interface ClassLossAttrs {
  ignoreIndex: number;
  labelSmoothing: number;
  reduction: "mean" | "sum" | "none";
  hasWeight: boolean;
}

const REDUCTION = { mean: 0, sum: 1, none: 2 };

/** Writes [N, C, S, ignoreIndex, labelSmoothing, reduction, hasWeight] for scores of `shape`. */
function putClassLoss(shape: readonly number[], a: ClassLossAttrs): void {
  const [N, C, S] = shape.length === 1 ? [1, shape[0], 1] : [shape[0], shape[1], shape.slice(2).reduce((x, y) => x * y, 1)];
  P[0] = N;
  P[1] = C;
  P[2] = S;
  P[3] = a.ignoreIndex;
  P[4] = a.labelSmoothing;
  P[5] = REDUCTION[a.reduction];
  P[6] = a.hasWeight ? 1 : 0;
}

// inputs: logits, target, weight?   outputs: loss, softmax
registerKernel(
  "crossEntropy",
  "cpu",
  F,
  (inputs, [loss, sm], a: ClassLossAttrs) => {
    putClassLoss(inputs[0].shape, a);
    const [z, t, w] = inputs.map(flat);
    if (w) native.crossEntropy(z, t, loss.storage.data, sm.storage.data, w);
    else native.crossEntropy(z, t, loss.storage.data, sm.storage.data);
  },
  { contiguous: true, overwrites: true },
);

// inputs: g, softmax, target, weight?   output: dlogits
registerKernel(
  "crossEntropyBackward",
  "cpu",
  F,
  (inputs, [dz], a: ClassLossAttrs) => {
    putClassLoss(inputs[1].shape, a);
    const [g, sm, t, w] = inputs.map(flat);
    if (w) native.crossEntropyBackward(g, sm, t, dz.storage.data, w);
    else native.crossEntropyBackward(g, sm, t, dz.storage.data);
  },
  { contiguous: true, overwrites: true },
);



// inputs: x, weight?, bias?   outputs: y, mean, rstd
registerKernel(
  "layerNorm",
  "cpu",
  F,
  (inputs, outputs, a: LayerNormAttrs) => {
    const [rows, n] = layerNormRows(inputs[0], a.normalizedShape);
    P[0] = rows;
    P[1] = n;
    P[2] = a.eps;
    P[3] = a.hasWeight ? 1 : 0;
    P[4] = a.hasBias ? 1 : 0;
    native.layerNorm(flat(inputs[0]), ...outputs.map((t) => t.storage.data), ...inputs.slice(1).map(flat));
  },
  { contiguous: true, overwrites: true },
);

// inputs: g, x, mean, rstd, weight?   outputs: dx, dweight, dbias
registerKernel(
  "layerNormBackward",
  "cpu",
  F,
  (inputs, outputs, a: { normalizedShape: number[]; hasWeight: boolean }) => {
    const [rows, n] = layerNormRows(inputs[1], a.normalizedShape);
    P[0] = rows;
    P[1] = n;
    P[2] = a.hasWeight ? 1 : 0;
    const d = inputs.map(flat);
    const o = outputs.map((t) => t.storage.data);
    if (a.hasWeight) native.layerNormBackward(d[0], d[1], d[2], d[3], o[0], o[1], o[2], d[4]);
    else native.layerNormBackward(d[0], d[1], d[2], d[3], o[0], o[1], o[2]);
  },
  { contiguous: true, overwrites: true },
);

// inputs: weight [V, D] (any strides), indices (int32)   output: [...indices.shape, D]
registerKernel("embedding", "cpu", ["float32", "int32"], ([w, indices], [out], a: unknown) => {
  if (!indices.isContiguous()) return refKernel("embedding", [w, indices], [out], a);
  P[0] = w.offset;
  P[1] = w.strides[0];
  P[2] = w.strides[1];
  P[3] = w.shape[0];
  P[4] = w.shape[1];
  P[5] = indices.size;
  native.embedding(w.storage.data, flat(indices), out.storage.data);
}, OVERWRITES);

// inputs: g [...indices.shape, D], indices   output: [numWeights, D]
registerKernel(
  "embeddingBackward",
  "cpu",
  F,
  ([g, indices], [out], a: { numWeights: number; paddingIdx: number | null }) => {
    P[0] = indices.size;
    P[1] = out.shape[1];
    P[2] = out.shape[0];
    P[3] = typeof a.paddingIdx === "number" ? a.paddingIdx : -1;
    native.embeddingBackward(flat(g), flat(indices), out.storage.data);
  },
  { contiguous: true },
);


// In place on [param, grad, expAvg, expAvgSq, maxExpAvgSq?] (contiguous, any offsets).
registerKernel(
  "adamUpdate_",
  "cpu",
  F,
  (inputs, _outputs, a: AdamUpdateAttrs) => {
    let i = 0;
    P[i++] = inputs[0].size;
    for (let k = 0; k < 5; k++) P[i++] = inputs[k]?.offset ?? 0;
    P[i++] = a.lr;
    P[i++] = a.beta1;
    P[i++] = a.beta2;
    P[i++] = a.eps;
    P[i++] = a.weightDecay;
    P[i++] = a.step;
    P[i++] = a.decoupled ? 1 : 0;
    P[i++] = a.amsgrad ? 1 : 0;
    P[i++] = a.maximize ? 1 : 0;
    const d = inputs.map((t) => t.storage.data);
    if (a.amsgrad) native.adamUpdate(d[0], d[1], d[2], d[3], d[4]);
    else native.adamUpdate(d[0], d[1], d[2], d[3]);
  },
  { contiguous: true },
);
