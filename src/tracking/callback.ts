// A Keras callback that records fit's metrics in a tracked run as it trains: every epoch's logs
// at step = epoch number (from 1), and `batch_<name>` every `batchFreq` batches at step = batches so far.
import { Callback, type Logs } from "../keras/history.js";
import type { ActiveRun } from "./run.js";

export interface TrackingCallbackOptions {
  /** Also log the batch metrics every N batches (default 0: epochs only). */
  batchFreq?: number;
}

/** Logs fit's metrics to `run` while it trains (a dashboard reading the store sees them at once). */
export class TrackingCallback extends Callback {
  private step = 0;
  private t0 = 0;
  /** Epochs logged so far. */
  epochs = 0;
  private readonly batchFreq: number;

  constructor(
    readonly run: ActiveRun,
    opts: TrackingCallbackOptions = {},
  ) {
    super();
    this.batchFreq = opts.batchFreq ?? 0;
  }

  override onTrainBegin(): void {
    this.step = 0;
  }

  override onEpochBegin(): void {
    this.t0 = performance.now();
  }

  override onBatchEnd(_batch: number, logs: Logs = {}): void {
    this.step++;
    if (this.batchFreq <= 0 || this.step % this.batchFreq !== 0) return;
    const values: Record<string, number> = {};
    for (const [k, v] of Object.entries(logs)) if (k !== "batch" && k !== "size") values[`batch_${k}`] = v;
    this.run.log(values, this.step);
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    this.run.log({ ...logs, epoch_seconds: (performance.now() - this.t0) / 1000 }, epoch + 1);
    this.epochs++;
  }
}
