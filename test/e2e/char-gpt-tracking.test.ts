// `ingot train char-gpt` records its run in the run store (config, iteration loss and lr, eval
// losses, model folder, card.json's run_id, lineage on --resume), writes --logdir event files with
// the same values, and --profile a Chrome trace recorded as an artefact. A tiny model on a small
// generated text, a few iterations; INGOT_HOME is a temp folder.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ingot from "../../src/index.js";
import { noRunStore } from "../unit/requirements.js";

const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "ingot-lm-tracking-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const home = join(tmp, "home");
const text = join(tmp, "text.txt");
// 3,000 characters of a fixed verse: the last 10 % (the validation split) is longer than the context of 32.
const verse = "Shall I compare thee to a summer's day?\nThou art more lovely and more temperate:\n";
writeFileSync(text, verse.repeat(Math.ceil(3000 / verse.length)));

function cli(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, INGOT_HOME: home }, maxBuffer: 1 << 26 });
}
const lastJson = (s: string) => JSON.parse(s.trimEnd().split("\n").pop()!) as Record<string, any>;
const common = ["--size", "tiny", "--eval-interval", "10", "--eval-iters", "2", "--data", text, "--json"];

test("char-gpt: the run, its metrics, the event files, the profile, and the resumed run's lineage", { skip: noRunStore }, () => {
  const out = join(tmp, "m");
  const logdir = join(tmp, "logs");
  const trace = join(tmp, "trace.json");
  const r = cli(["train", "char-gpt", ...common, "--max-iters", "20", "--out", out, "--logdir", logdir, "--profile", trace]);
  assert.equal(r.status, 0, r.stderr);
  const res = lastJson(r.stdout);
  assert.match(res.run_id, /^[0-9a-f]{8}$/);
  assert.equal(res.logdir, logdir);

  const store = ingot.tracking.RunStore.open(join(home, "runs.db"));
  try {
    const run = store.getRun(res.run_id);
    assert.equal(run.name, "char-gpt");
    assert.equal(run.kind, "lm");
    assert.equal(run.status, "finished");
    assert.equal(run.seed, 1337);
    assert.equal(run.modelDir, out);
    assert.equal(run.logdir, logdir);
    assert.match(run.datasetChecksum!, /^sha256:[0-9a-f]{64}$/);
    assert.equal(run.config.size, "tiny");
    assert.equal(run.config.max_iters, 20);
    assert.equal(run.config.nLayer, 2);
    assert.ok((run.config.parameters as number) > 20000);
    // Iteration loss and lr every 10 iterations; the evaluations at 0, 10 and 20.
    const series: Record<string, [number, number][]> = {};
    for (const m of store.metrics(run.id)) (series[m.key] ??= []).push([m.step, m.value]);
    assert.deepEqual(series.loss.map(([s]) => s), [10, 20]);
    assert.deepEqual(series.lr.map(([s]) => s), [10, 20]);
    assert.deepEqual(series.val_loss.map(([s]) => s), [0, 10, 20]);
    assert.deepEqual(series.train_loss.map(([s]) => s), [0, 10, 20]);
    // The last evaluation is the result the command printed.
    assert.equal(series.val_loss[2][1], res.val_loss);
    assert.equal(series.train_loss[2][1], res.train_loss);
    assert.equal(run.summary.val_loss, res.val_loss);
    // lr is the one iteration 9 used: nanoGPT's warm-up lr·(it + 1)/(warmup + 1) with lr 3e-3, warm-up 10.
    assert.ok(Math.abs(series.lr[0][1] - (3e-3 * 10) / 11) < 1e-12, `lr at step 10: ${series.lr[0][1]}`);
    // The event files hold the same values (float32), read back by the independent reader.
    const scalars = ingot.tensorboard.readScalars(join(logdir, "train"));
    for (const key of ["loss", "lr", "train_loss", "val_loss"]) {
      assert.deepEqual(scalars[key].map((p) => p.step), series[key].map(([s]) => s), key);
      scalars[key].forEach((p, i) => assert.equal(p.value, Math.fround(series[key][i][1]), `${key} at step ${p.step}`));
    }
    // card.json names the run; the profile and the model are artefacts.
    assert.equal(JSON.parse(readFileSync(join(out, "card.json"), "utf8")).run_id, run.id);
    const arts = Object.fromEntries(store.artifacts(run.id).map((a) => [a.name, a]));
    assert.equal(arts.profile.kind, "profile");
    assert.equal(arts.model.kind, "model");
    assert.equal(arts.tensorboard.path, logdir);
    const t = JSON.parse(readFileSync(trace, "utf8")) as { traceEvents: { name: string; ph: string }[] };
    assert.ok(t.traceEvents.some((e) => e.ph === "X" && e.name === "scaledDotProductAttention"));
    assert.ok(t.traceEvents.some((e) => e.name === "AdamW.step"));

    // --resume continues the run in a new record whose parent is the first ("resumed-from").
    const more = cli(["train", "char-gpt", ...common, "--max-iters", "25", "--out", out, "--resume"]);
    assert.equal(more.status, 0, more.stderr);
    const child = store.getRun(lastJson(more.stdout).run_id);
    assert.equal(child.parentId, run.id);
    assert.equal(child.relation, "resumed-from");
    assert.deepEqual(store.metrics(child.id, { keys: ["loss"] }).map((m) => m.step), [25]);
  } finally {
    store.close();
  }
});

test("char-gpt --no-track records nothing; a bad --logdir value is refused before training", { skip: noRunStore }, () => {
  const before = existsSync(join(home, "runs.db")) ? ingot.tracking.RunStore.open(join(home, "runs.db")) : null;
  const n0 = before ? before.listRuns().length : 0;
  before?.close();
  const r = cli(["train", "char-gpt", ...common, "--max-iters", "2", "--out", join(tmp, "n"), "--no-track"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(lastJson(r.stdout).run_id, undefined);
  const after = ingot.tracking.RunStore.open(join(home, "runs.db"));
  assert.equal(after.listRuns().length, n0);
  after.close();
  const bad = cli(["train", "char-gpt", ...common, "--logdir"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--logdir/);
});
