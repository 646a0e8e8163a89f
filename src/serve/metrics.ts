// Prometheus metrics in the text exposition format (version 0.0.4), written here rather than pulled
// in: counters, gauges (set or computed at scrape time) and cumulative histograms, with labels.
// Format: https://prometheus.io/docs/instrumenting/exposition_formats/

type Labels = Record<string, string>;

/** The content type Prometheus expects for the text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

function labelStr(labels: Labels, extra?: [string, string]): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

// Label sets as map keys: the values in the metric's label order.
const keyOf = (names: readonly string[], labels: Labels) => names.map((n) => labels[n] ?? "").join("\u0000");

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
  ) {}
  abstract readonly type: "counter" | "gauge" | "histogram";
  protected abstract samples(): string[];
  expose(): string {
    return [`# HELP ${this.name} ${this.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${this.name} ${this.type}`, ...this.samples()].join("\n") + "\n";
  }
}

/** A value that only goes up. */
export class Counter extends Metric {
  readonly type = "counter";
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  inc(labels: Labels = {}, by = 1): void {
    const k = keyOf(this.labelNames, labels);
    const cur = this.values.get(k);
    if (cur) cur.value += by;
    else this.values.set(k, { labels: { ...labels }, value: by });
  }
  get(labels: Labels = {}): number {
    return this.values.get(keyOf(this.labelNames, labels))?.value ?? 0;
  }
  protected samples(): string[] {
    return [...this.values.values()].map((s) => `${this.name}${labelStr(s.labels)} ${formatValue(s.value)}`);
  }
}

/** A value that goes up and down; `collect` (optional) computes the values at scrape time. */
export class Gauge extends Metric {
  readonly type = "gauge";
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(name: string, help: string, labelNames: readonly string[] = [], private readonly collect?: (g: Gauge) => void) {
    super(name, help, labelNames);
  }
  set(labels: Labels, value: number): void {
    this.values.set(keyOf(this.labelNames, labels), { labels: { ...labels }, value });
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = keyOf(this.labelNames, labels);
    const cur = this.values.get(k);
    if (cur) cur.value += by;
    else this.values.set(k, { labels: { ...labels }, value: by });
  }
  dec(labels: Labels = {}, by = 1): void {
    this.inc(labels, -by);
  }
  /** Forgets every labelled value (a collector sets them again). */
  reset(): void {
    this.values.clear();
  }
  get(labels: Labels = {}): number {
    return this.values.get(keyOf(this.labelNames, labels))?.value ?? 0;
  }
  protected samples(): string[] {
    this.collect?.(this);
    return [...this.values.values()].map((s) => `${this.name}${labelStr(s.labels)} ${formatValue(s.value)}`);
  }
}

/** Counts of observations at or below each bucket bound (cumulative), their sum and count. */
export class Histogram extends Metric {
  readonly type = "histogram";
  readonly buckets: readonly number[];
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []) {
    super(name, help, labelNames);
    this.buckets = [...buckets].sort((a, b) => a - b);
  }
  observe(labels: Labels, value: number): void {
    const k = keyOf(this.labelNames, labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { labels: { ...labels }, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++;
    s.sum += value;
    s.count++;
  }
  /** Count and sum of one label set (tests, logs). */
  get(labels: Labels = {}): { count: number; sum: number; counts: number[] } {
    const s = this.series.get(keyOf(this.labelNames, labels));
    return s ? { count: s.count, sum: s.sum, counts: [...s.counts] } : { count: 0, sum: 0, counts: this.buckets.map(() => 0) };
  }
  protected samples(): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelStr(s.labels, ["le", formatValue(b)])} ${s.counts[i]}`));
      out.push(`${this.name}_bucket${labelStr(s.labels, ["le", "+Inf"])} ${s.count}`);
      out.push(`${this.name}_sum${labelStr(s.labels)} ${formatValue(s.sum)}`);
      out.push(`${this.name}_count${labelStr(s.labels)} ${s.count}`);
    }
    return out;
  }
}

/** The metrics of one server, exposed together. */
export class Registry {
  private readonly metrics: Metric[] = [];
  add<M extends Metric>(m: M): M {
    if (this.metrics.some((x) => x.name === m.name)) throw new Error(`metrics: ${m.name} is registered twice`);
    this.metrics.push(m);
    return m;
  }
  expose(): string {
    return this.metrics.map((m) => m.expose()).join("");
  }
}

/** Events per second over a sliding window (tokens/s): the sum of the last `windowMs` of events. */
export class RateWindow {
  private readonly events: [number, number][] = [];
  constructor(private readonly windowMs = 10_000) {}
  add(n: number, now = performance.now()): void {
    this.events.push([now, n]);
    this.trim(now);
  }
  rate(now = performance.now()): number {
    this.trim(now);
    if (!this.events.length) return 0;
    const total = this.events.reduce((a, [, n]) => a + n, 0);
    return total / (this.windowMs / 1000);
  }
  private trim(now: number): void {
    while (this.events.length && this.events[0][0] < now - this.windowMs) this.events.shift();
  }
}

/** Upper bounds of request latency buckets, in seconds. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Upper bounds of batch-size buckets (rows per forward). */
export const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/** The server's metrics, by name. */
export function serverMetrics() {
  const registry = new Registry();
  const tokenRates = new Map<string, RateWindow>();
  const m = {
    registry,
    requests: registry.add(new Counter("ingot_http_requests_total", "HTTP requests answered, by route pattern, method and status code.", ["route", "method", "status"])),
    latency: registry.add(new Histogram("ingot_http_request_duration_seconds", "Time from request to the end of the response, by route pattern.", LATENCY_BUCKETS, ["route"])),
    inflight: registry.add(new Gauge("ingot_http_requests_in_flight", "Requests received and not yet answered.")),
    batchSize: registry.add(new Histogram("ingot_batch_size", "Rows per model forward (dynamic batching gathers concurrent requests into one).", BATCH_BUCKETS, ["model"])),
    batchRequests: registry.add(new Histogram("ingot_batch_requests", "Requests per model forward.", BATCH_BUCKETS, ["model"])),
    queueDepth: registry.add(new Gauge("ingot_queue_depth", "Requests waiting for a batch slot (predict) or a generation slot (language models).", ["model"])),
    rejected: registry.add(new Counter("ingot_rejected_total", "Requests refused with 429 because the queue was full.", ["model"])),
    timeouts: registry.add(new Counter("ingot_timeouts_total", "Requests that ran past --timeout-ms.", ["model"])),
    promptTokens: registry.add(new Counter("ingot_prompt_tokens_total", "Prompt tokens read by language models.", ["model"])),
    generatedTokens: registry.add(new Counter("ingot_generated_tokens_total", "Tokens generated by language models.", ["model"])),
    tokensPerSecond: registry.add(
      new Gauge("ingot_generated_tokens_per_second", "Tokens generated per second over the last 10 s.", ["model"], (g) => {
        for (const [model, w] of tokenRates) g.set({ model }, w.rate());
      }),
    ),
    activeGenerations: registry.add(new Gauge("ingot_active_generations", "Generations running now.", ["model"])),
    reloads: registry.add(new Counter("ingot_model_reloads_total", "Model reloads, by result.", ["model", "result"])),
    modelInfo: registry.add(new Gauge("ingot_model_loaded", "1 for each loaded model, by kind (predictor or language-model).", ["model", "kind"])),
    rss: registry.add(
      new Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", [], (g) => g.set({}, process.memoryUsage.rss())),
    ),
    heap: registry.add(new Gauge("nodejs_heap_used_bytes", "V8 heap in use, in bytes.", [], (g) => g.set({}, process.memoryUsage().heapUsed))),
    /** Counts generated tokens for the counter and the tokens/s gauge. */
    countTokens(model: string, n: number): void {
      if (n <= 0) return;
      m.generatedTokens.inc({ model }, n);
      let w = tokenRates.get(model);
      if (!w) tokenRates.set(model, (w = new RateWindow()));
      w.add(n);
    },
  };
  return m;
}

export type ServerMetrics = ReturnType<typeof serverMetrics>;
