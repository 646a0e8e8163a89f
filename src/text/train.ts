// BPE training (Hugging Face's BpeTrainer algorithm): count pre-tokens once, then repeatedly merge the
// most frequent adjacent pair, updating pair counts only in the words that hold the merged pair.
import { ValueError } from "../tensor/index.js";
import { AddedVocab, specialToken } from "./added.js";
import { BpeTokenizer } from "./bpe.js";
import { PairHeap } from "./heap.js";
import { BYTE_TO_CHAR, compareCodePoints, GPT2_PATTERN, utf8Encode } from "./unicode.js";

// NOTE: a pair (a, b) is the number a·2^21 + b; ids stay below 2^21.
const KEY = 2 ** 21;

/** Options of learnMerges. */
export interface MergeOptions {
  vocabSize: number;
  minFrequency: number;
  /** The token a merge makes from its two parts. */
  join: (a: string, b: string) => string;
}

/**
 * Learns merges over words given as symbol ids with counts, growing `vocab`/`ids` until vocabSize
 * tokens. The most frequent pair wins; ties go to the smallest (first id, second id), so training is
 * deterministic. Returns the merges as token pairs in rank order; `words` are merged in place.
 */
export function learnMerges(words: number[][], counts: readonly number[], vocab: string[], ids: Map<string, number>, opts: MergeOptions): [string, string][] {
  const pairCount = new Map<number, number>();
  const where = new Map<number, Set<number>>(); // pair → words that may hold it (never shrinks)
  const note = (key: number, delta: number, w: number) => {
    pairCount.set(key, (pairCount.get(key) ?? 0) + delta);
    if (delta > 0) {
      let s = where.get(key);
      if (s === undefined) where.set(key, (s = new Set()));
      s.add(w);
    }
  };
  words.forEach((word, w) => {
    for (let i = 0; i + 1 < word.length; i++) note(word[i] * KEY + word[i + 1], counts[w], w);
  });
  // Max-heap on count via (−count, pair). Entries may be stale: counts only fall except for pairs
  // made by the latest merge, which are pushed again, so a popped entry whose count is current is the max.
  const heap = new PairHeap();
  for (const [key, c] of pairCount) if (c > 0) heap.push(-c, key);
  const merges: [string, string][] = [];
  const touched = new Set<number>();
  while (ids.size < opts.vocabSize && heap.size > 0) {
    const [negCount, key] = heap.peek();
    heap.pop();
    const count = pairCount.get(key) ?? 0;
    if (count !== -negCount) {
      if (count > 0) heap.push(-count, key);
      continue;
    }
    if (count < Math.max(1, opts.minFrequency)) break;
    const a = Math.floor(key / KEY);
    const b = key - a * KEY;
    const token = opts.join(vocab[a], vocab[b]);
    let merged = ids.get(token);
    if (merged === undefined) {
      merged = vocab.length;
      vocab.push(token);
      ids.set(token, merged);
    }
    merges.push([vocab[a], vocab[b]]);
    pairCount.delete(key);
    touched.clear();
    for (const w of where.get(key) ?? []) {
      const word = words[w];
      const c = counts[w];
      let j = 0; // write position: the word is rewritten in place, left to right
      for (let i = 0; i < word.length; ) {
        if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
          if (j > 0) {
            note(word[j - 1] * KEY + a, -c, w);
            note(word[j - 1] * KEY + merged, c, w);
            touched.add(word[j - 1] * KEY + merged);
          }
          if (i + 2 < word.length) {
            note(b * KEY + word[i + 2], -c, w);
            note(merged * KEY + word[i + 2], c, w);
            touched.add(merged * KEY + word[i + 2]);
          }
          word[j++] = merged;
          i += 2;
        } else word[j++] = word[i++];
      }
      word.length = j;
    }
    where.delete(key);
    pairCount.delete(key); // the merged pair's neighbours may have re-counted it (e.g. "a a a")
    for (const k of touched) {
      const c = pairCount.get(k) ?? 0;
      if (c > 0) heap.push(-c, k);
    }
  }
  return merges;
}

/** Options of trainBpe. */
export interface BpeTrainOptions {
  /** Final number of tokens: special tokens + 256 bytes + merges. */
  vocabSize: number;
  /** Pairs seen fewer times are never merged; default 2 (as Hugging Face's ByteLevelBPETokenizer.train). */
  minFrequency?: number;
  /** Special tokens, given the first ids; default ["<|endoftext|>"]. They are cut out of the training text. */
  specialTokens?: string[];
  /** See BpeOptions.addPrefixSpace; default false. */
  addPrefixSpace?: boolean;
}

/** Counts pre-tokens of texts with special tokens cut out; `split` turns a text piece into words. */
export function countWords(texts: string | readonly string[], specials: readonly string[], split: (text: string) => Iterable<string>): Map<string, number> {
  const cutter = new AddedVocab(specials.map((s, i) => specialToken(s, i)));
  const counts = new Map<string, number>();
  for (const text of typeof texts === "string" ? [texts] : texts)
    for (const piece of cutter.split(text)) if (piece.text !== undefined) for (const w of split(piece.text)) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

/**
 * Trains a byte-level BPE tokenizer (GPT-2 style) on texts: vocabulary = special tokens, the 256 byte
 * tokens (in code-point order of their characters, as GPT-2's first 256 ids), then one token per merge.
 * @example const tok = trainBpe(corpus, { vocabSize: 1000 }); tok.decode(tok.encode("héllo 👋")) // "héllo 👋"
 */
export function trainBpe(texts: string | readonly string[], opts: BpeTrainOptions): BpeTokenizer {
  const specials = [...new Set(opts.specialTokens ?? ["<|endoftext|>"])];
  const { vocabSize, minFrequency = 2, addPrefixSpace = false } = opts;
  if (!Number.isInteger(vocabSize) || vocabSize < specials.length + 256)
    throw new ValueError(`trainBpe: vocabSize ${vocabSize} is smaller than the 256 byte tokens + ${specials.length} special tokens; ask for at least ${specials.length + 256}`);
  const vocab = [...specials];
  const ids = new Map(vocab.map((t, i) => [t, i]));
  for (const ch of [...BYTE_TO_CHAR].sort(compareCodePoints)) {
    if (ids.has(ch)) continue; // a one-byte special token doubles as that byte's token
    ids.set(ch, vocab.length);
    vocab.push(ch);
  }
  const byteId = BYTE_TO_CHAR.map((ch) => ids.get(ch)!);
  const wordCounts = countWords(texts, specials, (t) => {
    if (addPrefixSpace && t.length > 0 && !t.startsWith(" ")) t = " " + t;
    return t.match(GPT2_PATTERN) ?? [];
  });
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [w, c] of wordCounts) {
    words.push(Array.from(utf8Encode(w), (b) => byteId[b]));
    counts.push(c);
  }
  const merges = learnMerges(words, counts, vocab, ids, { vocabSize, minFrequency, join: (a, b) => a + b });
  return new BpeTokenizer(vocab, merges, { addedTokens: specials.map((s, i) => specialToken(s, i)), addPrefixSpace });
}
