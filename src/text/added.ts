// Added tokens (special tokens such as [CLS] or <|endoftext|>, and user-added words): their
// tokenizer.json form, and splitting raw text around them before the model sees it.
import { ValueError } from "../tensor/index.js";

/** A token matched in the raw text before normalization, as Hugging Face's AddedToken. */
export interface AddedToken {
  id: number;
  content: string;
  /** Special tokens are skipped by decode({skipSpecialTokens}) and not split by splitSpecialTokens: false. */
  special: boolean;
  /** Absorb the whitespace on the left / right of the token. */
  lstrip: boolean;
  rstrip: boolean;
  /** Match only as a whole word (not inside a word). */
  singleWord: boolean;
  /** Kept for tokenizer.json round trips; Ingot always matches on the raw text. */
  normalized: boolean;
}

/** One piece of text after added-token splitting: plain text for the model, or an added token. */
export type Piece = { text: string; token?: undefined } | { token: AddedToken; text?: undefined };

/** Reads one entry of tokenizer.json's "added_tokens". */
export function addedTokenFromJSON(j: unknown, where: string): AddedToken {
  const o = j as Record<string, unknown>;
  if (typeof o !== "object" || o === null || typeof o.content !== "string" || typeof o.id !== "number")
    throw new ValueError(`${where}: an added token needs a string "content" and a number "id", got ${JSON.stringify(j)}`);
  return {
    id: o.id,
    content: o.content,
    special: o.special === true,
    lstrip: o.lstrip === true,
    rstrip: o.rstrip === true,
    singleWord: o.single_word === true,
    normalized: typeof o.normalized === "boolean" ? o.normalized : o.special !== true,
  };
}

/** The tokenizer.json form of an added token (Hugging Face's field order). */
export function addedTokenToJSON(t: AddedToken): Record<string, unknown> {
  return {
    id: t.id,
    content: t.content,
    single_word: t.singleWord,
    lstrip: t.lstrip,
    rstrip: t.rstrip,
    normalized: t.normalized,
    special: t.special,
  };
}

/** A special added token with default flags. */
export function specialToken(content: string, id: number): AddedToken {
  return { id, content, special: true, lstrip: false, rstrip: false, singleWord: false, normalized: false };
}

const escapeRegExp = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
const isSpace = (ch: string | undefined) => ch !== undefined && /\p{White_Space}/u.test(ch);
const isWordChar = (ch: string | undefined) => ch !== undefined && /[\p{L}\p{N}\p{M}_]/u.test(ch);

/** The added tokens of a tokenizer, with a matcher for each of the two splitting modes. */
export class AddedVocab {
  readonly tokens: AddedToken[];
  readonly byContent = new Map<string, AddedToken>();
  readonly byId = new Map<number, AddedToken>();
  private readonly all: RegExp | null;
  private readonly nonSpecial: RegExp | null;

  constructor(tokens: AddedToken[]) {
    this.tokens = tokens.filter((t) => t.content.length > 0);
    for (const t of this.tokens) {
      this.byContent.set(t.content, t);
      this.byId.set(t.id, t);
    }
    this.all = AddedVocab.matcher(this.tokens);
    this.nonSpecial = AddedVocab.matcher(this.tokens.filter((t) => !t.special));
  }

  // Longest first, so that at the leftmost match position the longest token wins (leftmost-longest).
  private static matcher(tokens: AddedToken[]): RegExp | null {
    if (tokens.length === 0) return null;
    const sorted = [...tokens].sort((a, b) => b.content.length - a.content.length);
    return new RegExp(sorted.map((t) => escapeRegExp(t.content)).join("|"), "gu");
  }

  /** Splits text around added tokens; special tokens are matched unless splitSpecial is true. */
  split(text: string, splitSpecial = false): Piece[] {
    const re = splitSpecial ? this.nonSpecial : this.all;
    if (re === null) return text.length > 0 ? [{ text }] : [];
    const out: Piece[] = [];
    let done = 0; // end of the last emitted piece
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const tok = this.byContent.get(m[0])!;
      let start = m.index;
      let end = start + m[0].length;
      if (tok.singleWord && (isWordChar(text[start - 1]) || isWordChar(text[end]))) {
        re.lastIndex = start + 1;
        continue;
      }
      if (tok.lstrip) while (start > done && isSpace(text[start - 1])) start--;
      if (tok.rstrip) while (end < text.length && isSpace(text[end])) end++;
      if (start > done) out.push({ text: text.slice(done, start) });
      out.push({ token: tok });
      done = end;
      re.lastIndex = end;
    }
    if (done < text.length) out.push({ text: text.slice(done) });
    return out;
  }
}
