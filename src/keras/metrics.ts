// Keras metrics by name: each gives one value per sample, averaged over an epoch (or an evaluate
// run) by a running mean. 'accuracy' picks binary, sparse or categorical accuracy from the shapes,
// as Keras does.
import { type Tensor, ValueError } from "../tensor/index.js";
import { argmax, eq, gt, mean, reshape, to } from "../ops/index.js";
import { noGrad } from "../autograd/index.js";
import { binaryCrossentropy, categoricalCrossentropy, type LossFn, meanAbsoluteError, meanSquaredError, perSample, sparseCategoricalCrossentropy, sparseLabels } from "./losses.js";

/** (targets, predictions) → one value per sample. */
export type MetricFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** Per sample: the fraction of outputs on the right side of `threshold` (0.5). */
export function binaryAccuracy(yTrue: Tensor, yPred: Tensor, threshold = 0.5): Tensor {
  const t = yTrue.size === yPred.size ? reshape(yTrue, [...yPred.shape]) : yTrue;
  return perSample(to(eq(to(gt(yPred, threshold), "float32"), to(t, "float32")), "float32"));
}

/** Per sample: 1 when the largest prediction is at the one-hot target's class. */
export function categoricalAccuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  return perSample(to(eq(argmax(yPred, -1), argmax(yTrue, -1)), "float32"));
}

/** Per sample: 1 when the largest prediction is at the integer label. */
export function sparseCategoricalAccuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  return perSample(to(eq(argmax(yPred, -1), sparseLabels("sparseCategoricalAccuracy", yTrue, yPred)), "float32"));
}

const BY_NAME: Record<string, MetricFn> = {
  binaryaccuracy: binaryAccuracy,
  categoricalaccuracy: categoricalAccuracy,
  sparsecategoricalaccuracy: sparseCategoricalAccuracy,
  mse: meanSquaredError,
  meansquarederror: meanSquaredError,
  mae: meanAbsoluteError,
  meanabsoluteerror: meanAbsoluteError,
  binarycrossentropy: binaryCrossentropy,
  categoricalcrossentropy: categoricalCrossentropy,
  sparsecategoricalcrossentropy: sparseCategoricalCrossentropy,
};

export type MetricId = string | MetricFn;

/**
 * A metric of one model output with its running mean. `accuracy`/`acc` resolve on the first batch:
 * binary when the output has one unit (or is 1-d), sparse when the targets have fewer dims (or a
 * trailing 1) than the predictions, categorical otherwise.
 */
export class Metric {
  private fn: MetricFn | null;
  private total = 0;
  private count = 0;

  constructor(
    /** The name in logs and History ('accuracy', 'mae', or the function's name). */
    readonly name: string,
    fn: MetricFn | null,
    /** The compiled loss's name, which settles 'accuracy' for sparse labels. */
    private readonly lossName: string | null,
  ) {
    this.fn = fn;
  }

  private resolve(yTrue: Tensor, yPred: Tensor): MetricFn {
    if (this.fn) return this.fn;
    const last = (t: Tensor) => (t.ndim ? t.shape[t.ndim - 1] : 1);
    if (this.lossName === "binaryCrossentropy" || yPred.ndim === 1 || last(yPred) === 1) this.fn = binaryAccuracy;
    else if (this.lossName === "sparseCategoricalCrossentropy" || yTrue.ndim < yPred.ndim || (last(yTrue) === 1 && last(yPred) > 1)) this.fn = sparseCategoricalAccuracy;
    else this.fn = categoricalAccuracy;
    return this.fn;
  }

  /** Adds a batch to the running mean; returns the batch's mean. */
  update(yTrue: Tensor, yPred: Tensor): number {
    const fn = this.resolve(yTrue, yPred);
    const v = noGrad(() => {
      const r = fn(yTrue, yPred);
      return r.ndim === 0 ? r : mean(to(r, "float64"));
    });
    const n = yPred.ndim ? yPred.shape[0] : 1;
    const m = v.item();
    this.total += m * n;
    this.count += n;
    return m;
  }

  /** The running mean (NaN before any batch). */
  result(): number {
    return this.count ? this.total / this.count : NaN;
  }

  reset(): void {
    this.total = 0;
    this.count = 0;
  }
}

/** A metric from its name (Keras or TF.js spelling) or function, for an output compiled with `lossName`. */
export function getMetric(id: MetricId, lossName: string | null): Metric {
  if (typeof id === "function") return new Metric(id.name || "metric", id, lossName);
  if (typeof id !== "string") throw new ValueError(`compile: a metric must be a name or a function (yTrue, yPred) => Tensor, got ${JSON.stringify(id)}`);
  const key = id.toLowerCase().replace(/_/g, "");
  if (key === "accuracy" || key === "acc") return new Metric(id, null, lossName);
  const fn = BY_NAME[key];
  if (!fn)
    throw new ValueError(
      `compile: unknown metric ${JSON.stringify(id)}; use 'accuracy', 'binaryAccuracy', 'categoricalAccuracy', 'sparseCategoricalAccuracy', 'mse', 'mae', a cross-entropy name or a function (yTrue, yPred) => Tensor`,
    );
  return new Metric(id, fn as LossFn, lossName);
}
