// A synthetic sequence-to-sequence task: dates written in many human formats ("Thursday, March 5,
// 1987", "5 Mar 1987", "3/5/1987") rewritten as ISO "1987-03-05", with a character-level vocabulary.
import { Generator, type Tensor, ValueError } from "../tensor/index.js";
import { tensor } from "../ops/index.js";

/** One example: the human-written date and its ISO form. */
export interface DatePair {
  source: string;
  target: string;
}

export interface DateTaskOptions {
  /** Training examples (default 20000). */
  trainSize?: number;
  /** Held-out examples (default 1000); their dates never occur in the training set. */
  testSize?: number;
  /** Seed of the generator (default 0): the same seed gives the same examples. */
  seed?: number;
  /** Years drawn uniformly from [minYear, maxYear] (default 1900–2099). */
  minYear?: number;
  maxYear?: number;
}

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const pad2 = (n: number) => String(n).padStart(2, "0");

/** The source formats: each a function of (year, month 1–12, day, weekday 0–6). US order for slashes, day first for dots. */
export const DATE_FORMATS: readonly ((y: number, m: number, d: number, wd: number) => string)[] = [
  (y, m, d) => `${MONTHS[m - 1]} ${d}, ${y}`, // March 5, 1987
  (y, m, d) => `${MONTHS[m - 1].toLowerCase()} ${d}, ${y}`, // march 5, 1987
  (y, m, d) => `${d} ${MONTHS[m - 1]} ${y}`, // 5 March 1987
  (y, m, d) => `${d} ${MONTHS[m - 1].slice(0, 3)} ${y}`, // 5 Mar 1987
  (y, m, d) => `${MONTHS[m - 1].slice(0, 3)} ${d}, ${y}`, // Mar 5, 1987
  (y, m, d) => `${MONTHS[m - 1].slice(0, 3).toUpperCase()} ${pad2(d)} ${y}`, // MAR 05 1987
  (y, m, d, wd) => `${DAYS[wd]}, ${MONTHS[m - 1]} ${d}, ${y}`, // Thursday, March 5, 1987
  (y, m, d, wd) => `${DAYS[wd].slice(0, 3)} ${d} ${MONTHS[m - 1].slice(0, 3)} ${y}`, // Thu 5 Mar 1987
  (y, m, d) => `${m}/${d}/${y}`, // 3/5/1987 (US order)
  (y, m, d) => `${pad2(d)}.${pad2(m)}.${y}`, // 05.03.1987 (day first)
  (y, m, d) => `${y}-${pad2(m)}-${pad2(d)}`, // already ISO
  (y, m, d) => `${d}th of ${MONTHS[m - 1]} ${y}`.replace(/^(1|21|31)th/, "$1st").replace(/^(2|22)th/, "$1nd").replace(/^(3|23)th/, "$1rd"), // 5th of March 1987
];

/** The ISO form YYYY-MM-DD. */
export const isoDate = (y: number, m: number, d: number): string => `${y}-${pad2(m)}-${pad2(d)}`;

/**
 * The character vocabulary shared by sources and targets: 0 = padding, 1 = start, 2 = end, then every
 * character the formats use. encode adds no special tokens; decode stops at the end token and skips
 * padding and start.
 */
export class DateVocab {
  static readonly PAD = 0;
  static readonly BOS = 1;
  static readonly EOS = 2;
  readonly chars: string[];
  private readonly index = new Map<string, number>();

  constructor() {
    const set = new Set<string>(" ,./-0123456789");
    for (const w of [...MONTHS, ...DAYS, "of", "st", "nd", "rd", "th"]) for (const c of w + w.toLowerCase() + w.toUpperCase()) set.add(c);
    this.chars = [...set].sort();
    this.chars.forEach((c, i) => this.index.set(c, i + 3));
  }

  get size(): number {
    return this.chars.length + 3;
  }

  encode(s: string): number[] {
    return [...s].map((c) => {
      const i = this.index.get(c);
      if (i === undefined) throw new ValueError(`DateVocab.encode: character ${JSON.stringify(c)} is not in the date vocabulary`);
      return i;
    });
  }

  decode(ids: readonly number[]): string {
    let s = "";
    for (const i of ids) {
      if (i === DateVocab.EOS) break;
      if (i >= 3 && i < this.size) s += this.chars[i - 3];
    }
    return s;
  }
}

/**
 * Generates the date-rewriting task: `trainSize` + `testSize` (source, target) pairs, each a uniformly
 * drawn date in a uniformly drawn format. Test dates are disjoint from training dates, so the test
 * measures rewriting, not memorization.
 * @example const { train, test, vocab } = dateTask({ trainSize: 5000, testSize: 200, seed: 1 });
 */
export function dateTask(opts: DateTaskOptions = {}): { train: DatePair[]; test: DatePair[]; vocab: DateVocab } {
  const trainSize = opts.trainSize ?? 20000;
  const testSize = opts.testSize ?? 1000;
  const minYear = opts.minYear ?? 1900;
  const maxYear = opts.maxYear ?? 2099;
  for (const [k, v] of Object.entries({ trainSize, testSize }))
    if (!Number.isInteger(v) || v < 0) throw new ValueError(`dateTask: ${k} must be a non-negative integer, got ${v}`);
  if (!Number.isInteger(minYear) || !Number.isInteger(maxYear) || minYear < 1000 || maxYear > 9999 || minYear > maxYear)
    throw new ValueError(`dateTask: years must be integers with 1000 ≤ minYear ≤ maxYear ≤ 9999, got ${minYear}–${maxYear}`);
  const start = Date.UTC(minYear, 0, 1);
  const days = Math.round((Date.UTC(maxYear + 1, 0, 1) - start) / 86400000);
  if (testSize > days / 2) throw new ValueError(`dateTask: testSize ${testSize} leaves too few dates for training; widen the years or lower testSize`);
  const g = new Generator(opts.seed ?? 0);
  // Held-out dates first (distinct), then training dates drawn from the rest.
  const held = new Set<number>();
  while (held.size < testSize) held.add(Math.floor(g.random() * days));
  const pair = (day: number): DatePair => {
    const t = new Date(start + day * 86400000);
    const [y, m, d, wd] = [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate(), t.getUTCDay()];
    const f = DATE_FORMATS[Math.floor(g.random() * DATE_FORMATS.length)];
    return { source: f(y, m, d, wd), target: isoDate(y, m, d) };
  };
  const test = [...held].map(pair);
  const train: DatePair[] = [];
  while (train.length < trainSize) {
    const day = Math.floor(g.random() * days);
    if (!held.has(day)) train.push(pair(day));
  }
  return { train, test, vocab: new DateVocab() };
}

/**
 * A batch for teacher forcing: src (N, S) padded with 0 to the longest source, tgtIn (N, T) = start
 * token + target, tgtOut (N, T) = target + end token (all int32).
 */
export function dateBatch(pairs: readonly DatePair[], vocab: DateVocab): { src: Tensor; tgtIn: Tensor; tgtOut: Tensor } {
  const srcIds = pairs.map((p) => vocab.encode(p.source));
  const tgtIds = pairs.map((p) => vocab.encode(p.target));
  const S = Math.max(1, ...srcIds.map((s) => s.length));
  const T = Math.max(0, ...tgtIds.map((t) => t.length)) + 1;
  const N = pairs.length;
  const src = new Int32Array(N * S);
  const tin = new Int32Array(N * T);
  const tout = new Int32Array(N * T);
  for (let n = 0; n < N; n++) {
    src.set(srcIds[n], n * S);
    tin.set([DateVocab.BOS, ...tgtIds[n]], n * T);
    tout.set([...tgtIds[n], DateVocab.EOS], n * T);
  }
  return {
    src: tensor(src, { dtype: "int32", shape: [N, S] }),
    tgtIn: tensor(tin, { dtype: "int32", shape: [N, T] }),
    tgtOut: tensor(tout, { dtype: "int32", shape: [N, T] }),
  };
}
