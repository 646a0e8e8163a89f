// The common Tokenizer: added/special tokens, post-processing templates, truncation and padding,
// encode/decode and tokenizer.json writing. Subclasses supply the model (char, BPE, WordPiece).
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { IndexError, shapeStr, Tensor, ValueError } from "../tensor/index.js";
import { type AddedToken, addedTokenToJSON, AddedVocab, specialToken } from "./added.js";
import { type BatchEncoding, padBatch, type PaddingConfig, paddingToJSON, type Side, truncatePair, type TruncationConfig, truncationToJSON } from "./batch.js";
import { PostProcessor } from "./post-process.js";

/** Roles a special token can play; each tokenizer maps roles to tokens of its vocabulary. */
export type SpecialRole = "pad" | "unk" | "cls" | "sep" | "mask" | "bos" | "eos";

// Roles found by name among the special tokens when not given explicitly (first match wins).
const CONVENTIONAL: Record<SpecialRole, string[]> = {
  pad: ["[PAD]", "<pad>", "<|pad|>", "<|padding|>"],
  unk: ["[UNK]", "<unk>", "<|unk|>"],
  cls: ["[CLS]", "<s>", "<|cls|>"],
  sep: ["[SEP]", "</s>", "<|sep|>"],
  mask: ["[MASK]", "<mask>", "<|mask|>"],
  bos: ["[BOS]", "<s>", "<|startoftext|>", "<|begin_of_text|>", "<|endoftext|>"],
  eos: ["[EOS]", "</s>", "<|endoftext|>", "<|end_of_text|>"],
};
const ROLES = Object.keys(CONVENTIONAL) as SpecialRole[];

/** Options of encode. */
export interface EncodeOptions {
  /** Wrap the ids in the post-processing template (e.g. [CLS] … [SEP]); default true. */
  addSpecialTokens?: boolean;
  /** Treat special tokens written in the text as plain text instead of matching them; default false. */
  splitSpecialTokens?: boolean;
  /** Cut to maxLength (special tokens included); default: on when maxLength or the tokenizer's truncation is set. */
  truncation?: boolean;
  maxLength?: number;
  truncationSide?: Side;
}

/** Options of prepareBatch: encoding plus padding. */
export interface BatchOptions extends EncodeOptions {
  /** "longest" (default, or true), "maxLength" (pad every row to maxLength); false is not allowed (tensors are rectangular). */
  padding?: true | "longest" | "maxLength";
  padToMultipleOf?: number;
  paddingSide?: Side;
  /** The id used for padding; default the tokenizer's pad token. */
  padId?: number;
}

/** Options of decode. */
export interface DecodeOptions {
  /** Leave out special tokens ([CLS], <|endoftext|>, …); default false, so that decode(encode(s)) === s. */
  skipSpecialTokens?: boolean;
}

/** An encoded sequence with its tokens, segment ids and special-token mask. */
export interface Encoding {
  ids: number[];
  tokens: string[];
  typeIds: number[];
  specialTokensMask: number[];
}

/** What every tokenizer shares, as read from tokenizer.json or given when training. */
export interface TokenizerParts {
  addedTokens?: AddedToken[];
  postProcessor?: PostProcessor | null;
  truncation?: TruncationConfig | null;
  padding?: PaddingConfig | null;
  roles?: Partial<Record<SpecialRole, string>>;
}

/** The tokenizer.json sections a model supplies. */
export interface PipelineJSON {
  normalizer: unknown;
  pre_tokenizer: unknown;
  post_processor: unknown;
  decoder: unknown;
  model: unknown;
}

const NO_TEMPLATE = new PostProcessor(null, null, new Map());

const append = (out: number[], ids: readonly number[]) => {
  for (const id of ids) out.push(id);
};

/** A token-to-id object with no prototype, so a token named "__proto__" is an ordinary key. */
export function vocabObject(tokens: ReadonlyArray<string | undefined>): Record<string, number> {
  const o = Object.create(null) as Record<string, number>;
  tokens.forEach((t, id) => {
    if (t !== undefined) o[t] = id;
  });
  return o;
}

/**
 * A tokenizer: text ⇄ token ids, with special tokens, templates, truncation and padding, saved as a
 * Hugging Face tokenizer.json. Subclasses: CharTokenizer, BpeTokenizer (byte-level), WordPieceTokenizer.
 */
export abstract class Tokenizer {
  abstract readonly kind: "char" | "bpe" | "wordpiece";
  protected added: AddedVocab;
  /** The template of addSpecialTokens (null: nothing is added). */
  postProcessor: PostProcessor | null;
  /** Default truncation of encode and prepareBatch (null: none). */
  truncation: TruncationConfig | null;
  /** Default padding of prepareBatch. */
  padding: PaddingConfig | null;
  private readonly roles = new Map<SpecialRole, string>();

  /** `vocab[id]` is the model's token of each id (holes allowed). */
  protected constructor(protected readonly vocab: ReadonlyArray<string | undefined>, protected readonly ids: ReadonlyMap<string, number>, parts: TokenizerParts) {
    this.added = new AddedVocab(parts.addedTokens ?? []);
    this.postProcessor = parts.postProcessor ?? null;
    this.truncation = parts.truncation ?? null;
    this.padding = parts.padding ?? null;
    for (const role of ROLES) {
      const given = parts.roles?.[role];
      const found = given ?? CONVENTIONAL[role].find((t) => this.added.byContent.get(t)?.special);
      if (found !== undefined) this.roles.set(role, found);
    }
  }

  /** Encodes plain text (no added tokens in it) with the model. */
  protected abstract encodeText(text: string): number[];
  /** Decodes ids; `added[i]` is the added token of ids[i], if it is one. */
  protected abstract decodeIds(ids: number[], added: (AddedToken | undefined)[]): string;
  /** normalizer, pre_tokenizer, decoder, model (and the default post_processor) for tokenizer.json. */
  protected abstract pipelineJSON(): PipelineJSON;

  /** Number of ids (largest id + 1), added tokens included: the embedding table's size. */
  get vocabSize(): number {
    let n = this.vocab.length;
    for (const t of this.added.tokens) n = Math.max(n, t.id + 1);
    return n;
  }

  /** The id of a token (an added token's, else the model's), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.added.byContent.get(token)?.id ?? this.ids.get(token);
  }

  /** The token of an id, or undefined. */
  idToToken(id: number): string | undefined {
    return this.added.byId.get(id)?.content ?? this.vocab[id];
  }

  /** Every token and its id, added tokens included. */
  getVocab(): Map<string, number> {
    const m = new Map(this.ids);
    for (const t of this.added.tokens) m.set(t.content, t.id);
    return m;
  }

  /** The added tokens (special ones and user-added words), in id order. */
  get addedTokens(): readonly AddedToken[] {
    return [...this.added.tokens].sort((a, b) => a.id - b.id);
  }

  /** Ids of all special tokens. */
  get specialIds(): number[] {
    return this.addedTokens.filter((t) => t.special).map((t) => t.id);
  }

  /** The token playing a role ([PAD], [CLS], <|endoftext|>, …), or undefined. */
  specialToken(role: SpecialRole): string | undefined {
    return this.roles.get(role);
  }

  /** The id of the token playing a role, or undefined. */
  specialTokenId(role: SpecialRole): number | undefined {
    const t = this.roles.get(role);
    return t === undefined ? undefined : this.tokenToId(t);
  }

  get padTokenId(): number | undefined {
    return this.specialTokenId("pad");
  }
  get unkTokenId(): number | undefined {
    return this.specialTokenId("unk");
  }
  get clsTokenId(): number | undefined {
    return this.specialTokenId("cls");
  }
  get sepTokenId(): number | undefined {
    return this.specialTokenId("sep");
  }
  get maskTokenId(): number | undefined {
    return this.specialTokenId("mask");
  }
  get bosTokenId(): number | undefined {
    return this.specialTokenId("bos");
  }
  get eosTokenId(): number | undefined {
    return this.specialTokenId("eos");
  }

  /** Makes `token` play `role`, adding it as a special token when it is not one yet. */
  setSpecialToken(role: SpecialRole, token: string): void {
    if (!this.added.byContent.get(token)?.special) this.addSpecialTokens([token]);
    this.roles.set(role, token);
  }

  /** Adds special tokens (matched in text, skipped by skipSpecialTokens); returns how many were new. */
  addSpecialTokens(tokens: string[]): number {
    return this.addTokens(tokens, true);
  }

  /** Adds tokens matched whole in the raw text before the model runs; returns how many were new. */
  addTokens(tokens: string[], special = false): number {
    const list = [...this.added.tokens];
    let next = this.vocabSize;
    let n = 0;
    for (const content of tokens) {
      if (content.length === 0) throw new ValueError(`addTokens: an added token cannot be empty`);
      const have = list.findIndex((t) => t.content === content);
      if (have >= 0) {
        if (special && !list[have].special) list[have] = { ...list[have], special: true, normalized: false };
        continue;
      }
      const id = this.ids.get(content) ?? next++;
      list.push(special ? specialToken(content, id) : { ...specialToken(content, id), special: false, normalized: true });
      n++;
    }
    this.added = new AddedVocab(list);
    return n;
  }

  /**
   * Sets the special tokens that encode wraps around a sequence, in Hugging Face's template syntax.
   * @example tok.setTemplate("[CLS] $A [SEP]", "[CLS] $A [SEP] $B:1 [SEP]:1")
   */
  setTemplate(single: string | null, pair?: string): void {
    this.postProcessor = single === null ? null : PostProcessor.fromTemplate(single, pair, (t) => this.tokenToId(t));
  }

  /** Encodes text to ids. @example tok.encode("hello world") */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    const [a, b, add] = this.encodeParts(text, null, opts);
    return (this.postProcessor ?? NO_TEMPLATE).ids(a, b, add);
  }

  /** Encodes a pair of texts (e.g. question and passage) with the pair template. */
  encodePair(text: string, pair: string, opts: EncodeOptions = {}): number[] {
    const [a, b, add] = this.encodeParts(text, pair, opts);
    return (this.postProcessor ?? NO_TEMPLATE).ids(a, b, add);
  }

  /** Encodes each text. */
  encodeBatch(texts: readonly string[], opts: EncodeOptions = {}): number[][] {
    return texts.map((t) => this.encode(t, opts));
  }

  /** Encodes text (and an optional pair) with tokens, segment ids and the special-token mask. */
  encodeFull(text: string, pair: string | null = null, opts: EncodeOptions = {}): Encoding {
    const [a, b, add] = this.encodeParts(text, pair, opts);
    const p = (this.postProcessor ?? NO_TEMPLATE).apply(a, b, add);
    return { ids: p.ids, tokens: p.ids.map((id) => this.idToToken(id)!), typeIds: p.typeIds, specialTokensMask: p.specialMask };
  }

  /** The ids of text and pair (truncated to leave room for the template's tokens), and whether to add them. */
  private encodeParts(text: string, pair: string | null, opts: EncodeOptions): [number[], number[] | null, boolean] {
    if (typeof text !== "string" || (pair !== null && typeof pair !== "string"))
      throw new ValueError(`encode: expected a string, got ${typeof (typeof text !== "string" ? text : pair)}`);
    const add = opts.addSpecialTokens ?? true;
    let a = this.encodeRaw(text, opts.splitSpecialTokens ?? false);
    let b = pair === null ? null : this.encodeRaw(pair, opts.splitSpecialTokens ?? false);
    const maxLength = opts.maxLength ?? this.truncation?.maxLength;
    if (opts.truncation ?? (opts.maxLength !== undefined || this.truncation !== null)) {
      if (maxLength === undefined) throw new ValueError(`encode: truncation needs maxLength`);
      const extra = add && this.postProcessor ? this.postProcessor.numAdded(b !== null) : 0;
      [a, b] = truncatePair(a, b, maxLength - extra, opts.truncationSide ?? this.truncation?.side ?? "right");
    }
    return [a, b, add];
  }

  private encodeRaw(text: string, splitSpecial: boolean): number[] {
    const pieces = this.added.split(text, splitSpecial);
    if (pieces.length === 1 && pieces[0].text !== undefined) return this.encodeText(pieces[0].text);
    const out: number[] = [];
    for (const piece of pieces) {
      if (piece.token) out.push(piece.token.id);
      else append(out, this.encodeText(piece.text));
    }
    return out;
  }

  /**
   * Encodes a batch (texts, or [text, pair] tuples) into padded int32 tensors inputIds, attentionMask
   * and tokenTypeIds of shape [B, T], as Hugging Face's tokenizer(texts, padding, truncation).
   * @example const { inputIds, attentionMask } = tok.prepareBatch(["a b", "c"], { maxLength: 16 });
   */
  prepareBatch(texts: readonly (string | readonly [string, string])[], opts: BatchOptions = {}): BatchEncoding & { ids: number[][] } {
    const encs = texts.map((t) => (typeof t === "string" ? this.encodeFull(t, null, opts) : this.encodeFull(t[0], t[1], opts)));
    const cfg = this.padding;
    if ((opts.padding as unknown) === false) throw new ValueError(`prepareBatch: padding false cannot make a rectangular tensor; use encodeBatch for ragged ids`);
    const padding = opts.padding === undefined ? (cfg?.strategy ?? "longest") : opts.padding === true ? "longest" : opts.padding;
    const padId = opts.padId ?? (cfg ? cfg.padId : this.padTokenId);
    const needsPad = padding === "maxLength" || encs.some((e) => e.ids.length !== encs[0].ids.length) || (opts.padToMultipleOf ?? cfg?.padToMultipleOf) !== undefined;
    if (padId === undefined && needsPad)
      throw new ValueError(`prepareBatch: this tokenizer has no pad token; pass padId (e.g. the eos id ${this.eosTokenId ?? "of your model"}) or call setSpecialToken("pad", "[PAD]")`);
    const rows = encs.map((e) => e.ids);
    const out = padBatch(rows, {
      padId: padId ?? 0,
      padding,
      maxLength: opts.maxLength ?? cfg?.maxLength ?? this.truncation?.maxLength,
      padToMultipleOf: opts.padToMultipleOf ?? cfg?.padToMultipleOf,
      side: opts.paddingSide ?? cfg?.side ?? "right",
      padTypeId: cfg?.padTypeId ?? 0,
      typeIds: encs.map((e) => e.typeIds),
    });
    return { ...out, ids: rows };
  }

  /** Decodes ids (an array or a 1-D int tensor) to text. @example tok.decode(tok.encode(s)) === s */
  decode(ids: ArrayLike<number> | Tensor, opts: DecodeOptions = {}): string {
    let list: ArrayLike<number>;
    if (ids instanceof Tensor) {
      if (ids.ndim !== 1) throw new ValueError(`decode: expected a 1-D tensor of ids, got shape ${shapeStr(ids.shape)}; use decodeBatch for 2-D`);
      list = ids.toFlatArray();
    } else list = ids;
    const keep: number[] = [];
    const added: (AddedToken | undefined)[] = [];
    const anyAdded = this.added.tokens.length > 0;
    for (let i = 0; i < list.length; i++) {
      const id = list[i];
      const a = anyAdded ? this.added.byId.get(id) : undefined;
      if (a === undefined && (!Number.isInteger(id) || this.vocab[id] === undefined))
        throw new IndexError(`decode: id ${id} at position ${i} is not in the vocabulary (ids 0..${this.vocabSize - 1})`);
      if (a?.special && opts.skipSpecialTokens) continue;
      keep.push(id);
      added.push(a);
    }
    return this.decodeIds(keep, added);
  }

  /** Decodes each row (arrays, or a 2-D tensor). */
  decodeBatch(rows: readonly ArrayLike<number>[] | Tensor, opts: DecodeOptions = {}): string[] {
    if (rows instanceof Tensor) {
      if (rows.ndim !== 2) throw new ValueError(`decodeBatch: expected a 2-D tensor of ids, got shape ${shapeStr(rows.shape)}`);
      const flat = rows.toFlatArray();
      const [B, T] = rows.shape;
      return Array.from({ length: B }, (_, i) => this.decode(flat.slice(i * T, (i + 1) * T), opts));
    }
    return rows.map((r) => this.decode(r, opts));
  }

  /** The Hugging Face tokenizer.json object. */
  toJSON(): Record<string, unknown> {
    const p = this.pipelineJSON();
    return {
      version: "1.0",
      truncation: truncationToJSON(this.truncation),
      padding: paddingToJSON(this.padding),
      added_tokens: this.addedTokens.map(addedTokenToJSON),
      normalizer: p.normalizer,
      pre_tokenizer: p.pre_tokenizer,
      post_processor: this.postProcessor ? this.postProcessor.toJSON() : p.post_processor,
      decoder: p.decoder,
      model: p.model,
    };
  }

  /**
   * Writes tokenizer.json (to `path` when it ends in .json, else into the folder `path`) through a
   * temporary file and a rename, so a crash never leaves half a file; returns the file's path.
   */
  save(path: string): string {
    const file = path.endsWith(".json") ? path : join(path, "tokenizer.json");
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.toJSON(), null, 2) + "\n");
    renameSync(tmp, file);
    return file;
  }

  toString(): string {
    const specials = this.addedTokens.filter((t) => t.special).map((t) => t.content);
    return `${this.constructor.name}(vocabSize=${this.vocabSize}, special=[${specials.join(", ")}], template="${this.postProcessor?.describe() ?? "$A"}")`;
  }
}
