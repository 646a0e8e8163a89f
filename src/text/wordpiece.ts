// WordPiece (BERT): BERT normalization and pre-tokenization, then greedy longest-match-first pieces
// with the "##" continuation prefix; [UNK] for words with no split or longer than maxInputCharsPerWord.
import { ValueError } from "../tensor/index.js";
import { type AddedToken, specialToken } from "./added.js";
import { bertNormalizer, bertPreTokenizer, type Normalizer, type WordSplitter } from "./normalize.js";
import { PostProcessor } from "./post-process.js";
import { type PipelineJSON, Tokenizer, type TokenizerParts, vocabObject } from "./tokenizer.js";
import { learnMerges, countWords } from "./train.js";
import { compareCodePoints } from "./unicode.js";

/** Settings of the WordPiece model and its BERT pipeline. */
export interface WordPieceOptions {
  unkToken?: string;
  continuingSubwordPrefix?: string;
  /** Longer words (in characters) become one unk token; default 100. */
  maxInputCharsPerWord?: number;
  /** Default: BertNormalizer (lower-casing, accent stripping, CJK spacing, control-character cleaning). */
  normalizer?: Normalizer | null;
  /** Default: BertPreTokenizer (whitespace and punctuation). */
  preTokenizer?: WordSplitter;
  /** Remove the spaces decode puts before punctuation and contractions ("hello , world" → "hello, world"); default true. */
  cleanup?: boolean;
}

// transformers' clean_up_tokenization, applied to the decoded string.
const cleanup = (s: string) =>
  s.replace(/ \./g, ".").replace(/ \?/g, "?").replace(/ !/g, "!").replace(/ ,/g, ",").replace(/ ' /g, "'").replace(/ n't/g, "n't").replace(/ 'm/g, "'m").replace(/ 's/g, "'s").replace(/ 've/g, "'ve").replace(/ 're/g, "'re");

/** A WordPiece tokenizer (BERT), trainable with trainWordPiece or read from tokenizer.json / vocab.txt. */
export class WordPieceTokenizer extends Tokenizer {
  readonly kind = "wordpiece" as const;
  readonly options: Readonly<Required<WordPieceOptions>>;
  private readonly unkId: number;
  private readonly maxTokenChars: number;

  /** `vocab[id]` is the token of id ("hello", "##ing", "[CLS]", …). */
  constructor(vocab: readonly (string | undefined)[], parts: TokenizerParts & WordPieceOptions = {}) {
    const ids = new Map<string, number>();
    let maxChars = 0;
    vocab.forEach((t, i) => {
      if (t === undefined) return;
      if (ids.has(t)) throw new ValueError(`WordPieceTokenizer: token ${JSON.stringify(t)} has two ids (${ids.get(t)} and ${i})`);
      ids.set(t, i);
      maxChars = Math.max(maxChars, [...t].length);
    });
    const unkToken = parts.unkToken ?? "[UNK]";
    super(vocab, ids, { ...parts, roles: { unk: unkToken, ...parts.roles } });
    this.options = {
      unkToken,
      continuingSubwordPrefix: parts.continuingSubwordPrefix ?? "##",
      maxInputCharsPerWord: parts.maxInputCharsPerWord ?? 100,
      normalizer: parts.normalizer === undefined ? bertNormalizer() : parts.normalizer,
      preTokenizer: parts.preTokenizer ?? bertPreTokenizer,
      cleanup: parts.cleanup ?? true,
    } as Required<WordPieceOptions>;
    const unk = ids.get(unkToken);
    if (unk === undefined) throw new ValueError(`WordPieceTokenizer: the unk token '${unkToken}' is not in the vocabulary; WordPiece needs one for words it cannot split`);
    this.unkId = unk;
    this.maxTokenChars = maxChars;
  }

  protected encodeText(text: string): number[] {
    const { normalizer, preTokenizer } = this.options;
    const out: number[] = [];
    for (const word of preTokenizer.split(normalizer ? normalizer.apply(text) : text)) for (const id of this.encodeWord(word)) out.push(id);
    return out;
  }

  /** Greedy longest-match-first: the longest vocabulary prefix, then "##"-prefixed pieces of the rest. */
  private encodeWord(word: string): number[] {
    const chars = [...word];
    const { maxInputCharsPerWord, continuingSubwordPrefix: prefix } = this.options;
    if (chars.length > maxInputCharsPerWord) return [this.unkId];
    const out: number[] = [];
    for (let start = 0; start < chars.length; ) {
      let found = -1;
      let end = Math.min(chars.length, start + this.maxTokenChars);
      for (; end > start; end--) {
        const piece = chars.slice(start, end).join("");
        const id = this.ids.get(start > 0 ? prefix + piece : piece);
        if (id !== undefined) {
          found = id;
          break;
        }
      }
      if (found < 0) return [this.unkId];
      out.push(found);
      start = end;
    }
    return out;
  }

  // As Hugging Face's WordPiece decoder: "##" pieces join the previous token, others get a space.
  protected decodeIds(ids: number[]): string {
    const prefix = this.options.continuingSubwordPrefix;
    let s = "";
    ids.forEach((id, i) => {
      const tok = this.idToToken(id)!;
      if (i === 0) s += tok;
      else s += tok.startsWith(prefix) ? tok.slice(prefix.length) : " " + tok;
    });
    return this.options.cleanup ? cleanup(s) : s;
  }

  protected pipelineJSON(): PipelineJSON {
    const o = this.options;
    return {
      normalizer: o.normalizer?.json ?? null,
      pre_tokenizer: o.preTokenizer.json,
      post_processor: null,
      decoder: { type: "WordPiece", prefix: o.continuingSubwordPrefix, cleanup: o.cleanup },
      model: {
        type: "WordPiece",
        unk_token: o.unkToken,
        continuing_subword_prefix: o.continuingSubwordPrefix,
        max_input_chars_per_word: o.maxInputCharsPerWord,
        vocab: vocabObject(this.vocab),
      },
    };
  }
}

/** BERT's special tokens, in the order Hugging Face's BertWordPieceTokenizer gives them ids 0..4. */
export const BERT_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/** The special tokens of a WordPiece vocabulary and BERT's template when [CLS] and [SEP] are among them. */
export function bertParts(vocab: readonly (string | undefined)[], specials: readonly string[]): { addedTokens: AddedToken[]; postProcessor: PostProcessor | null } {
  const idOf = new Map(vocab.map((t, i) => [t, i]));
  const addedTokens = specials.filter((s) => idOf.has(s)).map((s) => specialToken(s, idOf.get(s)!));
  const has = (t: string) => addedTokens.some((a) => a.content === t);
  const postProcessor = has("[CLS]") && has("[SEP]") ? PostProcessor.fromTemplate("[CLS] $A [SEP]", "[CLS] $A [SEP] $B:1 [SEP]:1", (t) => idOf.get(t)) : null;
  return { addedTokens, postProcessor };
}

/** Options of trainWordPiece. */
export interface WordPieceTrainOptions {
  vocabSize: number;
  /** Pairs seen fewer times are never merged; default 2. */
  minFrequency?: number;
  /** Default [PAD], [UNK], [CLS], [SEP], [MASK] (ids 0..4). */
  specialTokens?: string[];
  unkToken?: string;
  lowercase?: boolean;
  /** Default: follows lowercase. */
  stripAccents?: boolean | null;
  /** Keep only the most frequent characters (default 1000); words' other characters are dropped from training. */
  limitAlphabet?: number;
  continuingSubwordPrefix?: string;
  maxInputCharsPerWord?: number;
}

/**
 * Trains a WordPiece vocabulary as Hugging Face's WordPieceTrainer does: BPE merges of the most frequent
 * adjacent pieces, where non-initial pieces carry "##". The vocabulary is the special tokens, every kept
 * character both bare and with "##" (so any word of known characters has a split), then the merged
 * pieces (the vocabulary ends larger than vocabSize when the alphabet alone is). With [CLS] and [SEP]
 * among the special tokens, encode wraps text as "[CLS] … [SEP]".
 * @example const tok = trainWordPiece(lines, { vocabSize: 2000 }); tok.decode(tok.encode("Hello!")) // "[CLS] hello! [SEP]"
 */
export function trainWordPiece(texts: string | readonly string[], opts: WordPieceTrainOptions): WordPieceTokenizer {
  const unkToken = opts.unkToken ?? "[UNK]";
  const specials = [...new Set([...(opts.specialTokens ?? BERT_SPECIAL_TOKENS), unkToken])];
  const { vocabSize, minFrequency = 2, lowercase = true, stripAccents = null, limitAlphabet = 1000, continuingSubwordPrefix: prefix = "##" } = opts;
  if (!Number.isInteger(vocabSize) || vocabSize < 1) throw new ValueError(`trainWordPiece: vocabSize must be a positive integer, got ${vocabSize}`);
  const normalizer = bertNormalizer({ lowercase, stripAccents });
  const wordCounts = countWords(texts, specials, (t) => bertPreTokenizer.split(normalizer.apply(t)));
  const charCounts = new Map<string, number>();
  for (const [w, c] of wordCounts) for (const ch of w) charCounts.set(ch, (charCounts.get(ch) ?? 0) + c);
  // Most frequent characters first (code-point order on ties), then the kept ones in code-point order.
  const kept = [...charCounts].sort((x, y) => y[1] - x[1] || compareCodePoints(x[0], y[0])).slice(0, limitAlphabet).map(([ch]) => ch).sort(compareCodePoints);
  const vocab = [...specials];
  const ids = new Map(vocab.map((t, i) => [t, i]));
  for (const tok of [...kept, ...kept.map((ch) => prefix + ch)]) {
    if (ids.has(tok)) continue;
    ids.set(tok, vocab.length);
    vocab.push(tok);
  }
  // As Hugging Face: characters outside the kept alphabet are left out; "##" marks every non-initial one.
  const keptSet = new Set(kept);
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [w, c] of wordCounts) {
    const syms: number[] = [];
    let first = true;
    for (const ch of w) {
      if (keptSet.has(ch)) syms.push(ids.get(first ? ch : prefix + ch)!);
      first = false;
    }
    words.push(syms);
    counts.push(c);
  }
  const join = (a: string, b: string) => a + (b.startsWith(prefix) ? b.slice(prefix.length) : b);
  learnMerges(words, counts, vocab, ids, { vocabSize, minFrequency, join });
  return new WordPieceTokenizer(vocab, {
    ...bertParts(vocab, specials),
    unkToken,
    continuingSubwordPrefix: prefix,
    maxInputCharsPerWord: opts.maxInputCharsPerWord ?? 100,
    normalizer,
  });
}
