// End to end: `ingot train char-gpt --size tiny` on tinyshakespeare (from INGOT_DATA) → --json's last
// line → `ingot generate` on the saved folder (plain, --stream, --json), plus the one-line errors.
// The must-show run (--size small, 2000 iters, val loss ≤ 1.95) is measured by hand, not here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "ingot-char-gpt-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

const DATA = process.env.INGOT_DATA ? resolve(process.env.INGOT_DATA) : null;
const TEXT = DATA ? join(DATA, "tinyshakespeare", "input.txt") : null;
const skip = TEXT && existsSync(TEXT) ? false : `no tinyshakespeare in ${TEXT ?? "INGOT_DATA (unset)"}: set INGOT_DATA=../shared/data to run the char-gpt end-to-end test`;

function cli(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
}

function lastJson(stdout: string): Record<string, any> {
  const lines = stdout.trimEnd().split("\n");
  return JSON.parse(lines[lines.length - 1]) as Record<string, any>;
}

test("train char-gpt --size tiny --max-iters 30 --json, then generate from the folder", { skip }, () => {
  const out = join(tmp, "tiny");
  const r = cli(["train", "char-gpt", "--size", "tiny", "--max-iters", "30", "--data", TEXT!, "--json", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  const res = lastJson(r.stdout);
  for (const k of ["recipe", "train_loss", "val_loss", "iters", "tokens_per_second", "seconds", "parameters", "out"]) assert.ok(k in res, `--json lacks ${k}`);
  assert.equal(res.recipe, "char-gpt");
  assert.equal(res.iters, 30);
  assert.equal(res.out, out);
  assert.equal(res.vocab_size, 65);
  // An untrained model scores ln 65 ≈ 4.17; 30 steps learn the character frequencies at least.
  assert.ok(res.val_loss < 3.6 && res.train_loss < 3.6, `losses ${res.train_loss} / ${res.val_loss}`);
  assert.ok(res.tokens_per_second > 0 && res.seconds > 0 && res.parameters > 20000);
  assert.match(r.stderr, /step 0: train loss 4\.\d+, val loss 4\.\d+/, "progress on stderr");
  assert.match(r.stderr, /tok\/s {2}ETA/);
  for (const f of ["config.json", "model.safetensors", "tokenizer.json", "card.json", "optimizer.safetensors", "trainer-state.json"]) assert.ok(existsSync(join(out, f)), `${f} saved`);

  const g = cli(["generate", out, "--prompt", "ROMEO:", "--max-tokens", "40", "--seed", "3", "--json"]);
  assert.equal(g.status, 0, g.stderr);
  const gen = lastJson(g.stdout);
  assert.equal(gen.prompt, "ROMEO:");
  assert.equal(gen.tokens, 40);
  assert.equal([...gen.text].length, 40, "one character per token");
  // Streaming prints the same text for the same seed.
  const s = cli(["generate", out, "--prompt", "ROMEO:", "--max-tokens", "40", "--seed", "3", "--stream"]);
  assert.equal(s.status, 0, s.stderr);
  assert.equal(s.stdout, `ROMEO:${gen.text}\n`);

  // Resuming a finished run with more iterations continues it.
  const more = cli(["train", "char-gpt", "--size", "tiny", "--max-iters", "35", "--data", TEXT!, "--json", "--out", out, "--resume"]);
  assert.equal(more.status, 0, more.stderr);
  assert.equal(lastJson(more.stdout).iters, 35);
  assert.match(more.stderr, /resumed at step 30/);
});

test("char-gpt and generate errors are one clear line", () => {
  const missing = cli(["train", "char-gpt", "--size", "tiny", "--data", join(tmp, "nope.txt")]);
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr.trim().split("\n").length, 1);
  assert.match(missing.stderr, /--data .*nope\.txt does not exist/);

  const size = cli(["train", "char-gpt", "--size", "huge", "--data", bin]);
  assert.equal(size.status, 2);
  assert.match(size.stderr, /^ingot train char-gpt: unknown --size 'huge'; the sizes are tiny, small, baby\n$/);

  const notGpt = cli(["generate", tmp, "--prompt", "x"]);
  assert.equal(notGpt.status, 1);
  assert.match(notGpt.stderr, /^ingot generate: .* is not a model folder \(no config\.json\)\n$/);

  const keras = join(tmp, "keras-model");
  mkdirSync(keras);
  writeFileSync(join(keras, "config.json"), JSON.stringify({ architecture: "ingot.keras" }));
  const wrong = cli(["generate", keras, "--prompt", "x"]);
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /^ingot generate: .*keras-model is not a GPT model folder \(its architecture is 'ingot\.keras'\)[^\n]*\n$/);

  const noDir = cli(["generate"]);
  assert.equal(noDir.status, 2);
  assert.match(noDir.stderr, /name one model folder/);

  const resume = cli(["train", "char-gpt", "--size", "tiny", "--data", bin, "--out", join(tmp, "none"), "--resume"]);
  assert.equal(resume.status, 1);
  assert.match(resume.stderr, /holds no training checkpoint .*; run without --resume\n$/);
});
