// What the pretraining and fine-tuning loops share: AdamW with BERT's weight-decay groups, the
// warm-up + linear-decay schedule, timing, and progress lines.
import type { Module } from "../nn/index.js";
import { AdamW, LambdaLR } from "../optim/index.js";

/** Where progress lines go (stderr with --json). */
export type LogFn = (line: string) => void;

/**
 * AdamW over the parameters that require grad: weight decay on matrices (Linear weights and
 * embeddings), none on biases and LayerNorm weights, as BERT and nanoGPT.
 */
export function adamwFor(model: Module, lr: number, weightDecay = 0.01): AdamW {
  const ps = model.parameters().filter((p) => p.requiresGrad);
  return new AdamW(
    [
      { params: ps.filter((p) => p.ndim >= 2), weightDecay },
      { params: ps.filter((p) => p.ndim < 2), weightDecay: 0 },
    ],
    { lr, betas: [0.9, 0.999], eps: 1e-8 },
  );
}

/** BERT's schedule: linear warm-up over the first `warmup` share of the steps, then linear decay to 0. Step it after each optimizer step. */
export function warmupLinear(opt: AdamW, totalSteps: number, warmup = 0.1): LambdaLR {
  const w = Math.max(1, Math.round(warmup * totalSteps));
  return new LambdaLR(opt, (s) => (s < w ? (s + 1) / w : Math.max(0, (totalSteps - s) / Math.max(1, totalSteps - w))));
}

/** Seconds since t0 (performance.now()). */
export const since = (t0: number): number => (performance.now() - t0) / 1000;

/** Rounds for JSON output (4 significant decimals of a loss). */
export const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;
