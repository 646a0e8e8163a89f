// Dynamic batching: concurrent requests wait (up to maxWaitMs) in a bounded queue and run as one
// forward of up to maxBatch rows. A Gate bounds concurrent work that cannot be batched (generation).

/** Thrown by submit/acquire when the bounded queue is full; the server answers 429. */
export class QueueFullError extends Error {
  constructor(readonly depth: number) {
    super(`the queue is full (${depth} waiting)`);
  }
}

export interface BatcherOptions {
  /** Rows per forward at most; a single request with more rows runs alone. */
  maxBatch: number;
  /** How long the first queued request waits for others before its batch runs anyway (ms). */
  maxWaitMs: number;
  /** Requests that may wait; one more is refused with QueueFullError. */
  maxQueue: number;
  /** Called after each forward with its rows and requests. */
  onBatch?: (rows: number, requests: number) => void;
  /** Called when the number of waiting requests changes. */
  onDepth?: (depth: number) => void;
}

interface Pending<I, O> {
  item: I;
  rows: number;
  arrived: number;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/**
 * Gathers items into batches for `run`, which gets the items of one batch and returns one result
 * per item, in order. A batch runs when it holds maxBatch rows, when its oldest item has waited
 * maxWaitMs, or at once while draining. Batches never overlap.
 */
export class DynamicBatcher<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private running = false;
  private draining = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly run: (items: I[]) => O[] | Promise<O[]>,
    private readonly rowsOf: (item: I) => number,
    private readonly opts: BatcherOptions,
  ) {}

  /** Requests waiting for a batch. */
  get depth(): number {
    return this.queue.length;
  }

  /** Queues an item; resolves with its result. An abort signal takes it out of the queue if it is still waiting. */
  submit(item: I, signal?: AbortSignal): Promise<O> {
    if (this.queue.length >= this.opts.maxQueue) return Promise.reject(new QueueFullError(this.queue.length));
    return new Promise<O>((resolve, reject) => {
      const p: Pending<I, O> = { item, rows: this.rowsOf(item), arrived: performance.now(), resolve, reject };
      this.queue.push(p);
      this.opts.onDepth?.(this.queue.length);
      signal?.addEventListener(
        "abort",
        () => {
          const i = this.queue.indexOf(p);
          if (i >= 0) {
            this.queue.splice(i, 1);
            this.opts.onDepth?.(this.queue.length);
          }
          reject(signal.reason);
        },
        { once: true },
      );
      this.schedule();
    });
  }

  /** Runs what is queued without waiting for maxWaitMs (shutdown, reload); resolves when the queue is empty. */
  drain(): Promise<void> {
    this.draining = true;
    if (!this.queue.length && !this.running) return Promise.resolve();
    const done = new Promise<void>((r) => this.idle.push(r));
    this.schedule();
    return done;
  }

  private queuedRows(): number {
    let n = 0;
    for (const p of this.queue) n += p.rows;
    return n;
  }

  private schedule(): void {
    if (this.running) return; // the running batch schedules the next one when it ends
    if (!this.queue.length) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      for (const r of this.idle.splice(0)) r();
      return;
    }
    if (this.draining || this.opts.maxWaitMs <= 0 || this.queuedRows() >= this.opts.maxBatch) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      // setImmediate, not now: requests already read from the sockets in this turn join the batch.
      this.immediate ??= setImmediate(() => {
        this.immediate = null;
        void this.flush();
      });
      return;
    }
    if (!this.timer && !this.immediate) {
      const wait = Math.max(0, this.queue[0].arrived + this.opts.maxWaitMs - performance.now());
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, wait);
    }
  }

  private async flush(): Promise<void> {
    if (this.running || !this.queue.length) return this.schedule();
    const batch: Pending<I, O>[] = [];
    let rows = 0;
    while (this.queue.length && (batch.length === 0 || rows + this.queue[0].rows <= this.opts.maxBatch)) {
      const p = this.queue.shift()!;
      batch.push(p);
      rows += p.rows;
    }
    this.opts.onDepth?.(this.queue.length);
    this.running = true;
    try {
      const outs = await this.run(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(outs[i]));
    } catch (e) {
      for (const p of batch) p.reject(e);
    } finally {
      this.running = false;
    }
    this.opts.onBatch?.(rows, batch.length);
    this.schedule();
  }
}

/** At most `maxActive` holders at once; up to `maxQueue` more wait in order, beyond that QueueFullError. */
export class Gate {
  private activeCount = 0;
  private readonly waiting: { grant: () => void; reject: (e: unknown) => void }[] = [];
  private idle: (() => void)[] = [];

  constructor(
    readonly maxActive: number,
    readonly maxQueue: number,
    private readonly onChange?: (active: number, waiting: number) => void,
  ) {}

  get active(): number {
    return this.activeCount;
  }
  get depth(): number {
    return this.waiting.length;
  }

  /** Waits for a slot; resolves with the function that gives it back (call it exactly once). */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.activeCount < this.maxActive) return Promise.resolve(this.grant());
    if (this.waiting.length >= this.maxQueue) return Promise.reject(new QueueFullError(this.waiting.length));
    return new Promise((resolve, reject) => {
      const w = { grant: () => resolve(this.grant()), reject };
      this.waiting.push(w);
      this.onChange?.(this.activeCount, this.waiting.length);
      signal?.addEventListener(
        "abort",
        () => {
          const i = this.waiting.indexOf(w);
          if (i < 0) return; // already granted: the holder releases it
          this.waiting.splice(i, 1);
          this.onChange?.(this.activeCount, this.waiting.length);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Resolves when nothing holds or waits for a slot. */
  drain(): Promise<void> {
    if (!this.activeCount && !this.waiting.length) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private grant(): () => void {
    this.activeCount++;
    this.onChange?.(this.activeCount, this.waiting.length);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.activeCount--;
      const next = this.waiting.shift();
      this.onChange?.(this.activeCount, this.waiting.length);
      if (next) next.grant();
      else if (!this.activeCount) for (const r of this.idle.splice(0)) r();
    };
  }
}
