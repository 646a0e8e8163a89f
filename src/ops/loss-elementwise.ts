// Elementwise losses (mse, l1, huber, smoothL1, binaryCrossEntropy, …WithLogits, klDiv) and the
// reduction helpers every loss shares. Most decompose into elementwise ops; BCE is a primitive.
import { broadcastShapes, DTypeError, shapeStr, ShapeError, shapesEqual, type Tensor, ValueError } from "../tensor/index.js";
import { defineOp, runOp, type OpDef, type OutputSpec } from "./op.js";
import type { OpCase } from "./cases.js";
import { promotePair } from "./elementwise.js";
import { add, div, mul, sub } from "./binary.js";
import { abs, exp, log, log1p, neg, square } from "./unary.js";
import { clamp, softplus } from "./activation.js";
import { gt, where } from "./compare.js";
import { mean, sum } from "./reduce.js";
import { expand, to } from "./view.js";
import { checkDType, FLOATS } from "./util.js";

/** How a loss reduces its per-element values: their mean (default), their sum, or none. */
export type Reduction = "mean" | "sum" | "none";

export interface LossOptions {
  reduction?: Reduction;
}

/** Throws a ValueError unless `r` is one of the allowed reductions. */
export function checkReduction(op: string, r: unknown, allowed: readonly string[] = ["mean", "sum", "none"]): void {
  if (!allowed.includes(r as string))
    throw new ValueError(`${op}: reduction must be one of ${allowed.map((s) => `"${s}"`).join(", ")}; got ${JSON.stringify(r)}`);
}

/** Applies a reduction to per-element losses. */
export function reduceLoss(loss: Tensor, reduction: Reduction): Tensor {
  return reduction === "mean" ? mean(loss) : reduction === "sum" ? sum(loss) : loss;
}

/** The gradient of reduceLoss: g brought back to the per-element shape. */
function unreduceLoss(g: Tensor, shape: readonly number[], reduction: Reduction): Tensor {
  if (reduction === "none") return g;
  const n = shape.reduce((a, b) => a * b, 1);
  return expand(reduction === "mean" ? div(g, n) : g, [...shape]);
}

interface LossAttrs {
  reduction: Reduction;
}

interface LossMetaSpec<A> {
  /** Target must have the input's shape (BCE) instead of broadcasting with it. */
  sameShape?: boolean;
  /** Names of the extra inputs after target (weights), each broadcastable to the loss's shape. */
  extras?: (a: A) => string[];
  reductions?: readonly string[];
}

/** The meta of an elementwise loss: float input and target that broadcast (or match), extras that fit. */
function lossMeta<A extends { reduction: string }>(op: string, spec: LossMetaSpec<A> = {}) {
  return (inputs: Tensor[], a: A): OutputSpec[] => {
    const [x, t] = inputs;
    checkReduction(op, a.reduction, spec.reductions);
    checkDType(op, "input", x.dtype, FLOATS);
    checkDType(op, "target", t.dtype, FLOATS);
    if (spec.sameShape && !shapesEqual(x.shape, t.shape))
      throw new ShapeError(`${op}: target has shape ${shapeStr(t.shape)} but the input has shape ${shapeStr(x.shape)}; they must be the same`);
    const shape = broadcastShapes(op, x.shape, t.shape);
    (spec.extras?.(a) ?? []).forEach((name, i) => {
      const e = inputs[2 + i];
      if (!shapesEqual(broadcastShapes(op, shape, e.shape), shape))
        throw new ShapeError(`${op}: ${name} of shape ${shapeStr(e.shape)} cannot be broadcast to the input's shape ${shapeStr(shape)}`);
    });
    return [{ shape: a.reduction === "none" ? shape : [], dtype: x.dtype }];
  };
}

/** Input and target promoted to one dtype, which must be float. */
function floatPair(op: string, input: Tensor, target: Tensor | number): [Tensor, Tensor] {
  checkDType(op, "input", input.dtype, FLOATS);
  return promotePair(input, target);
}

/** The cases every input/target loss gets: three reductions, broadcasting, views, a bad shape and reduction. */
function commonCases(op: string, f: (x: Tensor, t: Tensor, reduction?: Reduction) => Tensor, range?: [number, number]): OpCase[] {
  const xt = (a: number[], b: number[]) => [{ shape: a, range }, { shape: b, range }];
  return [
    { name: "mean", inputs: xt([3, 4], [3, 4]), call: (x, t) => f(x, t) },
    { name: "sum", inputs: xt([2, 3, 2], [2, 3, 2]), call: (x, t) => f(x, t, "sum") },
    { name: "none", inputs: xt([3, 4], [3, 4]), call: (x, t) => f(x, t, "none") },
    { name: "none, broadcast target", inputs: xt([3, 4], [4]), call: (x, t) => f(x, t, "none") },
    { name: "transposed input", inputs: xt([4, 3], [3, 4]), call: (x, t) => f(x.t(), t, "none") },
    { name: "0-d", inputs: xt([], []), call: (x, t) => f(x, t) },
    { name: "shape mismatch", inputs: xt([3, 4], [3]), call: (x, t) => f(x, t), throws: { error: ShapeError, message: new RegExp(`^${op}: shapes \\[3,4\\] and \\[3\\] cannot be broadcast`) } },
    { name: "bad reduction", inputs: xt([3], [3]), call: (x, t) => f(x, t, "avg" as Reduction), throws: { error: ValueError, message: new RegExp(`^${op}: reduction must be one of "mean", "sum", "none"; got "avg"`) } },
    { name: "int input", inputs: [{ shape: [3], dtype: "int32" }, { shape: [3] }], call: (x, t) => f(x, t), throws: { error: DTypeError, message: new RegExp(`^${op}: input has dtype int32`) } },
  ];
}

const mseLossOp = defineOp<LossAttrs>({
  name: "mseLoss",
  meta: lossMeta("mseLoss"),
  decompose: ([x, t], a) => reduceLoss(square(sub(x, t)), a.reduction),
  cases: [...commonCases("mseLoss", (x, t, reduction) => mseLoss(x, t, { reduction }))],
});

/** Mean squared error (x − y)², like F.mse_loss. */
export function mseLoss(input: Tensor, target: Tensor, opts: LossOptions = {}): Tensor {
  return runOp(mseLossOp, floatPair("mseLoss", input, target), { reduction: opts.reduction ?? "mean" });
}

const l1LossOp = defineOp<LossAttrs>({
  name: "l1Loss",
  meta: lossMeta("l1Loss"),
  decompose: ([x, t], a) => reduceLoss(abs(sub(x, t)), a.reduction),
  cases: [...commonCases("l1Loss", (x, t, reduction) => l1Loss(x, t, { reduction }))],
});

/** Mean absolute error |x − y|, like F.l1_loss. */
export function l1Loss(input: Tensor, target: Tensor, opts: LossOptions = {}): Tensor {
  return runOp(l1LossOp, floatPair("l1Loss", input, target), { reduction: opts.reduction ?? "mean" });
}

/**
 * Per-element Huber loss: ½d² for |d| ≤ δ, δ(|d| − ½δ) beyond, written branch-free as c·(|d| − ½c)
 * with c = min(|d|, δ); its gradient is d inside and δ·sign(d) outside, with no kink in between.
 */
function huberElementwise(x: Tensor, t: Tensor, delta: number): Tensor {
  const a = abs(sub(x, t));
  const c = clamp(a, null, delta);
  return mul(c, sub(a, mul(c, 0.5)));
}

const huberLossOp = defineOp<LossAttrs & { delta: number }>({
  name: "huberLoss",
  meta: lossMeta("huberLoss"),
  decompose: ([x, t], a) => reduceLoss(huberElementwise(x, t, a.delta), a.reduction),
  cases: [
    ...commonCases("huberLoss", (x, t, reduction) => huberLoss(x, t, { reduction }), [-3, 3]),
    { name: "delta 0.5, both branches", inputs: [{ shape: [6] }, { shape: [6], values: [0.1, -0.2, 3, -3, 0.4, 1] }], call: (x, t) => huberLoss(x, t, { delta: 0.5, reduction: "none" }) },
    { name: "delta 2, sum", inputs: [{ shape: [3, 4], range: [-4, 4] }, { shape: [3, 4] }], call: (x, t) => huberLoss(x, t, { delta: 2, reduction: "sum" }) },
    { name: "non-positive delta", inputs: [{ shape: [3] }, { shape: [3] }], call: (x, t) => huberLoss(x, t, { delta: 0 }), throws: { error: ValueError, message: /^huberLoss: delta must be positive, got 0/ } },
  ],
});

/** Huber loss: ½(x − y)² where |x − y| ≤ delta, delta·(|x − y| − ½delta) elsewhere, like F.huber_loss. */
export function huberLoss(input: Tensor, target: Tensor, opts: LossOptions & { delta?: number } = {}): Tensor {
  const delta = opts.delta ?? 1;
  if (!(delta > 0)) throw new ValueError(`huberLoss: delta must be positive, got ${delta}`);
  return runOp(huberLossOp, floatPair("huberLoss", input, target), { reduction: opts.reduction ?? "mean", delta });
}

const smoothL1LossOp = defineOp<LossAttrs & { beta: number }>({
  name: "smoothL1Loss",
  meta: lossMeta("smoothL1Loss"),
  // smoothL1 with beta is huber with delta = beta, divided by beta; beta = 0 is the L1 loss.
  decompose: ([x, t], a) => reduceLoss(a.beta === 0 ? abs(sub(x, t)) : div(huberElementwise(x, t, a.beta), a.beta), a.reduction),
  cases: [
    ...commonCases("smoothL1Loss", (x, t, reduction) => smoothL1Loss(x, t, { reduction }), [-3, 3]),
    { name: "beta 0.5, both branches", inputs: [{ shape: [6] }, { shape: [6], values: [0.1, -0.2, 3, -3, 0.4, 1] }], call: (x, t) => smoothL1Loss(x, t, { beta: 0.5, reduction: "none" }) },
    { name: "beta 0 is L1", inputs: [{ shape: [3, 4] }, { shape: [3, 4] }], call: (x, t) => smoothL1Loss(x, t, { beta: 0 }) },
    { name: "negative beta", inputs: [{ shape: [3] }, { shape: [3] }], call: (x, t) => smoothL1Loss(x, t, { beta: -1 }), throws: { error: ValueError, message: /^smoothL1Loss: beta must be non-negative, got -1/ } },
  ],
});

/** Smooth L1 loss: ½(x − y)²/beta where |x − y| < beta, |x − y| − ½beta elsewhere, like F.smooth_l1_loss. */
export function smoothL1Loss(input: Tensor, target: Tensor, opts: LossOptions & { beta?: number } = {}): Tensor {
  const beta = opts.beta ?? 1;
  if (!(beta >= 0)) throw new ValueError(`smoothL1Loss: beta must be non-negative, got ${beta}`);
  return runOp(smoothL1LossOp, floatPair("smoothL1Loss", input, target), { reduction: opts.reduction ?? "mean", beta });
}

interface BCEAttrs extends LossAttrs {
  hasWeight: boolean;
}

// A primitive (ref kernel in backend/ref/loss.ts) so that probabilities of exactly 0 or 1 (a
// saturated sigmoid) still get PyTorch's finite gradient (p − y)/max(p(1 − p), 1e-12).
const binaryCrossEntropyOp: OpDef<BCEAttrs> = defineOp<BCEAttrs>({
  name: "binaryCrossEntropy",
  meta(inputs, a) {
    const specs = lossMeta<BCEAttrs>("binaryCrossEntropy", { sameShape: true, extras: (b) => (b.hasWeight ? ["weight"] : []) })(inputs, a);
    const p = inputs[0].dataSync();
    for (let i = 0; i < p.length; i++)
      if (!(p[i] >= 0 && p[i] <= 1))
        throw new ValueError(`binaryCrossEntropy: input values must be probabilities in [0, 1], got ${p[i]}; for logits use binaryCrossEntropyWithLogits`);
    return specs;
  },
  grad(g, { inputs: [p, t, w], attrs: a }) {
    let gg = unreduceLoss(g, p.shape, a.reduction);
    if (a.hasWeight) gg = mul(gg, w);
    // PyTorch's EPSILON is the float 1e-12f, hence fround.
    const dp = div(sub(p, t), clamp(mul(p, sub(1, p)), Math.fround(1e-12)));
    // NOTE: the target's gradient uses the same clamped logs as the forward (≥ −100).
    const dt = sub(clamp(log1p(neg(p)), -100), clamp(log(p), -100));
    return [mul(gg, dp), mul(gg, dt), null];
  },
  cases: [
    { name: "mean", inputs: [{ shape: [3, 4], range: [0.05, 0.95] }, { shape: [3, 4], range: [0, 1] }], call: (p, t) => binaryCrossEntropy(p, t) },
    { name: "sum, hard targets", inputs: [{ shape: [5], range: [0.05, 0.95] }, { shape: [5], values: [0, 1, 1, 0, 1], noGrad: true }], call: (p, t) => binaryCrossEntropy(p, t, { reduction: "sum" }) },
    { name: "none, 3-d", inputs: [{ shape: [2, 3, 2], range: [0.05, 0.95] }, { shape: [2, 3, 2], range: [0, 1] }], call: (p, t) => binaryCrossEntropy(p, t, { reduction: "none" }) },
    {
      name: "broadcast weight, mean",
      inputs: [{ shape: [3, 4], range: [0.05, 0.95] }, { shape: [3, 4], range: [0, 1] }, { shape: [4], range: [0.5, 2], noGrad: true }],
      call: (p, t, w) => binaryCrossEntropy(p, t, { weight: w }),
    },
    { name: "permuted input", inputs: [{ shape: [4, 3], range: [0.05, 0.95] }, { shape: [3, 4], range: [0, 1] }], call: (p, t) => binaryCrossEntropy(p.t(), t, { reduction: "none" }) },
    // log(0) is clamped to −100 as in PyTorch; the loss is not differentiable there, so forward only.
    { name: "probabilities 0 and 1", inputs: [{ shape: [4], values: [0, 1, 0, 1] }, { shape: [4], values: [1, 0, 0, 1] }], grad: false, call: (p, t) => binaryCrossEntropy(p, t, { reduction: "none" }) },
    { name: "target shape", inputs: [{ shape: [3, 4], range: [0.1, 0.9] }, { shape: [4], range: [0, 1] }], call: (p, t) => binaryCrossEntropy(p, t), throws: { error: ShapeError, message: /^binaryCrossEntropy: target has shape \[4\] but the input has shape \[3,4\]/ } },
    { name: "weight shape", inputs: [{ shape: [3, 4], range: [0.1, 0.9] }, { shape: [3, 4], range: [0, 1] }, { shape: [3] }], call: (p, t, w) => binaryCrossEntropy(p, t, { weight: w }), throws: { error: ShapeError, message: /^binaryCrossEntropy: shapes \[3,4\] and \[3\] cannot be broadcast/ } },
    { name: "input outside [0, 1]", inputs: [{ shape: [3], values: [0.5, 1.5, 0.2] }, { shape: [3], range: [0, 1] }], call: (p, t) => binaryCrossEntropy(p, t), throws: { error: ValueError, message: /^binaryCrossEntropy: input values must be probabilities in \[0, 1\], got 1.5/ } },
  ],
});

/**
 * Binary cross-entropy of probabilities, like F.binary_cross_entropy:
 * −w·(y·log p + (1 − y)·log(1 − p)) with each log clamped to ≥ −100.
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, opts: LossOptions & { weight?: Tensor | null } = {}): Tensor {
  const [p, t] = floatPair("binaryCrossEntropy", input, target);
  const w = opts.weight ? [to(opts.weight, p.dtype)] : [];
  return runOp(binaryCrossEntropyOp, [p, t, ...w], { reduction: opts.reduction ?? "mean", hasWeight: !!opts.weight });
}

interface BCELogitsAttrs extends LossAttrs {
  hasWeight: boolean;
  hasPosWeight: boolean;
}

const bceWithLogitsOp = defineOp<BCELogitsAttrs>({
  name: "binaryCrossEntropyWithLogits",
  meta: lossMeta<BCELogitsAttrs>("binaryCrossEntropyWithLogits", {
    sameShape: true,
    extras: (a) => [...(a.hasWeight ? ["weight"] : []), ...(a.hasPosWeight ? ["posWeight"] : [])],
  }),
  decompose([x, t, ...rest], a) {
    // NOTE: −log σ(x) = softplus(−x) never overflows, unlike log(sigmoid(x)):
    // loss = (1 − y)·x + (1 + (pw − 1)·y)·softplus(−x).
    const w = a.hasWeight ? rest[0] : null;
    const pw = a.hasPosWeight ? rest[a.hasWeight ? 1 : 0] : null;
    const logWeight = pw ? add(mul(sub(pw, 1), t), 1) : null;
    // NOTE: threshold 40, not the default 20: below −20 the default drops log1p(eˣ) and the loss of a 0 target (PyTorch keeps it).
    const sp = softplus(neg(x), 1, 40);
    let l = add(mul(sub(1, t), x), logWeight ? mul(logWeight, sp) : sp);
    if (w) l = mul(l, w);
    return reduceLoss(l, a.reduction);
  },
  cases: [
    { name: "mean", inputs: [{ shape: [3, 4], range: [-4, 4] }, { shape: [3, 4], range: [0, 1] }], call: (x, t) => binaryCrossEntropyWithLogits(x, t) },
    { name: "sum, hard targets", inputs: [{ shape: [5], range: [-4, 4] }, { shape: [5], values: [1, 0, 1, 1, 0], noGrad: true }], call: (x, t) => binaryCrossEntropyWithLogits(x, t, { reduction: "sum" }) },
    { name: "none, transposed", inputs: [{ shape: [4, 3], range: [-4, 4] }, { shape: [3, 4], range: [0, 1] }], call: (x, t) => binaryCrossEntropyWithLogits(x.t(), t, { reduction: "none" }) },
    {
      name: "weight and posWeight",
      inputs: [{ shape: [3, 4], range: [-4, 4] }, { shape: [3, 4], range: [0, 1] }, { shape: [3, 1], range: [0.5, 2], noGrad: true }, { shape: [4], range: [0.5, 3], noGrad: true }],
      call: (x, t, w, pw) => binaryCrossEntropyWithLogits(x, t, { weight: w, posWeight: pw }),
    },
    { name: "posWeight only, none", inputs: [{ shape: [2, 3], range: [-4, 4] }, { shape: [2, 3], range: [0, 1] }, { shape: [3], range: [0.5, 3], noGrad: true }], call: (x, t, pw) => binaryCrossEntropyWithLogits(x, t, { posWeight: pw, reduction: "none" }) },
    { name: "large logits stay finite", inputs: [{ shape: [4], values: [-200, 200, 60, -60] }, { shape: [4], values: [1, 0, 1, 0] }], call: (x, t) => binaryCrossEntropyWithLogits(x, t, { reduction: "none" }) },
    { name: "zero logits", inputs: [{ shape: [3], values: [0, 0, 0] }, { shape: [3], values: [1, 0, 0.3] }], call: (x, t) => binaryCrossEntropyWithLogits(x, t, { reduction: "sum" }) },
    { name: "target shape", inputs: [{ shape: [3, 4] }, { shape: [3, 1], range: [0, 1] }], call: (x, t) => binaryCrossEntropyWithLogits(x, t), throws: { error: ShapeError, message: /^binaryCrossEntropyWithLogits: target has shape \[3,1\] but the input has shape \[3,4\]/ } },
    { name: "posWeight shape", inputs: [{ shape: [3, 4] }, { shape: [3, 4], range: [0, 1] }, { shape: [3] }], call: (x, t, pw) => binaryCrossEntropyWithLogits(x, t, { posWeight: pw }), throws: { error: ShapeError, message: /^binaryCrossEntropyWithLogits: shapes \[3,4\] and \[3\] cannot be broadcast/ } },
  ],
});

/**
 * Binary cross-entropy on logits (sigmoid folded in, numerically stable), like
 * F.binary_cross_entropy_with_logits; posWeight scales the positive term (broadcast over the last dim).
 */
export function binaryCrossEntropyWithLogits(
  input: Tensor,
  target: Tensor,
  opts: LossOptions & { weight?: Tensor | null; posWeight?: Tensor | null } = {},
): Tensor {
  const [x, t] = floatPair("binaryCrossEntropyWithLogits", input, target);
  const extra = [opts.weight, opts.posWeight].filter((e): e is Tensor => !!e).map((e) => to(e, x.dtype));
  return runOp(bceWithLogitsOp, [x, t, ...extra], { reduction: opts.reduction ?? "mean", hasWeight: !!opts.weight, hasPosWeight: !!opts.posWeight });
}

/** How klDiv reduces: as the other losses, or "batchmean" (the sum divided by the batch size). */
export type KLDivReduction = Reduction | "batchmean";

interface KLDivAttrs {
  reduction: KLDivReduction;
  logTarget: boolean;
}

const klDivOp = defineOp<KLDivAttrs>({
  name: "klDiv",
  meta: lossMeta<KLDivAttrs>("klDiv", { reductions: ["mean", "batchmean", "sum", "none"] }),
  decompose([x, t], a) {
    let l: Tensor;
    if (a.logTarget) l = mul(exp(t), sub(t, x));
    else {
      // y·log y with 0·log 0 = 0 (xlogy); log reads 1 where y ≤ 0 so neither value nor gradient is NaN.
      const ylogy = mul(t, log(where(gt(t, 0), t, 1)));
      l = sub(ylogy, mul(t, x));
    }
    if (a.reduction === "batchmean") return x.ndim === 0 ? sum(l) : div(sum(l), x.shape[0]);
    return reduceLoss(l, a.reduction);
  },
  cases: [
    { name: "mean", inputs: [{ shape: [3, 4], range: [-3, -0.1] }, { shape: [3, 4], range: [0.05, 1] }], call: (x, t) => klDiv(x, t) },
    { name: "batchmean", inputs: [{ shape: [3, 4], range: [-3, -0.1] }, { shape: [3, 4], range: [0.05, 1] }], call: (x, t) => klDiv(x, t, { reduction: "batchmean" }) },
    // y·log y has no derivative at y = 0, so the zero targets are not differentiated.
    { name: "sum, zero targets", inputs: [{ shape: [4], range: [-3, -0.1] }, { shape: [4], values: [0, 0.5, 0, 0.5], noGrad: true }], call: (x, t) => klDiv(x, t, { reduction: "sum" }) },
    { name: "none, broadcast target", inputs: [{ shape: [2, 3], range: [-3, -0.1] }, { shape: [3], range: [0.05, 1] }], call: (x, t) => klDiv(x, t, { reduction: "none" }) },
    { name: "logTarget, batchmean", inputs: [{ shape: [2, 5], range: [-3, -0.1] }, { shape: [2, 5], range: [-3, -0.1] }], call: (x, t) => klDiv(x, t, { reduction: "batchmean", logTarget: true }) },
    { name: "logTarget, none, permuted", inputs: [{ shape: [3, 2, 2], range: [-3, -0.1] }, { shape: [2, 2, 3], range: [-3, -0.1] }], call: (x, t) => klDiv(x.permute(1, 2, 0), t, { reduction: "none", logTarget: true }) },
    { name: "0-d batchmean", inputs: [{ shape: [], range: [-3, -0.1] }, { shape: [], range: [0.05, 1] }], call: (x, t) => klDiv(x, t, { reduction: "batchmean" }) },
    { name: "bad reduction", inputs: [{ shape: [3] }, { shape: [3] }], call: (x, t) => klDiv(x, t, { reduction: "avg" as Reduction }), throws: { error: ValueError, message: /^klDiv: reduction must be one of "mean", "batchmean", "sum", "none"; got "avg"/ } },
    { name: "shape mismatch", inputs: [{ shape: [3, 4] }, { shape: [2] }], call: (x, t) => klDiv(x, t), throws: { error: ShapeError, message: /^klDiv: shapes \[3,4\] and \[2\] cannot be broadcast/ } },
  ],
});

/**
 * Kullback–Leibler divergence like F.kl_div: `input` holds log-probabilities, `target` probabilities
 * (or log-probabilities with logTarget); per element y·(log y − x). Use reduction "batchmean" for the true KL.
 */
export function klDiv(input: Tensor, target: Tensor, opts: { reduction?: KLDivReduction; logTarget?: boolean } = {}): Tensor {
  return runOp(klDivOp, floatPair("klDiv", input, target), { reduction: opts.reduction ?? "mean", logTarget: opts.logTarget ?? false });
}
