// A Keras callback that profiles training batches of fit: it skips `wait` batches (warm-up), records
// the next `active` batches, each as a `ProfilerStep#n` range (torch.profiler's schedule(wait, active)),
// and can stop the training after them.
import { Callback } from "../keras/history.js";
import { ValueError } from "../tensor/index.js";
import { Profiler, type ProfilerOptions } from "./profiler.js";

export interface ProfilerCallbackOptions extends ProfilerOptions {
  /** Batches to skip before recording (default 1: the first batch allocates optimizer state). */
  wait?: number;
  /** Batches to record (default 1). */
  active?: number;
  /** End fit after the recorded batches (sets model.stopTraining; default false). */
  stopAfter?: boolean;
}

export class ProfilerCallback extends Callback {
  readonly profiler: Profiler;
  readonly wait: number;
  readonly active: number;
  private readonly stopAfter: boolean;
  private seen = 0;
  private recorded = 0;

  constructor(opts: ProfilerCallbackOptions = {}) {
    super();
    this.wait = opts.wait ?? 1;
    this.active = opts.active ?? 1;
    if (!Number.isInteger(this.wait) || this.wait < 0) throw new ValueError(`ProfilerCallback: wait must be an integer ≥ 0, got ${this.wait}`);
    if (!Number.isInteger(this.active) || this.active < 1) throw new ValueError(`ProfilerCallback: active must be an integer ≥ 1, got ${this.active}`);
    this.stopAfter = opts.stopAfter ?? false;
    this.profiler = new Profiler(opts);
  }

  /** Whether every batch asked for was recorded. */
  get done(): boolean {
    return this.recorded >= this.active;
  }

  override onBatchBegin(): void {
    if (this.seen++ < this.wait || this.done) return;
    if (this.recorded === 0) this.profiler.start();
    this.profiler.step();
  }

  override onBatchEnd(): void {
    if (this.seen <= this.wait || this.done) return;
    this.recorded++;
    if (this.done) {
      this.profiler.stop();
      if (this.stopAfter && this.model) this.model.stopTraining = true;
    }
  }

  override onTrainEnd(): void {
    this.profiler.stop();
  }
}
