// Byte-level BPE (GPT-2): text → UTF-8 bytes → GPT-2's printable byte characters, split by GPT-2's
// regex, merged by rank. Every byte has a token, so any Unicode text survives encode → decode.
import { ValueError } from "../tensor/index.js";
import { type AddedToken } from "./added.js";
import { PairHeap } from "./heap.js";
import { type Normalizer } from "./normalize.js";
import { type PipelineJSON, Tokenizer, type TokenizerParts, vocabObject } from "./tokenizer.js";
import { BYTE_TO_CHAR, CHAR_TO_BYTE, byteLevel, checkWellFormed, GPT2_PATTERN, utf8Decode, utf8Encode } from "./unicode.js";

/** Settings of the byte-level BPE pipeline (Hugging Face's ByteLevel pre-tokenizer and BPE model). */
export interface BpeOptions {
  /** Prepend a space to text that does not start with one (so "Hello" and " Hello" tokenize alike); default false, as GPT-2. */
  addPrefixSpace?: boolean;
  /** Split with GPT-2's regex before merging; default true. */
  useRegex?: boolean;
  /** The token bytes missing from the vocabulary become; default none (such bytes throw). */
  unkToken?: string | null;
  /** Merge consecutive unknown tokens into one. */
  fuseUnk?: boolean;
  /** Emit a whole pre-token directly when it is in the vocabulary (Llama 3 style); default false. */
  ignoreMerges?: boolean;
  /** A normalizer run before pre-tokenization (GPT-2 has none). */
  normalizer?: Normalizer | null;
}

// NOTE: pair keys pack two ids into one number, so ids must stay below 2^21.
const KEY = 2 ** 21;
// Words longer than this are not cached (a long run of one character would fill the cache).
const CACHE_WORD_CHARS = 256;
const CACHE_ENTRIES = 10000;

/** A byte-level BPE tokenizer (GPT-2, RoBERTa, …), trainable with trainBpe or read from tokenizer.json / vocab.json + merges.txt. */
export class BpeTokenizer extends Tokenizer {
  readonly kind = "bpe" as const;
  /** Merges in rank order (rank 0 is applied first). */
  readonly merges: readonly (readonly [string, string])[];
  readonly options: Readonly<Required<Omit<BpeOptions, "normalizer">>> & { normalizer: Normalizer | null };
  private readonly rank = new Map<number, number>();
  private readonly mergeTo: Int32Array;
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly unkId: number | undefined;
  private readonly bytesOf: (Uint8Array | undefined)[] = [];
  private readonly cache = new Map<string, number[]>();

  /** `vocab[id]` is the byte-level token of id (e.g. "Ġthe"); merges are pairs of tokens, in rank order. */
  constructor(vocab: readonly (string | undefined)[], merges: readonly (readonly [string, string])[], parts: TokenizerParts & BpeOptions = {}) {
    if (vocab.length >= KEY) throw new ValueError(`BpeTokenizer: ${vocab.length} tokens is more than the ${KEY} supported`);
    const ids = new Map<string, number>();
    vocab.forEach((t, i) => {
      if (t === undefined) return;
      if (ids.has(t)) throw new ValueError(`BpeTokenizer: token ${JSON.stringify(t)} has two ids (${ids.get(t)} and ${i}); a vocabulary maps each token to one id`);
      ids.set(t, i);
    });
    const unkToken = parts.unkToken ?? null;
    super(vocab, ids, { ...parts, roles: { ...(unkToken ? { unk: unkToken } : {}), ...parts.roles } });
    this.options = {
      addPrefixSpace: parts.addPrefixSpace ?? false,
      useRegex: parts.useRegex ?? true,
      unkToken,
      fuseUnk: parts.fuseUnk ?? false,
      ignoreMerges: parts.ignoreMerges ?? false,
      normalizer: parts.normalizer ?? null,
    };
    this.merges = merges;
    this.mergeTo = new Int32Array(merges.length);
    merges.forEach(([a, b], r) => {
      const [ia, ib, inew] = [ids.get(a), ids.get(b), ids.get(a + b)];
      if (ia === undefined || ib === undefined || inew === undefined) {
        const missing = ia === undefined ? a : ib === undefined ? b : a + b;
        throw new ValueError(`BpeTokenizer: merge ${r} '${a} ${b}' needs the token ${JSON.stringify(missing)}, which is not in the vocabulary; are the merges from another vocabulary?`);
      }
      this.rank.set(ia * KEY + ib, r);
      this.mergeTo[r] = inew;
    });
    for (let b = 0; b < 256; b++) this.byteIds[b] = ids.get(BYTE_TO_CHAR[b]) ?? -1;
    this.unkId = unkToken === null ? undefined : ids.get(unkToken);
    if (unkToken !== null && this.unkId === undefined) throw new ValueError(`BpeTokenizer: unk_token '${unkToken}' is not in the vocabulary`);
  }

  protected encodeText(text: string): number[] {
    checkWellFormed("encode", text);
    const { normalizer, addPrefixSpace, useRegex } = this.options;
    if (normalizer) text = normalizer.apply(text);
    if (addPrefixSpace && text.length > 0 && !text.startsWith(" ")) text = " " + text;
    const out: number[] = [];
    const words = useRegex ? text.matchAll(GPT2_PATTERN) : [[text]];
    for (const m of words) {
      const word = m[0];
      let ids = this.cache.get(word);
      if (ids === undefined) {
        ids = this.encodeWord(word);
        if (word.length <= CACHE_WORD_CHARS) {
          if (this.cache.size >= CACHE_ENTRIES) this.cache.clear();
          this.cache.set(word, ids);
        }
      }
      for (const id of ids) out.push(id);
    }
    return out;
  }

  /** The BPE of one pre-token: its bytes' tokens, merged lowest rank first (leftmost first on ties). */
  private encodeWord(word: string): number[] {
    if (this.options.ignoreMerges) {
      const whole = this.ids.get(byteLevel(word));
      if (whole !== undefined) return [whole];
    }
    const sym: number[] = [];
    for (const b of utf8Encode(word)) {
      const id = this.byteIds[b];
      if (id >= 0) sym.push(id);
      else if (this.unkId === undefined)
        throw new ValueError(`encode: byte 0x${b.toString(16).padStart(2, "0")} ('${BYTE_TO_CHAR[b]}') has no token in this vocabulary and there is no unk_token; a byte-level vocabulary needs all 256 bytes`);
      else if (!(this.options.fuseUnk && sym[sym.length - 1] === this.unkId)) sym.push(this.unkId);
    }
    const n = sym.length;
    if (n < 2) return sym;
    // Symbols form a linked list; the heap holds (rank, position) of every mergeable adjacent pair.
    // NOTE: entries go stale when a neighbour merges; an entry is used only if its pair still has that rank.
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    const heap = new PairHeap();
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
      if (i + 1 < n) {
        const r = this.rank.get(sym[i] * KEY + sym[i + 1]);
        if (r !== undefined) heap.push(r, i);
      }
    }
    while (heap.size > 0) {
      const [r, i] = heap.peek();
      heap.pop();
      const j = next[i];
      if (!alive[i] || j < 0 || this.rank.get(sym[i] * KEY + sym[j]) !== r) continue;
      sym[i] = this.mergeTo[r];
      alive[j] = 0;
      next[i] = next[j];
      if (next[j] >= 0) prev[next[j]] = i;
      if (prev[i] >= 0) {
        const rl = this.rank.get(sym[prev[i]] * KEY + sym[i]);
        if (rl !== undefined) heap.push(rl, prev[i]);
      }
      if (next[i] >= 0) {
        const rr = this.rank.get(sym[i] * KEY + sym[next[i]]);
        if (rr !== undefined) heap.push(rr, i);
      }
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]) out.push(sym[i]);
    return out;
  }

  /** The bytes of a model token; a token with characters outside GPT-2's byte map stands for its own UTF-8. */
  private tokenBytes(id: number): Uint8Array {
    let bytes = this.bytesOf[id];
    if (bytes === undefined) {
      const tok = this.vocab[id]!;
      const chars = [...tok];
      const mapped = chars.map((c) => CHAR_TO_BYTE.get(c));
      bytes = mapped.every((b) => b !== undefined) ? Uint8Array.from(mapped as number[]) : utf8Encode(tok);
      this.bytesOf[id] = bytes;
    }
    return bytes;
  }

  // Model tokens are joined as bytes and decoded as UTF-8 (a split character becomes U+FFFD); added
  // tokens are written as they are.
  protected decodeIds(ids: number[], added: (AddedToken | undefined)[]): string {
    let out = "";
    let chunks: Uint8Array[] = [];
    let total = 0;
    const flush = () => {
      if (total === 0) return;
      const buf = new Uint8Array(total);
      let off = 0;
      for (const c of chunks) {
        buf.set(c, off);
        off += c.length;
      }
      out += utf8Decode(buf);
      chunks = [];
      total = 0;
    };
    ids.forEach((id, i) => {
      const a = added[i];
      if (a !== undefined) {
        flush();
        out += a.content;
      } else {
        const b = this.tokenBytes(id);
        chunks.push(b);
        total += b.length;
      }
    });
    flush();
    return out;
  }

  protected pipelineJSON(): PipelineJSON {
    const { addPrefixSpace, useRegex, unkToken, fuseUnk, ignoreMerges, normalizer } = this.options;
    const byteLevelJSON = (prefix: boolean, trim: boolean) => ({ type: "ByteLevel", add_prefix_space: prefix, trim_offsets: trim, use_regex: useRegex });
    // Hugging Face's merges are "a b" strings; tokens with a space need the newer [a, b] form.
    const spaced = this.merges.some(([a, b]) => a.includes(" ") || b.includes(" "));
    return {
      normalizer: normalizer?.json ?? null,
      pre_tokenizer: byteLevelJSON(addPrefixSpace, true),
      post_processor: byteLevelJSON(true, false),
      decoder: byteLevelJSON(true, true),
      model: {
        type: "BPE",
        dropout: null,
        unk_token: unkToken,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: fuseUnk,
        byte_fallback: false,
        ignore_merges: ignoreMerges,
        vocab: vocabObject(this.vocab),
        merges: this.merges.map(([a, b]) => (spaced ? [a, b] : `${a} ${b}`)),
      },
    };
  }
}

/** Parses merges: "a b" strings (merges.txt lines, older tokenizer.json) or [a, b] pairs (newer tokenizer.json). */
export function parseMerges(entries: readonly unknown[], where: string): [string, string][] {
  return entries.map((e, i) => {
    if (Array.isArray(e) && e.length === 2 && typeof e[0] === "string" && typeof e[1] === "string") return [e[0], e[1]];
    const parts = typeof e === "string" ? e.split(" ") : [];
    if (parts.length !== 2) throw new ValueError(`${where}: merge ${i} ${JSON.stringify(e)} is not two tokens separated by one space`);
    return [parts[0], parts[1]];
  });
}

/** Reads merges.txt: an optional "#version" line, then one "a b" merge per line. */
export function parseMergesTxt(text: string, where = "merges.txt"): [string, string][] {
  const lines = text.split(/\r?\n/);
  const body = lines.filter((l, i) => l.length > 0 && !(i === 0 && l.startsWith("#version")));
  return parseMerges(body, where);
}
