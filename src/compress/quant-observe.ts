// Observers for static post-training quantization: they watch a layer's inputs while calibration
// batches run and turn the range they saw into one fixed symmetric int8 activation scale.
import { noGrad } from "../autograd/index.js";
import { type Tensor, ValueError } from "../tensor/index.js";
import type { Module } from "../nn/module.js";

/** Records activation ranges; `scale()` gives the int8 scale (range / 127) once calibration is over. */
export interface Observer {
  observe(x: Tensor): void;
  /** The absolute range the scale covers. */
  range(): number;
  /** range / 127: values beyond ±range clamp to ±127. */
  scale(): number;
  /** Number of values seen. */
  readonly count: number;
}

/** The running minimum and maximum (PyTorch's MinMaxObserver); symmetric: range = max(|min|, |max|). */
export class MinMaxObserver implements Observer {
  min = Infinity;
  max = -Infinity;
  count = 0;

  observe(x: Tensor): void {
    const d = x.contiguous().dataSync();
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
    }
    this.count += d.length;
  }

  range(): number {
    return this.count ? Math.max(Math.abs(this.min), Math.abs(this.max)) : 0;
  }

  scale(): number {
    return scaleOf(this.range());
  }
}

export interface PercentileObserverOptions {
  /** The percentile of |x| the range covers, in (0, 100] (default 99.99): rarer outliers clamp. */
  percentile?: number;
  /** Values kept (a uniform reservoir sample, seeded); default 2^18. */
  samples?: number;
}

/**
 * The range is a high percentile of |x| rather than its maximum, so that a few outliers do not
 * stretch the scale (and waste the 8 bits on values that almost never occur). Keeps a fixed-size
 * uniform reservoir sample of |x| (seeded, so calibration repeats).
 */
export class PercentileObserver implements Observer {
  readonly percentile: number;
  private readonly reservoir: Float32Array;
  private filled = 0;
  count = 0;
  private seed = 0x9e3779b9;

  constructor(opts: PercentileObserverOptions = {}) {
    this.percentile = opts.percentile ?? 99.99;
    if (!(this.percentile > 0 && this.percentile <= 100)) throw new ValueError(`PercentileObserver: percentile must be in (0, 100], got ${this.percentile}`);
    this.reservoir = new Float32Array(opts.samples ?? 1 << 18);
  }

  /** xorshift32: a small seeded generator of its own, so calibration does not move the global one. */
  private next(): number {
    let s = this.seed;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.seed = s >>> 0;
    return this.seed / 4294967296;
  }

  observe(x: Tensor): void {
    const d = x.contiguous().dataSync();
    const cap = this.reservoir.length;
    for (let i = 0; i < d.length; i++) {
      const v = Math.abs(d[i]);
      this.count++;
      if (this.filled < cap) this.reservoir[this.filled++] = v;
      else {
        const j = Math.floor(this.next() * this.count);
        if (j < cap) this.reservoir[j] = v;
      }
    }
  }

  range(): number {
    if (!this.filled) return 0;
    const s = this.reservoir.slice(0, this.filled).sort();
    const idx = Math.min(this.filled - 1, Math.max(0, Math.ceil((this.percentile / 100) * this.filled) - 1));
    return s[idx];
  }

  scale(): number {
    return scaleOf(this.range());
  }
}

/** A positive int8 scale for a range (a layer that only ever saw zeros gets 1, any scale works there). */
function scaleOf(range: number): number {
  return range > 0 && Number.isFinite(range) ? range / 127 : 1;
}

export type ObserverName = "minmax" | "percentile";

export function makeObserver(name: ObserverName | undefined, percentile?: number): Observer {
  if (name === undefined || name === "minmax") return new MinMaxObserver();
  if (name === "percentile") return new PercentileObserver({ percentile });
  throw new ValueError(`quantize: observer must be 'minmax' or 'percentile', got ${JSON.stringify(name)}`);
}

/** A calibration set: one tensor (split into batches along dim 0) or an iterable of batches (a tensor, or [x, y] / {x} whose x is used). */
export type Calibration = Tensor | Iterable<Tensor | Tensor[] | { x: Tensor }>;

function* batchesOf(cal: Calibration, batchSize: number): Generator<Tensor> {
  if ("shape" in cal && "dtype" in cal) {
    const t = cal as Tensor;
    for (let i = 0; i < t.shape[0]; i += batchSize) yield t.slice(0, i, Math.min(t.shape[0], i + batchSize));
    return;
  }
  for (const b of cal as Iterable<Tensor | Tensor[] | { x: Tensor }>) {
    if (Array.isArray(b)) yield b[0];
    else if ("x" in b && !("shape" in b)) yield b.x;
    else yield b as Tensor;
  }
}

/**
 * Runs the calibration batches through the model (inference mode, no gradients) with an observer
 * on the input of each named layer; returns the observers. The layers' forward is restored after.
 */
export function calibrate(model: Module, layers: [string, Module][], cal: Calibration, make: () => Observer, batchSize = 256): Map<string, Observer> {
  const observers = new Map<string, Observer>();
  const modes = model.modules().map((m) => [m, m.training] as const);
  for (const [name, layer] of layers) {
    const obs = make();
    observers.set(name, obs);
    const self = layer as unknown as { forward: (...a: unknown[]) => unknown };
    const orig = self.forward;
    self.forward = (x: unknown, ...rest: unknown[]) => {
      obs.observe(x as Tensor);
      return orig.call(layer, x, ...rest);
    };
  }
  let n = 0;
  try {
    model.eval();
    noGrad(() => {
      for (const b of batchesOf(cal, batchSize)) {
        model.call(b);
        n++;
      }
    });
  } finally {
    for (const [, layer] of layers) delete (layer as unknown as Record<string, unknown>).forward;
    for (const [m, t] of modes) m.training = t;
  }
  if (n === 0) throw new ValueError("quantize: the calibration set is empty; pass a tensor of inputs or an iterable of batches");
  return observers;
}
