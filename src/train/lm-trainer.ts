// The language-model trainer, nanoGPT's train.py as a library: random-offset batches, AdamW with decay
// on matrices only, warm-up + cosine schedule, gradient clipping and accumulation, periodic train/val
// loss estimates, atomic checkpoints and a resume that repeats an uninterrupted run exactly.
import { manualSeed, type Tensor, ValueError } from "../tensor/index.js";
import { noGrad } from "../autograd/index.js";
import { type AdamW, clipGradNorm } from "../optim/index.js";
import type { GPT } from "../models/index.js";
import type { Tokenizer } from "../text/index.js";
import { getBatch, streamGenerator } from "./lm-data.js";
import { checkSchedule, cosineLr } from "./schedule.js";
import { type EvalRecord, findCheckpoint, loadCheckpoint, saveCheckpoint, type TrainerState } from "./checkpoint.js";

export interface TrainLMOptions {
  model: GPT;
  /** Token ids to train on and to estimate the validation loss on. */
  trainData: Int32Array;
  valData: Int32Array;
  /** Context length T of the batches (default the model's blockSize). */
  blockSize?: number;
  /** Sequences per micro-batch (default 12). */
  batchSize?: number;
  /** Optimizer steps in all (default 2000). */
  maxIters?: number;
  /** Peak learning rate (default 1e-3) and the floor of the cosine (default lr / 10). */
  lr?: number;
  minLr?: number;
  /** Linear warm-up iterations (default 100). */
  warmupIters?: number;
  /** Where the cosine reaches minLr (default maxIters). */
  lrDecayIters?: number;
  /** false keeps lr constant (nanoGPT's decay_lr). Default true. */
  decayLr?: boolean;
  /** AdamW's decoupled decay on parameters of ≥ 2 dims (default 0.1); none on biases and LayerNorm weights. */
  weightDecay?: number;
  /** Default [0.9, 0.99] (nanoGPT's shakespeare_char; its GPT-2 default is [0.9, 0.95]). */
  betas?: [number, number];
  /** Clip the gradients' joint 2-norm to this (default 1.0; 0 disables). */
  gradClip?: number;
  /** Micro-batches whose gradients are summed (each loss divided by the count) before one step (default 1). */
  gradAccumulationSteps?: number;
  /** Estimate the losses every this many iterations and at the end (default 250). */
  evalInterval?: number;
  /** Batches per loss estimate (default 20). */
  evalIters?: number;
  /** Seeds the batches and dropout (default 1337, as nanoGPT). */
  seed?: number;
  /** Where checkpoints go (written at every evaluation and at the end); null: none. */
  outDir?: string | null;
  /** Continue from the checkpoint in outDir. */
  resume?: boolean;
  /** Saved with the checkpoints (tokenizer.json), so the folder generates text. */
  tokenizer?: Tokenizer;
  /** Extra fields for config.json and card.json. */
  extraConfig?: Record<string, unknown>;
  card?: Record<string, unknown>;
  /** Progress: every iteration, evaluation and checkpoint. */
  log?: (e: LMTrainEvent) => void;
}

export type LMTrainEvent =
  | { kind: "iter"; iter: number; maxIters: number; loss: number; lr: number; tokensPerSecond: number; etaSeconds: number; seconds: number }
  | ({ kind: "eval"; seconds: number } & EvalRecord)
  | { kind: "checkpoint"; iter: number; dir: string }
  | { kind: "resume"; iter: number; dir: string };

export interface LMTrainResult {
  /** Optimizer steps taken in all (resumed runs included). */
  iters: number;
  /** The last estimate (at the end of training). */
  trainLoss: number;
  valLoss: number;
  /** The loss of the last training batch. */
  lastLoss: number;
  /** Training tokens per second of training-step time (evaluation and checkpoints excluded). */
  tokensPerSecond: number;
  /** Wall time in all, evaluation and checkpoints included (earlier sessions of a resumed run too). */
  seconds: number;
  history: EvalRecord[];
}

type Resolved = Required<Omit<TrainLMOptions, "model" | "trainData" | "valData" | "tokenizer" | "extraConfig" | "card" | "log" | "outDir">> & { outDir: string | null };

/** Fills in the defaults and checks the numbers. */
export function resolveLMOptions(o: TrainLMOptions): Resolved {
  const maxIters = o.maxIters ?? 2000;
  const lr = o.lr ?? 1e-3;
  const r: Resolved = {
    blockSize: o.blockSize ?? o.model.config.blockSize,
    batchSize: o.batchSize ?? 12,
    maxIters,
    lr,
    minLr: o.minLr ?? lr / 10,
    warmupIters: o.warmupIters ?? Math.min(100, maxIters),
    lrDecayIters: o.lrDecayIters ?? maxIters,
    decayLr: o.decayLr ?? true,
    weightDecay: o.weightDecay ?? 0.1,
    betas: o.betas ?? [0.9, 0.99],
    gradClip: o.gradClip ?? 1.0,
    gradAccumulationSteps: o.gradAccumulationSteps ?? 1,
    evalInterval: o.evalInterval ?? 250,
    evalIters: o.evalIters ?? 20,
    seed: o.seed ?? 1337,
    outDir: o.outDir ?? null,
    resume: o.resume ?? false,
  };
  const int = (k: keyof Resolved, min: number) => {
    const v = r[k] as number;
    if (!Number.isInteger(v) || v < min) throw new ValueError(`trainLM: ${k} must be an integer ≥ ${min}, got ${v}`);
  };
  int("blockSize", 1);
  int("batchSize", 1);
  int("maxIters", 0);
  int("gradAccumulationSteps", 1);
  int("evalInterval", 1);
  int("evalIters", 1);
  int("seed", 0);
  if (r.blockSize > o.model.config.blockSize) throw new ValueError(`trainLM: blockSize ${r.blockSize} exceeds the model's context of ${o.model.config.blockSize}`);
  checkSchedule("trainLM", r);
  if (!(r.weightDecay >= 0)) throw new ValueError(`trainLM: weightDecay must be ≥ 0, got ${r.weightDecay}`);
  if (!(r.gradClip >= 0)) throw new ValueError(`trainLM: gradClip must be ≥ 0 (0 disables clipping), got ${r.gradClip}`);
  if (r.resume && !r.outDir) throw new ValueError("trainLM: resume needs outDir, the folder holding the checkpoint");
  for (const [name, d] of [["trainData", o.trainData], ["valData", o.valData]] as const)
    if (!(d instanceof Int32Array) || d.length <= r.blockSize)
      throw new ValueError(`trainLM: ${name} must be an Int32Array of more than blockSize = ${r.blockSize} token ids, got ${d instanceof Int32Array ? d.length : typeof d} tokens`);
  return r;
}

/** Options that must not change between a run and its resume (the batches and the schedule depend on them). */
const FIXED = ["blockSize", "batchSize", "gradAccumulationSteps", "seed", "evalIters", "weightDecay", "betas"] as const;

/**
 * One training run's machinery; trainLM drives it. Exposed so that a step can be examined (tests,
 * custom loops): `accumulateGradients(iter)` leaves the summed gradients of that iteration in `.grad`.
 */
export class LMTrainer {
  readonly o: Resolved;
  readonly optimizer: AdamW;
  readonly tokensPerIter: number;

  constructor(readonly opts: TrainLMOptions) {
    const o = (this.o = resolveLMOptions(opts));
    this.optimizer = opts.model.configureOptimizers({ weightDecay: o.weightDecay, lr: o.lr, betas: o.betas });
    this.tokensPerIter = o.batchSize * o.blockSize * o.gradAccumulationSteps;
  }

  /** The learning rate of iteration `it`. */
  lrAt(it: number): number {
    return this.o.decayLr ? cosineLr(it, this.o) : this.o.lr;
  }

  /**
   * Forward and backward of the iteration's micro-batches, each loss divided by their count, so
   * `.grad` holds the gradient of the mean loss over all of them. Returns that mean loss.
   */
  accumulateGradients(it: number): number {
    const { model, trainData } = this.opts;
    const { blockSize, batchSize, gradAccumulationSteps: k, seed } = this.o;
    // The batches and dropout masks of an iteration depend on (seed, it) only: a resume repeats them.
    const gen = streamGenerator(seed, 0, it);
    manualSeed(streamGenerator(seed, 3, it).nextU32());
    let total = 0;
    for (let micro = 0; micro < k; micro++) {
      const { x, y } = getBatch(trainData, blockSize, batchSize, gen);
      const loss = model.forward(x, y).loss as Tensor;
      (k === 1 ? loss : loss.div(k)).backward();
      total += loss.item();
    }
    return total / k;
  }

  /** One optimizer step at iteration `it`: set lr, accumulate, clip, update. Returns the loss. */
  step(it: number): number {
    const lr = this.lrAt(it);
    for (const g of this.optimizer.paramGroups) g.lr = lr;
    this.optimizer.zeroGrad();
    const loss = this.accumulateGradients(it);
    if (this.o.gradClip > 0) clipGradNorm(this.opts.model.parameters(), this.o.gradClip);
    this.optimizer.step();
    return loss;
  }

  /** nanoGPT's estimate_loss: the mean loss over evalIters batches of each split, in eval mode without gradients. */
  estimateLoss(it: number): EvalRecord {
    const { model, trainData, valData } = this.opts;
    const { blockSize, batchSize, evalIters, seed } = this.o;
    const wasTraining = model.training;
    model.eval();
    try {
      const mean = (data: Int32Array, stream: number) =>
        noGrad(() => {
          const gen = streamGenerator(seed, stream, it);
          let s = 0;
          for (let i = 0; i < evalIters; i++) {
            const { x, y } = getBatch(data, blockSize, batchSize, gen);
            s += (model.forward(x, y).loss as Tensor).item();
          }
          return s / evalIters;
        });
      return { iter: it, train_loss: mean(trainData, 1), val_loss: mean(valData, 2), lr: this.lrAt(it) };
    } finally {
      model.train(wasTraining);
    }
  }
}

/**
 * Trains a GPT on token ids like nanoGPT's train.py and returns the final loss estimates. With
 * `outDir`, a checkpoint (a GPT model folder plus optimizer and trainer state) is written at every
 * evaluation and at the end; `resume: true` continues from it and gives exactly the parameters an
 * uninterrupted run would. The batches and dropout are seeded per iteration (this re-seeds the
 * global generator, as manualSeed does).
 * @example const r = trainLM({ model, trainData: train, valData: val, maxIters: 2000, outDir: "runs/x", tokenizer });
 */
export function trainLM(opts: TrainLMOptions): LMTrainResult {
  const trainer = new LMTrainer(opts);
  const o = trainer.o;
  const { model, log } = opts;
  const optionsRecord: Record<string, unknown> = { ...o, outDir: undefined, resume: undefined };
  let state: TrainerState = { iter: 0, history: [], tokens: 0, seconds: 0, options: optionsRecord };

  if (o.resume) {
    const ck = loadCheckpoint(o.outDir!);
    checkResumable(model, ck.model.config as unknown as Record<string, unknown>, ck.state.options, o);
    model.loadStateDict(ck.model.stateDict());
    trainer.optimizer.loadStateDict(ck.optimizer);
    state = { ...ck.state, options: optionsRecord };
    log?.({ kind: "resume", iter: state.iter, dir: ck.dir });
  }

  const t0 = performance.now();
  const elapsed = () => state.seconds + (performance.now() - t0) / 1000;
  let stepSeconds = 0; // training-step time of this session
  let stepTokens = 0;
  let evalSeconds = 0; // the last evaluation's cost, for the ETA
  let lastLoss = NaN;
  const save = () => {
    if (!o.outDir) return;
    const last = state.history[state.history.length - 1];
    const card = { ...opts.card, iters: state.iter, train_loss: last?.train_loss, val_loss: last?.val_loss, history: state.history };
    saveCheckpoint(o.outDir, { model, optimizer: trainer.optimizer, state: { ...state, seconds: elapsed() }, tokenizer: opts.tokenizer, card, extraConfig: opts.extraConfig });
    log?.({ kind: "checkpoint", iter: state.iter, dir: o.outDir });
  };
  const evaluate = (it: number) => {
    const e0 = performance.now();
    const rec = trainer.estimateLoss(it);
    evalSeconds = (performance.now() - e0) / 1000;
    state.history.push(rec);
    log?.({ kind: "eval", seconds: elapsed(), ...rec });
  };

  model.train();
  const resumedAt = state.iter;
  for (let it = state.iter; it < o.maxIters; it++) {
    // Evaluate and checkpoint before the step, as nanoGPT; a resumed run has done it already.
    if (it % o.evalInterval === 0 && !(it === resumedAt && state.history.some((h) => h.iter === it))) {
      evaluate(it);
      save();
    }
    const s0 = performance.now();
    lastLoss = trainer.step(it);
    const dt = (performance.now() - s0) / 1000;
    stepSeconds += dt;
    stepTokens += trainer.tokensPerIter;
    state.iter = it + 1;
    state.tokens += trainer.tokensPerIter;
    if (log) {
      const perIter = stepSeconds / (it + 1 - resumedAt);
      const left = o.maxIters - it - 1;
      const evalsLeft = Math.floor((o.maxIters - 1) / o.evalInterval) - Math.floor(it / o.evalInterval) + 1;
      log({ kind: "iter", iter: it, maxIters: o.maxIters, loss: lastLoss, lr: trainer.lrAt(it), tokensPerSecond: stepTokens / stepSeconds, etaSeconds: left * perIter + evalsLeft * evalSeconds, seconds: elapsed() });
    }
  }
  if (!state.history.some((h) => h.iter === state.iter)) {
    evaluate(state.iter);
    save();
  }
  const last = state.history[state.history.length - 1];
  return {
    iters: state.iter,
    trainLoss: last.train_loss,
    valLoss: last.val_loss,
    lastLoss,
    tokensPerSecond: stepSeconds > 0 ? stepTokens / stepSeconds : 0,
    seconds: elapsed(),
    history: state.history,
  };
}

/** Throws unless the checkpoint was made by the same model shape and the options that fix the batches. */
function checkResumable(model: GPT, saved: Record<string, unknown>, savedOpts: Record<string, unknown>, o: Resolved): void {
  for (const k of ["vocabSize", "blockSize", "nLayer", "nHead", "nEmbd", "bias"] as const)
    if (saved[k] !== model.config[k])
      throw new ValueError(`trainLM: the checkpoint in ${o.outDir} has ${k} = ${String(saved[k])}, this model ${String(model.config[k])}; resume with the same model`);
  for (const k of FIXED)
    if (JSON.stringify(savedOpts[k]) !== JSON.stringify(o[k]))
      throw new ValueError(`trainLM: the checkpoint in ${o.outDir} was trained with ${k} = ${JSON.stringify(savedOpts[k])}, this run has ${JSON.stringify(o[k])}; resume with the same value`);
}


