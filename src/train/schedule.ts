// The learning-rate schedule of nanoGPT's train.py (get_lr): linear warm-up, then cosine decay to
// minLr, then minLr. A closed form of the iteration, so a resumed run needs no scheduler state.
import { ValueError } from "../tensor/index.js";

export interface CosineScheduleOptions {
  /** The peak learning rate, reached at the end of the warm-up. */
  lr: number;
  /** The floor the cosine decays to (nanoGPT: lr / 10). */
  minLr: number;
  /** Iterations of linear warm-up. */
  warmupIters: number;
  /** The iteration where the decay reaches minLr (nanoGPT: ≈ maxIters). */
  lrDecayIters: number;
}

/**
 * The learning rate at iteration `it` (0-based), nanoGPT's get_lr:
 * it < warmup: lr·(it+1)/(warmup+1); it > decayIters: minLr; between: minLr + ½(1 + cos(π·r))·(lr − minLr)
 * with r = (it − warmup)/(decayIters − warmup).
 * @example cosineLr(0, { lr: 1e-3, minLr: 1e-4, warmupIters: 100, lrDecayIters: 2000 }) // 1e-3 / 101
 */
export function cosineLr(it: number, o: CosineScheduleOptions): number {
  if (it < o.warmupIters) return (o.lr * (it + 1)) / (o.warmupIters + 1);
  if (it > o.lrDecayIters) return o.minLr;
  // NOTE: decayIters == warmupIters would divide 0 by 0; there is no decay phase then.
  if (o.lrDecayIters <= o.warmupIters) return o.minLr;
  const ratio = (it - o.warmupIters) / (o.lrDecayIters - o.warmupIters);
  const coeff = 0.5 * (1 + Math.cos(Math.PI * ratio)); // 1 → 0
  return o.minLr + coeff * (o.lr - o.minLr);
}

/** Throws unless the schedule's numbers make sense. */
export function checkSchedule(name: string, o: CosineScheduleOptions): void {
  if (!(o.lr > 0) || !Number.isFinite(o.lr)) throw new ValueError(`${name}: lr must be a positive number, got ${o.lr}`);
  if (!(o.minLr >= 0) || o.minLr > o.lr) throw new ValueError(`${name}: minLr must be in [0, lr = ${o.lr}], got ${o.minLr}`);
  if (!Number.isInteger(o.warmupIters) || o.warmupIters < 0) throw new ValueError(`${name}: warmupIters must be an integer ≥ 0, got ${o.warmupIters}`);
  if (!Number.isInteger(o.lrDecayIters) || o.lrDecayIters < 0) throw new ValueError(`${name}: lrDecayIters must be an integer ≥ 0, got ${o.lrDecayIters}`);
}
