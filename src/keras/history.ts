// The Callback base class, the list that runs callbacks in order (awaiting async ones), and History.
import type { Model } from "./model.js";

/** Loss and metric values by name ('loss', 'accuracy', 'val_loss', …). */
export type Logs = Record<string, number>;

/** Where fit/evaluate print: process.stdout by default. */
export interface LogStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

/** What fit tells its callbacks (Keras' callback.params). */
export interface TrainParams {
  epochs: number;
  initialEpoch: number;
  /** Batches per epoch (null when the data source has no length). */
  steps: number | null;
  /** Training samples (null for a batch source). */
  samples: number | null;
  batchSize: number | null;
  verbose: number;
  doValidation: boolean;
  /** The names logged each epoch ('loss', metrics, and val_ versions). */
  metrics: string[];
  /** The stream fit prints to. */
  out: LogStream;
}

/**
 * Hooks called by fit. Override the ones you need; each may return a Promise, which fit awaits.
 * `this.model` is the model being trained (set stopTraining to end training after this epoch).
 */
export class Callback {
  model: Model | null = null;
  params: TrainParams | null = null;

  setModel(model: Model): void {
    this.model = model;
  }
  setParams(params: TrainParams): void {
    this.params = params;
  }
  /** Prints a line on fit's stream. */
  protected print(line: string): void {
    (this.params?.out ?? process.stdout).write(line + "\n");
  }
  onTrainBegin(_logs?: Logs): void | Promise<void> {}
  onTrainEnd(_logs?: Logs): void | Promise<void> {}
  onEpochBegin(_epoch: number, _logs?: Logs): void | Promise<void> {}
  onEpochEnd(_epoch: number, _logs?: Logs): void | Promise<void> {}
  onBatchBegin(_batch: number, _logs?: Logs): void | Promise<void> {}
  onBatchEnd(_batch: number, _logs?: Logs): void | Promise<void> {}
}

/** Hooks given as a plain object (TF.js' CustomCallbackArgs): `{onEpochEnd: async (epoch, logs) => …}`. */
export type CustomCallbackArgs = Partial<Pick<Callback, "onTrainBegin" | "onTrainEnd" | "onEpochBegin" | "onEpochEnd" | "onBatchBegin" | "onBatchEnd">>;

/** Wraps plain-object hooks as a Callback. */
export class CustomCallback extends Callback {
  constructor(hooks: CustomCallbackArgs) {
    super();
    for (const k of ["onTrainBegin", "onTrainEnd", "onEpochBegin", "onEpochEnd", "onBatchBegin", "onBatchEnd"] as const) {
      const f = hooks[k];
      if (f !== undefined && typeof f !== "function") throw new TypeError(`callbacks: ${k} must be a function`);
      if (f) (this as unknown as Record<string, unknown>)[k] = f;
    }
  }
}

/** Runs callbacks in order; awaits the ones that return a Promise. */
export class CallbackList {
  readonly callbacks: Callback[];
  constructor(callbacks: (Callback | CustomCallbackArgs)[]) {
    this.callbacks = callbacks.map((c) => (c instanceof Callback ? c : new CustomCallback(c)));
  }
  setModel(m: Model): void {
    for (const c of this.callbacks) c.setModel(m);
  }
  setParams(p: TrainParams): void {
    for (const c of this.callbacks) c.setParams(p);
  }
  private async run(f: (c: Callback) => void | Promise<void>): Promise<void> {
    for (const c of this.callbacks) {
      const r = f(c);
      if (r && typeof (r as Promise<void>).then === "function") await r;
    }
  }
  onTrainBegin(logs: Logs = {}): Promise<void> {
    return this.run((c) => c.onTrainBegin(logs));
  }
  onTrainEnd(logs: Logs = {}): Promise<void> {
    return this.run((c) => c.onTrainEnd(logs));
  }
  onEpochBegin(epoch: number, logs: Logs = {}): Promise<void> {
    return this.run((c) => c.onEpochBegin(epoch, logs));
  }
  onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    return this.run((c) => c.onEpochEnd(epoch, logs));
  }
  onBatchBegin(batch: number, logs: Logs): Promise<void> {
    return this.run((c) => c.onBatchBegin(batch, logs));
  }
  onBatchEnd(batch: number, logs: Logs): Promise<void> {
    return this.run((c) => c.onBatchEnd(batch, logs));
  }
}

/** What fit returns: every epoch's logs by name (`history.history.loss[e]`, `val_loss`, metrics) and the epoch numbers. */
export class History extends Callback {
  epoch: number[] = [];
  history: Record<string, number[]> = {};

  override onTrainBegin(): void {
    this.epoch = [];
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}
