// ingot.text WordPiece: BERT's normalizer and pre-tokenizer by hand, greedy longest-match-first with
// "##", [UNK] rules, decoding, hand-derived training, determinism and tokenizer.json round trips.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ig from "../../src/index.js";

const { text } = ig;

test("BertNormalizer: control characters, whitespace, CJK, accents, per-character lower-casing", () => {
  const n = text.bertNormalizer();
  // U+200B (Cf) and NUL are dropped; tab and U+2028 (White_Space) become spaces; U+0085 is a control (dropped).
  assert.equal(n.apply("Héllo\tWORLD\u0000\u200b!\u2028x\u0085y"), "hello world! xy");
  assert.equal(n.apply("ab中c"), "ab 中 c");
  // Hugging Face lower-cases character by character: a final capital sigma becomes σ, not ς.
  assert.equal(n.apply("ΟΔΟΣ"), "οδοσ");
  assert.notEqual("ΟΔΟΣ".toLowerCase(), "οδοσ");
  assert.equal(n.apply("İstanbul Ǆ"), "istanbul ǆ");
  assert.equal(text.bertNormalizer({ stripAccents: false }).apply("Héllo"), "héllo");
  assert.equal(text.bertNormalizer({ lowercase: false }).apply("Héllo"), "Héllo", "cased: accents kept (stripAccents follows lowercase)");
  assert.equal(text.bertNormalizer({ lowercase: false, stripAccents: true }).apply("Héllo"), "Hello");
});

test("BertPreTokenizer: whitespace and every punctuation character (ASCII symbols included) split words", () => {
  assert.deepEqual(text.bertSplit("Hello, world!! $5+3=8 don't"), ["Hello", ",", "world", "!", "!", "$", "5", "+", "3", "=", "8", "don", "'", "t"]);
  assert.deepEqual(text.bertSplit("«quote»—end"), ["«", "quote", "»", "—", "end"]);
  assert.deepEqual(text.bertSplit("  \t\n "), []);
  assert.deepEqual(text.bertSplit("naïve café"), ["naïve", "café"]);
});

test("WordPiece: greedy longest-match-first, whole-word [UNK], maxInputCharsPerWord", () => {
  // Google's BERT test vocabulary.
  const vocab = ["[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed", "wa", "un", "runn", "##ing"];
  const tok = text.wordPieceFromVocab(vocab);
  const pieces = (s: string) => tok.encodeFull(s, null, { addSpecialTokens: false }).tokens;
  assert.deepEqual(pieces("UNwant\u00e9d,running"), ["un", "##want", "##ed", "[UNK]", "runn", "##ing"]);
  // "wanted": "want" is longer than "wa", so it wins; then "##ed".
  assert.deepEqual(pieces("wanted wa"), ["want", "##ed", "wa"]);
  // One piece without a match makes the whole word [UNK] (not a partial split).
  assert.deepEqual(pieces("unwantedX running"), ["[UNK]", "runn", "##ing"]);
  assert.deepEqual(pieces(""), []);
  assert.deepEqual(tok.encode("running"), [1, 8, 9, 2]);
  const short = new text.WordPieceTokenizer(vocab, { maxInputCharsPerWord: 5 });
  assert.deepEqual(short.encodeFull("running want", null).tokens, ["[UNK]", "want"]);
  assert.throws(() => new text.WordPieceTokenizer(["a", "b"]), { name: "ValueError", message: /the unk token '\[UNK\]' is not in the vocabulary/ });
});

test("WordPiece decode: '##' pieces join, other tokens get a space, punctuation spaces are cleaned", () => {
  const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", ",", "world", "!", "un", "##want", "##ed", "don", "'", "t", "s"];
  const tok = text.wordPieceFromVocab(vocab);
  assert.equal(tok.decode([9, 10, 11, 5]), "unwanted hello");
  assert.equal(tok.decode(tok.encode("Hello, world!")), "[CLS] hello, world! [SEP]");
  assert.equal(tok.decode(tok.encode("Hello, world!"), { skipSpecialTokens: true }), "hello, world!");
  assert.equal(tok.decode(tok.encode("don't")), "[CLS] don't [SEP]");
  const raw = new text.WordPieceTokenizer(vocab, { cleanup: false });
  assert.equal(raw.decode(raw.encode("Hello, world!", { addSpecialTokens: false })), "hello , world !");
  // Round trip is exact on text that normalization leaves alone: lower-case words, single spaces.
  assert.equal(tok.decode(tok.encode("hello world unwanted", { addSpecialTokens: false })), "hello world unwanted");
});

test("trainWordPiece: hand-derived vocabulary on 'ab ab ab abc'", () => {
  // Specials 0..4, then the characters a b c (5..7), then ##a ##b ##c (8..10).
  // Words: ab ×3 = [a, ##b], abc ×1 = [a, ##b, ##c]. (a, ##b) is seen 4 times → 'ab' (11);
  // (ab, ##c) once < minFrequency 2 → stop.
  const tok = text.trainWordPiece("ab ab ab abc", { vocabSize: 100 });
  assert.equal(tok.vocabSize, 12);
  assert.deepEqual(Array.from({ length: 12 }, (_, i) => tok.idToToken(i)), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c", "##a", "##b", "##c", "ab"]);
  assert.deepEqual(tok.encode("ABC ab"), [2, 11, 10, 11, 3]);
  assert.equal(tok.decode(tok.encode("ABC ab")), "[CLS] abc ab [SEP]");
  // With only [UNK] (0): a=1, b=2, ##a=3, ##b=4. 'abab' ×2 = [a, ##b, ##a, ##b]: three pairs tie at 2;
  // the smallest ids (1, 4) merge first → 'ab' (5); then (ab=5, ##a=3) and (##a=3, ##b=4) tie → (3, 4) →
  // '##ab' (6: a '##' piece keeps its prefix); then 'abab' (7), and no pair is left.
  const t2 = text.trainWordPiece("abab abab", { vocabSize: 14, specialTokens: ["[UNK]"] });
  assert.deepEqual([5, 6, 7].map((i) => t2.idToToken(i)), ["ab", "##ab", "abab"]);
  assert.equal(t2.vocabSize, 8);
  assert.deepEqual(t2.encode("ababab"), [7, 6], "abab + ##ab");
  assert.equal(t2.postProcessor, null, "no [CLS]/[SEP] among the special tokens: no template");
});

test("trainWordPiece: limitAlphabet keeps the most frequent characters; others make [UNK] words", () => {
  const tok = text.trainWordPiece("aaa aab abb bbb ccd e", { vocabSize: 50, limitAlphabet: 2, minFrequency: 1 });
  assert.equal(tok.tokenToId("c"), undefined);
  assert.equal(tok.tokenToId("##b") !== undefined, true);
  const toks = tok.encodeFull("ab e", null, { addSpecialTokens: false }).tokens;
  assert.equal(toks[toks.length - 1], "[UNK]");
  assert.ok(toks.length >= 2 && !toks.slice(0, -1).includes("[UNK]"), toks.join(" "));
});

test("trainWordPiece: deterministic, round trips through tokenizer.json, exact on normalized text", () => {
  const corpus = [
    "The quick brown fox jumps over the lazy dog.",
    "To be, or not to be, that is the question.",
    "Whether 'tis nobler in the mind to suffer the slings and arrows of outrageous fortune,",
    "Or to take arms against a sea of troubles, and by opposing end them? 東京 and 世界!",
    "Café résumé naïve façade; the readers were reading in the reading room.",
  ];
  const tok = text.trainWordPiece(corpus, { vocabSize: 180, minFrequency: 1 });
  const again = text.trainWordPiece(corpus, { vocabSize: 180, minFrequency: 1 });
  assert.deepEqual(again.toJSON(), tok.toJSON());
  assert.equal(tok.vocabSize, 180, "stops at vocabSize");
  const line = "the readers were reading the question of the fox";
  assert.equal(tok.decode(tok.encode(line), { skipSpecialTokens: true }), line);
  assert.equal(tok.decode(tok.encode("Café, NAÏVE!"), { skipSpecialTokens: true }), "cafe, naive!");
  assert.deepEqual(tok.encodeFull("東京").tokens, ["[CLS]", "東", "京", "[SEP]"]);
  assert.equal(tok.encodeFull("∑∑ the", null, { addSpecialTokens: false }).tokens[0], "[UNK]", "∑ never occurs in the corpus");
  const file = tok.save(join(mkdtempSync(join(tmpdir(), "ingot-wp-")), "tokenizer.json"));
  const back = text.loadTokenizer(file);
  assert.ok(back instanceof text.WordPieceTokenizer);
  assert.deepEqual(back.toJSON(), tok.toJSON());
  const json = back.toJSON() as { model: Record<string, unknown>; normalizer: unknown; decoder: unknown; pre_tokenizer: unknown };
  assert.equal(json.model.type, "WordPiece");
  assert.equal(json.model.continuing_subword_prefix, "##");
  assert.deepEqual(json.normalizer, { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true });
  assert.deepEqual(json.pre_tokenizer, { type: "BertPreTokenizer" });
  assert.deepEqual(json.decoder, { type: "WordPiece", prefix: "##", cleanup: true });
  for (const s of [...corpus, "unseen words: zebra, quixotic; ÆØÅ", "   ", ""]) assert.deepEqual(back.encodePair(s, "the"), tok.encodePair(s, "the"));
});
