// Model: the Keras model API shared by sequential and functional models: compile, fit, evaluate,
// predict, summary, save, and weights by name. The training loop itself is in training.ts.
import { IngotError, Tensor, ValueError } from "../tensor/index.js";
import { add, clone, detach } from "../ops/index.js";
import { noGrad } from "../autograd/index.js";
import { Optimizer } from "../optim/index.js";
import { loadSafetensors, saveSafetensors } from "../io/index.js";
import { Layer, type Shape } from "./layers/base.js";
import { getLoss, type LossEntry, type LossId } from "./losses.js";
import { getMetric, type MetricId } from "./metrics.js";
import { getOptimizer, type OptimizerId, type OptimizerSpec } from "./optimizers.js";
import type { History } from "./history.js";
import { isBatchSource, type TensorOrList } from "./data-adapter.js";
import { evaluateModel, type EvaluateArgs, fitModel, type FitArgs, predictModel, type PredictArgs } from "./training.js";
import { saveModel, type SaveOptions } from "./serialize.js";

export interface CompileArgs {
  /** 'adam' | 'sgd' | 'rmsprop' | 'adagrad' | 'adamw', keras.optimizers.adam({…}), an ingot.optim optimizer, or (params) => optimizer. Default 'rmsprop', as in Keras. */
  optimizer?: OptimizerId;
  /** A loss name or function (yTrue, yPred) => per-sample Tensor; one per output, or one for all. */
  loss: LossId | LossId[];
  /** 'accuracy', 'mae', 'mse', … or functions; computed for every output. */
  metrics?: MetricId[];
  /** Weights of the outputs' losses in the total (default 1 each). */
  lossWeights?: number[];
}

/** What compile settled. */
export interface CompiledState {
  optimizer: OptimizerSpec;
  losses: LossEntry[];
  lossWeights: number[];
  metrics: MetricId[];
  /** The compile arguments as JSON for config.json; null when a function or optimizer instance is involved. */
  config: Record<string, unknown> | null;
}

/** One row of summary(). */
export interface SummaryRow {
  layer: Layer;
  outputShape: Shape | null;
  connectedTo?: string[];
}

/** `(None, 28, 28)`, as Keras prints shapes in summaries. */
export function kerasShape(s: Shape | null): string {
  if (!s) return "?";
  return `(${s.map((d) => (d === null ? "None" : d)).join(", ")}${s.length === 1 ? "," : ""})`;
}

export abstract class Model extends Layer {
  /** Set by a callback (earlyStopping) to end fit after the current batch/epoch. */
  stopTraining = false;
  /** The optimizer, created when training starts (once the weights exist). */
  optimizer: Optimizer | null = null;
  /** The History of the last fit. */
  history: History | null = null;
  /** Logs of the last fit's last epoch (written to card.json by save). */
  lastLogs: Record<string, number> | null = null;
  compiled: CompiledState | null = null;
  /** Awaited by fit after backward, before the optimizer step (DistributedDataParallel averages gradients here). */
  gradientSync: (() => Promise<void>) | null = null;

  /** The layers in order. */
  abstract get layers(): Layer[];
  /** Number of model inputs. */
  abstract get inputCount(): number;
  /** Names of the output layers. */
  abstract get outputNames(): string[];
  /** Builds every layer's weights for inputs of these shapes (batch dim null), if not built yet. */
  abstract buildFromShapes(shapes: Shape[]): void;
  /** Runs the model: one tensor per output. */
  abstract runAll(inputs: Tensor[]): Tensor[];
  /** The rows of summary(). */
  protected abstract summaryRows(): SummaryRow[];

  override build(shape: Shape | Shape[]): void {
    this.buildFromShapes(shape.length && Array.isArray(shape[0]) ? (shape as Shape[]) : [shape as Shape]);
    super.build(shape);
  }

  override forward(inputs: Tensor | Tensor[]): Tensor {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length !== this.inputCount) throw new ValueError(`${this.name}: expects ${this.inputCount} input(s), got ${list.length}`);
    this.buildFromShapes(list.map((t) => [null, ...t.shape.slice(1)]));
    const outs = this.runAll(list);
    if (outs.length !== 1) throw new ValueError(`${this.name}: has ${outs.length} outputs; use predict(x) or runAll([x]) to get all of them`);
    return outs[0];
  }

  protected compute(inputs: Tensor | Tensor[]): Tensor {
    return this.forward(inputs);
  }

  /** The float dtype of the weights (inputs are cast to it), float32 before the model is built. */
  get floatDType(): Tensor["dtype"] {
    return this.parameters()[0]?.dtype ?? this.dtype;
  }

  /**
   * Sets the optimizer, loss(es) and metrics for fit and evaluate.
   * @example model.compile({optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy']})
   */
  compile(args: CompileArgs): void {
    if (!args || args.loss === undefined) throw new ValueError(`${this.name}.compile: a loss is required, e.g. compile({optimizer: 'adam', loss: 'mse'})`);
    const nOut = this.outputNames.length;
    const lossIds = Array.isArray(args.loss) ? args.loss : new Array<LossId>(nOut).fill(args.loss);
    if (lossIds.length !== nOut) throw new ValueError(`${this.name}.compile: got ${lossIds.length} losses for ${nOut} output(s)`);
    const lossWeights = args.lossWeights ?? new Array<number>(nOut).fill(1);
    if (lossWeights.length !== nOut || lossWeights.some((w) => typeof w !== "number"))
      throw new ValueError(`${this.name}.compile: lossWeights must be ${nOut} number(s), got ${JSON.stringify(args.lossWeights)}`);
    const optimizerId = args.optimizer ?? "rmsprop";
    const optimizer = getOptimizer(optimizerId);
    const losses = lossIds.map((l) => getLoss(l));
    const metrics = [...(args.metrics ?? [])];
    for (const m of metrics) getMetric(m, null); // unknown names fail here, not at the first batch
    // A name or a keras.optimizers spec can be written to config.json; an optimizer instance or factory cannot.
    const optimizerSaved = typeof optimizerId === "string" || (!(optimizerId instanceof Optimizer) && typeof optimizerId !== "function");
    const serializable = optimizerSaved && losses.every((l) => l.name !== null) && metrics.every((m) => typeof m === "string");
    const config = serializable
      ? { optimizer: { className: optimizer.className, config: optimizer.config }, loss: losses.map((l) => l.name), metrics, lossWeights }
      : null;
    this.compiled = { optimizer, losses, lossWeights, metrics, config };
    this.optimizer = null;
  }

  /** The compiled state, or an error saying to compile first. */
  requireCompiled(what: string): CompiledState {
    if (!this.compiled) throw new IngotError(`${this.name}.${what}: the model is not compiled; call model.compile({optimizer, loss, metrics}) first`);
    return this.compiled;
  }

  /** The optimizer over the trainable weights, created on first use (null when nothing trains). */
  ensureOptimizer(): Optimizer | null {
    if (this.optimizer) return this.optimizer;
    const params = this.parameters().filter((p) => p.requiresGrad);
    if (!params.length) return null;
    this.optimizer = this.requireCompiled("fit").optimizer.create(params);
    return this.optimizer;
  }

  /**
   * Trains for `epochs` over (x, y) in batches; resolves to the History of losses and metrics.
   * x and y are tensors (lists for several inputs/outputs), or x is a source of batches (a
   * DataLoader) and y is omitted.
   * @example const history = await model.fit(x, y, {epochs: 5, batchSize: 32, validationSplit: 0.1});
   */
  fit(x: TensorOrList, y: TensorOrList, args?: FitArgs): Promise<History>;
  fit(source: Iterable<unknown> | AsyncIterable<unknown>, args?: FitArgs): Promise<History>;
  fit(x: TensorOrList | Iterable<unknown> | AsyncIterable<unknown>, y?: TensorOrList | null, args?: FitArgs): Promise<History>;
  fit(x: TensorOrList | Iterable<unknown> | AsyncIterable<unknown>, y?: TensorOrList | FitArgs | null, args: FitArgs = {}): Promise<History> {
    // fit(source, {epochs}) as well as fit(source, null, {epochs}), like Keras' fit(generator, epochs=…).
    if (isBatchSource(x) && y && !(y instanceof Tensor) && !Array.isArray(y)) return fitModel(this, x, null, y as FitArgs);
    return fitModel(this, x, (y as TensorOrList | null | undefined) ?? null, args);
  }

  /**
   * Loss and metrics on (x, y): the loss alone when no metrics were compiled, else [loss, ...metrics]
   * (a {name: value} object with returnDict).
   */
  evaluate(x: TensorOrList | Iterable<unknown>, y: TensorOrList | null, args: EvaluateArgs & { returnDict: true }): Record<string, number>;
  evaluate(x: TensorOrList | Iterable<unknown>, y?: TensorOrList | null, args?: EvaluateArgs): number | number[];
  evaluate(x: TensorOrList | Iterable<unknown>, y: TensorOrList | null = null, args: EvaluateArgs = {}): number | number[] | Record<string, number> {
    const logs = evaluateModel(this, x, y, args);
    if (args.returnDict) return logs;
    const values = Object.values(logs);
    return values.length === 1 ? values[0] : values;
  }

  /** The model's outputs for x, computed in inference mode in batches (a list for several outputs). */
  predict(x: TensorOrList | Iterable<unknown>, args: PredictArgs = {}): Tensor | Tensor[] {
    const outs = predictModel(this, x, args);
    return outs.length === 1 ? outs[0] : outs;
  }

  /** The outputs for one batch, in inference mode. */
  predictOnBatch(x: TensorOrList): Tensor | Tensor[] {
    return this.predict(x, { batchSize: Array.isArray(x) ? x[0].shape[0] || 1 : x.shape[0] || 1 });
  }

  /** The sum of every layer's regularization penalties (null when none). */
  override regularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    for (const m of this.modules())
      if (m instanceof Layer) {
        const l = Layer.prototype.regularizationLoss.call(m);
        if (l) total = total ? add(total, l) : l;
      }
    return total;
  }

  /** The layer with this name, or at this index. */
  getLayer(key: string | number): Layer {
    const layers = this.layers;
    const l = typeof key === "number" ? layers[key < 0 ? key + layers.length : key] : layers.find((x) => x.name === key);
    if (!l)
      throw new ValueError(
        `${this.name}.getLayer: no layer ${typeof key === "number" ? `at index ${key} (${layers.length} layers)` : `named '${key}'`}; the layers are ${layers.map((x) => x.name).join(", ")}`,
      );
    return l;
  }

  /** Copies of every weight (parameters and moving statistics) by name (`dense_1.kernel`). */
  getWeights(): Record<string, Tensor> {
    return noGrad(() => Object.fromEntries(Object.entries(this.stateDict()).map(([k, t]) => [k, clone(detach(t))])));
  }

  /** Sets weights by name, in place (the optimizer keeps working); every weight must be given, with its shape. */
  setWeights(weights: Record<string, Tensor>): void {
    this.loadStateDict(weights);
  }

  /** Writes the weights to a safetensors file (atomically). */
  saveWeights(path: string): void {
    this.requireBuilt("saveWeights");
    saveSafetensors(path, this.stateDict(), { format: "pt" });
  }

  /** Reads weights written by saveWeights (or a model folder's model.safetensors). */
  loadWeights(path: string): void {
    this.requireBuilt("loadWeights");
    const { tensors } = loadSafetensors(path);
    try {
      this.loadStateDict(tensors);
    } catch (e) {
      throw new IngotError(`${this.name}.loadWeights: the weights in ${path} do not fit this model: ${(e as Error).message}`);
    }
  }

  /**
   * Writes a model folder: config.json (the architecture, from which keras.loadModel rebuilds the
   * model without running code), model.safetensors (the weights) and card.json (metrics, lineage).
   */
  save(dir: string, opts: SaveOptions = {}): void {
    this.requireBuilt("save");
    saveModel(this, dir, opts);
  }

  /** Throws unless the weights exist. */
  requireBuilt(what: string): void {
    if (!this.built)
      throw new IngotError(`${this.name}.${what}: the model is not built yet; give the first layer an inputShape, or call fit/predict on data first`);
  }

  /** Prints (and returns) a Keras-style table of the layers, their output shapes and parameter counts. */
  override summary(printFn: ((line: string) => void) | null = console.log): string {
    this.requireBuilt("summary");
    const rows = this.summaryRows();
    const conn = rows.some((r) => r.connectedTo);
    const header = ["Layer (type)", "Output Shape", "Param #", ...(conn ? ["Connected to"] : [])];
    const cells = rows.map((r) => [
      `${r.layer.name} (${r.layer.className})`,
      kerasShape(r.outputShape),
      r.layer.countParams().toLocaleString("en-US"),
      ...(conn ? [(r.connectedTo ?? []).join(", ")] : []),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)) + 3);
    const line = (c: string[]) => (" " + c.map((x, i) => x.padEnd(widths[i])).join("")).trimEnd();
    const width = widths.reduce((a, b) => a + b, 1);
    const total = this.countParams();
    const trainable = this.countTrainableParams();
    const out = [
      `Model: "${this.name}"`,
      "_".repeat(width),
      line(header),
      "=".repeat(width),
      ...cells.map(line),
      "=".repeat(width),
      `Total params: ${total.toLocaleString("en-US")}`,
      `Trainable params: ${trainable.toLocaleString("en-US")}`,
      `Non-trainable params: ${(total - trainable).toLocaleString("en-US")}`,
      "_".repeat(width),
    ].join("\n");
    if (printFn) for (const l of out.split("\n")) printFn(l);
    return out;
  }
}
