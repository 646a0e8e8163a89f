// Learning-rate schedules (torch.optim.lr_scheduler): each sets every group's lr from its initial
// lr and the epoch count with PyTorch's closed-form formula. Call `scheduler.step()` after
// `optimizer.step()`, once per epoch (or per batch for OneCycleLR).
import { ValueError } from "../tensor/index.js";
import type { Optimizer, ParamGroup } from "./optimizer.js";

/**
 * The base: on construction it records each group's `initialLr` (kept if already set, as
 * PyTorch's setdefault does) and applies epoch 0. Sub-classes implement lrAt(base, epoch, group)
 * and call `this.start()` at the end of their constructor.
 */
export abstract class LRScheduler {
  /** Steps taken; 0 right after construction. */
  lastEpoch: number;
  /** The lr each group started from. */
  baseLrs: number[];
  protected lastLr: number[] = [];

  constructor(
    readonly optimizer: Optimizer<any>,
    lastEpoch = -1,
  ) {
    const name = this.constructor.name;
    if (!optimizer || !Array.isArray(optimizer.paramGroups)) throw new ValueError(`${name}: the first argument must be an optimizer`);
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1) throw new ValueError(`${name}: lastEpoch must be an integer ≥ -1, got ${lastEpoch}`);
    optimizer.paramGroups.forEach((g, i) => {
      if (lastEpoch === -1) g.initialLr ??= g.lr;
      else if (g.initialLr === undefined)
        throw new ValueError(`${name}: resuming at lastEpoch ${lastEpoch} needs 'initialLr' in param group ${i}; create the scheduler with lastEpoch -1 or load its state dict`);
    });
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** The lr of a group at `epoch`. */
  protected abstract lrAt(base: number, epoch: number, group: ParamGroup, i: number): number;

  /** Applies the first step; every sub-class constructor ends with it. */
  protected start(): void {
    this.step();
  }

  /** Advances one epoch and sets every group's lr. */
  step(): void {
    this.lastEpoch++;
    this.lastLr = this.optimizer.paramGroups.map((g, i) => {
      g.lr = this.lrAt(this.baseLrs[i], this.lastEpoch, g, i);
      return g.lr;
    });
  }

  /** The lr of each group set by the last step. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The scheduler's numbers (functions, such as LambdaLR's, are not included). */
  stateDict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this))
      if (k !== "optimizer" && typeof v !== "function" && !(Array.isArray(v) && v.some((e) => typeof e === "function")))
        out[k] = Array.isArray(v) ? [...v] : v;
    return out;
  }

  loadStateDict(sd: Record<string, unknown>): void {
    for (const [k, v] of Object.entries(sd)) if (k in this && k !== "optimizer") (this as Record<string, unknown>)[k] = Array.isArray(v) ? [...v] : v;
  }
}

function checkPositive(name: string, what: string, v: number, integer = false): void {
  if (!(v > 0) || (integer && !Number.isInteger(v))) throw new ValueError(`${name}: ${what} must be a positive ${integer ? "integer" : "number"}, got ${v}`);
}

/** lr = initialLr · gamma^⌊epoch / stepSize⌋. */
export class StepLR extends LRScheduler {
  constructor(
    optimizer: Optimizer<any>,
    readonly stepSize: number,
    readonly gamma = 0.1,
    lastEpoch = -1,
  ) {
    super(optimizer, lastEpoch);
    checkPositive("StepLR", "stepSize", stepSize, true);
    this.start();
  }
  protected lrAt(base: number, e: number): number {
    return base * Math.pow(this.gamma, Math.floor(e / this.stepSize));
  }
}

/** lr = initialLr · gamma^(number of milestones ≤ epoch). */
export class MultiStepLR extends LRScheduler {
  readonly milestones: number[];
  constructor(
    optimizer: Optimizer<any>,
    milestones: number[],
    readonly gamma = 0.1,
    lastEpoch = -1,
  ) {
    super(optimizer, lastEpoch);
    this.milestones = [...milestones].sort((a, b) => a - b);
    this.start();
  }
  protected lrAt(base: number, e: number): number {
    return base * Math.pow(this.gamma, this.milestones.filter((m) => m <= e).length);
  }
}

/** lr = initialLr · gamma^epoch. */
export class ExponentialLR extends LRScheduler {
  constructor(
    optimizer: Optimizer<any>,
    readonly gamma: number,
    lastEpoch = -1,
  ) {
    super(optimizer, lastEpoch);
    this.start();
  }
  protected lrAt(base: number, e: number): number {
    return base * Math.pow(this.gamma, e);
  }
}

/** lr = etaMin + (initialLr − etaMin)·(1 + cos(π·epoch/tMax))/2 (SGDR without restarts). */
export class CosineAnnealingLR extends LRScheduler {
  constructor(
    optimizer: Optimizer<any>,
    readonly tMax: number,
    readonly etaMin = 0,
    lastEpoch = -1,
  ) {
    super(optimizer, lastEpoch);
    checkPositive("CosineAnnealingLR", "tMax", tMax);
    this.start();
  }
  protected lrAt(base: number, e: number): number {
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * e) / this.tMax))) / 2;
  }
}

/**
 * Linear warm-up (or decay): lr = initialLr · (startFactor + (endFactor − startFactor)·min(epoch, totalIters)/totalIters).
 */
export class LinearLR extends LRScheduler {
  constructor(
    optimizer: Optimizer<any>,
    readonly startFactor = 1 / 3,
    readonly endFactor = 1,
    readonly totalIters = 5,
    lastEpoch = -1,
  ) {
    super(optimizer, lastEpoch);
    if (!(startFactor > 0 && startFactor <= 1)) throw new ValueError(`LinearLR: startFactor must be in (0, 1], got ${startFactor}`);
    if (!(endFactor >= 0 && endFactor <= 1)) throw new ValueError(`LinearLR: endFactor must be in [0, 1], got ${endFactor}`);
    checkPositive("LinearLR", "totalIters", totalIters, true);
    this.start();
  }
  protected lrAt(base: number, e: number): number {
    return base * (this.startFactor + ((this.endFactor - this.startFactor) * Math.min(e, this.totalIters)) / this.totalIters);
  }
}

/** lr = initialLr · factor for the first totalIters epochs, then initialLr. */
export class ConstantLR extends LRScheduler {
  constructor(
    optimizer: Optimizer<any>,
    readonly factor = 1 / 3,
    readonly totalIters = 5,
    lastEpoch = -1,
  ) {
    super(optimizer, lastEpoch);
    if (!(factor >= 0 && factor <= 1)) throw new ValueError(`ConstantLR: factor must be in [0, 1], got ${factor}`);
    this.start();
  }
  protected lrAt(base: number, e: number): number {
    return e < this.totalIters ? base * this.factor : base;
  }
}

/** lr = initialLr · lrLambda(epoch); one function for all groups or one per group. */
export class LambdaLR extends LRScheduler {
  readonly lrLambdas: ((epoch: number) => number)[];
  constructor(optimizer: Optimizer<any>, lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[], lastEpoch = -1) {
    super(optimizer, lastEpoch);
    const n = optimizer.paramGroups.length;
    if (Array.isArray(lrLambda) && lrLambda.length !== n)
      throw new ValueError(`LambdaLR: got ${lrLambda.length} lambda(s) for ${n} param group(s); pass one function or one per group`);
    this.lrLambdas = Array.isArray(lrLambda) ? [...lrLambda] : new Array(n).fill(lrLambda);
    this.start();
  }
  protected lrAt(base: number, e: number, _g: ParamGroup, i: number): number {
    return base * this.lrLambdas[i](e);
  }
}
