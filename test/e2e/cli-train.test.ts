// End to end on real data: `ingot train` → `ingot eval` → `ingot info` on MNIST from INGOT_DATA
// (CI sets INGOT_DATA=../shared/data), the regression recipe, --json's last line, and the
// missing-data error. The MNIST tests skip, saying why, where the data is absent; the full
// must-show run (5 epochs, test accuracy ≥ 0.975) is opt-in with INGOT_E2E_FULL=1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { getBackend } from "../../src/index.js";
import { withoutSetupNotices } from "../unit/requirements.js";

const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "ingot-e2e-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

const DATA = process.env.INGOT_DATA ? resolve(process.env.INGOT_DATA) : null;
const MNIST = DATA ? join(DATA, "mnist") : null;
const hasMnist = !!MNIST && existsSync(join(MNIST, "train-images-idx3-ubyte.gz"));
const skipMnist = hasMnist ? false : `no MNIST in ${MNIST ?? "INGOT_DATA (unset)"}: set INGOT_DATA=../shared/data to run the MNIST end-to-end tests`;
// On the native backend a full MNIST epoch takes seconds; the reference backend (~40 s an epoch)
// trains on a subset to keep CI short.
const native = getBackend() === "cpu";

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env, maxBuffer: 1 << 26 });
  return { ...r, stderr: withoutSetupNotices(r.stderr) };
}

/** The last line of stdout, which --json promises is one JSON object. */
function lastJson(stdout: string): Record<string, any> {
  const lines = stdout.trimEnd().split("\n");
  const v = JSON.parse(lines[lines.length - 1]) as unknown;
  assert.ok(v && typeof v === "object" && !Array.isArray(v), "the last line is a JSON object");
  return v as Record<string, any>;
}

const REQUIRED = ["recipe", "dataset", "epochs", "train_loss", "test_loss", "seconds", "samples_per_second", "out"];

test("mnist-mlp: one epoch on MNIST (--data is the mnist folder), then ingot eval reproduces the accuracy exactly", { skip: skipMnist }, () => {
  const out = join(tmp, "mnist-mlp");
  const limit = native ? [] : ["--limit", "20000"];
  const r = cli(["train", "mnist-mlp", "--data", MNIST!, "--epochs", "1", ...limit, "--json", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  const res = lastJson(r.stdout);
  for (const k of [...REQUIRED, "test_accuracy"]) assert.ok(k in res, `--json lacks ${k}`);
  assert.equal(res.recipe, "mnist-mlp");
  assert.equal(res.dataset, "mnist");
  assert.equal(res.epochs, 1);
  assert.equal(res.train_samples, native ? 60000 : 20000);
  assert.equal(res.test_samples, 10000);
  // One epoch of the seed's MLP reaches about 96% on all of MNIST (about 93.5% from 20 000 images).
  const want = native ? 0.95 : 0.92;
  assert.ok(res.test_accuracy >= want, `test accuracy ${res.test_accuracy} < ${want}`);
  assert.ok(res.samples_per_second > 0 && res.seconds > 0);
  assert.equal(res.out, out);
  for (const f of ["config.json", "model.safetensors", "card.json"]) assert.ok(existsSync(join(out, f)), `${f} saved`);

  const e = cli(["eval", out, "--data", DATA!, "--json"]);
  assert.equal(e.status, 0, e.stderr);
  const ev = lastJson(e.stdout);
  assert.equal(ev.test_samples, 10000);
  assert.equal(ev.test_accuracy, res.test_accuracy, "eval reproduces the test accuracy exactly");
  assert.equal(ev.test_loss, res.test_loss, "and the test loss, on the same backend");
  assert.equal(ev.matches_card, true);

  const i = cli(["info", out]);
  assert.equal(i.status, 0, i.stderr);
  assert.match(i.stdout, /flatten_1\s+Flatten\s+\(None, 784\)\s+0/);
  assert.match(i.stdout, /dense_2\s+Dense\s+\(None, 10\)\s+1,290/);
  assert.match(i.stdout, /params\s+101,770/);
  assert.match(i.stdout, /model\.safetensors 407\.\d kB/);
  assert.match(i.stdout, /data\s+mnist · .*test accuracy \d\d\.\d\d%/);
});

test(
  "must show: ingot train mnist-mlp --json reaches test accuracy ≥ 0.975 in its 5 epochs and eval reproduces it",
  { skip: skipMnist || (process.env.INGOT_E2E_FULL ? false : "the full 5-epoch run is opt-in: INGOT_E2E_FULL=1 (about 20 s on the native backend, minutes on ref)") },
  () => {
    const out = join(tmp, "mnist-mlp-full");
    const r = cli(["train", "mnist-mlp", "--data", MNIST!, "--json", "--out", out]);
    assert.equal(r.status, 0, r.stderr);
    const res = lastJson(r.stdout);
    assert.equal(res.epochs, 5);
    assert.ok(res.test_accuracy >= 0.975, `test accuracy ${res.test_accuracy}`);
    const ev = lastJson(cli(["eval", out, "--json"]).stdout);
    assert.equal(ev.test_accuracy, res.test_accuracy);
  },
);

test("cnn: a short augmented run on MNIST learns, and eval repeats its one-hot evaluation", { skip: skipMnist }, () => {
  const out = join(tmp, "cnn");
  const r = cli(["train", "cnn", "--dataset", "mnist", "--data", DATA!, "--epochs", "1", ...(native ? ["--limit", "3000", "--test-limit", "1000"] : ["--limit", "1000", "--test-limit", "300"]), "--json", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  const res = lastJson(r.stdout);
  for (const k of [...REQUIRED, "test_accuracy"]) assert.ok(k in res, `--json lacks ${k}`);
  assert.equal(res.test_samples, native ? 1000 : 300);
  // About 84% after 3000 images (66% after 1000); a tenth would be chance.
  assert.ok(res.test_accuracy >= 0.5, `test accuracy ${res.test_accuracy}`);
  const ev = lastJson(cli(["eval", out, "--json"]).stdout);
  assert.equal(ev.test_accuracy, res.test_accuracy);
  assert.equal(ev.matches_card, true);
  const card = JSON.parse(readFileSync(join(out, "card.json"), "utf8"));
  assert.equal(card.recipe, "cnn");
  assert.ok(card.augmentation.rotationRange > 0);
});

test("regression-mlp: the seed's 100 epochs reach test MSE < 0.01 and eval agrees", () => {
  const out = join(tmp, "regression-mlp");
  const r = cli(["train", "regression-mlp", "--json", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  const res = lastJson(r.stdout);
  for (const k of REQUIRED) assert.ok(k in res, `--json lacks ${k}`);
  assert.equal(res.epochs, 100);
  assert.ok(res.test_loss < 0.01, `test MSE ${res.test_loss}`);
  assert.ok(res.train_loss < 0.01, `train MSE ${res.train_loss}`);
  const ev = lastJson(cli(["eval", out, "--json"]).stdout);
  assert.equal(ev.test_loss, res.test_loss);
});

test("without --json: a progress bar, the epoch table and where the model went", () => {
  const r = cli(["train", "regression-mlp", "--epochs", "20", "--out", join(tmp, "reg-human")]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /20\/20 \[=+\] - .*epoch - loss: /);
  assert.match(r.stdout, /epoch\s+loss\s+seconds/);
  assert.match(r.stdout, /test loss\s+.*\(mean squared error\)/);
  assert.match(r.stdout, /saved\s+.*reg-human\/ \(config\.json/);
  assert.throws(() => lastJson(r.stdout));
});

test("a missing dataset names INGOT_DATA and --data, without a stack trace", () => {
  const empty = join(tmp, "no-data");
  mkdirSync(join(empty, "mnist"), { recursive: true });
  const r = cli(["train", "mnist-mlp", "--json"], { ...process.env, INGOT_DATA: empty });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^ingot train: no MNIST files in .*no-data\/mnist; set INGOT_DATA or pass --data/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const d = cli(["train", "mnist-mlp", "--data", join(empty, "mnist")]);
  assert.match(d.stderr, /no MNIST files in .*no-data\/mnist or .*no-data\/mnist\/mnist; set INGOT_DATA or pass --data/);
});
