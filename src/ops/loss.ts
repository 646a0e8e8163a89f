// Class-index losses: crossEntropy (a fused log-softmax + NLL primitive, with class weights,
// ignoreIndex and label smoothing) and nllLoss, each with a backward primitive. PyTorch semantics.
import { DTypeError, IndexError, shapeStr, ShapeError, shapesEqual, type Tensor, ValueError } from "../tensor/index.js";
import { defineOp, runOp, runOpMulti, type OpDef, type OutputSpec } from "./op.js";
import type { OpCase } from "./cases.js";
import { checkDType, FLOATS } from "./util.js";
import { to } from "./view.js";
import { checkReduction, type Reduction } from "./loss-elementwise.js";

export * from "./loss-elementwise.js";

interface ClassLossAttrs {
  ignoreIndex: number;
  labelSmoothing: number;
  reduction: Reduction;
  hasWeight: boolean;
}

export interface NLLLossOptions {
  /** Per-class weights [C]; the mean then divides by the summed weights of the non-ignored targets. */
  weight?: Tensor | null;
  /** Targets equal to this value add nothing to the loss or the mean's denominator. Default −100. */
  ignoreIndex?: number;
  reduction?: Reduction;
}

export interface CrossEntropyOptions extends NLLLossOptions {
  /** ε in [0, 1]: the target distribution becomes (1 − ε)·onehot + ε/C. Default 0. */
  labelSmoothing?: number;
}

/** The target's expected shape for scores [C] (→ []) or [N, C, d…] (→ [N, d…]). */
function targetShape(x: Tensor): number[] {
  return x.ndim === 1 ? [] : [x.shape[0], ...x.shape.slice(2)];
}

/** Shared checks of crossEntropy and nllLoss; returns the loss's output spec. */
function classLossMeta(op: string, inputs: Tensor[], a: ClassLossAttrs): OutputSpec {
  const [x, t] = inputs;
  checkReduction(op, a.reduction);
  checkDType(op, "input", x.dtype, FLOATS);
  if (t.dtype !== "int32") throw new DTypeError(`${op}: target has dtype ${t.dtype}; expected int32 class indices`);
  if (x.ndim === 0) throw new ShapeError(`${op}: input must be [C] or [N, C, d1, …], got a 0-d tensor`);
  const want = targetShape(x);
  if (!shapesEqual(t.shape, want))
    throw new ShapeError(`${op}: target has shape ${shapeStr(t.shape)}, expected ${shapeStr(want)} for an input of shape ${shapeStr(x.shape)} (classes on dim ${x.ndim === 1 ? 0 : 1})`);
  const C = x.ndim === 1 ? x.shape[0] : x.shape[1];
  if (a.hasWeight) {
    const w = inputs[2];
    if (!shapesEqual(w.shape, [C])) throw new ShapeError(`${op}: weight has shape ${shapeStr(w.shape)}, expected [C] = [${C}]`);
    checkDType(op, "weight", w.dtype, [x.dtype]);
  }
  if (!(a.labelSmoothing >= 0 && a.labelSmoothing <= 1)) throw new ValueError(`${op}: labelSmoothing must be in [0, 1], got ${a.labelSmoothing}`);
  if (!Number.isInteger(a.ignoreIndex)) throw new ValueError(`${op}: ignoreIndex must be an integer, got ${a.ignoreIndex}`);
  // Checked here, not in the kernels, so that every backend reports a bad label the same way.
  const tv = t.dataSync();
  for (let i = 0; i < tv.length; i++) {
    const v = tv[i];
    if (v !== a.ignoreIndex && (v < 0 || v >= C))
      throw new IndexError(`${op}: target ${v} is out of range for ${C} classes; expected 0 to ${C - 1} (or ignoreIndex ${a.ignoreIndex})`);
  }
  return { shape: a.reduction === "none" ? want : [], dtype: x.dtype };
}

function classAttrs(opts: CrossEntropyOptions): ClassLossAttrs {
  return { ignoreIndex: opts.ignoreIndex ?? -100, labelSmoothing: opts.labelSmoothing ?? 0, reduction: opts.reduction ?? "mean", hasWeight: !!opts.weight };
}

/** [scores, target, weight?] with the weight in the scores' dtype. */
function classInputs(x: Tensor, target: Tensor, weight?: Tensor | null): Tensor[] {
  return weight ? [x, target, to(weight, x.dtype)] : [x, target];
}

type LossFn = (x: Tensor, t: Tensor, opts?: CrossEntropyOptions) => Tensor;

/** Cases shared by crossEntropy and nllLoss (scores drawn from `range`). */
function classCases(op: string, f: LossFn, range: [number, number], smoothing: boolean): OpCase[] {
  const xs = (shape: number[]) => ({ shape, range });
  const tg = (shape: number[], hi: number) => ({ shape, dtype: "int32" as const, range: [0, hi] as [number, number] });
  const vals = (values: number[]) => ({ shape: [values.length], dtype: "int32" as const, values });
  const w = (c: number) => ({ shape: [c], range: [0.5, 2] as [number, number], noGrad: true });
  return [
    { name: "[N,C] mean", inputs: [xs([4, 5]), tg([4], 5)], call: (x, t) => f(x, t) },
    { name: "[N,C] sum", inputs: [xs([4, 5]), tg([4], 5)], call: (x, t) => f(x, t, { reduction: "sum" }) },
    { name: "[N,C] none", inputs: [xs([4, 5]), tg([4], 5)], call: (x, t) => f(x, t, { reduction: "none" }) },
    { name: "weighted mean", inputs: [xs([5, 3]), tg([5], 3), w(3)], call: (x, t, wt) => f(x, t, { weight: wt }) },
    { name: "weighted none", inputs: [xs([5, 3]), tg([5], 3), w(3)], call: (x, t, wt) => f(x, t, { weight: wt, reduction: "none" }) },
    { name: "ignoreIndex -100, weighted mean", inputs: [xs([4, 3]), vals([1, -100, 2, 0]), w(3)], call: (x, t, wt) => f(x, t, { weight: wt }) },
    { name: "ignoreIndex 1, sum", inputs: [xs([5, 3]), vals([1, 0, 1, 2, 2])], call: (x, t) => f(x, t, { ignoreIndex: 1, reduction: "sum" }) },
    { name: "ignoreIndex, none", inputs: [xs([3, 4]), vals([3, -100, 0])], call: (x, t) => f(x, t, { reduction: "none" }) },
    { name: "[N,C,H,W] mean", inputs: [xs([2, 3, 2, 2]), tg([2, 2, 2], 3)], call: (x, t) => f(x, t) },
    { name: "[N,C,L] weighted none", inputs: [xs([2, 4, 3]), tg([2, 3], 4), w(4)], call: (x, t, wt) => f(x, t, { weight: wt, reduction: "none" }) },
    { name: "unbatched [C]", inputs: [xs([5]), { shape: [], dtype: "int32", values: [3] }], call: (x, t) => f(x, t) },
    { name: "transposed scores", inputs: [xs([5, 4]), tg([4], 5)], call: (x, t) => f(x.t(), t) },
    { name: "class dim last, permuted", inputs: [xs([2, 3, 4]), tg([2, 3], 4)], call: (x, t) => f(x.permute(0, 2, 1), t, { reduction: "sum" }) },
    { name: "empty batch, sum", inputs: [xs([0, 3]), { shape: [0], dtype: "int32" }], call: (x, t) => f(x, t, { reduction: "sum" }) },
    { name: "all ignored, mean is NaN", inputs: [xs([2, 3]), vals([-100, -100])], grad: false, call: (x, t) => f(x, t) },
    ...(smoothing
      ? [
          { name: "label smoothing 0.1, mean", inputs: [xs([4, 5]), tg([4], 5)], call: (x: Tensor, t: Tensor) => f(x, t, { labelSmoothing: 0.1 }) },
          { name: "label smoothing, none", inputs: [xs([3, 4]), tg([3], 4)], call: (x: Tensor, t: Tensor) => f(x, t, { labelSmoothing: 0.25, reduction: "none" }) },
          {
            name: "label smoothing, weights and ignored, mean",
            inputs: [xs([4, 3]), vals([2, -100, 0, 1]), w(3)],
            call: (x: Tensor, t: Tensor, wt: Tensor) => f(x, t, { labelSmoothing: 0.2, weight: wt }),
          },
          {
            name: "label smoothing, weights, [N,C,L] sum",
            inputs: [xs([2, 3, 2]), tg([2, 2], 3), w(3)],
            call: (x: Tensor, t: Tensor, wt: Tensor) => f(x, t, { labelSmoothing: 0.3, weight: wt, reduction: "sum" }),
          },
          { name: "label smoothing 1", inputs: [xs([3, 4]), tg([3], 4)], call: (x: Tensor, t: Tensor) => f(x, t, { labelSmoothing: 1 }) },
          { name: "labelSmoothing out of range", inputs: [xs([2, 3]), tg([2], 3)], call: (x: Tensor, t: Tensor) => f(x, t, { labelSmoothing: 1.5 }), throws: { error: ValueError, message: new RegExp(`^${op}: labelSmoothing must be in \\[0, 1\\], got 1.5`) } },
        ]
      : []),
    { name: "target out of range", inputs: [xs([3, 4]), vals([0, 4, 1])], call: (x, t) => f(x, t), throws: { error: IndexError, message: new RegExp(`^${op}: target 4 is out of range for 4 classes; expected 0 to 3 \\(or ignoreIndex -100\\)`) } },
    { name: "negative target", inputs: [xs([2, 4]), vals([-1, 1])], call: (x, t) => f(x, t), throws: { error: IndexError, message: new RegExp(`^${op}: target -1 is out of range for 4 classes`) } },
    { name: "float target", inputs: [xs([2, 4]), { shape: [2] }], call: (x, t) => f(x, t), throws: { error: DTypeError, message: new RegExp(`^${op}: target has dtype float32; expected int32 class indices`) } },
    { name: "target shape", inputs: [xs([2, 4, 3]), tg([2, 4], 3)], call: (x, t) => f(x, t), throws: { error: ShapeError, message: new RegExp(`^${op}: target has shape \\[2,4\\], expected \\[2,3\\] for an input of shape \\[2,4,3\\]`) } },
    { name: "weight shape", inputs: [xs([2, 4]), tg([2], 4), { shape: [3] }], call: (x, t, wt) => f(x, t, { weight: wt }), throws: { error: ShapeError, message: new RegExp(`^${op}: weight has shape \\[3\\], expected \\[C\\] = \\[4\\]`) } },
    { name: "bad reduction", inputs: [xs([2, 4]), tg([2], 4)], call: (x, t) => f(x, t, { reduction: "batchmean" as Reduction }), throws: { error: ValueError, message: new RegExp(`^${op}: reduction must be one of "mean", "sum", "none"; got "batchmean"`) } },
  ];
}

// inputs: logits, target, weight?   outputs: loss, softmax (saved for crossEntropyBackward)
const crossEntropyOp: OpDef<ClassLossAttrs> = defineOp<ClassLossAttrs>({
  name: "crossEntropy",
  meta: (inputs, a) => [classLossMeta("crossEntropy", inputs, a), { shape: [...inputs[0].shape], dtype: inputs[0].dtype }],
  grad(g, { inputs: [, t, w], outputs: [, softmax], attrs: a }) {
    // Class weights and targets are not differentiable (as in PyTorch).
    return [runOp(crossEntropyBackwardOp, [g, softmax, t, ...(a.hasWeight ? [w] : [])], a), null, null];
  },
  cases: [
    ...classCases("crossEntropy", (x, t, o) => crossEntropy(x, t, o), [-3, 3], true),
    // NOTE: naive exp would overflow here; the kernel subtracts the row max first.
    { name: "huge logits", inputs: [{ shape: [3, 4], range: [800, 805] }, { shape: [3], dtype: "int32", range: [0, 4] }], grad: false, call: (x, t) => crossEntropy(x, t, { reduction: "none" }) },
    { name: "saturated softmax", inputs: [{ shape: [2, 3], values: [60, -60, 0, -50, 50, 1] }, { shape: [2], dtype: "int32", values: [0, 0] }], call: (x, t) => crossEntropy(x, t, { reduction: "none" }) },
  ],
});

/** d crossEntropy / d logits from the upstream gradient and the saved softmax (one pass, no log-softmax). */
const crossEntropyBackwardOp: OpDef<ClassLossAttrs> = defineOp<ClassLossAttrs>({
  name: "crossEntropyBackward",
  meta: ([g, softmax]) => {
    checkDType("crossEntropyBackward", "gradient", g.dtype, FLOATS);
    return [{ shape: [...softmax.shape], dtype: softmax.dtype }];
  },
});

/**
 * Cross-entropy between logits [N, C, d…] (or [C]) and int32 class targets [N, d…], like
 * F.cross_entropy: log-softmax over dim 1 and NLL in one numerically stable op.
 * @example crossEntropy(logits, labels, { labelSmoothing: 0.1 })
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  return runOpMulti(crossEntropyOp, classInputs(logits, target, opts.weight), classAttrs(opts))[0];
}

// inputs: logProbs, target, weight?   output: loss
const nllLossOp: OpDef<ClassLossAttrs> = defineOp<ClassLossAttrs>({
  name: "nllLoss",
  meta: (inputs, a) => [classLossMeta("nllLoss", inputs, a)],
  grad: (g, { inputs: [x, t, w], attrs: a }) => [runOp(nllLossBackwardOp, [g, t, ...(a.hasWeight ? [w] : [])], { ...a, inputShape: [...x.shape] }), null, null],
  cases: classCases("nllLoss", (x, t, o) => nllLoss(x, t, o), [-4, -0.1], false),
});

/** d nllLoss / d logProbs: −g·w_t at each target position, zeros elsewhere. */
const nllLossBackwardOp: OpDef<ClassLossAttrs & { inputShape: number[] }> = defineOp<ClassLossAttrs & { inputShape: number[] }>({
  name: "nllLossBackward",
  meta: ([g], a) => {
    checkDType("nllLossBackward", "gradient", g.dtype, FLOATS);
    return [{ shape: a.inputShape, dtype: g.dtype }];
  },
});

/**
 * Negative log-likelihood of int32 class targets [N, d…] under log-probabilities [N, C, d…] (or
 * [C]), like F.nll_loss: −w_t·logp[t], averaged over Σ w_t of the non-ignored targets by default.
 */
export function nllLoss(logProbs: Tensor, target: Tensor, opts: NLLLossOptions = {}): Tensor {
  return runOp(nllLossOp, classInputs(logProbs, target, opts.weight), classAttrs({ ...opts, labelSmoothing: 0 }));
}
