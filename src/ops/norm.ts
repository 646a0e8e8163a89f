// Normalization: layerNorm and functional batchNorm as primitives that save their statistics, with
// backward primitives (layerNormBackward, batchNormBackward) that a native backend fuses the same way.
import { DTypeError, ShapeError, shapeStr, shapesEqual, type Tensor, ValueError } from "../tensor/index.js";
import { noGrad } from "../autograd/grad-mode.js";
import { defineOp, runOpMulti, type OpDef } from "./op.js";
import { checkDType, FLOATS } from "./util.js";
import { add, div, mul, sub } from "./binary.js";
import { copy_ } from "./inplace.js";
import type { LayerNormAttrs } from "../backend/contracts.js";
import { to } from "./view.js";


/** Checks an optional per-feature parameter: the expected shape and the input's dtype. */
function checkParam(op: string, what: string, t: Tensor, shape: readonly number[], x: Tensor, expected: string): void {
  if (!shapesEqual(t.shape, shape))
    throw new ShapeError(`${op}: ${what} has shape ${shapeStr(t.shape)}, expected ${expected} ${shapeStr(shape)}`);
  if (t.dtype !== x.dtype) throw new DTypeError(`${op}: ${what} has dtype ${t.dtype} but the input is ${x.dtype}; convert with .to('${x.dtype}')`);
}

const layerNormOp: OpDef<LayerNormAttrs> = defineOp<LayerNormAttrs>({
  name: "layerNorm",
  meta(inputs, a) {
    const x = inputs[0];
    checkDType("layerNorm", "input", x.dtype, FLOATS);
    const ns = a.normalizedShape;
    const k = ns.length;
    if (k === 0) throw new ValueError("layerNorm: normalizedShape must have at least one dimension, got []");
    if (k > x.ndim || !shapesEqual(x.shape.slice(x.ndim - k), ns))
      throw new ShapeError(
        `layerNorm: normalizedShape ${shapeStr(ns)} does not match the last ${k} dim(s) of the input of shape ${shapeStr(x.shape)}; pass the input's trailing dims`,
      );
    let i = 1;
    if (a.hasWeight) checkParam("layerNorm", "weight", inputs[i++], ns, x, "normalizedShape");
    if (a.hasBias) checkParam("layerNorm", "bias", inputs[i++], ns, x, "normalizedShape");
    const stat = [...x.shape.slice(0, x.ndim - k), ...ns.map(() => 1)];
    return [
      { shape: [...x.shape], dtype: x.dtype },
      { shape: stat, dtype: x.dtype },
      { shape: stat, dtype: x.dtype },
    ];
  },
  grad(g, { inputs, outputs: [, mean, rstd], attrs: a }) {
    const w = a.hasWeight ? [inputs[1]] : [];
    const [dx, dw, db] = runOpMulti(layerNormBackwardOp, [g, inputs[0], mean, rstd, ...w], { normalizedShape: a.normalizedShape, hasWeight: a.hasWeight });
    return [dx, ...(a.hasWeight ? [dw] : []), ...(a.hasBias ? [db] : [])];
  },
  cases: [
    { name: "last dim, affine", inputs: [{ shape: [3, 5] }, { shape: [5] }, { shape: [5] }], call: (x, w, b) => layerNorm(x, [5], w, b) },
    { name: "no affine, 3-d", inputs: [{ shape: [2, 3, 4] }], call: (x) => layerNorm(x, [4]) },
    { name: "two trailing dims", inputs: [{ shape: [2, 3, 4] }, { shape: [3, 4] }, { shape: [3, 4] }], call: (x, w, b) => layerNorm(x, [3, 4], w, b) },
    { name: "weight only, number shape", inputs: [{ shape: [4, 6] }, { shape: [6] }], call: (x, w) => layerNorm(x, 6, w) },
    { name: "bias only", inputs: [{ shape: [4, 3] }, { shape: [3] }], call: (x, b) => layerNorm(x, [3], undefined, b) },
    { name: "1-d input", inputs: [{ shape: [7] }, { shape: [7] }, { shape: [7] }], call: (x, w, b) => layerNorm(x, [7], w, b) },
    { name: "transposed view", inputs: [{ shape: [5, 3] }, { shape: [5] }], call: (x, w) => layerNorm(x.t(), [5], w) },
    { name: "sliced view", inputs: [{ shape: [4, 8] }], call: (x) => layerNorm(x.slice(1, 1, 8, 2), [4]) },
    { name: "large eps", inputs: [{ shape: [3, 4], range: [-0.3, 0.3] }], call: (x) => layerNorm(x, [4], undefined, undefined, 0.05) },
    { name: "shifted input (cancellation)", inputs: [{ shape: [2, 6], range: [999, 1001] }], call: (x) => layerNorm(x, [6]), rtol: 2e-3, atol: 2e-3 },
    { name: "empty batch", inputs: [{ shape: [0, 4] }, { shape: [4] }], call: (x, w) => layerNorm(x, [4], w) },
    {
      name: "saved mean",
      inputs: [{ shape: [3, 2, 4] }],
      grad: false,
      call: (x) => runOpMulti(layerNormOp, [x], { normalizedShape: [2, 4], eps: 1e-5, hasWeight: false, hasBias: false })[1],
    },
    {
      name: "saved rstd",
      inputs: [{ shape: [3, 5] }],
      grad: false,
      call: (x) => runOpMulti(layerNormOp, [x], { normalizedShape: [5], eps: 1e-5, hasWeight: false, hasBias: false })[2],
    },
    { name: "shape mismatch", inputs: [{ shape: [2, 3] }], call: (x) => layerNorm(x, [4]), throws: { error: ShapeError, message: /layerNorm: normalizedShape \[4\] does not match the last 1 dim\(s\) of the input of shape \[2,3\]/ } },
    { name: "too many dims", inputs: [{ shape: [3] }], call: (x) => layerNorm(x, [2, 3]), throws: { error: ShapeError, message: /layerNorm: normalizedShape \[2,3\] does not match/ } },
    { name: "weight shape", inputs: [{ shape: [2, 3] }, { shape: [2] }], call: (x, w) => layerNorm(x, [3], w), throws: { error: ShapeError, message: /layerNorm: weight has shape \[2\], expected normalizedShape \[3\]/ } },
    { name: "bias shape", inputs: [{ shape: [2, 3] }, { shape: [3, 1] }], call: (x, b) => layerNorm(x, [3], undefined, b), throws: { error: ShapeError, message: /layerNorm: bias has shape \[3,1\]/ } },
    { name: "empty normalizedShape", inputs: [{ shape: [2, 3] }], call: (x) => layerNorm(x, []), throws: { error: ValueError, message: /layerNorm: normalizedShape must have at least one dimension/ } },
    { name: "int input", inputs: [{ shape: [2, 3], dtype: "int32" }], call: (x) => layerNorm(x, [3]), throws: { error: DTypeError, message: /layerNorm: input has dtype int32/ } },
  ],
});

/** The backward of layerNorm: [dx, dweight, dbias] from the upstream gradient and the saved statistics. */
const layerNormBackwardOp: OpDef<{ normalizedShape: number[]; hasWeight: boolean }> = defineOp<{ normalizedShape: number[]; hasWeight: boolean }>({
  name: "layerNormBackward",
  meta([g, x], a) {
    checkDType("layerNormBackward", "input", x.dtype, FLOATS);
    if (!shapesEqual(g.shape, x.shape))
      throw new ShapeError(`layerNormBackward: gradient has shape ${shapeStr(g.shape)} but the input is ${shapeStr(x.shape)}`);
    return [
      { shape: [...x.shape], dtype: x.dtype },
      { shape: [...a.normalizedShape], dtype: x.dtype },
      { shape: [...a.normalizedShape], dtype: x.dtype },
    ];
  },
  // The kernel is checked directly too (not only through layerNorm's gradient), output by output.
  cases: [0, 1, 2].flatMap((k) => [
    {
      name: `output ${k}, weight`,
      inputs: [{ shape: [3, 5] }, { shape: [3, 5] }, { shape: [5] }],
      grad: false,
      call: (g: Tensor, x: Tensor, w: Tensor) => {
        const ln = { normalizedShape: [5], eps: 1e-5, hasWeight: true, hasBias: false };
        const [, m, r] = runOpMulti(layerNormOp, [x, w], ln);
        return runOpMulti(layerNormBackwardOp, [g, x, m, r, w], { normalizedShape: [5], hasWeight: true })[k];
      },
    },
    {
      name: `output ${k}, no weight, two dims, strided gradient`,
      inputs: [{ shape: [4, 3, 2] }, { shape: [2, 3, 4] }],
      grad: false,
      call: (g: Tensor, x: Tensor) => {
        const ln = { normalizedShape: [3, 4], eps: 1e-5, hasWeight: false, hasBias: false };
        const [, m, r] = runOpMulti(layerNormOp, [x], ln);
        return runOpMulti(layerNormBackwardOp, [g.permute(2, 1, 0), x, m, r], { normalizedShape: [3, 4], hasWeight: false })[k];
      },
    },
  ]),
});

/**
 * Layer normalization over the trailing `normalizedShape` dims, like F.layer_norm:
 * (x − mean) / sqrt(var + eps) · weight + bias, with the biased variance.
 */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const ns = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return runOpMulti(layerNormOp, inputs, { normalizedShape: ns, eps, hasWeight: !!weight, hasBias: !!bias })[0];
}

interface BatchNormAttrs {
  training: boolean;
  eps: number;
  hasWeight: boolean;
  hasBias: boolean;
}

// Inputs: x, weight?, bias?, and runningMean, runningVar in eval mode only.
const batchNormOp: OpDef<BatchNormAttrs> = defineOp<BatchNormAttrs>({
  name: "batchNorm",
  meta(inputs, a) {
    const x = inputs[0];
    checkDType("batchNorm", "input", x.dtype, FLOATS);
    if (x.ndim < 2) throw new ShapeError(`batchNorm: input must be [N, C] or [N, C, *], got ${shapeStr(x.shape)}`);
    const c = [x.shape[1]];
    let i = 1;
    if (a.hasWeight) checkParam("batchNorm", "weight", inputs[i++], c, x, "[C] =");
    if (a.hasBias) checkParam("batchNorm", "bias", inputs[i++], c, x, "[C] =");
    if (!a.training) {
      checkParam("batchNorm", "runningMean", inputs[i++], c, x, "[C] =");
      checkParam("batchNorm", "runningVar", inputs[i++], c, x, "[C] =");
    } else if (x.size / x.shape[1] <= 1)
      throw new ValueError(`batchNorm: expected more than 1 value per channel when training, got input of shape ${shapeStr(x.shape)}`);
    return [
      { shape: [...x.shape], dtype: x.dtype },
      { shape: c, dtype: x.dtype },
      { shape: c, dtype: x.dtype },
    ];
  },
  grad(g, { inputs, outputs: [, mean, rstd], attrs: a }) {
    const w = a.hasWeight ? [inputs[1]] : [];
    const [dx, dw, db] = runOpMulti(batchNormBackwardOp, [g, inputs[0], mean, rstd, ...w], { training: a.training, hasWeight: a.hasWeight });
    // Running statistics are buffers, not differentiable (as in PyTorch).
    return [dx, ...(a.hasWeight ? [dw] : []), ...(a.hasBias ? [db] : []), ...(a.training ? [] : [null, null])];
  },
  cases: [
    { name: "training [N,C], affine", inputs: [{ shape: [6, 3] }, { shape: [3] }, { shape: [3] }], call: (x, w, b) => batchNorm(x, null, null, w, b, true) },
    { name: "training [N,C,H,W], no affine", inputs: [{ shape: [2, 3, 2, 2] }], call: (x) => batchNorm(x, null, null, undefined, undefined, true) },
    { name: "training [N,C,L], permuted view", inputs: [{ shape: [3, 2, 4] }, { shape: [4] }, { shape: [4] }], call: (x, w, b) => batchNorm(x.permute(0, 2, 1), null, null, w, b, true) },
    { name: "training, weight only, large eps", inputs: [{ shape: [4, 2, 3], range: [-0.3, 0.3] }, { shape: [2] }], call: (x, w) => batchNorm(x, null, null, w, null, true, 0.1, 0.05) },
    {
      name: "training with running stats (output)",
      inputs: [{ shape: [5, 2] }, { shape: [2], noGrad: true }, { shape: [2], range: [0.5, 2], noGrad: true }, { shape: [2] }],
      call: (x, rm, rv, b) => batchNorm(x, rm, rv, null, b, true),
    },
    {
      name: "eval, affine",
      inputs: [{ shape: [4, 3, 2] }, { shape: [3], noGrad: true }, { shape: [3], range: [0.5, 2], noGrad: true }, { shape: [3] }, { shape: [3] }],
      call: (x, rm, rv, w, b) => batchNorm(x, rm, rv, w, b, false),
    },
    {
      name: "eval, no affine, single sample",
      inputs: [{ shape: [1, 2, 3] }, { shape: [2], noGrad: true }, { shape: [2], range: [0.5, 2], noGrad: true }],
      call: (x, rm, rv) => batchNorm(x, rm, rv),
    },
    {
      name: "running mean update",
      inputs: [{ shape: [5, 3, 2] }, { shape: [3], noGrad: true }, { shape: [3], range: [0.5, 2], noGrad: true }],
      grad: false,
      call: (x, rm, rv) => (batchNorm(x, rm, rv, null, null, true), rm),
    },
    {
      name: "running var update (unbiased), momentum 0.3",
      inputs: [{ shape: [5, 3, 2] }, { shape: [3], noGrad: true }, { shape: [3], range: [0.5, 2], noGrad: true }],
      grad: false,
      call: (x, rm, rv) => (batchNorm(x, rm, rv, null, null, true, 0.3), rv),
    },
    {
      name: "saved rstd",
      inputs: [{ shape: [4, 3] }],
      grad: false,
      call: (x) => runOpMulti(batchNormOp, [x], { training: true, eps: 1e-5, hasWeight: false, hasBias: false })[2],
    },
    { name: "1-d input", inputs: [{ shape: [4] }], call: (x) => batchNorm(x, null, null, null, null, true), throws: { error: ShapeError, message: /batchNorm: input must be \[N, C\] or \[N, C, \*\], got \[4\]/ } },
    { name: "weight shape", inputs: [{ shape: [4, 3] }, { shape: [4] }], call: (x, w) => batchNorm(x, null, null, w, null, true), throws: { error: ShapeError, message: /batchNorm: weight has shape \[4\], expected \[C\] = \[3\]/ } },
    {
      name: "running var shape",
      inputs: [{ shape: [4, 3] }, { shape: [3] }, { shape: [2] }],
      call: (x, rm, rv) => batchNorm(x, rm, rv, null, null, true),
      throws: { error: ShapeError, message: /batchNorm: runningVar has shape \[2\], expected \[C\] = \[3\]/ },
    },
    { name: "one value per channel", inputs: [{ shape: [1, 3] }], call: (x) => batchNorm(x, null, null, null, null, true), throws: { error: ValueError, message: /batchNorm: expected more than 1 value per channel when training, got input of shape \[1,3\]/ } },
    { name: "eval without running stats", inputs: [{ shape: [4, 3] }], call: (x) => batchNorm(x, null, null), throws: { error: ValueError, message: /batchNorm: runningMean and runningVar are required when training is false/ } },
  ],
});

/** The backward of batchNorm: [dx, dweight, dbias]; in training dx includes the paths through the batch statistics. */
const batchNormBackwardOp: OpDef<{ training: boolean; hasWeight: boolean }> = defineOp<{ training: boolean; hasWeight: boolean }>({
  name: "batchNormBackward",
  meta([g, x]) {
    checkDType("batchNormBackward", "input", x.dtype, FLOATS);
    if (!shapesEqual(g.shape, x.shape))
      throw new ShapeError(`batchNormBackward: gradient has shape ${shapeStr(g.shape)} but the input is ${shapeStr(x.shape)}`);
    const c = [x.shape[1]];
    return [
      { shape: [...x.shape], dtype: x.dtype },
      { shape: c, dtype: x.dtype },
      { shape: c, dtype: x.dtype },
    ];
  },
  cases: [true, false].flatMap((training) =>
    [0, 1, 2].map((k) => ({
      name: `output ${k}, ${training ? "training" : "eval"}`,
      inputs: [{ shape: [3, 2, 4] }, { shape: [3, 2, 4] }, { shape: [2] }, { shape: [2], range: [0.5, 2] as [number, number] }, { shape: [2] }],
      grad: false,
      call: (g: Tensor, x: Tensor, rm: Tensor, rv: Tensor, w: Tensor) => {
        const stats = training ? [] : [rm, rv];
        const [, m, r] = runOpMulti(batchNormOp, [x, w, ...stats], { training, eps: 1e-5, hasWeight: true, hasBias: false });
        return runOpMulti(batchNormBackwardOp, [g, x, m, r, w], { training, hasWeight: true })[k];
      },
    })),
  ),
});

function checkRunning(what: string, t: Tensor, x: Tensor): void {
  if (!shapesEqual(t.shape, [x.shape[1]]))
    throw new ShapeError(`batchNorm: ${what} has shape ${shapeStr(t.shape)}, expected [C] = ${shapeStr([x.shape[1]])}`);
}

/**
 * Batch normalization over every dim but the channel dim 1, like F.batch_norm. In training it uses
 * the batch statistics and updates runningMean/runningVar in place (the variance unbiased):
 * running ← (1 − momentum)·running + momentum·batch. In eval it uses the running statistics.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null | undefined,
  runningVar: Tensor | null | undefined,
  weight?: Tensor | null,
  bias?: Tensor | null,
  training = false,
  momentum = 0.1,
  eps = 1e-5,
): Tensor {
  if (!training && (!runningMean || !runningVar))
    throw new ValueError("batchNorm: runningMean and runningVar are required when training is false; pass them or set training = true");
  const attrs = { training, eps, hasWeight: !!weight, hasBias: !!bias };
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : []), ...(training ? [] : [runningMean!, runningVar!])];
  if (training && x.ndim >= 2) {
    if (runningMean) checkRunning("runningMean", runningMean, x);
    if (runningVar) checkRunning("runningVar", runningVar, x);
  }
  const [y, mean, rstd] = runOpMulti(batchNormOp, inputs, attrs);
  if (training && (runningMean || runningVar))
    noGrad(() => {
      const n = x.size / x.shape[1];
      if (runningMean) copy_(runningMean, add(mul(runningMean, 1 - momentum), mul(mean, momentum)));
      if (runningVar) {
        // The biased batch variance from the saved rstd = 1/sqrt(var + eps), in float64.
        const r = to(rstd, "float64");
        const batchVar = sub(div(1, mul(r, r)), eps);
        copy_(runningVar, add(mul(runningVar, 1 - momentum), mul(batchVar, (momentum * n) / (n - 1))));
      }
    });
  return y;
}
