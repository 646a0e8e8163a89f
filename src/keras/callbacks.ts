// Training callbacks with Keras' rules: earlyStopping, modelCheckpoint, reduceLROnPlateau,
// learningRateScheduler, csvLogger and terminateOnNaN.
import { appendFileSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Tensor } from "../tensor/index.js";
import { ValueError } from "../tensor/index.js";
import { Callback, type Logs } from "./history.js";
import { getLearningRate, setLearningRate } from "./optimizers.js";

export { Callback, CustomCallback, History, type CustomCallbackArgs, type Logs } from "./history.js";
export { ProgbarLogger } from "./progress.js";
export { TensorBoard, tensorboard, type TensorBoardArgs } from "./callbacks-tensorboard.js";

type Mode = "auto" | "min" | "max";

/** 'auto' means 'max' for accuracy-like names and 'min' otherwise, as in Keras. */
function resolveMode(where: string, monitor: string, mode: Mode | undefined): "min" | "max" {
  const m = mode ?? "auto";
  if (m !== "auto" && m !== "min" && m !== "max") throw new ValueError(`${where}: mode must be 'auto', 'min' or 'max', got ${JSON.stringify(mode)}`);
  if (m !== "auto") return m;
  return /acc|auc|precision|recall/i.test(monitor) ? "max" : "min";
}

/** Base of the callbacks that watch one logged value. */
abstract class Monitoring extends Callback {
  readonly monitor: string;
  protected readonly sign: 1 | -1;
  private warned = false;
  constructor(where: string, monitor: string | undefined, mode: Mode | undefined) {
    super();
    this.monitor = monitor ?? "val_loss";
    this.sign = resolveMode(where, this.monitor, mode) === "max" ? 1 : -1;
  }
  /** The monitored value, or undefined (with a one-time warning naming the available keys). */
  protected current(logs: Logs | undefined, who: string): number | undefined {
    const v = logs?.[this.monitor];
    if (v === undefined && !this.warned) {
      this.warned = true;
      this.print(`${who}: '${this.monitor}' is not in the logs (available: ${Object.keys(logs ?? {}).join(", ") || "none"}); it does nothing`);
    }
    return v;
  }
  /** a better than b by more than delta, in the monitored direction. */
  protected better(a: number, b: number, delta: number): boolean {
    return this.sign * (a - b) > delta;
  }
}

export interface EarlyStoppingArgs {
  monitor?: string;
  /** Improvements smaller than this do not count (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  verbose?: number;
  mode?: Mode;
  /** Stop unless the value gets better than this. */
  baseline?: number | null;
  /** At the end of training, put back the weights of the best epoch (default false). */
  restoreBestWeights?: boolean;
  /** Epochs to train before watching (default 0). */
  startFromEpoch?: number;
}

/** Stops training when the monitored value stops improving (Keras' EarlyStopping). */
export class EarlyStopping extends Monitoring {
  readonly minDelta: number;
  readonly patience: number;
  readonly verbose: number;
  readonly baseline: number | null;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  wait = 0;
  stoppedEpoch = 0;
  best = NaN;
  bestEpoch = 0;
  private bestWeights: Record<string, Tensor> | null = null;

  constructor(args: EarlyStoppingArgs = {}) {
    super("earlyStopping", args.monitor, args.mode);
    this.minDelta = Math.abs(args.minDelta ?? 0);
    this.patience = args.patience ?? 0;
    this.verbose = args.verbose ?? 0;
    this.baseline = args.baseline ?? null;
    this.restoreBestWeights = args.restoreBestWeights ?? false;
    this.startFromEpoch = args.startFromEpoch ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0) throw new ValueError(`earlyStopping: patience must be an integer ≥ 0, got ${args.patience}`);
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = this.sign > 0 ? -Infinity : Infinity;
    this.bestWeights = null;
    this.bestEpoch = 0;
  }

  override onEpochEnd(epoch: number, logs?: Logs): void {
    const cur = this.current(logs, "earlyStopping");
    if (cur === undefined || epoch < this.startFromEpoch) return;
    if (this.restoreBestWeights && this.bestWeights === null) this.bestWeights = this.model!.getWeights();
    this.wait++;
    if (this.better(cur, this.best, this.minDelta)) {
      this.best = cur;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights = this.model!.getWeights();
      if (this.baseline === null || this.better(cur, this.baseline, 0)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model!.stopTraining = true;
    }
  }

  override onTrainEnd(): void {
    if (this.stoppedEpoch > 0 && this.verbose > 0) this.print(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    if (this.restoreBestWeights && this.bestWeights) {
      if (this.verbose > 0) this.print(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
      this.model!.setWeights(this.bestWeights);
    }
  }
}

/** Python-style placeholders in a checkpoint path: `{epoch:02d}`, `{val_loss:.4f}` (epoch counted from 1). */
export function formatFilepath(template: string, epoch: number, logs: Logs = {}): string {
  return template.replace(/\{(\w+)(?::([^}]*))?\}/g, (_m, key: string, spec: string | undefined) => {
    const v = key === "epoch" ? epoch + 1 : logs[key];
    if (v === undefined) throw new ValueError(`modelCheckpoint: the filepath uses {${key}}, which is not in the logs (available: epoch, ${Object.keys(logs).join(", ")})`);
    if (!spec) return String(v);
    const m = /^(0?)(\d*)(?:\.(\d+))?([dfe])$/.exec(spec);
    if (!m) throw new ValueError(`modelCheckpoint: unsupported format '{${key}:${spec}}'; use d, .Nf or .Ne, e.g. {epoch:02d}`);
    const [, zero, width, prec, kind] = m;
    const s = kind === "d" ? String(Math.round(v)) : kind === "f" ? v.toFixed(Number(prec ?? 6)) : v.toExponential(Number(prec ?? 6));
    return width ? s.padStart(Number(width), zero ? "0" : " ") : s;
  });
}

export interface ModelCheckpointArgs {
  /** A folder for model.save (or a .safetensors file with saveWeightsOnly); may hold {epoch:02d}, {val_loss:.2f}. */
  filepath: string;
  monitor?: string;
  verbose?: number;
  /** Save only when the monitored value improves (default false: every epoch). */
  saveBestOnly?: boolean;
  /** Write only the weights (a safetensors file) instead of a model folder. */
  saveWeightsOnly?: boolean;
  mode?: Mode;
  /** Only 'epoch'. */
  saveFreq?: "epoch";
}

/** Saves the model (or its weights) after each epoch, or only the best one; every file is written atomically. */
export class ModelCheckpoint extends Monitoring {
  readonly filepath: string;
  readonly saveBestOnly: boolean;
  readonly saveWeightsOnly: boolean;
  readonly verbose: number;
  best: number;
  /** Paths written so far, in order. */
  readonly saved: string[] = [];

  constructor(args: ModelCheckpointArgs) {
    super("modelCheckpoint", args?.monitor, args?.mode);
    if (typeof args?.filepath !== "string" || !args.filepath) throw new ValueError("modelCheckpoint: filepath is required, e.g. 'checkpoints/epoch-{epoch:02d}'");
    if (args.saveFreq !== undefined && args.saveFreq !== "epoch") throw new ValueError(`modelCheckpoint: only saveFreq 'epoch' is supported, got ${JSON.stringify(args.saveFreq)}`);
    this.filepath = args.filepath;
    this.saveBestOnly = args.saveBestOnly ?? false;
    this.saveWeightsOnly = args.saveWeightsOnly ?? false;
    this.verbose = args.verbose ?? 0;
    this.best = this.sign > 0 ? -Infinity : Infinity;
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const path = formatFilepath(this.filepath, epoch, logs);
    if (this.saveBestOnly) {
      const cur = this.current(logs, "modelCheckpoint");
      if (cur === undefined) return;
      if (!this.better(cur, this.best, 0)) {
        if (this.verbose > 0) this.print(`Epoch ${epoch + 1}: ${this.monitor} did not improve from ${this.best.toFixed(5)}`);
        return;
      }
      if (this.verbose > 0) this.print(`Epoch ${epoch + 1}: ${this.monitor} improved from ${this.best.toFixed(5)} to ${cur.toFixed(5)}, saving model to ${path}`);
      this.best = cur;
    } else if (this.verbose > 0) this.print(`Epoch ${epoch + 1}: saving model to ${path}`);
    if (this.saveWeightsOnly) this.model!.saveWeights(path);
    else this.model!.save(path);
    this.saved.push(path);
  }
}

export interface ReduceLROnPlateauArgs {
  monitor?: string;
  /** New lr = lr·factor (default 0.1). */
  factor?: number;
  /** Epochs without improvement before reducing (default 10). */
  patience?: number;
  verbose?: number;
  mode?: Mode;
  /** Changes smaller than this are not improvements (default 1e-4). */
  minDelta?: number;
  /** Epochs to wait after a reduction (default 0). */
  cooldown?: number;
  /** Lower bound of the lr (default 0). */
  minLr?: number;
}

/** Multiplies the learning rate by `factor` after `patience` epochs without improvement (Keras' rules). */
export class ReduceLROnPlateau extends Monitoring {
  readonly factor: number;
  readonly patience: number;
  readonly verbose: number;
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  wait = 0;
  cooldownCounter = 0;
  best: number;

  constructor(args: ReduceLROnPlateauArgs = {}) {
    super("reduceLROnPlateau", args.monitor, args.mode);
    this.factor = args.factor ?? 0.1;
    if (!(this.factor < 1 && this.factor >= 0)) throw new ValueError(`reduceLROnPlateau: factor must be in [0, 1), got ${this.factor}`);
    this.patience = args.patience ?? 10;
    this.verbose = args.verbose ?? 0;
    this.minDelta = args.minDelta ?? 1e-4;
    this.cooldown = args.cooldown ?? 0;
    this.minLr = args.minLr ?? 0;
    this.best = this.sign > 0 ? -Infinity : Infinity;
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.cooldownCounter = 0;
    this.best = this.sign > 0 ? -Infinity : Infinity;
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const opt = this.model?.optimizer;
    if (!opt) return; // nothing trains
    logs.lr = getLearningRate(opt);
    const cur = this.current(logs, "reduceLROnPlateau");
    if (cur === undefined) return;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    if (this.better(cur, this.best, this.minDelta)) {
      this.best = cur;
      this.wait = 0;
    } else if (this.cooldownCounter <= 0) {
      this.wait++;
      if (this.wait >= this.patience) {
        const old = getLearningRate(opt);
        if (old > this.minLr) {
          const lr = Math.max(old * this.factor, this.minLr);
          setLearningRate(opt, lr);
          if (this.verbose > 0) this.print(`Epoch ${epoch + 1}: reduceLROnPlateau reducing learning rate to ${lr}.`);
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}

/** Sets the learning rate at the start of each epoch to schedule(epoch, lr) (epoch counted from 0). */
export class LearningRateScheduler extends Callback {
  constructor(
    readonly schedule: (epoch: number, lr: number) => number,
    readonly verbose = 0,
  ) {
    super();
    if (typeof schedule !== "function") throw new ValueError("learningRateScheduler: schedule must be a function (epoch, lr) => newLr");
  }
  override onEpochBegin(epoch: number): void {
    const opt = this.model?.optimizer;
    if (!opt) return;
    const lr = this.schedule(epoch, getLearningRate(opt));
    if (typeof lr !== "number" || !Number.isFinite(lr) || lr < 0) throw new ValueError(`learningRateScheduler: the schedule returned ${JSON.stringify(lr)} for epoch ${epoch}; it must return a number ≥ 0`);
    setLearningRate(opt, lr);
    if (this.verbose > 0) this.print(`Epoch ${epoch + 1}: learningRateScheduler setting learning rate to ${lr}.`);
  }
  override onEpochEnd(_epoch: number, logs: Logs = {}): void {
    if (this.model?.optimizer) logs.lr = getLearningRate(this.model.optimizer);
  }
}

/** Writes one CSV row per epoch (epoch, then the logs sorted by name) to `filename`. */
export class CSVLogger extends Callback {
  readonly separator: string;
  readonly append: boolean;
  private keys: string[] | null = null;
  constructor(
    readonly filename: string,
    opts: { separator?: string; append?: boolean } = {},
  ) {
    super();
    if (typeof filename !== "string" || !filename) throw new ValueError("csvLogger: filename is required");
    this.separator = opts.separator ?? ",";
    this.append = opts.append ?? false;
  }
  override onTrainBegin(): void {
    mkdirSync(dirname(this.filename), { recursive: true });
    if (!this.append) writeFileSync(this.filename, "");
    this.keys = null;
  }
  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const sep = this.separator;
    if (!this.keys) {
      this.keys = Object.keys(logs).sort();
      const empty = !this.append || !existsSync(this.filename) || statSync(this.filename).size === 0;
      if (empty) appendFileSync(this.filename, ["epoch", ...this.keys].join(sep) + "\n");
    }
    appendFileSync(this.filename, [epoch, ...this.keys.map((k) => (logs[k] === undefined ? "" : String(logs[k])))].join(sep) + "\n");
  }
}

/** Stops training at the first batch whose loss is NaN or infinite. */
export class TerminateOnNaN extends Callback {
  override onBatchEnd(batch: number, logs: Logs = {}): void {
    const l = logs.loss;
    if (l !== undefined && !Number.isFinite(l)) {
      this.print(`Batch ${batch}: invalid loss, terminating training`);
      this.model!.stopTraining = true;
    }
  }
}

export const earlyStopping = (args?: EarlyStoppingArgs) => new EarlyStopping(args);
export const modelCheckpoint = (args: ModelCheckpointArgs) => new ModelCheckpoint(args);
export const reduceLROnPlateau = (args?: ReduceLROnPlateauArgs) => new ReduceLROnPlateau(args);
export const learningRateScheduler = (schedule: (epoch: number, lr: number) => number, verbose = 0) => new LearningRateScheduler(schedule, verbose);
export const csvLogger = (filename: string, opts?: { separator?: string; append?: boolean }) => new CSVLogger(filename, opts);
export const terminateOnNaN = () => new TerminateOnNaN();
