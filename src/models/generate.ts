// Autoregressive generation for causal language models: greedy or sampled (temperature, top-k, top-p,
// repetition penalty), stop sequences, seeds, batched prompts of any lengths, a callback and an async iterator.
import { defaultGenerator, Generator as RandomGenerator, IndexError, type Tensor, ValueError } from "../tensor/index.js";
import { tensor } from "../ops/index.js";
import { noGrad } from "../autograd/index.js";
import type { Module } from "../nn/index.js";
import { KVCache } from "./kv-cache.js";

/** Prompts: one sequence of token ids, several (their lengths may differ), or an int32 tensor (T) or (B, T). */
export type Prompts = Tensor | readonly number[] | readonly (readonly number[])[];

export interface GeneratedToken {
  /** The prompt's index in the batch. */
  row: number;
  token: number;
  /** 0 for the first new token of the row. */
  step: number;
  /** This token ends the row (a stop matched, or maxNewTokens reached). */
  done: boolean;
}

export interface GenerateOptions {
  /** Divides the logits; 0 is greedy (argmax). Default 1. */
  temperature?: number;
  /** Sample among the k most likely tokens only (ties with the k-th are kept). */
  topK?: number | null;
  /** Nucleus sampling: the smallest set of most likely tokens whose probability reaches p, in (0, 1]. */
  topP?: number | null;
  /** > 1 discourages tokens already in the row (prompt included): logit/θ if positive, logit·θ if not (CTRL). Default 1. */
  repetitionPenalty?: number;
  /** A row ends after producing one of these token sequences, or a text containing one of these strings (needs `tokenizer`). */
  stop?: readonly (readonly number[] | string)[];
  /** Decodes the new tokens for string stops. */
  tokenizer?: { decode(ids: number[]): string } | null;
  /** Seeds a generator of its own, so the same call repeats; default: the global generator (manualSeed). */
  seed?: number | null;
  /** Called with every new token, in row order within a step. */
  onToken?: (t: GeneratedToken) => void;
}

/** What generation needs of a model: GPT satisfies it. */
export interface CausalLM extends Module {
  readonly config: { blockSize: number; vocabSize: number };
  forward(idx: Tensor, targets?: Tensor | null, opts?: { cache?: KVCache | null; attentionMask?: Tensor | null; lastOnly?: boolean }): { logits: Tensor };
}

/** Runs generation to the end: every row's prompt followed by its new tokens. */
export function generate(model: CausalLM, prompts: Prompts, maxNewTokens: number, opts: GenerateOptions = {}): number[][] {
  const rows = promptRows(model, prompts);
  for (const step of decodeSteps(model, rows, maxNewTokens, opts)) for (const t of step) rows[t.row].push(t.token);
  return rows;
}

/** Generation as an async iterator of tokens; it yields to the event loop after each step. Breaking out stops it. */
export async function* streamTokens(model: CausalLM, prompts: Prompts, maxNewTokens: number, opts: GenerateOptions = {}): AsyncGenerator<GeneratedToken, void, undefined> {
  for (const step of decodeSteps(model, promptRows(model, prompts), maxNewTokens, opts)) {
    yield* step;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** The prompts as arrays of ids, checked against the vocabulary. */
function promptRows(model: CausalLM, prompts: Prompts): number[][] {
  let rows: number[][];
  if (Array.isArray(prompts)) rows = prompts.length && Array.isArray(prompts[0]) ? (prompts as number[][]).map((r) => [...r]) : [[...(prompts as number[])]];
  else {
    const t = prompts as Tensor;
    if ((t.ndim !== 1 && t.ndim !== 2) || t.dtype !== "int32") throw new ValueError(`generate: a prompt tensor must be int32 (T) or (B, T), got ${t.dtype}[${t.shape}]`);
    const flat = [...t.dataSync()];
    const T = t.shape[t.ndim - 1];
    rows = Array.from({ length: t.ndim === 1 ? 1 : t.shape[0] }, (_, b) => flat.slice(b * T, (b + 1) * T));
  }
  if (!rows.length) throw new ValueError("generate: no prompts given");
  const V = model.config.vocabSize;
  rows.forEach((r, b) => {
    if (!Array.isArray(r)) throw new ValueError(`generate: prompt ${b} is not an array of token ids`);
    if (!r.length) throw new ValueError(`generate: prompt ${b} is empty; start it with at least one token (e.g. the end-of-text id)`);
    for (const id of r) if (!Number.isInteger(id) || id < 0 || id >= V) throw new IndexError(`generate: prompt ${b} holds token id ${id}, outside the vocabulary [0, ${V})`);
  });
  return rows;
}

function checkOptions(opts: GenerateOptions, maxNewTokens: number): void {
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new ValueError(`generate: maxNewTokens must be an integer ≥ 0, got ${maxNewTokens}`);
  const { temperature = 1, topK, topP, repetitionPenalty = 1 } = opts;
  if (!(temperature >= 0 && Number.isFinite(temperature))) throw new ValueError(`generate: temperature must be ≥ 0 (0 = greedy), got ${temperature}`);
  if (topK != null && !(Number.isInteger(topK) && topK >= 1)) throw new ValueError(`generate: topK must be an integer ≥ 1, got ${topK}`);
  if (topP != null && !(topP > 0 && topP <= 1)) throw new ValueError(`generate: topP must be in (0, 1], got ${topP}`);
  if (!(repetitionPenalty > 0 && Number.isFinite(repetitionPenalty))) throw new ValueError(`generate: repetitionPenalty must be > 0 (1 = off), got ${repetitionPenalty}`);
  for (const s of opts.stop ?? []) {
    if (!s.length) throw new ValueError("generate: a stop sequence is empty");
    if (typeof s === "string" && !opts.tokenizer) throw new ValueError(`generate: the stop string ${JSON.stringify(s)} needs a tokenizer (pass { tokenizer }) to decode the new tokens`);
  }
}

/**
 * The decoding loop: yields each step's new tokens (one per unfinished row). Rows are left-padded to
 * one width; while the context fits in blockSize each step feeds one token per row through the KV
 * cache. Beyond it the window slides, so every position changes and the cache is rebuilt from the last
 * blockSize tokens (exactly nanoGPT's cropping). The model runs in eval mode, restored afterwards.
 */
function* decodeSteps(model: CausalLM, prompts: number[][], maxNewTokens: number, opts: GenerateOptions): Generator<GeneratedToken[], void, undefined> {
  checkOptions(opts, maxNewTokens);
  const { blockSize } = model.config;
  const rng = opts.seed != null ? new RandomGenerator(opts.seed) : defaultGenerator;
  const rows = prompts.map((p, row) => ({ row, tokens: [...p], generated: [] as number[] }));
  let width = Math.max(...prompts.map((p) => p.length)); // columns of the padded batch
  let cache: KVCache | null = null;
  const modes = model.modules().map((m) => [m, m.training] as const);
  model.eval();
  try {
    for (let step = 0; step < maxNewTokens && rows.length; step++) {
      let feed: number[][];
      let real: number[][];
      if (!cache || cache.length + 1 > blockSize) {
        // (Re)build: the last blockSize columns of the left-padded batch.
        const w = Math.min(width, blockSize);
        cache = new KVCache();
        feed = rows.map((r) => padLeft(r.tokens, width).slice(width - w));
        real = rows.map((r) => padLeft(r.tokens.map(() => 1), width).slice(width - w));
      } else {
        feed = rows.map((r) => [r.tokens[r.tokens.length - 1]]);
        real = rows.map(() => [1]);
      }
      const B = rows.length;
      const T = feed[0].length;
      const idx = tensor(feed.flat(), { dtype: "int32", shape: [B, T] });
      const mask = real.some((r) => r.includes(0)) ? tensor(real.flat(), { dtype: "int32", shape: [B, T] }) : null;
      const c = cache;
      const logits = noGrad(() => model.forward(idx, null, { cache: c, attentionMask: mask, lastOnly: true }).logits); // (B, 1, V)
      const V = logits.shape[2];
      const data = Float64Array.from(logits.dataSync());
      width++;
      const out: GeneratedToken[] = [];
      const keep: number[] = [];
      rows.forEach((r, b) => {
        const token = pickToken(data.subarray(b * V, (b + 1) * V), r.tokens, opts, rng);
        r.tokens.push(token);
        r.generated.push(token);
        const done = step + 1 === maxNewTokens || stopped(r.generated, opts);
        out.push({ row: r.row, token, step, done });
        if (!done) keep.push(b);
      });
      for (const t of out) opts.onToken?.(t);
      yield out;
      if (keep.length < rows.length) {
        cache.selectRows(keep);
        const left = keep.map((b) => rows[b]);
        rows.length = 0;
        rows.push(...left);
      }
    }
  } finally {
    for (const [m, mode] of modes) m.training = mode;
  }
}

function padLeft(xs: number[], width: number): number[] {
  return [...new Array<number>(width - xs.length).fill(0), ...xs];
}

/** Whether the row's new tokens end with a stop sequence, or decode to a text containing a stop string. */
function stopped(generated: number[], opts: GenerateOptions): boolean {
  let text: string | null = null;
  for (const s of opts.stop ?? []) {
    if (typeof s === "string") {
      text ??= opts.tokenizer!.decode(generated);
      if (text.includes(s)) return true;
    } else if (s.length <= generated.length && s.every((id, i) => generated[generated.length - s.length + i] === id)) return true;
  }
  return false;
}

/** One token from a row of logits: repetition penalty, then greedy or temperature → top-k → top-p → a draw. */
export function pickToken(logits: Float64Array, context: readonly number[], opts: GenerateOptions, rng: RandomGenerator = defaultGenerator): number {
  const x = Float64Array.from(logits);
  const theta = opts.repetitionPenalty ?? 1;
  if (theta !== 1) for (const id of new Set(context)) x[id] = x[id] > 0 ? x[id] / theta : x[id] * theta;
  const temperature = opts.temperature ?? 1;
  if (temperature === 0) return argmax(x);
  for (let i = 0; i < x.length; i++) x[i] /= temperature;
  // Candidates, most likely first when top-k or top-p must cut the list (otherwise every token, unsorted).
  const cut = opts.topK != null || (opts.topP != null && opts.topP < 1);
  const order = Array.from(x.keys());
  if (cut) order.sort((a, b) => x[b] - x[a] || a - b);
  let n = order.length;
  if (opts.topK != null && opts.topK < n) {
    const kth = x[order[opts.topK - 1]];
    n = opts.topK;
    while (n < order.length && x[order[n]] === kth) n++;
  }
  // NOTE: probabilities shifted by the max before exp.
  const top = x[argmax(x)];
  const p = order.slice(0, n).map((i) => Math.exp(x[i] - top));
  let total = p.reduce((a, b) => a + b, 0);
  if (opts.topP != null && opts.topP < 1) {
    let cum = 0;
    let m = 0;
    while (m < n && cum < opts.topP * total) cum += p[m++];
    n = Math.max(m, 1);
    total = p.slice(0, n).reduce((a, b) => a + b, 0);
  }
  let u = rng.random() * total;
  for (let i = 0; i < n; i++) if ((u -= p[i]) < 0) return order[i];
  return order[n - 1];
}

function argmax(x: Float64Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}
