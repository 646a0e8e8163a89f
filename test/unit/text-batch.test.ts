// ingot.text batches and templates: [CLS]/[SEP] templates and pairs, truncation (longest first, left or
// right), padding into int32 tensors with attention masks, tokenizer.json padding/truncation settings,
// added tokens (lstrip/rstrip/single_word), all on tiny hand-written vocabularies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ig from "../../src/index.js";

const { text } = ig;
// ids:          0        1        2        3        4        5      6      7      8     9      10   11     12     13   14
const VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "a", "dog", "##s", ",", "."];
const bert = () => text.wordPieceFromVocab(VOCAB);

test("template: [CLS] A [SEP] and [CLS] A [SEP] B [SEP] with segment ids and the special-token mask", () => {
  const tok = bert();
  assert.deepEqual(tok.encode("The cat sat."), [2, 5, 6, 7, 14, 3]);
  assert.deepEqual(tok.encode("The cat sat.", { addSpecialTokens: false }), [5, 6, 7, 14]);
  const e = tok.encodeFull("The cats", "a dog");
  assert.deepEqual(e.ids, [2, 5, 6, 12, 3, 10, 11, 3]);
  assert.deepEqual(e.tokens, ["[CLS]", "the", "cat", "##s", "[SEP]", "a", "dog", "[SEP]"]);
  assert.deepEqual(e.typeIds, [0, 0, 0, 0, 0, 1, 1, 1]);
  assert.deepEqual(e.specialTokensMask, [1, 0, 0, 0, 1, 0, 0, 1]);
  assert.deepEqual(tok.encodePair("the", "dog"), [2, 5, 3, 11, 3]);
  assert.equal(tok.postProcessor?.describe(), "[CLS] $A [SEP]");
  assert.equal(tok.clsTokenId, 2);
  assert.equal(tok.sepTokenId, 3);
  assert.equal(tok.maskTokenId, 4);
  assert.equal(tok.padTokenId, 0);
});

test("setTemplate: Hugging Face's template syntax, a derived pair template, and clear errors", () => {
  const tok = text.trainBpe("the cat sat on the mat", { vocabSize: 270, specialTokens: ["<|endoftext|>"] });
  const hi = tok.encode("hi");
  assert.deepEqual(tok.encode("hi", { addSpecialTokens: true }), hi, "GPT-2 style: nothing added by default");
  tok.setTemplate("$A <|endoftext|>");
  assert.deepEqual(tok.encode("hi"), [...hi, 0]);
  assert.deepEqual(tok.encodeFull("hi", "hi").typeIds, [...hi.map(() => 0), 0, ...hi.map(() => 1), 1]);
  const back = text.tokenizerFromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
  assert.deepEqual(back.encode("hi"), [...hi, 0], "the template is saved as TemplateProcessing");
  assert.throws(() => tok.setTemplate("[CLS] $A"), { name: "ValueError", message: /setTemplate: the template's special token '\[CLS\]' is not in the vocabulary; add it first/ });
  assert.throws(() => tok.setTemplate("<|endoftext|>"), /must hold \$A exactly once/);
  tok.setTemplate(null);
  assert.deepEqual(tok.encode("hi"), hi);
});

test("truncatePair: longest first, from b on ties, right or left", () => {
  const seq = (n: number, base = 0) => Array.from({ length: n }, (_, i) => base + i);
  // 5 + 5 → 7: remove from b (tie), a (longer), b (tie) → a keeps 4, b keeps 3.
  assert.deepEqual(text.truncatePair(seq(5), seq(5, 10), 7), [seq(4), seq(3, 10)]);
  assert.deepEqual(text.truncatePair(seq(6), seq(2, 10), 6), [seq(4), seq(2, 10)]);
  assert.deepEqual(text.truncatePair(seq(2), seq(6, 10), 4), [seq(2), seq(2, 10)]);
  assert.deepEqual(text.truncatePair(seq(3), seq(6, 10), 4), [seq(2), seq(2, 10)]);
  assert.deepEqual(text.truncatePair(seq(5), null, 3, "left"), [[2, 3, 4], null]);
  assert.deepEqual(text.truncatePair(seq(2), seq(2), 9), [seq(2), seq(2)]);
  assert.throws(() => text.truncatePair(seq(2), null, -1), /truncate: maxLength leaves no room for the special tokens/);
});

test("encode truncation keeps room for the special tokens", () => {
  const tok = bert();
  assert.deepEqual(tok.encode("the cat sat on the mat", { maxLength: 5 }), [2, 5, 6, 7, 3]);
  assert.deepEqual(tok.encode("the cat sat on the mat", { maxLength: 5, truncationSide: "left" }), [2, 8, 5, 9, 3]);
  assert.deepEqual(tok.encode("the cat sat on the mat", { maxLength: 3, addSpecialTokens: false }), [5, 6, 7]);
  // Pair: budget 9 − 3 specials = 6 of 6 + 2 tokens; the shorter b (2) fits in half, so a is cut to 4.
  assert.deepEqual(tok.encodePair("the cat sat on the mat", "a dog", { maxLength: 9 }), [2, 5, 6, 7, 8, 3, 10, 11, 3]);
  assert.deepEqual(tok.encode("the cat sat on the mat", { maxLength: 5, truncation: false }).length, 8);
  assert.throws(() => tok.encode("the cat", { maxLength: 1 }), /maxLength leaves no room for the special tokens \(1 too few\)/);
  assert.throws(() => tok.encode("the cat", { truncation: true }), /encode: truncation needs maxLength/);
});

test("prepareBatch: padded int32 tensors, attention masks, left padding, multiples, pairs", () => {
  const tok = bert();
  const b = tok.prepareBatch(["the cat", "a dog sat on the mat", "the"]);
  assert.deepEqual(b.inputIds.shape, [3, 8]);
  assert.equal(b.inputIds.dtype, "int32");
  assert.equal(b.attentionMask.dtype, "int32");
  assert.deepEqual(b.inputIds.toArray(), [
    [2, 5, 6, 3, 0, 0, 0, 0],
    [2, 10, 11, 7, 8, 5, 9, 3],
    [2, 5, 3, 0, 0, 0, 0, 0],
  ]);
  assert.deepEqual(b.attentionMask.toArray(), [
    [1, 1, 1, 1, 0, 0, 0, 0],
    [1, 1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 0, 0, 0, 0, 0],
  ]);
  assert.deepEqual(b.lengths, [4, 8, 3]);
  assert.deepEqual(tok.decodeBatch(b.inputIds, { skipSpecialTokens: true }), ["the cat", "a dog sat on the mat", "the"]);
  const left = tok.prepareBatch(["the cat", "the"], { paddingSide: "left" });
  assert.deepEqual(left.inputIds.toArray(), [[2, 5, 6, 3], [0, 2, 5, 3]]);
  assert.deepEqual(left.attentionMask.toArray(), [[1, 1, 1, 1], [0, 1, 1, 1]]);
  const fixed = tok.prepareBatch(["the cat", "a dog sat on the mat"], { padding: "maxLength", maxLength: 6 });
  assert.deepEqual(fixed.inputIds.toArray(), [[2, 5, 6, 3, 0, 0], [2, 10, 11, 7, 8, 3]], "maxLength also truncates");
  assert.deepEqual(tok.prepareBatch(["the cat sat"], { padToMultipleOf: 4 }).inputIds.toArray(), [[2, 5, 6, 7, 3, 0, 0, 0]]);
  const pairs = tok.prepareBatch([["the cat", "a dog"], ["the", "mat"]]);
  assert.deepEqual(pairs.tokenTypeIds.toArray(), [[0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 0, 0]]);
  assert.throws(() => tok.prepareBatch(["the cat sat on the mat"], { padding: "maxLength", maxLength: 4, truncation: false }), {
    name: "ValueError",
    message: /padBatch: row 0 has 8 tokens, more than maxLength 4; truncate it first \(truncation: true\)/,
  });
});

test("prepareBatch without a pad token asks for padId; padBatch and decode take tensors", () => {
  const tok = text.trainBpe("the cat sat on the mat", { vocabSize: 270 });
  assert.equal(tok.padTokenId, undefined);
  assert.throws(() => tok.prepareBatch(["the cat", "the"]), /prepareBatch: this tokenizer has no pad token; pass padId \(e\.g\. the eos id 0\)/);
  const n = tok.encode("the").length;
  assert.deepEqual(tok.prepareBatch(["the", "the"]).attentionMask.toArray(), [Array(n).fill(1), Array(n).fill(1)], "rows of equal length need no pad token");
  const b = tok.prepareBatch(["the cat", "the"], { padId: tok.eosTokenId });
  assert.deepEqual(tok.decode(b.inputIds.select(0, 0)), "the cat");
  assert.throws(() => tok.decode(b.inputIds), /decode: expected a 1-D tensor of ids, got shape \[2,\d+\]; use decodeBatch for 2-D/);
  const p = text.padBatch([[5, 6, 7], [8], []], { padId: -1 });
  assert.deepEqual(p.inputIds.toArray(), [[5, 6, 7], [8, -1, -1], [-1, -1, -1]]);
  assert.deepEqual(p.attentionMask.toArray(), [[1, 1, 1], [1, 0, 0], [0, 0, 0]]);
  assert.deepEqual(text.padBatch([], { padId: 0 }).inputIds.shape, [0, 0]);
  assert.throws(() => tok.prepareBatch(["a"], { padding: false as unknown as "longest" }), /padding false cannot make a rectangular tensor/);
});

test("tokenizer-level truncation and padding settings apply by default and survive tokenizer.json", () => {
  const tok = bert();
  tok.truncation = { maxLength: 4, side: "right", strategy: "LongestFirst", stride: 0 };
  tok.padding = { strategy: "maxLength", maxLength: 5, side: "right", padId: 0, padTypeId: 0, padToken: "[PAD]" };
  assert.deepEqual(tok.encode("the cat sat on"), [2, 5, 6, 3]);
  assert.deepEqual(tok.prepareBatch(["the"]).inputIds.toArray(), [[2, 5, 3, 0, 0]]);
  const json = tok.toJSON();
  assert.deepEqual(json.truncation, { direction: "Right", max_length: 4, strategy: "LongestFirst", stride: 0 });
  assert.deepEqual(json.padding, { strategy: { Fixed: 5 }, direction: "Right", pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0, pad_token: "[PAD]" });
  const file = tok.save(mkdtempSync(join(tmpdir(), "ingot-text-")));
  const back = text.loadTokenizer(file);
  assert.deepEqual(back.encode("the cat sat on"), [2, 5, 6, 3]);
  assert.deepEqual(back.prepareBatch(["the"]).inputIds.toArray(), [[2, 5, 3, 0, 0]]);
  assert.deepEqual(back.toJSON(), json);
  back.padding = { ...back.padding!, strategy: "longest", maxLength: undefined };
  assert.deepEqual(back.toJSON().padding, { ...(json.padding as object), strategy: "BatchLongest" });
});

test("added tokens: plain added words, lstrip/rstrip and single_word from tokenizer.json", () => {
  const tok = bert();
  assert.equal(tok.addTokens(["catdog"]), 1);
  assert.equal(tok.tokenToId("catdog"), 15);
  assert.deepEqual(tok.encode("the catdog", { addSpecialTokens: false }), [5, 15]);
  assert.equal(tok.decode([5, 15], { skipSpecialTokens: true }), "the catdog", "an added word is not special");
  assert.deepEqual(tok.getVocab().get("catdog"), 15);
  const chars = text.trainChar("ab <>mk");
  const json = chars.toJSON() as { added_tokens: Record<string, unknown>[] };
  json.added_tokens = [
    { id: 7, content: "<m>", single_word: false, lstrip: true, rstrip: true, normalized: false, special: true },
    { id: 8, content: "ab", single_word: true, lstrip: false, rstrip: false, normalized: true, special: false },
  ];
  const t = text.tokenizerFromJSON(json);
  const [sp, a, b] = [" ", "a", "b"].map((c) => chars.tokenToId(c)!);
  assert.deepEqual(t.encode("a  <m>  b"), [a, 7, b], "the spaces around <m> are absorbed");
  assert.deepEqual(t.encode("ab bab ab"), [8, sp, b, a, b, sp, 8], "'ab' inside 'bab' is not a whole word");
  assert.deepEqual(t.toJSON().added_tokens, json.added_tokens);
});
