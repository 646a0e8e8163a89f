// Retrieval over the FAQ, hybrid as search engines do it: a lexical score (Okapi BM25 over each entry's
// question, paraphrases and answer) plus a dense score from the assistant's own model (the mean of the
// GPT's last hidden states over a question's tokens, centred on the mean of the indexed embeddings and
// L2-normalized; cosine similarity to the entry's best-matching question or paraphrase). The scores are
// combined as bm25 / max(bm25) + weight · cosine.
import * as ingot from "../../../src/index.js";
import type { FaqEntry } from "./faq.js";

type GPT = ingot.models.GPT;

/** The last hidden states (T, C) of a GPT over token ids: the trunk of GPT.forward without the output head. */
export function hiddenStates(gpt: GPT, ids: readonly number[]): ingot.Tensor {
  const T = Math.min(ids.length, gpt.config.blockSize);
  const last = ids.slice(ids.length - T);
  return ingot.noGrad(() => {
    const t = gpt.transformer;
    const idx = ingot.tensor(Int32Array.from(last), { dtype: "int32", shape: [1, T] });
    const pos = ingot.arange(0, T, 1, { dtype: "int32" });
    let x = ingot.add(t.wte.call(idx), t.wpe.call(pos));
    t.h.children().forEach((block, layer) => (x = (block as ingot.models.Block).call(x, { attnMask: null, isCausal: true, cache: null, layer })));
    return t.ln_f.call(x).reshape([T, gpt.config.nEmbd]);
  });
}

/** How a question is put to the model before pooling: as the user's turn of the chat template. */
export const embeddingText = (question: string): string => `User: ${question.trim()}\n`;

/** The mean-pooled last hidden state of a text, as float64. */
export function embed(gpt: GPT, tok: ingot.text.Tokenizer, text: string): Float64Array {
  const ids = tok.encode(embeddingText(text));
  const h = hiddenStates(gpt, ids).mean(0).dataSync();
  return Float64Array.from(h);
}

function normalize(v: Float64Array): Float64Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  return v.map((x) => x / n);
}

export interface SearchHit {
  entry: FaqEntry;
  /** The combined score: bm25 / (the best bm25 of the query) + denseWeight · cosine. */
  score: number;
  /** Okapi BM25 of the query against the entry's text. */
  bm25: number;
  /** Cosine similarity of the query's embedding to the entry's best-matching indexed question. */
  cosine: number;
}

/** Lower-case words and numbers (the lexical terms). */
export const terms = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/**
 * Okapi BM25 (Robertson & Zaragoza 2009, with Lucene's idf = ln(1 + (N − df + 0.5)/(df + 0.5)),
 * k1 = 1.2, b = 0.75) over a fixed set of documents.
 */
export class Bm25 {
  private readonly tf: Map<string, number>[];
  private readonly idf = new Map<string, number>();
  private readonly lengths: number[];
  private readonly avg: number;

  constructor(
    docs: readonly string[],
    private readonly k1 = 1.2,
    private readonly b = 0.75,
  ) {
    const toks = docs.map(terms);
    this.lengths = toks.map((t) => t.length);
    this.avg = this.lengths.reduce((a, n) => a + n, 0) / Math.max(1, docs.length);
    this.tf = toks.map((t) => {
      const m = new Map<string, number>();
      for (const w of t) m.set(w, (m.get(w) ?? 0) + 1);
      return m;
    });
    const df = new Map<string, number>();
    for (const m of this.tf) for (const w of m.keys()) df.set(w, (df.get(w) ?? 0) + 1);
    for (const [w, n] of df) this.idf.set(w, Math.log(1 + (docs.length - n + 0.5) / (n + 0.5)));
  }

  /** The score of every document for the query. */
  scores(query: string): number[] {
    const q = [...new Set(terms(query))];
    return this.tf.map((m, d) => {
      let s = 0;
      for (const w of q) {
        const f = m.get(w);
        if (f) s += (this.idf.get(w)! * f * (this.k1 + 1)) / (f + this.k1 * (1 - this.b + (this.b * this.lengths[d]) / this.avg));
      }
      return s;
    });
  }
}

/** The FAQ indexed for hybrid search: BM25 over each entry's text, embeddings of its questions. */
export class FaqIndex {
  private readonly keys: { entry: number; v: Float64Array }[] = [];
  private readonly mean: Float64Array;
  private readonly bm25: Bm25;

  /** denseWeight: the weight of the cosine against the normalized BM25 (0: lexical only). */
  constructor(
    private readonly gpt: GPT,
    private readonly tok: ingot.text.Tokenizer,
    readonly faq: readonly FaqEntry[],
    readonly denseWeight = 0.5,
  ) {
    const raw = faq.flatMap((entry, i) => [entry.question, ...entry.paraphrases].map((q) => ({ entry: i, v: embed(gpt, tok, q) })));
    // Centring removes the direction every embedding shares (anisotropy), which otherwise dominates the cosine.
    this.mean = new Float64Array(gpt.config.nEmbd);
    for (const { v } of raw) v.forEach((x, i) => (this.mean[i] += x / raw.length));
    for (const { entry, v } of raw) this.keys.push({ entry, v: this.unit(v) });
    this.bm25 = new Bm25(faq.map((e) => [e.question, ...e.paraphrases, e.answer].join(" ")));
  }

  private unit(v: Float64Array): Float64Array {
    return normalize(v.map((x, i) => x - this.mean[i]));
  }

  /** The k best entries for a question, best first. */
  search(question: string, k = 1): SearchHit[] {
    const q = this.unit(embed(this.gpt, this.tok, question));
    const cos = new Array<number>(this.faq.length).fill(-1);
    for (const { entry, v } of this.keys) {
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i] * q[i];
      cos[entry] = Math.max(cos[entry], s);
    }
    const lex = this.bm25.scores(question);
    const top = Math.max(...lex) || 1;
    return this.faq
      .map((entry, i) => ({ entry, bm25: lex[i], cosine: cos[i], score: lex[i] / top + this.denseWeight * cos[i] }))
      .sort((a, b) => b.score - a.score)
      .slice(0, k);
  }
}
