// keras.callbacks.tensorboard: Keras' TensorBoard callback. Writes epoch metrics (epoch_loss, …) to
// <logDir>/train and <logDir>/validation, batch metrics every `updateFreq` batches, and weight
// histograms every `histogramFreq` epochs, as TensorBoard event files.
import { join } from "node:path";
import { ValueError } from "../tensor/index.js";
import { SummaryWriter } from "../tensorboard/summary-writer.js";
import { Callback, type Logs } from "./history.js";
import { getLearningRate } from "./optimizers.js";

export interface TensorBoardArgs {
  /** The folder of this run's event files (default 'logs', as Keras). */
  logDir?: string;
  /** Write histograms of every weight each N epochs (default 0: never). */
  histogramFreq?: number;
  /** 'epoch' (default): metrics once per epoch; 'batch' or N: also `batch_<metric>` every N batches (step = batches so far). */
  updateFreq?: "epoch" | "batch" | number;
  /** Also log the training steps per second of each epoch (default false). */
  writeStepsPerSecond?: boolean;
  /** Seconds between automatic flushes of the event files (default 120); every epoch end flushes anyway. */
  flushSecs?: number;
}

/** Writes TensorBoard logs during fit (Keras' TensorBoard callback). View with `tensorboard --logdir <logDir>`. */
export class TensorBoard extends Callback {
  readonly logDir: string;
  readonly histogramFreq: number;
  readonly updateFreq: "epoch" | number;
  readonly writeStepsPerSecond: boolean;
  private readonly flushSecs: number | undefined;
  private train: SummaryWriter | null = null;
  private validation: SummaryWriter | null = null;
  private globalStep = 0;
  private epochStart = 0;
  private epochSteps = 0;

  constructor(args: TensorBoardArgs = {}) {
    super();
    this.logDir = args.logDir ?? "logs";
    this.histogramFreq = args.histogramFreq ?? 0;
    if (!Number.isInteger(this.histogramFreq) || this.histogramFreq < 0) throw new ValueError(`tensorboard: histogramFreq must be an integer ≥ 0, got ${args.histogramFreq}`);
    const u = args.updateFreq ?? "epoch";
    if (u !== "epoch" && u !== "batch" && !(Number.isInteger(u) && u >= 1))
      throw new ValueError(`tensorboard: updateFreq must be 'epoch', 'batch' or an integer ≥ 1, got ${JSON.stringify(args.updateFreq)}`);
    this.updateFreq = u === "batch" ? 1 : u;
    this.writeStepsPerSecond = args.writeStepsPerSecond ?? false;
    this.flushSecs = args.flushSecs;
  }

  /** The writer of the training metrics (`<logDir>/train`), open during fit. */
  get trainWriter(): SummaryWriter | null {
    return this.train;
  }

  private writer(which: "train" | "validation"): SummaryWriter {
    const opts = { flushSecs: this.flushSecs };
    if (which === "train") return (this.train ??= new SummaryWriter(join(this.logDir, "train"), opts));
    return (this.validation ??= new SummaryWriter(join(this.logDir, "validation"), opts));
  }

  override onTrainBegin(): void {
    this.globalStep = 0;
    this.writer("train");
  }

  override onEpochBegin(): void {
    this.epochStart = performance.now();
    this.epochSteps = 0;
  }

  override onBatchEnd(_batch: number, logs: Logs = {}): void {
    this.globalStep++;
    this.epochSteps++;
    if (this.updateFreq === "epoch" || this.globalStep % this.updateFreq !== 0) return;
    const w = this.writer("train");
    for (const [k, v] of Object.entries(logs)) if (k !== "batch" && k !== "size" && Number.isFinite(v)) w.addScalar(`batch_${k}`, v, this.globalStep);
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const train = this.writer("train");
    for (const [k, v] of Object.entries(logs)) {
      if (k.startsWith("val_")) this.writer("validation").addScalar(`epoch_${k.slice(4)}`, v, epoch);
      else train.addScalar(`epoch_${k}`, v, epoch);
    }
    const opt = this.model?.optimizer;
    if (opt && logs.lr === undefined) train.addScalar("epoch_learning_rate", getLearningRate(opt), epoch);
    const seconds = (performance.now() - this.epochStart) / 1000;
    if (this.writeStepsPerSecond && seconds > 0) train.addScalar("epoch_steps_per_second", this.epochSteps / seconds, epoch);
    if (this.histogramFreq > 0 && epoch % this.histogramFreq === 0 && this.model) {
      // Keras names weights layer/weight (dense_1/kernel); stateDict uses dots.
      for (const [name, t] of Object.entries(this.model.stateDict())) if (t.size > 0) train.addHistogram(name.replace(/\./g, "/"), t, epoch);
    }
    train.flush();
    this.validation?.flush();
  }

  /** Writes per-epoch logs after the fact (a training loop without fit), as the callback would have. */
  static writeEpochs(logDir: string, epochs: Logs[]): void {
    const cb = new TensorBoard({ logDir });
    cb.onTrainBegin();
    epochs.forEach((logs, epoch) => cb.onEpochEnd(epoch, logs));
    cb.onTrainEnd();
  }

  override onTrainEnd(): void {
    this.train?.close();
    this.validation?.close();
    this.train = null;
    this.validation = null;
  }
}

/** Keras' TensorBoard callback: `model.fit(x, y, {callbacks: [keras.callbacks.tensorboard({logDir: 'logs/run1'})]})`. */
export const tensorboard = (args?: TensorBoardArgs) => new TensorBoard(args);
