// ReduceLROnPlateau: multiply the lr by `factor` when a metric has stopped improving for
// `patience` epochs (torch.optim.lr_scheduler.ReduceLROnPlateau, same rules and defaults).
import { ValueError } from "../tensor/index.js";
import type { Optimizer } from "./optimizer.js";

export interface ReduceLROnPlateauOptions {
  /** 'min': lower is better (a loss); 'max': higher is better (an accuracy). */
  mode?: "min" | "max";
  factor?: number;
  /** Epochs without improvement tolerated before the lr is reduced (default 10). */
  patience?: number;
  /** How much better counts as an improvement (default 1e-4). */
  threshold?: number;
  /** 'rel': better than best·(1 ∓ threshold); 'abs': better than best ∓ threshold. */
  thresholdMode?: "rel" | "abs";
  /** Epochs to wait after a reduction before counting again. */
  cooldown?: number;
  /** Lower bound of the lr: one number or one per group. */
  minLr?: number | number[];
  /** Reductions smaller than eps are skipped. */
  eps?: number;
}

/** @example sched.step(valLoss) // once per epoch */
export class ReduceLROnPlateau {
  readonly mode: "min" | "max";
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: "rel" | "abs";
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(
    readonly optimizer: Optimizer<any>,
    opts: ReduceLROnPlateauOptions = {},
  ) {
    this.mode = opts.mode ?? "min";
    this.factor = opts.factor ?? 0.1;
    this.patience = opts.patience ?? 10;
    this.threshold = opts.threshold ?? 1e-4;
    this.thresholdMode = opts.thresholdMode ?? "rel";
    this.cooldown = opts.cooldown ?? 0;
    this.eps = opts.eps ?? 1e-8;
    if (this.mode !== "min" && this.mode !== "max") throw new ValueError(`ReduceLROnPlateau: mode must be 'min' or 'max', got '${String(this.mode)}'`);
    if (this.thresholdMode !== "rel" && this.thresholdMode !== "abs")
      throw new ValueError(`ReduceLROnPlateau: thresholdMode must be 'rel' or 'abs', got '${String(this.thresholdMode)}'`);
    if (!(this.factor < 1 && this.factor >= 0)) throw new ValueError(`ReduceLROnPlateau: factor must be in [0, 1), got ${this.factor}`);
    const n = optimizer.paramGroups.length;
    const minLr = opts.minLr ?? 0;
    if (Array.isArray(minLr) && minLr.length !== n) throw new ValueError(`ReduceLROnPlateau: got ${minLr.length} minLr value(s) for ${n} param group(s)`);
    this.minLrs = Array.isArray(minLr) ? [...minLr] : new Array(n).fill(minLr);
    this.best = this.mode === "min" ? Infinity : -Infinity;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private isBetter(a: number): boolean {
    const { best, threshold } = this;
    if (this.mode === "min") return this.thresholdMode === "rel" ? a < best * (1 - threshold) : a < best - threshold;
    return this.thresholdMode === "rel" ? a > best * (threshold + 1) : a > best + threshold;
  }

  /** Records this epoch's metric and reduces the lr when it has plateaued. */
  step(metric: number): void {
    if (typeof metric !== "number" || Number.isNaN(metric)) throw new ValueError(`ReduceLROnPlateau.step: the metric must be a number, got ${String(metric)}`);
    this.lastEpoch++;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else this.numBadEpochs++;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const newLr = Math.max(g.lr * this.factor, this.minLrs[i]);
        if (g.lr - newLr > this.eps) g.lr = newLr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): Record<string, unknown> {
    const { best, numBadEpochs, cooldownCounter, lastEpoch } = this;
    return { best, numBadEpochs, cooldownCounter, lastEpoch, lastLr: [...this.lastLr] };
  }

  loadStateDict(sd: Record<string, unknown>): void {
    for (const k of ["best", "numBadEpochs", "cooldownCounter", "lastEpoch"] as const) if (typeof sd[k] === "number") this[k] = sd[k] as number;
    if (Array.isArray(sd.lastLr)) this.lastLr = [...(sd.lastLr as number[])];
  }
}
