// ingot.text imports: a GPT-2-style byte-level BPE and a BERT WordPiece read from Hugging Face's files
// (tokenizer.json, vocab.json + merges.txt, vocab.txt) must give the ids that GPT-2's encoder.py and
// BERT's tokenization.py give, and the ids Hugging Face's tokenizers library and transformers give on
// the same files. Fixtures: test/golden/tokenizer_*, made by tokenizer_fixture.py; the HF ids,
// tokenizer_cases_hf.json, by transformers_golden.py.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ig from "../../src/index.js";

const { text } = ig;
const golden = (p: string) => new URL(`../../../test/golden/${p}`, import.meta.url).pathname;
interface Case {
  text: string;
  ids: number[];
  tokens?: string[];
}
const CASES = JSON.parse(readFileSync(golden("tokenizer_cases.json"), "utf8")) as { gpt2: Case[]; bert: Case[] };
interface HfCases {
  versions: Record<string, string>;
  gpt2: { text: string; tokenizer_json: number[]; vocab_merges: number[]; decoded: string }[];
  bert: { text: string; tokenizer_json: number[]; vocab_txt: number[] }[];
}
const HF_CASES = JSON.parse(readFileSync(golden("tokenizer_cases_hf.json"), "utf8")) as HfCases;
const GPT2 = golden("tokenizer_gpt2");
const BERT = golden("tokenizer_bert");
const readJson = (p: string) => JSON.parse(readFileSync(p, "utf8")) as Record<string, unknown>;
const tmp = () => mkdtempSync(join(tmpdir(), "ingot-import-"));

test("GPT-2 fixture: hand-derived tokens of 'the hello world'", () => {
  // Merge ranks (tokenizer_fixture.py): 0 Ġ+t, 1 h+e, 2 Ġt+he, 9 l+l, 10 l+o, 17 Ġ+w, 18 Ġw+o, 19 r+ld,
  // 20 l+d, 21 Ġwo+rld. "the" has no leading space, so Ġt never forms: t·h·e → h+e → [t, he].
  // " hello": h+e (rank 1) first, then l+l (9) beats l+o (10) → [Ġ, he, ll, o].
  // " world": Ġ+w (17), Ġw+o (18), l+d (20), then r+ld (19, possible only once 'ld' exists), Ġwo+rld (21).
  // Ids: bytes 0..255 in GPT-2's order (t = 0x74 − 0x21 = 83, Ġ = 220 as in the real GPT-2), merged tokens
  // numbered in reverse merge order from 256 (27 merges: he = 256 + 25 = 281, ll = 273, Ġworld = 261).
  const tok = text.loadTokenizer(join(GPT2, "tokenizer.json"));
  const e = tok.encodeFull("the hello world");
  assert.deepEqual(e.tokens, ["t", "he", "Ġ", "he", "ll", "o", "Ġworld"]);
  assert.deepEqual(e.ids, [83, 281, 220, 281, 273, 78, 261]);
  assert.deepEqual(e.ids, CASES.gpt2[0].ids);
  // "aaaaa": a+a (rank 11) merges left to right without overlap → [aa, aa, a]; (aa, a) (rank 12) occurs
  // only at the end → [aa, aaa]. "aaaa" → [aa, aa] and no (aa, aa) merge. " aaaaa": Ġ+a (rank 5) comes first.
  assert.deepEqual(tok.encodeFull("aaaaa").tokens, ["aa", "aaa"]);
  assert.deepEqual(tok.encodeFull("aaaa").tokens, ["aa", "aa"]);
  assert.deepEqual(tok.encodeFull(" aaaaa").tokens, ["Ġa", "aa", "aa"]);
  // é is C3 A9 (Ã ©): one merge makes it one token; 世 is E4 B8 96: ä+¸, then ä¸+ĸ.
  assert.deepEqual(tok.encodeFull("é世").tokens, ["Ã©", "ä¸ĸ"]);
});

test("GPT-2 fixture: tokenizer.json, vocab.json + merges.txt and the folder all give encoder.py's ids", () => {
  const readers: [string, ig.text.Tokenizer][] = [
    ["tokenizer.json", text.loadTokenizer(join(GPT2, "tokenizer.json"))],
    ["vocab.json + merges.txt", text.loadBpeFiles(join(GPT2, "vocab.json"), join(GPT2, "merges.txt"))],
    ["folder", text.loadTokenizer(GPT2)],
  ];
  const dir = tmp();
  for (const f of ["vocab.json", "merges.txt"]) copyFileSync(join(GPT2, f), join(dir, f));
  readers.push(["folder without tokenizer.json", text.loadTokenizer(dir)]);
  for (const [name, tok] of readers) {
    assert.ok(tok instanceof text.BpeTokenizer, name);
    assert.equal(tok.vocabSize, 284, name);
    for (const c of CASES.gpt2) {
      assert.deepEqual(tok.encode(c.text), c.ids, `${name}: ${JSON.stringify(c.text)}`);
      assert.equal(tok.decode(c.ids), c.text, `${name}: decode ${JSON.stringify(c.text)}`);
    }
    assert.equal(tok.eosTokenId, 283, "<|endoftext|> plays eos and bos, as in GPT-2");
    assert.equal(tok.bosTokenId, 283);
    assert.equal(tok.padTokenId, undefined);
    assert.equal(tok.decode(tok.encode("the end<|endoftext|>"), { skipSpecialTokens: true }), "the end");
  }
});

test("GPT-2 fixture: newer ([a, b] merges) and older (no model.type) tokenizer.json, and Ingot's own save", () => {
  const json = readJson(join(GPT2, "tokenizer.json"));
  const model = json.model as { merges: unknown[] };
  model.merges = model.merges.map((m) => (m as string).split(" "));
  const tok = text.tokenizerFromJSON(json);
  for (const c of CASES.gpt2) assert.deepEqual(tok.encode(c.text), c.ids);
  const file = tok.save(tmp());
  const saved = readJson(file);
  const original = readJson(join(GPT2, "tokenizer.json"));
  assert.deepEqual((saved.model as Record<string, unknown>).vocab, (original.model as Record<string, unknown>).vocab);
  assert.deepEqual((saved.model as Record<string, unknown>).merges, (original.model as Record<string, unknown>).merges);
  for (const k of ["pre_tokenizer", "post_processor", "decoder", "added_tokens"]) assert.deepEqual(saved[k], original[k], k);
  const back = text.loadTokenizer(file);
  for (const c of CASES.gpt2) assert.deepEqual(back.encode(c.text), c.ids);
  // Older files (GPT-2's on the hub) have no model.type and no use_regex: BPE and true are implied.
  const old = readJson(join(GPT2, "tokenizer.json"));
  delete (old.model as Record<string, unknown>).type;
  for (const k of ["pre_tokenizer", "post_processor", "decoder"]) delete (old[k] as Record<string, unknown>).use_regex;
  const oldTok = text.tokenizerFromJSON(old);
  for (const c of CASES.gpt2) assert.deepEqual(oldTok.encode(c.text), c.ids);
});

test("BERT fixture: hand-derived pieces of 'UNwant\\u00e9d,running'", () => {
  // BertNormalizer: strip accents and lower-case → "unwanted,running"; BertPreTokenizer: "unwanted" "," "running";
  // greedy longest match: un · ##want · ##ed, ",", runn · ##ing; the template adds [CLS] (2) and [SEP] (3).
  const tok = text.loadTokenizer(join(BERT, "tokenizer.json"));
  const e = tok.encodeFull("UNwant\u00e9d,running");
  assert.deepEqual(e.tokens, ["[CLS]", "un", "##want", "##ed", ",", "runn", "##ing", "[SEP]"]);
  assert.deepEqual(e.ids, [2, 9, 6, 7, 12, 10, 11, 3]);
  assert.deepEqual(e.ids, CASES.bert[0].ids);
});

test("BERT fixture: tokenizer.json, vocab.txt and the folder all give tokenization.py's ids", () => {
  const readers: [string, ig.text.Tokenizer][] = [
    ["tokenizer.json", text.loadTokenizer(join(BERT, "tokenizer.json"))],
    ["vocab.txt", text.loadVocabTxt(join(BERT, "vocab.txt"))],
    ["folder", text.loadTokenizer(BERT)],
  ];
  const dir = tmp();
  copyFileSync(join(BERT, "vocab.txt"), join(dir, "vocab.txt"));
  readers.push(["folder with vocab.txt only", text.loadTokenizer(dir)]);
  for (const [name, tok] of readers) {
    assert.ok(tok instanceof text.WordPieceTokenizer, name);
    for (const c of CASES.bert) {
      assert.deepEqual(tok.encode(c.text), c.ids, `${name}: ${JSON.stringify(c.text)}`);
      assert.deepEqual(tok.encodeFull(c.text, null, { addSpecialTokens: false }).tokens, c.tokens);
    }
    const pair = tok.encodeFull("hello", "world");
    assert.deepEqual(pair.ids, [2, 16, 3, 17, 3]);
    assert.deepEqual(pair.typeIds, [0, 0, 0, 1, 1]);
    assert.equal(tok.decode(tok.encode("Hello, World!")), "[CLS] hello, world! [SEP]");
    assert.equal(tok.maskTokenId, 4);
  }
  const back = text.loadTokenizer(text.loadTokenizer(BERT).save(tmp()));
  for (const c of CASES.bert) assert.deepEqual(back.encode(c.text), c.ids);
});

test("reading tokenizer files: clear errors for what Ingot cannot read", () => {
  const gpt2 = () => readJson(join(GPT2, "tokenizer.json"));
  const model = (j: Record<string, unknown>) => j.model as Record<string, unknown>;
  assert.throws(() => text.tokenizerFromJSON({ model: { type: "Unigram", vocab: [["a", -1]] } }), { name: "ValueError", message: /model type 'Unigram' is not supported/ });
  const badMerge = gpt2();
  (model(badMerge).merges as string[]).push("Ġ zz");
  assert.throws(() => text.tokenizerFromJSON(badMerge), /merge 27 'Ġ zz' needs the token "zz", which is not in the vocabulary/);
  const fallback = gpt2();
  model(fallback).byte_fallback = true;
  assert.throws(() => text.tokenizerFromJSON(fallback), /byte_fallback \(SentencePiece style\) is not supported/);
  const meta = gpt2();
  meta.pre_tokenizer = { type: "Metaspace", replacement: "▁" };
  meta.decoder = { type: "Metaspace" };
  assert.throws(() => text.tokenizerFromJSON(meta), /pre_tokenizer "Metaspace" is not supported/);
  assert.throws(() => text.tokenizerFromJSON({ ...gpt2(), version: "2.0" }), /tokenizer.json version '2.0' is not supported/);
  assert.throws(() => text.tokenizerFromJSON({ merges: [] }), /not a tokenizer.json \(no "model" object\)/);
  const twice = gpt2();
  (model(twice).vocab as Record<string, number>).zz = 0;
  assert.throws(() => text.tokenizerFromJSON(twice), /tokens "!" and "zz" share id 0/);
  const dir = tmp();
  assert.throws(() => text.loadTokenizer(join(dir, "missing.json")), { name: "IngotError", message: /loadTokenizer: no file or folder .*missing\.json/ });
  assert.throws(() => text.loadTokenizer(dir), /holds no tokenizer.json, vocab.json \+ merges.txt, or vocab.txt/);
  writeFileSync(join(dir, "broken.json"), "{not json");
  assert.throws(() => text.loadTokenizer(join(dir, "broken.json")), /is not valid JSON .*expected a Hugging Face tokenizer.json/);
  assert.throws(() => text.bpeFromVocabMerges({ a: 0 }, "#version: 0.2\na b c\n"), /merges.txt: merge 0 "a b c" is not two tokens separated by one space/);
});

test(`Hugging Face tokenizers ${HF_CASES.versions.tokenizers} / transformers ${HF_CASES.versions.transformers} give Ingot's ids on the same files`, () => {
  const gptJson = text.loadTokenizer(join(GPT2, "tokenizer.json"));
  const gptFiles = text.loadBpeFiles(join(GPT2, "vocab.json"), join(GPT2, "merges.txt"));
  assert.equal(HF_CASES.gpt2.length, CASES.gpt2.length);
  for (const c of HF_CASES.gpt2) {
    assert.deepEqual(gptJson.encode(c.text), c.tokenizer_json, `tokenizers, tokenizer.json: ${JSON.stringify(c.text)}`);
    assert.deepEqual(gptFiles.encode(c.text), c.vocab_merges, `GPT2TokenizerFast, vocab.json + merges.txt: ${JSON.stringify(c.text)}`);
    assert.equal(gptFiles.decode(c.vocab_merges), c.decoded);
  }
  const bertJson = text.loadTokenizer(join(BERT, "tokenizer.json"));
  const bertVocab = text.loadVocabTxt(join(BERT, "vocab.txt"));
  assert.equal(HF_CASES.bert.length, CASES.bert.length);
  for (const c of HF_CASES.bert) {
    assert.deepEqual(bertJson.encode(c.text), c.tokenizer_json, `tokenizers, tokenizer.json: ${JSON.stringify(c.text)}`);
    assert.deepEqual(bertVocab.encode(c.text), c.vocab_txt, `BertTokenizerFast, vocab.txt: ${JSON.stringify(c.text)}`);
  }
});
