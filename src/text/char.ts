// Character-level tokenizer (nanoGPT's shakespeare_char): the vocabulary is the sorted unique
// characters (code points) of the training text, so ids match nanoGPT's stoi; exact round trips.
import { ValueError } from "../tensor/index.js";
import { specialToken } from "./added.js";
import { type PipelineJSON, Tokenizer, type TokenizerParts, vocabObject } from "./tokenizer.js";
import { compareCodePoints, describeChar } from "./unicode.js";

/** Options of trainChar. */
export interface CharTrainOptions {
  /** Special tokens, given ids after the characters (so character ids stay nanoGPT's). Default none. */
  specialTokens?: string[];
  /** A special token for characters outside the vocabulary (added to specialTokens); default none: such characters throw. */
  unkToken?: string;
}

/** A tokenizer with one id per character (Unicode code point). */
export class CharTokenizer extends Tokenizer {
  readonly kind = "char" as const;
  /** The token unknown characters become, or null (they throw). */
  readonly unkToken: string | null;
  private readonly unkId: number | undefined;
  // Ids of the Basic Multilingual Plane characters by UTF-16 code (−1: none): the fast path of encode.
  private readonly bmp = new Int32Array(65536).fill(-1);

  /** `chars[i]` is the character of id i. */
  constructor(chars: readonly (string | undefined)[], parts: TokenizerParts & { unkToken?: string | null } = {}) {
    const ids = new Map<string, number>();
    chars.forEach((c, i) => {
      if (c === undefined) return; // an id held by a special token
      if ([...c].length !== 1) throw new ValueError(`CharTokenizer: vocabulary entry ${i} ${JSON.stringify(c)} is not a single character`);
      if (ids.has(c)) throw new ValueError(`CharTokenizer: character ${describeChar(c)} appears twice in the vocabulary (ids ${ids.get(c)} and ${i})`);
      ids.set(c, i);
    });
    super(chars, ids, { ...parts, roles: { ...(parts.unkToken ? { unk: parts.unkToken } : {}), ...parts.roles } });
    for (const [ch, id] of ids) if (ch.length === 1) this.bmp[ch.charCodeAt(0)] = id;
    this.unkToken = parts.unkToken ?? null;
    this.unkId = this.unkToken === null ? undefined : this.tokenToId(this.unkToken);
    if (this.unkToken !== null && this.unkId === undefined)
      throw new ValueError(`CharTokenizer: unkToken '${this.unkToken}' is not in the vocabulary; add it to the special tokens`);
  }

  /** The characters of the vocabulary, in id order (special tokens' ids are holes). */
  get chars(): readonly (string | undefined)[] {
    return this.vocab;
  }

  protected encodeText(text: string): number[] {
    const out: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let id: number;
      if (c >= 0xd800 && c < 0xdc00 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) id = this.ids.get(text.slice(i, ++i + 1)) ?? -1; // a surrogate pair
      else id = this.bmp[c];
      if (id < 0) {
        if (this.unkId === undefined) {
          const ch = String.fromCodePoint(text.codePointAt(c >= 0xd800 && c < 0xdc00 ? i - 1 : i)!);
          throw new ValueError(`encode: character ${describeChar(ch)} is not in the vocabulary of ${this.ids.size} characters; train on text that has it, or give an unkToken`);
        }
        id = this.unkId;
      }
      out.push(id);
    }
    return out;
  }

  protected decodeIds(ids: number[]): string {
    // NOTE: String.fromCharCode over chunks of UTF-16 units; `s += ch` per id is several times slower.
    const units: number[] = [];
    let s = "";
    for (const id of ids) {
      const tok = this.idToToken(id)!;
      for (let k = 0; k < tok.length; k++) units.push(tok.charCodeAt(k));
      if (units.length >= 8192) s += String.fromCharCode(...units.splice(0));
    }
    return s + String.fromCharCode(...units);
  }

  // Hugging Face has no character model: a BPE model with no merges and no pre-tokenizer splits text
  // into characters, and the Fuse decoder joins them back, so the file also loads in `tokenizers`.
  protected pipelineJSON(): PipelineJSON {
    const vocab = vocabObject(this.vocab);
    for (const t of this.addedTokens) vocab[t.content] = t.id;
    return {
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: { type: "Fuse" },
      model: {
        type: "BPE",
        dropout: null,
        unk_token: this.unkToken,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab,
        merges: [],
      },
    };
  }
}

/**
 * A character tokenizer whose vocabulary is the sorted unique characters of the texts.
 * @example const tok = trainChar(readFileSync("input.txt", "utf8")); tok.vocabSize // 65 for tinyshakespeare
 */
export function trainChar(texts: string | readonly string[], opts: CharTrainOptions = {}): CharTokenizer {
  const seen = new Set<string>();
  for (const t of typeof texts === "string" ? [texts] : texts) for (const ch of t) seen.add(ch);
  const chars = [...seen].sort(compareCodePoints);
  const specials = [...(opts.specialTokens ?? [])];
  if (opts.unkToken !== undefined && !specials.includes(opts.unkToken)) specials.push(opts.unkToken);
  let next = chars.length;
  // A one-character special token that is also in the text keeps its character id.
  const added = specials.map((s) => specialToken(s, seen.has(s) ? chars.indexOf(s) : next++));
  return new CharTokenizer(chars, { addedTokens: added, unkToken: opts.unkToken ?? null });
}
