// Reading tokenizers: Hugging Face tokenizer.json (byte-level BPE, character BPE, WordPiece), GPT-2's
// vocab.json + merges.txt, BERT's vocab.txt, or a folder holding any of them. Loading never runs code.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { IngotError, ValueError } from "../tensor/index.js";
import { addedTokenFromJSON } from "./added.js";
import { paddingFromJSON, truncationFromJSON } from "./batch.js";
import { BpeTokenizer, parseMerges, parseMergesTxt } from "./bpe.js";
import { CharTokenizer } from "./char.js";
import { bertNormalizer, normalizerFromJSON, wordSplitterFromJSON } from "./normalize.js";
import { PostProcessor } from "./post-process.js";
import { type Tokenizer, type TokenizerParts } from "./tokenizer.js";
import { BERT_SPECIAL_TOKENS, bertParts, WordPieceTokenizer } from "./wordpiece.js";

type Json = Record<string, unknown>;

/** A token → id object as an id → token array (holes where no token has the id). */
function vocabArray(v: unknown, where: string): (string | undefined)[] {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ValueError(`${where}: "vocab" must be an object of token → id`);
  const out: (string | undefined)[] = [];
  for (const [tok, id] of Object.entries(v as Record<string, unknown>)) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0) throw new ValueError(`${where}: token ${JSON.stringify(tok)} has id ${JSON.stringify(id)}; ids are non-negative integers`);
    if (out[id] !== undefined) throw new ValueError(`${where}: tokens ${JSON.stringify(out[id])} and ${JSON.stringify(tok)} share id ${id}`);
    out[id] = tok;
  }
  return out;
}

const isByteLevel = (p: unknown): boolean => {
  const o = p as Json | null;
  if (!o) return false;
  if (o.type === "ByteLevel") return true;
  return o.type === "Sequence" && ((o.pretokenizers ?? []) as unknown[]).length === 1 && isByteLevel((o.pretokenizers as unknown[])[0]);
};
const byteLevelPart = (p: Json): Json => (p.type === "Sequence" ? (p.pretokenizers as Json[])[0] : p);

/**
 * Builds a tokenizer from a parsed Hugging Face tokenizer.json: model "BPE" with a ByteLevel
 * pre-tokenizer (GPT-2, RoBERTa; also what trainBpe saves), "BPE" with no merges and the Fuse decoder
 * (what CharTokenizer saves), or "WordPiece" (BERT).
 */
export function tokenizerFromJSON(json: unknown, where = "tokenizer.json"): Tokenizer {
  const o = json as Json;
  if (typeof o !== "object" || o === null || typeof o.model !== "object" || o.model === null) throw new ValueError(`${where}: not a tokenizer.json (no "model" object)`);
  if (o.version !== undefined && o.version !== "1.0") throw new ValueError(`${where}: tokenizer.json version '${String(o.version)}' is not supported; expected "1.0"`);
  const model = o.model as Json;
  const type = model.type ?? (model.merges !== undefined ? "BPE" : model.continuing_subword_prefix !== undefined ? "WordPiece" : undefined);
  if (type !== "BPE" && type !== "WordPiece") throw new ValueError(`${where}: model type '${String(type)}' is not supported; Ingot reads BPE (byte-level or character) and WordPiece`);
  const vocab = vocabArray(model.vocab, where);
  const addedTokens = ((o.added_tokens ?? []) as unknown[]).map((t) => addedTokenFromJSON(t, where));
  const lookup = (t: string) => addedTokens.find((a) => a.content === t)?.id ?? (vocab.indexOf(t) >= 0 ? vocab.indexOf(t) : undefined);
  const parts: TokenizerParts = {
    addedTokens,
    postProcessor: PostProcessor.fromJSON(o.post_processor, lookup, where),
    truncation: truncationFromJSON(o.truncation),
    padding: paddingFromJSON(o.padding),
  };
  const unk = typeof model.unk_token === "string" ? model.unk_token : null;
  if (type === "WordPiece") {
    const decoder = o.decoder as Json | null;
    return new WordPieceTokenizer(vocab, {
      ...parts,
      unkToken: unk ?? "[UNK]",
      continuingSubwordPrefix: typeof model.continuing_subword_prefix === "string" ? model.continuing_subword_prefix : "##",
      maxInputCharsPerWord: typeof model.max_input_chars_per_word === "number" ? model.max_input_chars_per_word : 100,
      normalizer: normalizerFromJSON(o.normalizer, where),
      preTokenizer: wordSplitterFromJSON(o.pre_tokenizer, where),
      cleanup: decoder?.type === "WordPiece" ? decoder.cleanup !== false : false,
    });
  }
  const merges = parseMerges((model.merges ?? []) as unknown[], where);
  for (const k of ["continuing_subword_prefix", "end_of_word_suffix"])
    if (typeof model[k] === "string" && model[k] !== "") throw new ValueError(`${where}: BPE with ${k} '${String(model[k])}' is not supported`);
  if (model.byte_fallback === true) throw new ValueError(`${where}: BPE with byte_fallback (SentencePiece style) is not supported; Ingot reads byte-level BPE`);
  const pre = (o.pre_tokenizer ?? null) as Json | null;
  if (isByteLevel(pre) || (pre === null && (o.decoder as Json | null)?.type === "ByteLevel")) {
    const bl = pre ? byteLevelPart(pre) : {};
    return new BpeTokenizer(vocab, merges, {
      ...parts,
      addPrefixSpace: bl.add_prefix_space === true,
      useRegex: bl.use_regex !== false,
      unkToken: unk,
      fuseUnk: model.fuse_unk === true,
      ignoreMerges: model.ignore_merges === true,
      normalizer: normalizerFromJSON(o.normalizer, where),
    });
  }
  if (merges.length === 0 && pre === null && (o.decoder as Json | null)?.type === "Fuse" && (o.normalizer ?? null) === null) {
    const addedIds = new Set(addedTokens.map((t) => t.id));
    return new CharTokenizer(vocab.map((t, id) => (addedIds.has(id) ? undefined : t)), { ...parts, unkToken: unk });
  }
  throw new ValueError(`${where}: a BPE tokenizer with pre_tokenizer ${JSON.stringify(pre?.type ?? null)} is not supported; Ingot reads byte-level BPE (ByteLevel pre-tokenizer, as GPT-2) and character vocabularies`);
}

/** Options of the GPT-2 file readers. */
export interface Gpt2FilesOptions {
  /** Tokens of the vocabulary made special (skipped by skipSpecialTokens, matched whole in text); default ["<|endoftext|>"]. */
  specialTokens?: string[];
  addPrefixSpace?: boolean;
}

/** A byte-level BPE tokenizer from GPT-2's vocab.json object and merges (merges.txt text or pairs). */
export function bpeFromVocabMerges(vocab: Record<string, number>, merges: string | readonly (readonly [string, string])[], opts: Gpt2FilesOptions = {}): BpeTokenizer {
  const tokens = vocabArray(vocab, "vocab.json");
  const pairs = typeof merges === "string" ? parseMergesTxt(merges) : merges;
  const specials = (opts.specialTokens ?? ["<|endoftext|>"]).filter((t) => t in vocab);
  const addedTokens = specials.map((t) => ({ id: vocab[t], content: t, special: true, lstrip: false, rstrip: false, singleWord: false, normalized: false }));
  return new BpeTokenizer(tokens, pairs, { addedTokens, addPrefixSpace: opts.addPrefixSpace ?? false });
}

/** Reads GPT-2's vocab.json and merges.txt. */
export function loadBpeFiles(vocabPath: string, mergesPath: string, opts: Gpt2FilesOptions = {}): BpeTokenizer {
  const vocab = JSON.parse(readText(vocabPath, "loadBpeFiles")) as Record<string, number>;
  return bpeFromVocabMerges(vocab, readText(mergesPath, "loadBpeFiles"), opts);
}

/** Options of the vocab.txt reader. */
export interface VocabTxtOptions {
  /** Lower-case and strip accents (bert-base-uncased); default true. */
  lowercase?: boolean;
  unkToken?: string;
}

/** A BERT WordPiece tokenizer from vocab.txt lines (id = line number), with BERT's pipeline and template. */
export function wordPieceFromVocab(tokens: readonly string[], opts: VocabTxtOptions = {}): WordPieceTokenizer {
  const vocab = tokens.map((t) => (t === "" ? undefined : t));
  return new WordPieceTokenizer(vocab, {
    ...bertParts(vocab, BERT_SPECIAL_TOKENS),
    unkToken: opts.unkToken ?? "[UNK]",
    normalizer: bertNormalizer({ lowercase: opts.lowercase ?? true }),
  });
}

/** Reads BERT's vocab.txt (one token per line). */
export function loadVocabTxt(path: string, opts: VocabTxtOptions = {}): WordPieceTokenizer {
  const lines = readText(path, "loadVocabTxt").split(/\r?\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return wordPieceFromVocab(lines, opts);
}

function readText(path: string, fn: string): string {
  if (!existsSync(path)) throw new IngotError(`${fn}: no file ${path}`);
  return readFileSync(path, "utf8");
}

/**
 * Reads a tokenizer: a tokenizer.json file, or a folder holding tokenizer.json, GPT-2's vocab.json +
 * merges.txt, or BERT's vocab.txt (in that order of preference).
 * @example const tok = loadTokenizer("runs/gpt/"); tok.encode("To be, or not to be")
 */
export function loadTokenizer(path: string): Tokenizer {
  if (!existsSync(path)) throw new IngotError(`loadTokenizer: no file or folder ${path}`);
  if (statSync(path).isDirectory()) {
    const f = (name: string) => join(path, name);
    if (existsSync(f("tokenizer.json"))) return loadTokenizer(f("tokenizer.json"));
    if (existsSync(f("vocab.json")) && existsSync(f("merges.txt"))) return loadBpeFiles(f("vocab.json"), f("merges.txt"));
    if (existsSync(f("vocab.txt"))) return loadVocabTxt(f("vocab.txt"));
    throw new IngotError(`loadTokenizer: ${path} holds no tokenizer.json, vocab.json + merges.txt, or vocab.txt`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ValueError(`loadTokenizer: ${path} is not valid JSON (${(e as Error).message}); expected a Hugging Face tokenizer.json`);
  }
  return tokenizerFromJSON(json, path);
}
