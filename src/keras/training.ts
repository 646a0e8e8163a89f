// The loops behind fit, evaluate and predict: batching (shuffled each epoch), the train step
// (forward, loss with sample/class weights and regularization, backward, optimizer step), running
// means of the loss and metrics, validation, callbacks and the progress bar.
import { type Tensor, ValueError } from "../tensor/index.js";
import { add, cat, mul, randperm } from "../ops/index.js";
import { noGrad } from "../autograd/index.js";
import type { Model } from "./model.js";
import { type Batch, castInputs, combineWeights, isBatchSource, normalizeBatch, numSamples, sliceBatch, sourceLength, takeBatch, toList, type BatchSource, type TensorOrList } from "./data-adapter.js";
import { reduceLoss } from "./losses.js";
import { getMetric, type Metric } from "./metrics.js";
import { type Callback, CallbackList, type CustomCallbackArgs, History, type LogStream, type Logs, type TrainParams } from "./history.js";
import { ProgbarLogger, ProgressBar } from "./progress.js";

export interface FitArgs {
  epochs?: number;
  /** Samples per batch (default 32). */
  batchSize?: number;
  /** 0 silent, 1 progress bar (default), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  callbacks?: (Callback | CustomCallbackArgs)[] | Callback;
  /** Hold out this fraction of the samples, taken from the end before shuffling, for validation. */
  validationSplit?: number;
  /** [x, y] or [x, y, sampleWeight] to validate on after each epoch (overrides validationSplit). */
  validationData?: [TensorOrList, TensorOrList] | [TensorOrList, TensorOrList, Tensor] | BatchSource;
  validationBatchSize?: number;
  /** Shuffle the training samples every epoch (default true). */
  shuffle?: boolean;
  /** Weight of each class in the loss: {0: 1, 1: 9}. */
  classWeight?: Record<number, number>;
  /** Weight of each training sample in the loss [N]. */
  sampleWeight?: Tensor;
  /** The epoch to start at (to resume training; default 0). */
  initialEpoch?: number;
  /** Batches per epoch for a data source (default: all of it; required for one-shot iterators). */
  stepsPerEpoch?: number;
  /** Where the progress goes (default process.stdout). */
  stream?: LogStream;
}

export interface EvaluateArgs {
  batchSize?: number;
  /** 0 silent (default 1: a progress bar; 2: one line). */
  verbose?: 0 | 1 | 2;
  sampleWeight?: Tensor;
  /** Return {loss, metric: value} instead of a number or list. */
  returnDict?: boolean;
  stream?: LogStream;
}

export interface PredictArgs {
  batchSize?: number;
  verbose?: 0 | 1 | 2;
  stream?: LogStream;
}

function checkPositiveInt(where: string, what: string, v: unknown, min = 1): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw new ValueError(`${where}: ${what} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

/** Running means of the loss(es) and metrics over batches, weighted by batch size. */
class Tracker {
  private lossTotal = 0;
  private outLoss: number[];
  private count = 0;
  readonly metrics: Metric[][];
  constructor(private readonly model: Model) {
    const c = model.requireCompiled("fit");
    this.metrics = model.outputNames.map((_, i) => c.metrics.map((id) => getMetric(id, c.losses[i].name)));
    this.outLoss = model.outputNames.map(() => 0);
  }
  /** Computes the batch loss (a graph when training) and updates the running means. */
  step(b: Batch, training: boolean): Tensor {
    const m = this.model;
    const c = m.requireCompiled(training ? "fit" : "evaluate");
    const outs = m.runAll(b.xs);
    if (b.ys.length !== outs.length) throw new ValueError(`${m.name}: the model has ${outs.length} output(s) but y has ${b.ys.length} tensor(s)`);
    let total: Tensor | null = null;
    const parts: number[] = [];
    outs.forEach((out, i) => {
      const what = `${c.losses[i].name ?? "loss"}${outs.length > 1 ? ` of output '${m.outputNames[i]}'` : ""}`;
      const raw = reduceLoss(c.losses[i].fn(b.ys[i], out), b.sw, what);
      parts.push(raw.item()); // per-output losses are logged unweighted, as in Keras
      const l = c.lossWeights[i] === 1 ? raw : mul(raw, c.lossWeights[i]);
      total = total ? add(total, l) : l;
    });
    const reg = m.regularizationLoss();
    const loss: Tensor = reg ? add(total!, reg) : total!;
    const n = b.xs[0].shape[0];
    this.lossTotal += loss.item() * n;
    parts.forEach((v, i) => (this.outLoss[i] += v * n));
    this.count += n;
    noGrad(() => outs.forEach((out, i) => this.metrics[i].forEach((mt) => mt.update(b.ys[i], out))));
    return loss;
  }
  logs(prefix = ""): Logs {
    const names = this.model.outputNames;
    const logs: Logs = { [`${prefix}loss`]: this.lossTotal / this.count };
    if (names.length > 1) names.forEach((o, i) => (logs[`${prefix}${o}_loss`] = this.outLoss[i] / this.count));
    this.metrics.forEach((ms, i) => ms.forEach((mt) => (logs[`${prefix}${names.length > 1 ? `${names[i]}_` : ""}${mt.name}`] = mt.result())));
    return logs;
  }
}

/** Tensors (x, y, weights) ready for batching, checked and cast. */
function tensorData(m: Model, where: string, x: unknown, y: unknown, sw: Tensor | null | undefined, needY: boolean): Batch {
  const xs = castInputs(toList(where, "x", x), m.floatDType);
  if (xs.length !== m.inputCount) throw new ValueError(`${where}: the model has ${m.inputCount} input(s) but x has ${xs.length} tensor(s)`);
  const ys = needY || y !== null ? toList(where, "y", y) : [];
  const groups: [string, Tensor[]][] = [["x", xs], ["y", ys]];
  if (sw) groups.push(["sampleWeight", [sw]]);
  numSamples(where, groups);
  m.buildFromShapes(xs.map((t) => [null, ...t.shape.slice(1)]));
  return { xs, ys, sw: sw ?? null };
}

/** Batches of tensor data in order (or in the order of perm). */
function* tensorBatches(d: Batch, batchSize: number, perm: Int32Array | null): Generator<Batch> {
  const n = d.xs[0].shape[0];
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    yield perm ? takeBatch(d, perm.subarray(s, e)) : sliceBatch(d, s, e);
  }
}

/** Batches of a source, cast and with the model built for them. */
async function* sourceBatches(m: Model, where: string, it: Iterator<unknown> | AsyncIterator<unknown>, steps: number | null, needY: boolean): AsyncGenerator<Batch> {
  for (let i = 0; steps === null || i < steps; i++) {
    const r = await it.next();
    if (r.done) {
      if (steps !== null && i < steps) throw new ValueError(`${where}: the data source ran out after ${i} batch(es) of the ${steps} asked for by stepsPerEpoch; use a re-iterable source (a DataLoader) or fewer steps`);
      return;
    }
    const b = normalizeBatch(where, r.value, needY);
    const xs = castInputs(b.xs, m.floatDType);
    m.buildFromShapes(xs.map((t) => [null, ...t.shape.slice(1)]));
    yield { ...b, xs };
  }
}

function iteratorOf(s: BatchSource): Iterator<unknown> | AsyncIterator<unknown> {
  return Symbol.asyncIterator in s ? (s as AsyncIterable<unknown>)[Symbol.asyncIterator]() : (s as Iterable<unknown>)[Symbol.iterator]();
}

/** Validation logs (val_ prefixed) on tensor data or a source. */
function validate(m: Model, data: Batch | BatchSource, batchSize: number): Promise<Logs> | Logs {
  const tr = new Tracker(m);
  m.eval();
  if (!isBatchSource(data)) {
    noGrad(() => {
      for (const b of tensorBatches(data, batchSize, null)) tr.step(b, false);
    });
    return tr.logs("val_");
  }
  return (async () => {
    for await (const b of sourceBatches(m, "fit: validationData", iteratorOf(data), null, true)) noGrad(() => tr.step(b, false));
    return tr.logs("val_");
  })();
}

export async function fitModel(m: Model, x: unknown, y: TensorOrList | null, args: FitArgs): Promise<History> {
  const where = `${m.name}.fit`;
  m.requireCompiled("fit");
  const epochs = checkPositiveInt(where, "epochs", args.epochs ?? 1, 0);
  const batchSize = checkPositiveInt(where, "batchSize", args.batchSize ?? 32);
  const initialEpoch = checkPositiveInt(where, "initialEpoch", args.initialEpoch ?? 0, 0);
  const verbose = args.verbose ?? 1;
  const shuffle = args.shuffle ?? true;
  const split = args.validationSplit ?? 0;
  if (typeof split !== "number" || !(split >= 0 && split < 1)) throw new ValueError(`${where}: validationSplit must be in [0, 1), got ${JSON.stringify(split)}`);
  const out = args.stream ?? process.stdout;

  let train: Batch | BatchSource;
  let val: Batch | BatchSource | null = null;
  let steps: number | null;
  if (isBatchSource(x)) {
    if (y !== null) throw new ValueError(`${where}: x is a data source of [x, y] batches, so y must be omitted`);
    if (split) throw new ValueError(`${where}: validationSplit needs tensors; with a data source pass validationData`);
    if (args.sampleWeight) throw new ValueError(`${where}: sampleWeight needs tensors; a data source can yield [x, y, sampleWeight]`);
    train = x;
    steps = args.stepsPerEpoch ?? sourceLength(x);
  } else {
    let data = tensorData(m, where, x, y, args.sampleWeight, true);
    const n = data.xs[0].shape[0];
    if (split && !args.validationData) {
      // Keras takes the validation samples from the end, before any shuffling.
      const at = Math.floor(n * (1 - split));
      if (at === 0 || at === n) throw new ValueError(`${where}: validationSplit ${split} of ${n} samples leaves ${at === 0 ? "no training" : "no validation"} samples`);
      val = sliceBatch(data, at, n);
      data = sliceBatch(data, 0, at);
    }
    train = data;
    steps = Math.ceil(data.xs[0].shape[0] / batchSize);
  }
  if (args.validationData) {
    const v = args.validationData as unknown;
    if (isBatchSource(v)) val = v;
    else if (Array.isArray(v) && (v.length === 2 || v.length === 3)) val = tensorData(m, `${where}: validationData`, v[0], v[1], (v[2] as Tensor | undefined) ?? null, true);
    else throw new ValueError(`${where}: validationData must be [x, y], [x, y, sampleWeight] or a data source`);
  }
  const bs = args.validationBatchSize ?? batchSize;

  const optimizer = m.ensureOptimizer();
  const history = new History();
  const user = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks];
  const cbs = new CallbackList([...(verbose ? [new ProgbarLogger()] : []), ...user, history]);
  const names = new Tracker(m).logs();
  const metricNames = Object.keys(names);
  const params: TrainParams = {
    epochs,
    initialEpoch,
    steps,
    samples: isBatchSource(train) ? null : train.xs[0].shape[0],
    batchSize: isBatchSource(train) ? null : batchSize,
    verbose,
    doValidation: val !== null,
    metrics: [...metricNames, ...(val ? metricNames.map((k) => `val_${k}`) : [])],
    out,
  };
  cbs.setModel(m);
  cbs.setParams(params);
  m.stopTraining = false;
  let logs: Logs = {};
  let sourceIt: Iterator<unknown> | AsyncIterator<unknown> | null = null;
  await cbs.onTrainBegin();
  try {
    for (let epoch = initialEpoch; epoch < epochs; epoch++) {
      await cbs.onEpochBegin(epoch);
      m.train();
      const tr = new Tracker(m);
      let batches: Iterable<Batch> | AsyncIterable<Batch>;
      if (isBatchSource(train)) {
        // With stepsPerEpoch one iterator runs across epochs (a generator); otherwise each epoch re-iterates the source.
        if (!sourceIt || args.stepsPerEpoch === undefined) sourceIt = iteratorOf(train);
        batches = sourceBatches(m, where, sourceIt, args.stepsPerEpoch ?? null, true);
      } else batches = tensorBatches(train, batchSize, shuffle ? (randperm(train.xs[0].shape[0]).dataSync() as Int32Array) : null);
      let step = 0;
      for await (const raw of batches) {
        const b = { ...raw, sw: combineWeights(where, raw.sw, raw.ys, args.classWeight) };
        await cbs.onBatchBegin(step, { batch: step, size: b.xs[0].shape[0] });
        m.zeroGrad();
        const loss = tr.step(b, true);
        if (optimizer && loss.requiresGrad) {
          loss.backward();
          if (m.gradientSync) await m.gradientSync();
          optimizer.step();
        }
        await cbs.onBatchEnd(step, tr.logs());
        step++;
        if (m.stopTraining) break;
      }
      if (step === 0) throw new ValueError(`${where}: the training data gave no batches`);
      logs = tr.logs();
      if (val) Object.assign(logs, await validate(m, val, bs));
      await cbs.onEpochEnd(epoch, logs);
      // Let timers and I/O run between epochs (fit is async like Keras' in TF.js).
      await new Promise((r) => setImmediate(r));
      if (m.stopTraining) break;
    }
  } finally {
    m.eval();
  }
  await cbs.onTrainEnd(logs);
  m.history = history;
  m.lastLogs = logs;
  return history;
}

export function evaluateModel(m: Model, x: unknown, y: TensorOrList | null, args: EvaluateArgs): Logs {
  const where = `${m.name}.evaluate`;
  m.requireCompiled("evaluate");
  const batchSize = checkPositiveInt(where, "batchSize", args.batchSize ?? 32);
  const verbose = args.verbose ?? 1;
  const tr = new Tracker(m);
  m.eval();
  let batches: Iterable<Batch>;
  let total: number | null;
  if (isBatchSource(x)) {
    if (Symbol.asyncIterator in x && !(Symbol.iterator in x)) throw new ValueError(`${where}: an async data source needs fit's validationData; evaluate reads synchronous iterables`);
    const src = x as Iterable<unknown>;
    batches = (function* () {
      for (const item of src) {
        const b = normalizeBatch(where, item, true);
        yield { ...b, xs: castInputs(b.xs, m.floatDType) };
      }
    })();
    total = sourceLength(x);
  } else {
    const data = tensorData(m, where, x, y, args.sampleWeight, true);
    batches = tensorBatches(data, batchSize, null);
    total = Math.ceil(data.xs[0].shape[0] / batchSize);
  }
  const bar = verbose ? new ProgressBar(total, { stream: args.stream, verbose }) : null;
  let n = 0;
  noGrad(() => {
    for (const b of batches) {
      m.buildFromShapes(b.xs.map((t) => [null, ...t.shape.slice(1)]));
      tr.step(b, false);
      bar?.update(++n, tr.logs());
    }
  });
  const logs = tr.logs();
  bar?.finish(n, logs);
  return logs;
}

export function predictModel(m: Model, x: unknown, args: PredictArgs): Tensor[] {
  const where = `${m.name}.predict`;
  const batchSize = checkPositiveInt(where, "batchSize", args.batchSize ?? 32);
  let batches: Iterable<Tensor[]>;
  let total: number | null;
  if (isBatchSource(x)) {
    const src = x as Iterable<unknown>;
    batches = (function* () {
      for (const item of src) yield castInputs(normalizeBatch(where, item, false).xs, m.floatDType);
    })();
    total = sourceLength(x);
  } else {
    const d = tensorData(m, where, x, null, null, false);
    batches = (function* () {
      for (const b of tensorBatches(d, batchSize, null)) yield b.xs;
    })();
    total = Math.ceil(d.xs[0].shape[0] / batchSize);
  }
  m.eval();
  const bar = args.verbose ? new ProgressBar(total, { stream: args.stream, verbose: args.verbose }) : null;
  const outs: Tensor[][] = [];
  let n = 0;
  noGrad(() => {
    for (const xs of batches) {
      m.buildFromShapes(xs.map((t) => [null, ...t.shape.slice(1)]));
      m.runAll(xs).forEach((o, i) => (outs[i] ??= []).push(o));
      bar?.update(++n);
    }
  });
  bar?.finish(n);
  if (!outs.length) throw new ValueError(`${where}: got no samples to predict`);
  return outs.map((list) => (list.length === 1 ? list[0] : cat(list, 0)));
}
