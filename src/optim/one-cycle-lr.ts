// OneCycleLR (Smith & Topin, "super-convergence"): warm up to maxLr, then anneal far below the
// start, cycling momentum the other way; stepped once per batch. PyTorch's phases and formulas.
import { ValueError } from "../tensor/index.js";
import type { Optimizer, ParamGroup } from "./optimizer.js";
import { LRScheduler } from "./lr-scheduler.js";

export interface OneCycleOptions {
  /** Steps in the whole cycle; or give epochs and stepsPerEpoch. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  annealStrategy?: "cos" | "linear";
  /** Cycle momentum (SGD's momentum or Adam's beta1) inversely to the lr (default true). */
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
  /** Initial lr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** Final lr = initial lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, back down to the initial lr, then to the minimum) instead of two. */
  threePhase?: boolean;
  lastEpoch?: number;
}

interface Phase {
  endStep: number;
  /** Group keys holding the phase's start and end values. */
  lr: [string, string];
  momentum: [string, string];
}

/** @example const sched = new OneCycleLR(opt, 0.1, {totalSteps: 1000}); // sched.step() after each batch */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly annealStrategy: "cos" | "linear";
  readonly cycleMomentum: boolean;
  private readonly useBeta1: boolean;
  private readonly phases: Phase[];

  constructor(optimizer: Optimizer<any>, maxLr: number | number[], opts: OneCycleOptions = {}) {
    const n = optimizer.paramGroups.length;
    const perGroup = (v: number | number[], what: string): number[] => {
      if (!Array.isArray(v)) return new Array(n).fill(v);
      if (v.length !== n) throw new ValueError(`OneCycleLR: got ${v.length} ${what} value(s) for ${n} param group(s)`);
      return v;
    };
    const maxLrs = perGroup(maxLr, "maxLr");
    const divFactor = opts.divFactor ?? 25;
    const finalDivFactor = opts.finalDivFactor ?? 1e4;
    const cycleMomentum = opts.cycleMomentum ?? true;
    const useBeta1 = "betas" in optimizer.defaults;
    if (cycleMomentum && !useBeta1 && !("momentum" in optimizer.defaults))
      throw new ValueError("OneCycleLR: this optimizer has neither momentum nor betas; pass {cycleMomentum: false}");
    optimizer.paramGroups.forEach((g, i) => {
      g.initialLr = maxLrs[i] / divFactor;
      g.maxLr = maxLrs[i];
      g.minLr = (g.initialLr as number) / finalDivFactor;
      if (cycleMomentum) {
        const maxM = opts.maxMomentum ?? 0.95;
        if (useBeta1) g.betas = [maxM, ...(g.betas as number[]).slice(1)];
        else g.momentum = maxM;
        g.maxMomentum = maxM;
        g.baseMomentum = opts.baseMomentum ?? 0.85;
      }
    });
    super(optimizer, opts.lastEpoch ?? -1);
    let total: number;
    if (opts.totalSteps !== undefined) {
      if (!(Number.isInteger(opts.totalSteps) && opts.totalSteps > 0)) throw new ValueError(`OneCycleLR: totalSteps must be a positive integer, got ${opts.totalSteps}`);
      total = opts.totalSteps;
    } else if (opts.epochs !== undefined && opts.stepsPerEpoch !== undefined) {
      if (!(Number.isInteger(opts.epochs) && opts.epochs > 0)) throw new ValueError(`OneCycleLR: epochs must be a positive integer, got ${opts.epochs}`);
      if (!(Number.isInteger(opts.stepsPerEpoch) && opts.stepsPerEpoch > 0))
        throw new ValueError(`OneCycleLR: stepsPerEpoch must be a positive integer, got ${opts.stepsPerEpoch}`);
      total = opts.epochs * opts.stepsPerEpoch;
    } else throw new ValueError("OneCycleLR: give totalSteps, or epochs and stepsPerEpoch");
    const pct = opts.pctStart ?? 0.3;
    if (!(pct >= 0 && pct <= 1)) throw new ValueError(`OneCycleLR: pctStart must be in [0, 1], got ${pct}`);
    const strategy = opts.annealStrategy ?? "cos";
    if (strategy !== "cos" && strategy !== "linear") throw new ValueError(`OneCycleLR: annealStrategy must be 'cos' or 'linear', got '${String(strategy)}'`);
    this.totalSteps = total;
    this.annealStrategy = strategy;
    this.cycleMomentum = cycleMomentum;
    this.useBeta1 = useBeta1;
    this.phases = opts.threePhase
      ? [
          { endStep: pct * total - 1, lr: ["initialLr", "maxLr"], momentum: ["maxMomentum", "baseMomentum"] },
          { endStep: 2 * pct * total - 2, lr: ["maxLr", "initialLr"], momentum: ["baseMomentum", "maxMomentum"] },
          { endStep: total - 1, lr: ["initialLr", "minLr"], momentum: ["maxMomentum", "maxMomentum"] },
        ]
      : [
          { endStep: pct * total - 1, lr: ["initialLr", "maxLr"], momentum: ["maxMomentum", "baseMomentum"] },
          { endStep: total - 1, lr: ["maxLr", "minLr"], momentum: ["baseMomentum", "maxMomentum"] },
        ];
    this.start();
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === "linear") return (end - start) * pct + start;
    return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  }

  protected lrAt(_base: number, step: number, g: ParamGroup): number {
    if (step > this.totalSteps)
      throw new ValueError(`OneCycleLR: stepped ${step} times but totalSteps is ${this.totalSteps}; raise totalSteps (or epochs)`);
    let start = 0;
    for (let i = 0; i < this.phases.length; i++) {
      const ph = this.phases[i];
      if (step <= ph.endStep || i === this.phases.length - 1) {
        const pct = (step - start) / (ph.endStep - start);
        if (this.cycleMomentum) {
          const m = this.anneal(g[ph.momentum[0]] as number, g[ph.momentum[1]] as number, pct);
          if (this.useBeta1) g.betas = [m, ...(g.betas as number[]).slice(1)];
          else g.momentum = m;
        }
        return this.anneal(g[ph.lr[0]] as number, g[ph.lr[1]] as number, pct);
      }
      start = ph.endStep;
    }
    throw new Error("unreachable");
  }
}
