// Observing one training run from a command line (`ingot train`): a tracked run in the store and/or
// TensorBoard logs, as Keras callbacks the training passes to fit. Tracking never stops a training:
// if the store cannot be opened, it warns once and the training goes on untracked.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TensorBoard } from "../keras/callbacks-tensorboard.js";
import { SummaryWriter } from "../tensorboard/summary-writer.js";
import { Callback, type Logs } from "../keras/history.js";
import { TrackingCallback } from "./callback.js";
import { jsonChecksum } from "./checksum.js";
import { RunStore } from "./run-store.js";
import type { ActiveRun } from "./run.js";
import type { StartRunOptions } from "./types.js";

export interface ObserveOptions {
  /** Record the run in the store (default true). */
  track?: boolean;
  /** The store's file (default: defaultRunsDb()). */
  db?: string;
  /** Write TensorBoard event files here (train/ and validation/, as Keras' callback). */
  logdir?: string | null;
  /** Batch metrics every N batches, in the store and the event files (default 20; 0: epochs only). */
  batchFreq?: number;
  /** The folder holding the dataset, for its checksum (hashed once, then cached by size and mtime). */
  datasetDir?: string | null;
  /** Where a warning goes (default stderr). */
  warn?: (message: string) => void;
}

/** Whether fit called the callbacks (a training loop of its own does not). */
class Witness extends Callback {
  ran = false;
  override onTrainBegin(): void {
    this.ran = true;
  }
}

/** What the training reports at its end. */
export interface TrainingOutcome {
  /** The saved model folder. */
  modelDir?: string;
  /** Final metrics. */
  metrics?: Record<string, number | undefined>;
  /** Per-epoch logs ({epoch: 1, loss, …}), written afterwards when fit's callbacks did not run. */
  history?: Record<string, number>[];
}

/** The run and callbacks of one observed training; call end() or fail() when it is over. */
export class TrainingObserver {
  readonly run: ActiveRun | null;
  readonly store: RunStore | null;
  /** Pass these to fit (`callbacks: [...mine, ...observer.callbacks]`). */
  readonly callbacks: Callback[] = [];
  private readonly witness = new Witness();
  private readonly opts: ObserveOptions;
  private writer: SummaryWriter | null = null;
  private stepped = false;

  constructor(start: StartRunOptions, opts: ObserveOptions = {}) {
    this.opts = opts;
    const warn = opts.warn ?? ((m: string) => process.stderr.write(`${m}\n`));
    const batchFreq = opts.batchFreq ?? 20;
    let store: RunStore | null = null;
    let run: ActiveRun | null = null;
    if (opts.track ?? true) {
      try {
        store = RunStore.open(opts.db);
        const datasetChecksum = opts.datasetDir && existsSync(opts.datasetDir) ? store.datasetChecksum(opts.datasetDir) : start.datasetChecksum;
        run = store.startRun({ ...start, logdir: opts.logdir ?? start.logdir, datasetChecksum });
      } catch (e) {
        warn(`this run is not tracked: ${(e as Error).message}`);
        store?.close();
        store = null;
      }
    }
    this.store = store;
    this.run = run;
    if (opts.logdir) this.callbacks.push(new TensorBoard({ logDir: opts.logdir, updateFreq: batchFreq > 0 ? batchFreq : "epoch" }));
    if (run) this.callbacks.push(new TrackingCallback(run, { batchFreq }));
    this.callbacks.push(this.witness);
  }

  /**
   * Logs values at a step from a training loop of its own (the LM trainer's iterations and evals):
   * to the run, and as scalars (tags as given) to `<logdir>/train`.
   */
  logStep(values: Record<string, number>, step: number): void {
    this.stepped = true;
    this.run?.log(values, step);
    if (!this.opts.logdir) return;
    this.writer ??= new SummaryWriter(join(this.opts.logdir, "train"));
    for (const [k, v] of Object.entries(values)) this.writer.addScalar(k, v, step);
  }

  /** Finishes the run: writes the history if nothing was logged while training, records the model folder and logs, tags card.json with the run id. */
  end(outcome: TrainingOutcome = {}): void {
    this.writer?.close();
    const epochs = (outcome.history ?? []).map(({ epoch: _epoch, seconds: _s, ...logs }) => logs as Logs);
    if (!this.witness.ran && !this.stepped && epochs.length > 0) {
      // A training loop without fit: the same records, written at the end.
      if (this.opts.logdir) TensorBoard.writeEpochs(this.opts.logdir, epochs);
      epochs.forEach((logs, i) => this.run?.log(logs, i + 1));
    }
    const run = this.run;
    if (!run) return;
    const card = outcome.modelDir ? join(outcome.modelDir, "card.json") : null;
    if (outcome.modelDir && existsSync(outcome.modelDir)) {
      run.set({ modelDir: outcome.modelDir });
      run.logArtifact("model", outcome.modelDir, { kind: "model" });
    }
    if (this.opts.logdir && existsSync(this.opts.logdir)) run.logArtifact("tensorboard", this.opts.logdir, { kind: "tensorboard" });
    if (card && existsSync(card)) {
      const c = JSON.parse(readFileSync(card, "utf8")) as Record<string, unknown>;
      // Generated data (no folder to hash) is identified by the spec that regenerates it.
      if (!run.record.datasetChecksum && c.data && typeof c.data === "object") run.set({ datasetChecksum: jsonChecksum(c.data) });
      const tmp = `${card}.tmp-${process.pid}`;
      writeFileSync(tmp, JSON.stringify({ ...c, run_id: run.id }, null, 2) + "\n");
      renameSync(tmp, card);
    }
    const metrics = Object.fromEntries(Object.entries(outcome.metrics ?? {}).filter((e): e is [string, number] => typeof e[1] === "number"));
    run.finish(metrics);
    this.store?.close();
  }

  /** Ends the run as failed with the error's message. */
  fail(error: unknown): void {
    this.writer?.close();
    this.run?.fail(error);
    this.store?.close();
  }
}
