// End to end on the State of the Union corpus (INGOT_DATA/text-corpora/sotu, 3 addresses per
// half-century copied to a temporary folder to stay fast): `ingot pretrain mlm` lowers the held-out
// masked-token loss; `ingot finetune --data sotu-halfcentury` with LoRA writes only the adapter, and
// with --freeze on a JSONL file trains the rest. Skips, saying why, without the data.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as ig from "../../src/index.js";

const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const SOTU = process.env.INGOT_DATA ? join(resolve(process.env.INGOT_DATA), "text-corpora", "sotu") : null;
const skip = SOTU && existsSync(SOTU) ? false : `no corpus in ${SOTU ?? "INGOT_DATA (unset)"}: set INGOT_DATA=../shared/data to run the BERT end-to-end tests`;
const tmp = mkdtempSync(join(tmpdir(), "ingot-bert-e2e-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `ingot ${args.join(" ")} failed:\n${r.stderr}`);
  const lines = r.stdout.trimEnd().split("\n");
  return JSON.parse(lines[lines.length - 1]) as Record<string, any>;
}

/** 3 addresses of each half-century (the first of each), so that the split has train, val and test documents. */
function smallCorpus(): string {
  const dir = join(tmp, "sotu");
  mkdirSync(dir, { recursive: true });
  const names = readdirSync(SOTU!).filter((n) => n.endsWith(".txt")).sort();
  for (const start of [1790, 1850, 1900, 1950, 2000])
    names.filter((n) => Number(n.slice(0, 4)) >= start).slice(0, 3).forEach((n) => copyFileSync(join(SOTU!, n), join(dir, n)));
  return dir;
}

test("ingot pretrain mlm lowers the held-out masked-token loss; ingot finetune with LoRA and with --freeze", { skip }, () => {
  const corpus = smallCorpus();
  const mlm = join(tmp, "mlm");
  const p = cli(["pretrain", "mlm", "--corpus", corpus, "--vocab-size", "800", "--max-iters", "25", "--batch-size", "8", "--seq-len", "32", "--lr", "0.002", "--out", mlm, "--json"]);
  for (const k of ["train_loss", "val_loss", "initial_val_loss", "iters", "tokens_per_second", "seconds", "parameters", "out"]) assert.ok(k in p, `JSON has ${k}`);
  assert.ok(Math.abs(p.initial_val_loss - Math.log(p.vocab_size)) < 0.5, `a fresh model is near ln V: ${p.initial_val_loss}`);
  assert.ok(p.val_loss < p.initial_val_loss - 0.3, `masked-token loss ${p.initial_val_loss} → ${p.val_loss}`);
  assert.deepEqual(readdirSync(mlm).sort(), ["card.json", "config.json", "model.safetensors", "tokenizer.json"]);

  const lora = join(tmp, "lora");
  const f = cli(["finetune", mlm, "--task", "classify", "--data", "sotu-halfcentury", "--corpus", corpus, "--lora", "r=4,alpha=8,targets=query,value", "--epochs", "1", "--batch-size", "16", "--seq-len", "32", "--out", lora, "--json"]);
  for (const k of ["train_loss", "val_loss", "test_accuracy", "trainable_parameters", "total_parameters", "seconds", "out"]) assert.ok(k in f, `JSON has ${k}`);
  assert.ok(f.test_accuracy >= 0 && f.test_accuracy <= 1 && f.test_examples > 0);
  assert.equal(f.trainable_parameters, 2 * 2 * 4 * (128 + 128) + (128 * 5 + 5), "adapters (2 layers × query, value) + the classifier head");
  const keys = Object.keys(ig.loadSafetensors(join(lora, "adapter_model.safetensors")).tensors);
  assert.ok(keys.every((k) => /\.lora_[AB]\.weight$|\.classifier\./.test(k)), keys.join(", "));
  const task = readFileSync(join(lora, "task.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const testDocs = new Set(task.filter((e) => e.split === "test").map((e) => e.doc));
  assert.ok(testDocs.size === 5 && task.filter((e) => e.split === "train").every((e) => !testDocs.has(e.doc)), "test passages come from unseen addresses");

  const jsonl = join(tmp, "task.jsonl");
  writeFileSync(jsonl, task.map((e) => JSON.stringify({ sentence: e.text, era: e.label_name, split: e.split })).join("\n") + "\n");
  const full = cli(["finetune", mlm, "--data", jsonl, "--text-field", "sentence", "--label-field", "era", "--freeze", "bert.embeddings", "--epochs", "1", "--seq-len", "32", "--out", join(tmp, "frozen"), "--json"]);
  const embeddings = 800 * 128 + 128 * 128 + 2 * 128 + 2 * 128;
  assert.equal(full.total_parameters - full.trainable_parameters, embeddings, "the embeddings are frozen");
  const saved = ig.models.loadBert(join(tmp, "frozen"));
  assert.equal(saved.head, "classify");
  assert.deepEqual(saved.config.labels, ["1790-1849", "1850-1899", "1900-1949", "1950-1999", "2000-2021"]);
});
