// ingot.text: the character tokenizer and byte-level BPE — hand-checked examples, GPT-2's byte map and
// regex, training (hand-derived merges, determinism, speed on tinyshakespeare when INGOT_DATA is set),
// and exact round trips over many random Unicode strings from a seeded generator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ig from "../../src/index.js";

const { text } = ig;
const tmp = () => mkdtempSync(join(tmpdir(), "ingot-text-"));

/** mulberry32: a small seeded generator of floats in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random well-formed strings: every script, emoji, marks, odd whitespace, special-token look-alikes. */
function randomStrings(seed: number, count: number, maxPieces = 30): string[] {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)];
  const anyCodePoint = () => {
    for (;;) {
      const cp = int(0x110000);
      if (cp < 0xd800 || cp > 0xdfff) return String.fromCodePoint(cp);
    }
  };
  const pools: (() => string)[] = [
    () => pick([..."abcdefghijklmnopqrstuvwxyzABCXYZ"]),
    () => pick(["the", " the", "hello", " world", "and", " of", "ing"]),
    () => pick([..."0123456789"]),
    () => pick([" ", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2028", "\u3000", "\u0085", "\ufeff", "\u200b", "\u000b"]),
    () => pick([..."!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"]),
    () => pick(["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T"]),
    () => String.fromCodePoint(0xc0 + int(0xc0)), // Latin-1 and Latin Extended-A
    () => String.fromCodePoint(0x300 + int(0x70)), // combining marks
    () => String.fromCodePoint(0x370 + int(0x500)), // Greek, Cyrillic, Armenian, Hebrew, Arabic
    () => String.fromCodePoint(0x4e00 + int(0x5000)), // CJK
    () => String.fromCodePoint(0x1f300 + int(0x300)), // emoji
    () => pick(["👩‍👩‍👧", "🇯🇵", "👋🏽", "e\u0301", "ﬁ", "Å", "\u0000", "\u007f", "\ud800\udc00", "\udbff\udfff"]),
    anyCodePoint,
    () => pick(["<|endoftext|>", "<|endo", "[CLS]", "<|", "|>"]),
    () => pick([..."aelos 0!é"]).repeat(2 + int(6)), // runs: overlapping pairs test merge order
  ];
  return Array.from({ length: count }, () => {
    let s = "";
    const n = int(maxPieces + 1);
    for (let i = 0; i < n; i++) s += pick(pools)();
    return s;
  });
}

/** A few lines of English (and some accents, kanji, emoji) to train small vocabularies on. */
const CORPUS = [
  "The quick brown fox jumps over the lazy dog. The dog sleeps, and the fox runs on.",
  "To be, or not to be, that is the question: whether 'tis nobler in the mind to suffer",
  "the slings and arrows of outrageous fortune, or to take arms against a sea of troubles.",
  "I'm sure they'll say we've done what you're asking; it's the thing that's needed.",
  "Café, naïve, résumé and façade are borrowed words; 東京 and 世界 are written in kanji.",
  "Numbers like 123, 2024 and 3.14159 appear too, with emoji 👋🏽 and 🇯🇵 now and then.",
  "In the beginning the reading of the readers was the leading thing in the meeting.",
].join("\n");

/** GPT-2's encoder.py merge loop: merge every occurrence of the lowest-ranked adjacent pair, until none has a rank. */
function referenceBpe(tok: ig.text.BpeTokenizer, input: string): number[] {
  const ranks = new Map(tok.merges.map(([a, b], i) => [`${a} ${b}`, i]));
  const vocab = tok.getVocab();
  const ids: number[] = [];
  for (const piece of text.gpt2Split(input)) {
    let word = [...text.byteLevel(piece)];
    for (;;) {
      let best = Infinity;
      for (let i = 0; i + 1 < word.length; i++) best = Math.min(best, ranks.get(`${word[i]} ${word[i + 1]}`) ?? Infinity);
      if (best === Infinity) break;
      const [a, b] = tok.merges[best];
      const out: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
          out.push(a + b);
          i += 2;
        } else out.push(word[i++]);
      }
      word = out;
    }
    for (const t of word) ids.push(vocab.get(t)!);
  }
  return ids;
}

test("GPT-2 byte map: 256 distinct printable characters, printable bytes map to themselves", () => {
  const m = text.BYTE_TO_CHAR;
  assert.equal(new Set(m).size, 256);
  assert.equal(m[0x21], "!");
  assert.equal(m[0x7e], "~");
  assert.equal(m[0xe9], "é");
  // The 68 others, in byte order, become U+0100..: bytes 0..32 → U+0100..U+0120, 127..160 → U+0121..U+0142, 173 → U+0143.
  assert.equal(m[0], "\u0100");
  assert.equal(m[10], "Ċ");
  assert.equal(m[32], "Ġ");
  assert.equal(m[127], "\u0121");
  assert.equal(m[160], "\u0142");
  assert.equal(m[173], "\u0143");
  for (let b = 0; b < 256; b++) assert.equal(text.CHAR_TO_BYTE.get(m[b]), b);
  assert.equal(text.byteLevel(" héllo"), "ĠhÃ©llo");
});

test("GPT-2 pre-tokenization regex: contractions, optional leading space, whitespace runs", () => {
  const split = text.gpt2Split;
  assert.deepEqual(split("Hello world"), ["Hello", " world"]);
  assert.deepEqual(split("I'm you're it's we've they'll he'd don't"), ["I", "'m", " you", "'re", " it", "'s", " we", "'ve", " they", "'ll", " he", "'d", " don", "'t"]);
  // Contractions are case-sensitive: "'T" is punctuation then a letter.
  assert.deepEqual(split("DON'T"), ["DON", "'", "T"]);
  // \s+(?!\S): a run of spaces leaves its last space to the next word; at the end it takes all.
  assert.deepEqual(split("a   b"), ["a", "  ", " b"]);
  assert.deepEqual(split("x  \n"), ["x", "  \n"]);
  assert.deepEqual(split("123abc 3.14!!?"), ["123", "abc", " 3", ".", "14", "!!?"]);
  assert.deepEqual(split(" ½²"), [" ½²"]); // \p{N} includes other numbers
  // White_Space, not JavaScript's \s: U+0085 is a space, U+FEFF is not.
  assert.deepEqual(split("a\u0085b"), ["a", "\u0085", "b"]);
  assert.deepEqual(split("x\u0085 a"), ["x", "\u0085", " a"]);
  assert.deepEqual(split("\ufeffx"), ["\ufeff", "x"]);
  assert.deepEqual(split("x\u00a0y"), ["x", "\u00a0", "y"]);
  for (const s of randomStrings(7, 200)) assert.equal(split(s).join(""), s, "pre-tokens cover the text exactly");
});

test("char tokenizer: sorted unique characters, nanoGPT ids, exact round trip", () => {
  const tok = text.trainChar("hello world");
  assert.deepEqual(tok.chars, [" ", "d", "e", "h", "l", "o", "r", "w"]);
  assert.equal(tok.vocabSize, 8);
  assert.deepEqual(tok.encode("hello"), [3, 2, 4, 4, 5]);
  assert.equal(tok.decode([7, 5, 6, 4, 1]), "world");
  assert.equal(tok.tokenToId("w"), 7);
  assert.equal(tok.idToToken(0), " ");
  // Code-point order, not UTF-16 order: U+FF21 sorts before U+1F600 (whose first unit is U+D83D).
  assert.deepEqual(text.trainChar(["😀\uff21", "a"]).chars, ["a", "\uff21", "😀"]);
  const strings = randomStrings(11, 100);
  const all = text.trainChar(strings);
  for (const s of strings) assert.equal(all.decode(all.encode(s)), s);
});

test("char tokenizer: unknown characters throw, or map to the unk token; special tokens follow the characters", () => {
  const tok = text.trainChar("abc");
  assert.throws(() => tok.encode("abz"), { name: "ValueError", message: /encode: character U\+007A 'z' is not in the vocabulary of 3 characters/ });
  assert.throws(() => tok.encode("a😀"), /U\+1F600/);
  const withUnk = text.trainChar("abc", { specialTokens: ["<|endoftext|>"], unkToken: "<unk>" });
  assert.equal(withUnk.tokenToId("<|endoftext|>"), 3);
  assert.equal(withUnk.unkTokenId, 4);
  assert.equal(withUnk.eosTokenId, 3);
  assert.deepEqual(withUnk.encode("abz<|endoftext|>c"), [0, 1, 4, 3, 2]);
  assert.equal(withUnk.decode([0, 3, 1]), "a<|endoftext|>b");
  assert.equal(withUnk.decode([0, 3, 1], { skipSpecialTokens: true }), "ab");
  assert.deepEqual(withUnk.encode("a<|endoftext|>", { splitSpecialTokens: true }), [0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]);
  assert.throws(() => tok.decode([0, 3]), { name: "IndexError", message: /decode: id 3 at position 1 is not in the vocabulary/ });
});

test("char tokenizer: save/load round trip through a Hugging Face BPE tokenizer.json with no merges", () => {
  const tok = text.trainChar("To be, or not to be.\n", { specialTokens: ["<|endoftext|>"] });
  const dir = tmp();
  const file = tok.save(dir);
  assert.equal(file, join(dir, "tokenizer.json"));
  assert.deepEqual(readdirSync(dir), ["tokenizer.json"], "written through a temporary file that is renamed");
  const json = JSON.parse(readFileSync(file, "utf8"));
  assert.equal(json.model.type, "BPE");
  assert.deepEqual(json.model.merges, []);
  assert.equal(json.pre_tokenizer, null);
  assert.deepEqual(json.decoder, { type: "Fuse" });
  assert.equal(json.model.vocab["\n"], 0);
  const back = text.loadTokenizer(file);
  assert.ok(back instanceof text.CharTokenizer);
  assert.deepEqual(back.toJSON(), tok.toJSON());
  assert.deepEqual(back.encode("to be<|endoftext|>"), tok.encode("to be<|endoftext|>"));
});

test("BPE training: hand-derived merges on 'aaabdaaabac'", () => {
  // One pre-token. Windows: aa ×4 (overlapping), ab ×2, others ×1 → merge 1: a+a.
  // Left to right the word becomes [aa a b d aa a b a c]: (aa,a) ×2 and (a,b) ×2 tie; the smaller id
  // pair wins: a = byte 0x61 has id 0x61−0x21 = 64, b = 65, aa = 256, so (64,65) → merge 2: a+b.
  // The word becomes [aa ab d aa ab a c]: (aa,ab) ×2 → merge 3. Everything else is seen once (< minFrequency 2).
  const tok = text.trainBpe("aaabdaaabac", { vocabSize: 300, specialTokens: [] });
  assert.deepEqual(tok.merges, [["a", "a"], ["a", "b"], ["aa", "ab"]]);
  assert.equal(tok.vocabSize, 259);
  assert.equal(tok.tokenToId("a"), 64);
  assert.deepEqual([256, 257, 258].map((i) => tok.idToToken(i)), ["aa", "ab", "aaab"]);
  // aaab·d·aaab·a·c
  assert.deepEqual(tok.encode("aaabdaaabac"), [258, 67, 258, 64, 66]);
  assert.deepEqual(text.trainBpe("aaabdaaabac", { vocabSize: 257, specialTokens: [] }).merges, [["a", "a"]], "stops at vocabSize");
  assert.deepEqual(text.trainBpe("aaabdaaabac", { vocabSize: 300, specialTokens: [], minFrequency: 1 }).merges.length, 7, "with minFrequency 1 every pair merges until one token is left");
  assert.throws(() => text.trainBpe("x", { vocabSize: 100 }), /trainBpe: vocabSize 100 is smaller than the 256 byte tokens \+ 1 special tokens; ask for at least 257/);
});

test("learnMerges follows Hugging Face's BpeTrainer: most frequent pair, ties to the smallest ids", () => {
  // tokenizers' own trainer test: the alphabet sorted, then 're' (×3), 'are' and 'is' (×2, tie → (a,re) first).
  const counts: Record<string, number> = { roses: 1, are: 2, red: 1, voilets: 1, blue: 1, BERT: 1, is: 2, big: 1, and: 1, so: 1, "GPT-2": 1 };
  const vocab = [...new Set(Object.keys(counts).join(""))].sort();
  const ids = new Map(vocab.map((c, i) => [c, i]));
  const words = Object.keys(counts).map((w) => [...w].map((c) => ids.get(c)!));
  const merges = text.learnMerges(words, Object.values(counts), vocab, ids, { vocabSize: 100, minFrequency: 2, join: (a, b) => a + b });
  assert.deepEqual(merges, [["r", "e"], ["a", "re"], ["i", "s"]]);
  assert.deepEqual(vocab.slice(22), ["re", "are", "is"]);
  assert.equal(vocab.indexOf("v"), 21);
});

test("BPE: the heap-based encoder agrees with GPT-2's merge loop on random text", () => {
  const strings = randomStrings(3, 150);
  const tok = text.trainBpe([CORPUS, ...strings.slice(0, 50)], { vocabSize: 600, minFrequency: 1 });
  assert.ok(tok.merges.length > 200, `trained ${tok.merges.length} merges`);
  for (const s of [CORPUS, ...strings]) assert.deepEqual(tok.encode(s, { splitSpecialTokens: true }), referenceBpe(tok, s), JSON.stringify(s));
});

test("BPE: any well-formed Unicode string survives encode → decode exactly", () => {
  const tok = text.trainBpe(CORPUS, { vocabSize: 400 });
  const strings = randomStrings(2024, 500);
  strings.push("", " ", "\ufeffBOM first", "\u0000", "a\r\nb", "x".repeat(5000), " ".repeat(300), "👩‍👩‍👧".repeat(50), "<|endoftext|><|endoftext|>");
  for (const s of strings) {
    const ids = tok.encode(s);
    assert.equal(tok.decode(ids), s, JSON.stringify(s));
    assert.equal(tok.decode(tok.encode(s, { splitSpecialTokens: true })), s);
    for (const id of ids) assert.ok(id >= 0 && id < tok.vocabSize);
  }
  assert.throws(() => tok.encode("bad \ud800 surrogate"), { name: "ValueError", message: /encode: the text has a lone surrogate U\+D800 at index 4/ });
  // A partial UTF-8 sequence (e.g. while streaming generated tokens) decodes to U+FFFD: é is C3 A9.
  const [c3, a9] = [0xc3, 0xa9].map((b) => tok.tokenToId(text.BYTE_TO_CHAR[b])!);
  assert.equal(tok.decode([c3]), "\ufffd");
  assert.equal(tok.decode([c3, a9]), "é");
});

test("BPE: special tokens are matched whole in text, skipped on request, and split when asked", () => {
  const tok = text.trainBpe(CORPUS, { vocabSize: 350, specialTokens: ["<|endoftext|>", "<|pad|>"] });
  assert.equal(tok.tokenToId("<|endoftext|>"), 0);
  assert.equal(tok.padTokenId, 1);
  assert.equal(tok.eosTokenId, 0);
  assert.equal(tok.bosTokenId, 0);
  const ids = tok.encode("the end<|endoftext|>The start");
  assert.equal(ids.filter((i) => i === 0).length, 1);
  assert.deepEqual(ids, [...tok.encode("the end"), 0, ...tok.encode("The start")]);
  assert.equal(tok.decode(ids, { skipSpecialTokens: true }), "the endThe start");
  assert.ok(!tok.encode("<|endoftext|>", { splitSpecialTokens: true }).includes(0));
  // Special tokens never take part in merges: training cut them out of the text.
  assert.ok(tok.merges.every(([a, b]) => !(a + b).includes("<|")));
  assert.equal(tok.addSpecialTokens(["<|user|>", "<|endoftext|>"]), 1);
  assert.equal(tok.tokenToId("<|user|>"), tok.vocabSize - 1);
  assert.deepEqual(tok.encode("<|user|>hi"), [tok.vocabSize - 1, ...tok.encode("hi")]);
});

test("BPE: save/load round trip keeps every id, and training is deterministic", () => {
  const tok = text.trainBpe([CORPUS, "über 👋🏽 ok"], { vocabSize: 420, specialTokens: ["<|endoftext|>"], addPrefixSpace: false });
  const again = text.trainBpe([CORPUS, "über 👋🏽 ok"], { vocabSize: 420, specialTokens: ["<|endoftext|>"], addPrefixSpace: false });
  assert.deepEqual(again.toJSON(), tok.toJSON(), "same corpus, same tokenizer");
  const dir = tmp();
  const file = tok.save(join(dir, "nested", "my-tokenizer.json"));
  assert.ok(existsSync(file));
  assert.deepEqual(readdirSync(join(dir, "nested")), ["my-tokenizer.json"]);
  const json = JSON.parse(readFileSync(file, "utf8"));
  assert.deepEqual(Object.keys(json), ["version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer", "post_processor", "decoder", "model"]);
  assert.deepEqual(json.pre_tokenizer, { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true });
  assert.equal(typeof json.model.merges[0], "string", "merges as 'a b' strings, readable by every tokenizers version");
  const back = text.loadTokenizer(file) as ig.text.BpeTokenizer;
  assert.ok(back instanceof text.BpeTokenizer);
  assert.deepEqual(back.toJSON(), tok.toJSON());
  assert.deepEqual(back.merges, tok.merges);
  for (const s of randomStrings(99, 100)) assert.deepEqual(back.encode(s), tok.encode(s));
});

test("BPE with addPrefixSpace tokenizes the first word like the others", () => {
  const tok = text.trainBpe(CORPUS, { vocabSize: 400, addPrefixSpace: true });
  assert.deepEqual(tok.encode("the"), tok.encode(" the"));
  assert.equal(tok.decode(tok.encode("the")), " the");
  const back = text.tokenizerFromJSON(tok.toJSON()) as ig.text.BpeTokenizer;
  assert.equal(back.options.addPrefixSpace, true);
});

test("tinyshakespeare: char vocabulary as nanoGPT, BPE training time (skips when INGOT_DATA is absent)", (t) => {
  const path = join(process.env.INGOT_DATA ?? "", "tinyshakespeare", "input.txt");
  if (!process.env.INGOT_DATA || !existsSync(path)) {
    t.skip("INGOT_DATA is not set or has no tinyshakespeare/input.txt");
    return;
  }
  const data = readFileSync(path, "utf8");
  const chars = text.trainChar(data);
  // nanoGPT's data/shakespeare_char/prepare.py prints these 65 characters.
  assert.equal(chars.chars.join(""), "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
  const t0 = performance.now();
  const tok = text.trainBpe(data, { vocabSize: 1000 });
  const seconds = (performance.now() - t0) / 1000;
  const ids = tok.encode(data);
  console.log(`trainBpe on tinyshakespeare (${data.length} chars): vocab 1000 in ${seconds.toFixed(2)} s; ${ids.length} tokens (${(data.length / ids.length).toFixed(2)} chars/token)`);
  assert.equal(tok.vocabSize, 1000);
  assert.equal(tok.decode(ids), data);
});
