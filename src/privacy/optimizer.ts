// DPOptimizer: wraps any ingot.optim optimizer and, at each step, replaces the batch gradient by
// the DP-SGD one (Abadi et al. 2016, Alg. 1; Opacus's DPOptimizer):
//   g_b   = per-sample gradient of sample b (all parameters, flattened together)
//   ĝ_b   = g_b · min(1, C / (‖g_b‖ + 1e-6))                 per-sample clipping to maxGradNorm C
//   g̃     = (Σ_b ĝ_b + N(0, σ²C²·I)) / E[B]                  noise, then the expected batch size
// and then runs the wrapped optimizer's update with g̃. Each step is recorded in the accountant.
import { type Generator, IngotError, Tensor, ValueError } from "../tensor/index.js";
import { add, matmul, mul, randn, reshape, sqrt, sum, transpose, zeros } from "../ops/index.js";
import { enableGrad, noGrad } from "../autograd/index.js";
import { Optimizer, type OptimizerStateDict } from "../optim/optimizer.js";
import type { GradSampleModule } from "./grad-sample.js";
import type { Accountant } from "./rdp.js";

export interface DPOptimizerOptions {
  /** σ: the noise standard deviation is σ·maxGradNorm. */
  noiseMultiplier: number;
  /** C: each sample's gradient is clipped to this L2 norm (over all parameters together). */
  maxGradNorm: number;
  /** E[B]: the summed noisy gradient is divided by it ("mean" loss reduction; 1 for "sum"). */
  expectedBatchSize: number;
  /** The sampling rate recorded in the accountant at each step. */
  sampleRate: number;
  gradSample: GradSampleModule;
  accountant?: Accountant | null;
  /** Noise generator (default: the default generator, so manualSeed repeats a run). */
  generator?: Generator;
}

/** A differentially private version of `optimizer` (same parameter groups, state and hyper-parameters). */
export class DPOptimizer extends Optimizer {
  readonly original: Optimizer;
  noiseMultiplier: number;
  maxGradNorm: number;
  expectedBatchSize: number;
  sampleRate: number;
  readonly gradSample: GradSampleModule;
  readonly accountant: Accountant | null;
  private readonly generator?: Generator;
  /** Per-sample gradient norms (before clipping) of the last step, for diagnostics. */
  lastPerSampleNorms: Float32Array | Float64Array | null = null;
  /** Batch size of the last step. */
  lastBatchSize = 0;

  constructor(optimizer: Optimizer, opts: DPOptimizerOptions) {
    if (!(optimizer instanceof Optimizer)) throw new ValueError("DPOptimizer: the first argument must be an ingot.optim optimizer (new optim.SGD(model.parameters(), {lr}))");
    if (optimizer instanceof DPOptimizer) throw new ValueError("DPOptimizer: the optimizer is already private; wrap the original optimizer once");
    super(optimizer.paramGroups.flatMap((g) => g.params), optimizer.defaults);
    // Share the wrapped optimizer's groups and state, so schedulers and stateDict see one object.
    Object.defineProperty(this, "paramGroups", { value: optimizer.paramGroups, writable: false });
    Object.defineProperty(this, "state", { value: optimizer.state, writable: false });
    this.original = optimizer;
    if (!(opts.noiseMultiplier >= 0) || !Number.isFinite(opts.noiseMultiplier)) throw new ValueError(`DPOptimizer: noiseMultiplier must be a finite number ≥ 0, got ${opts.noiseMultiplier}`);
    if (!(opts.maxGradNorm > 0) || !Number.isFinite(opts.maxGradNorm)) throw new ValueError(`DPOptimizer: maxGradNorm must be a finite number > 0, got ${opts.maxGradNorm}`);
    if (!(opts.expectedBatchSize > 0)) throw new ValueError(`DPOptimizer: expectedBatchSize must be > 0, got ${opts.expectedBatchSize}`);
    this.noiseMultiplier = opts.noiseMultiplier;
    this.maxGradNorm = opts.maxGradNorm;
    this.expectedBatchSize = opts.expectedBatchSize;
    this.sampleRate = opts.sampleRate;
    this.gradSample = opts.gradSample;
    this.accountant = opts.accountant ?? null;
    this.generator = opts.generator;
    const covered = new Set(this.gradSample.parameters());
    const missing = this.paramGroups.flatMap((g) => g.params).filter((p) => p.requiresGrad && !covered.has(p as never));
    if (missing.length)
      throw new ValueError(`DPOptimizer: ${missing.length} parameter(s) of the optimizer are not in the private model; build the optimizer from the same model's parameters()`);
  }

  protected override updateGroup(): void {
    throw new IngotError("DPOptimizer: internal error, updateGroup is delegated to the wrapped optimizer");
  }

  /** Clears gradients and the recorded per-sample data. */
  override zeroGrad(setToNone = true): void {
    this.original.zeroGrad(setToNone);
    this.gradSample.clear();
  }

  /**
   * Clips the per-sample gradients, adds noise, sets each parameter's .grad to the private
   * gradient, and runs the wrapped optimizer's step. Works for empty batches (noise only).
   */
  override step(closure?: () => Tensor | number): number | undefined {
    let loss: number | undefined;
    if (closure) {
      const l = enableGrad(closure);
      loss = l instanceof Tensor ? l.item() : l;
    }
    this.privatize();
    this.original.step();
    this.accountant?.step({ noiseMultiplier: this.noiseMultiplier, sampleRate: this.sampleRate });
    this.gradSample.clear();
    return loss;
  }

  /** Replaces every parameter's .grad by the clipped, noised, averaged gradient (without stepping). */
  privatize(): void {
    const { batchSize: B, grads, factored } = this.gradSample.clippingInputs();
    const params = this.paramGroups.flatMap((g) => g.params).filter((p) => p.requiresGrad);
    this.lastBatchSize = B;
    noGrad(() => {
      let factor: Tensor | null = null; // [1, B]
      if (B > 0) {
        let sq: Tensor | null = null;
        const addSq = (s: Tensor) => (sq = sq ? add(sq, s) : s);
        for (const p of params) {
          const g = grads.get(p as never);
          if (g) addSq(sum(reshape(g, [B, -1]).square(), 1));
          const f = factored.get(p as never);
          if (f) addSq(mul(sum(f.g.square(), 1), sum(f.a.square(), 1))); // ‖g_b a_bᵀ‖² = ‖g_b‖²‖a_b‖²
        }
        if (sq) {
          const norms = sqrt(sq);
          this.lastPerSampleNorms = norms.dataSync() as Float32Array;
          factor = reshape(norms.add(1e-6).reciprocal().mul(this.maxGradNorm).clamp(null, 1), [1, B]);
        }
      }
      const std = this.noiseMultiplier * this.maxGradNorm;
      for (const p of params) {
        const g = grads.get(p as never);
        const f = factored.get(p as never);
        let summed: Tensor;
        if (g && factor) summed = reshape(matmul(factor.to(g.dtype), reshape(g, [B, -1])), p.shape);
        else if (f && factor) {
          const gf = mul(f.g, reshape(factor, [B, 1]).to(f.g.dtype)); // f_b·g_b
          summed = f.transposed ? matmul(transpose(f.a, 0, 1), gf) : matmul(transpose(gf, 0, 1), f.a);
        } else summed = zeros(p.shape, { dtype: p.dtype });
        const noisy = std > 0 ? add(summed, randn(p.shape, { dtype: p.dtype, generator: this.generator }).mul(std)) : summed;
        p.grad = noisy.div(this.expectedBatchSize);
      }
    });
  }


  override stateDict(): OptimizerStateDict {
    return this.original.stateDict();
  }

  override loadStateDict(sd: OptimizerStateDict): void {
    this.original.loadStateDict(sd);
  }
}
