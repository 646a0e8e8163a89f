// Unicode helpers shared by the tokenizers: GPT-2's byte-to-unicode map and pre-tokenization regex,
// BERT's character classes, UTF-8 with exact round trips, and code-point ordering.
import { ValueError } from "../tensor/index.js";

/**
 * GPT-2's byte → printable character map: the 188 printable Latin-1 bytes map to themselves and the
 * other 68 (controls, space, soft hyphen, …) to U+0100.. in byte order, so every token is visible text.
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const keep = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(keep(b) ? b : 256 + n++));
  return out;
})();

/** The inverse of BYTE_TO_CHAR. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/**
 * GPT-2's pre-tokenization pattern, the one Hugging Face's ByteLevel pre-tokenizer uses.
 * NOTE: `\s` is spelled `\p{White_Space}`: JavaScript's `\s` also matches U+FEFF and misses U+0085,
 * while Python's `regex` module and Oniguruma (Hugging Face) use the Unicode White_Space property.
 */
export const GPT2_PATTERN =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/** Splits text into GPT-2 pre-tokens; their concatenation is the text. */
export function gpt2Split(text: string): string[] {
  return text.match(GPT2_PATTERN) ?? [];
}

const encoder = new TextEncoder();
// NOTE: ignoreBOM keeps a leading U+FEFF; the default decoder silently drops it.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** UTF-8 bytes of a string. */
export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8; an incomplete or invalid sequence becomes U+FFFD (as Hugging Face's lossy decode). */
export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** The byte-level spelling of a string: its UTF-8 bytes mapped through BYTE_TO_CHAR (" the" → "Ġthe"). */
export function byteLevel(text: string): string {
  let s = "";
  for (const b of utf8Encode(text)) s += BYTE_TO_CHAR[b];
  return s;
}

const LONE_SURROGATE = /\p{Cs}/u;

/** Throws when text holds a lone UTF-16 surrogate: it has no UTF-8 form, so no tokenizer can round-trip it. */
export function checkWellFormed(fn: string, text: string): void {
  const m = LONE_SURROGATE.exec(text);
  if (m) {
    const code = text.charCodeAt(m.index).toString(16).toUpperCase();
    throw new ValueError(`${fn}: the text has a lone surrogate U+${code} at index ${m.index}, which is not valid Unicode; fix the string (e.g. text.toWellFormed())`);
  }
}

/** Orders strings by code point (as Python and Rust do), not by UTF-16 unit as Array.prototype.sort. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/** `U+00E9 'é'`, for error messages. */
export function describeChar(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const hex = cp.toString(16).toUpperCase().padStart(4, "0");
  return /[\p{L}\p{N}\p{P}\p{S}]/u.test(ch) ? `U+${hex} '${ch}'` : `U+${hex}`;
}

// BERT's character classes, as Hugging Face's BertNormalizer and BertPreTokenizer define them.
// Punctuation is every ASCII non-alphanumeric printable character plus Unicode category P.
const PUNCT = "!-\\/:-@\\[-`{-~\\p{P}";
const CJK =
  "\\u{4E00}-\\u{9FFF}\\u{3400}-\\u{4DBF}\\u{20000}-\\u{2A6DF}\\u{2A700}-\\u{2B73F}\\u{2B740}-\\u{2B81F}\\u{2B820}-\\u{2CEAF}\\u{F900}-\\u{FAFF}\\u{2F800}-\\u{2FA1F}";
const CONTROL = /[\0\uFFFD]|(?![\t\n\r])\p{C}/gu;
const WHITESPACE = /\p{White_Space}/gu;
const CJK_CHAR = new RegExp(`[${CJK}]`, "gu");
const NONSPACING_MARK = /\p{Mn}/gu;
const BERT_WORD = new RegExp(`[${PUNCT}]|[^${PUNCT}\\p{White_Space}]+`, "gu");
const WHITESPACE_WORD = /\P{White_Space}+/gu;
// Hugging Face's `Whitespace` pre-tokenizer: \w+|[^\w\s]+ with Unicode word characters.
const WORD_OR_SYMBOLS = /[\p{L}\p{Nd}\p{M}\p{Pc}]+|[^\p{L}\p{Nd}\p{M}\p{Pc}\p{White_Space}]+/gu;

/** BertNormalizer's clean_text: drops NUL, U+FFFD and control characters, turns whitespace into spaces. */
export function cleanText(text: string): string {
  return text.replace(CONTROL, "").replace(WHITESPACE, " ");
}

/** Puts spaces around CJK ideographs so that each becomes its own word. */
export function padCjk(text: string): string {
  return text.replace(CJK_CHAR, " $& ");
}

/** NFD, then drops non-spacing marks: "Héllo" → "Hello". */
export function stripAccents(text: string): string {
  return text.normalize("NFD").replace(NONSPACING_MARK, "");
}

/**
 * Lower-cases character by character, as Rust's char::to_lowercase (Hugging Face's Lowercase).
 * NOTE: String.prototype.toLowerCase turns a word-final capital sigma into 'ς'; per character it is 'σ'.
 */
export function lowercase(text: string): string {
  return text.replace(/\u03A3/g, "\u03C3").toLowerCase();
}

/** BertPreTokenizer: splits on whitespace (dropped) and isolates every punctuation character. */
export function bertSplit(text: string): string[] {
  return text.match(BERT_WORD) ?? [];
}

/** Splits on whitespace only (Hugging Face's WhitespaceSplit). */
export function whitespaceSplit(text: string): string[] {
  return text.match(WHITESPACE_WORD) ?? [];
}

/** Hugging Face's Whitespace pre-tokenizer: runs of word characters and runs of other non-space characters. */
export function wordSplit(text: string): string[] {
  return text.match(WORD_OR_SYMBOLS) ?? [];
}
