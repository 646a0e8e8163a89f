// Normalizers and word pre-tokenizers read from (and written back to) tokenizer.json: BertNormalizer,
// Lowercase, StripAccents, NF(K)C/D, Strip, Sequence; BertPreTokenizer, Whitespace, WhitespaceSplit.
import { ValueError } from "../tensor/index.js";
import { bertSplit, cleanText, lowercase, padCjk, stripAccents, whitespaceSplit, wordSplit } from "./unicode.js";

/** A text → text step with its tokenizer.json form. */
export interface Normalizer {
  apply(text: string): string;
  json: unknown;
}

/** Options of Hugging Face's BertNormalizer; stripAccents null follows lowercase. */
export interface BertNormalizerOptions {
  cleanText?: boolean;
  handleChineseChars?: boolean;
  stripAccents?: boolean | null;
  lowercase?: boolean;
}

/** BERT's normalizer: clean control characters, space out CJK, strip accents, lower-case (in this order, as Hugging Face). */
export function bertNormalizer(opts: BertNormalizerOptions = {}): Normalizer {
  const { cleanText: clean = true, handleChineseChars = true, stripAccents: strip = null, lowercase: lower = true } = opts;
  const doStrip = strip ?? lower;
  return {
    apply: (t) => {
      if (clean) t = cleanText(t);
      if (handleChineseChars) t = padCjk(t);
      if (doStrip) t = stripAccents(t);
      if (lower) t = lowercase(t);
      return t;
    },
    json: { type: "BertNormalizer", clean_text: clean, handle_chinese_chars: handleChineseChars, strip_accents: strip, lowercase: lower },
  };
}

/** Reads tokenizer.json's "normalizer" (null: none). */
export function normalizerFromJSON(j: unknown, where: string): Normalizer | null {
  if (j === null || j === undefined) return null;
  const o = j as Record<string, unknown>;
  const simple = (apply: (t: string) => string): Normalizer => ({ apply, json: j });
  switch (o.type) {
    case "BertNormalizer":
      return {
        ...bertNormalizer({
          cleanText: o.clean_text !== false,
          handleChineseChars: o.handle_chinese_chars !== false,
          stripAccents: typeof o.strip_accents === "boolean" ? o.strip_accents : null,
          lowercase: o.lowercase !== false,
        }),
        json: j,
      };
    case "Lowercase":
      return simple(lowercase);
    case "StripAccents":
      return simple((t) => t.replace(/\p{M}/gu, ""));
    case "NFC":
    case "NFD":
    case "NFKC":
    case "NFKD": {
      const form = o.type;
      return simple((t) => t.normalize(form));
    }
    case "Strip": {
      const [l, r] = [o.strip_left !== false, o.strip_right !== false];
      return simple((t) => (l && r ? t.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, "") : l ? t.replace(/^\p{White_Space}+/u, "") : r ? t.replace(/\p{White_Space}+$/u, "") : t));
    }
    case "Sequence": {
      const steps = ((o.normalizers ?? []) as unknown[]).map((n) => normalizerFromJSON(n, where)).filter((n): n is Normalizer => n !== null);
      return simple((t) => steps.reduce((s, n) => n.apply(s), t));
    }
    default:
      throw new ValueError(`${where}: normalizer type '${String(o.type)}' is not supported; expected BertNormalizer, Lowercase, StripAccents, NFC, NFD, NFKC, NFKD, Strip or Sequence`);
  }
}

/** A text → words step with its tokenizer.json form. */
export interface WordSplitter {
  split(text: string): string[];
  json: unknown;
}

/** BERT's pre-tokenizer: split on whitespace and around every punctuation character. */
export const bertPreTokenizer: WordSplitter = { split: bertSplit, json: { type: "BertPreTokenizer" } };

/** Reads a word-level tokenizer.json "pre_tokenizer" (for WordPiece). */
export function wordSplitterFromJSON(j: unknown, where: string): WordSplitter {
  if (j === null || j === undefined) return { split: (t) => (t.length > 0 ? [t] : []), json: null };
  const o = j as Record<string, unknown>;
  switch (o.type) {
    case "BertPreTokenizer":
      return { split: bertSplit, json: j };
    case "Whitespace":
      return { split: wordSplit, json: j };
    case "WhitespaceSplit":
      return { split: whitespaceSplit, json: j };
    case "Sequence": {
      const steps = ((o.pretokenizers ?? []) as unknown[]).map((p) => wordSplitterFromJSON(p, where));
      return { split: (t) => steps.reduce((words, s) => words.flatMap((w) => s.split(w)), [t]), json: j };
    }
    default:
      throw new ValueError(`${where}: pre_tokenizer type '${String(o.type)}' is not supported with WordPiece; expected BertPreTokenizer, Whitespace, WhitespaceSplit or Sequence`);
  }
}
