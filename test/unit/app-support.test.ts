// The support assistant's parts without training: the FAQ files and their checks, the prompt it serves,
// the GPT trunk its embeddings come from (checked against GPT.forward's logits), BM25 against a hand
// computation, and the hybrid index's ranking.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ig from "../../src/index.js";
import { readEvalQuestions, readFaq } from "../../examples/apps/support-assistant/faq.js";
import { promptFor } from "../../examples/apps/support-assistant/model.js";
import { Bm25, FaqIndex, hiddenStates, terms } from "../../examples/apps/support-assistant/retrieval.js";

test("the shipped FAQ: 25 entries with unique ids, each key phrase in its answer; every held-out question names an entry and is new wording", () => {
  const faq = readFaq();
  assert.equal(faq.length, 25);
  assert.equal(new Set(faq.map((e) => e.id)).size, 25);
  for (const e of faq) assert.ok(e.answer.includes(e.key), e.id);
  // A key phrase names one answer only, so finding it in a reply identifies the entry.
  for (const e of faq) assert.deepEqual(faq.filter((o) => o.answer.includes(e.key)).map((o) => o.id), [e.id]);
  const held = readEvalQuestions();
  assert.equal(held.length, 25);
  for (const q of held) {
    const e = faq.find((x) => x.id === q.id);
    assert.ok(e, q.id);
    assert.ok(![e.question, ...e.paraphrases].includes(q.question), q.question);
  }
});

test("readFaq: a key phrase missing from its answer, a bad line or a repeated id is an error naming the line", () => {
  const dir = mkdtempSync(join(tmpdir(), "ingot-faq-"));
  try {
    const f = join(dir, "faq.jsonl");
    const ok = { id: "a", question: "Q?", answer: "The answer.", key: "answer" };
    writeFileSync(f, JSON.stringify(ok) + "\n" + JSON.stringify({ ...ok, id: "b", key: "missing" }) + "\n");
    assert.throws(() => readFaq(f), /line 2: the key phrase 'missing' is not part of the answer/);
    writeFileSync(f, JSON.stringify(ok) + "\n{oops\n");
    assert.throws(() => readFaq(f), /line 2 is not JSON/);
    writeFileSync(f, JSON.stringify(ok) + "\n" + JSON.stringify(ok) + "\n");
    assert.throws(() => readFaq(f), /repeats an id/);
    writeFileSync(f, JSON.stringify({ ...ok, paraphrases: [1] }) + "\n");
    assert.throws(() => readFaq(f), /'paraphrases' must be a list of strings/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("promptFor is ingot serve's chat template with the entry as a system message", () => {
  const e = { id: "x", question: "How?", answer: "Like this.", key: "this", paraphrases: [] };
  assert.equal(promptFor("Why?", e), "System: Question: How?\nAnswer: Like this.\nUser: Why?\nAssistant:");
  assert.equal(promptFor("Why?", null), ig.serve.chatPrompt([{ role: "user", content: "Why?" }]));
});

function tinyGpt(): { gpt: ig.models.GPT; tok: ig.text.Tokenizer } {
  ig.manualSeed(7);
  const tok = ig.text.trainChar("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ?.,:'\n-");
  const gpt = new ig.models.GPT({ vocabSize: tok.vocabSize, blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 16 });
  gpt.eval();
  return { gpt, tok };
}

test("hiddenStates is GPT.forward's trunk: the tied head applied to it gives forward's logits", () => {
  const { gpt, tok } = tinyGpt();
  const ids = tok.encode("User: how do I pay?\n");
  const h = hiddenStates(gpt, ids);
  assert.deepEqual(h.shape, [ids.length, 16]);
  const viaHead = ig.noGrad(() => gpt.lm_head.call(h)).dataSync();
  const logits = ig.noGrad(() => gpt.forward(ig.tensor(Int32Array.from(ids), { dtype: "int32", shape: [1, ids.length] })).logits).dataSync();
  assert.equal(viaHead.length, logits.length);
  for (let i = 0; i < logits.length; i++) assert.ok(Math.abs(viaHead[i] - logits[i]) < 1e-5, `logit ${i}`);
});

test("Bm25 matches a hand computation (k1 1.2, b 0.75, Lucene idf)", () => {
  const bm = new Bm25(["refund my card", "api key key", "regions"]);
  // "key" is in document 1 only (df 1 of N 3), twice, in a document of 3 terms; the average length is 7/3.
  const idf = Math.log(1 + (3 - 1 + 0.5) / (1 + 0.5));
  const expected = (idf * 2 * 2.2) / (2 + 1.2 * (1 - 0.75 + (0.75 * 3) / (7 / 3)));
  const s = bm.scores("Key?");
  assert.equal(s[0], 0);
  assert.ok(Math.abs(s[1] - expected) < 1e-12, `${s[1]} vs ${expected}`);
  assert.equal(s[2], 0);
  assert.deepEqual(terms("API-keys, 60 seconds!"), ["api", "keys", "60", "seconds"]);
});

test("FaqIndex: sorted hits; an indexed question finds its own entry with cosine 1; lexical-only ranking is BM25's", () => {
  const { gpt, tok } = tinyGpt();
  const faq = readFaq().slice(0, 6);
  const index = new FaqIndex(gpt, tok, faq);
  for (const e of faq) {
    const hits = index.search(e.question, 3);
    assert.equal(hits.length, 3);
    assert.ok(hits[0].score >= hits[1].score && hits[1].score >= hits[2].score);
    assert.equal(hits[0].entry.id, e.id);
    assert.ok(Math.abs(hits[0].cosine - 1) < 1e-9);
  }
  const lexical = new FaqIndex(gpt, tok, faq, 0);
  const q = "which cards can I pay with";
  const bm = new Bm25(faq.map((e) => [e.question, ...e.paraphrases, e.answer].join(" "))).scores(q);
  const hits = lexical.search(q, faq.length);
  assert.deepEqual(
    hits.map((h) => h.entry.id),
    faq.map((e, i) => [e.id, bm[i]] as const).sort((a, b) => b[1] - a[1]).map(([id]) => id),
  );
});
