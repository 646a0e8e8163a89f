// End to end: `ingot train --logdir` event files read back by the independent reader (every scalar,
// step and tag, CRCs checked) against what the run store recorded, on a 3-epoch MNIST run; `ingot
// runs list|show|compare|rm`; and a training killed mid-way leaving a consistent store with the run
// marked failed/killed. INGOT_HOME is a temp folder; the MNIST test skips without INGOT_DATA.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as ingot from "../../src/index.js";
import { noRunStore } from "../unit/requirements.js";

const { tensorboard: tb, tracking } = ingot;
const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "ingot-runs-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const home = join(tmp, "home");
const env = { ...process.env, INGOT_HOME: home };
const DATA = process.env.INGOT_DATA ? resolve(process.env.INGOT_DATA) : null;
const hasMnist = !!DATA && existsSync(join(DATA, "mnist", "train-images-idx3-ubyte.gz"));

function cli(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env, maxBuffer: 1 << 26 });
}
const lastJson = (stdout: string) => JSON.parse(stdout.trimEnd().split("\n").pop()!) as Record<string, any>;

test("a 3-epoch MNIST run: the event files hold every scalar, step and tag the run store recorded", { skip: noRunStore || (hasMnist ? false : "no MNIST: set INGOT_DATA=../shared/data") }, () => {
  const logdir = join(tmp, "mnist-logs");
  const r = cli(["train", "mnist-mlp", "--data", DATA!, "--epochs", "3", "--limit", "3000", "--test-limit", "1000", "--out", join(tmp, "mnist"), "--logdir", logdir, "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const res = lastJson(r.stdout);
  assert.match(res.run_id, /^[0-9a-f]{8}$/);
  assert.equal(res.logdir, logdir);

  const files = tb.eventFiles(logdir);
  assert.equal(files.length, 1, "mnist-mlp validates at the end only: train/ has the one file");
  const { events, truncated } = tb.readEventFile(files[0]); // throws on any CRC mismatch
  assert.equal(truncated, false);
  assert.equal(events[0].fileVersion, "brain.Event:2");
  const fromEvents = new Map<string, number>();
  for (const e of events) for (const v of e.values ?? []) if (v.simpleValue !== undefined) fromEvents.set(`${v.tag}@${e.step}`, v.simpleValue);

  const store = tracking.RunStore.open(join(home, "runs.db"));
  const run = store.getRun(res.run_id);
  assert.equal(run.status, "finished");
  assert.equal(run.logdir, logdir);
  assert.match(run.datasetChecksum ?? "", /^sha256:[0-9a-f]{64}$/);
  const expected = new Map<string, number>();
  for (const m of store.metrics(run.id)) {
    if (m.key === "epoch_seconds") continue;
    // The store counts epochs from 1 and keeps doubles; TensorBoard (as Keras) counts from 0 in float32.
    if (m.key.startsWith("batch_")) expected.set(`${m.key}@${m.step}`, Math.fround(m.value));
    else expected.set(`epoch_${m.key}@${m.step - 1}`, Math.fround(m.value));
  }
  for (const step of [0, 1, 2]) expected.set(`epoch_learning_rate@${step}`, Math.fround(0.001));
  assert.deepEqual(new Map([...fromEvents].sort()), new Map([...expected].sort()));
  assert.equal(fromEvents.get("epoch_loss@2"), Math.fround(res.train_loss));
  assert.equal(fromEvents.get("epoch_accuracy@2"), Math.fround(res.train_accuracy));
  // 3000 samples in batches of 32: 94 batches an epoch, batch metrics every 20 → steps 20 … 280.
  const batchSteps = [...fromEvents.keys()].filter((k) => k.startsWith("batch_loss@")).map((k) => Number(k.split("@")[1]));
  assert.deepEqual(batchSteps.sort((a, b) => a - b), Array.from({ length: 14 }, (_, i) => 20 * (i + 1)));
  assert.equal(JSON.parse(readFileSync(join(tmp, "mnist", "card.json"), "utf8")).run_id, run.id);
  store.close();
});

test("ingot runs list, show, compare and rm on two tracked trainings", { skip: noRunStore }, () => {
  const train = (lr: string, extra: string[] = []) => {
    const r = cli(["train", "regression-mlp", "--epochs", "3", "--limit", "200", "--test-limit", "100", "--lr", lr, "--out", join(tmp, `reg-${lr}`), "--json", ...extra]);
    assert.equal(r.status, 0, r.stderr);
    return lastJson(r.stdout);
  };
  const a = train("0.001");
  const b = train("0.01", ["--logdir", join(tmp, "reg-logs")]);
  const untracked = train("0.002", ["--no-track"]);
  assert.equal(untracked.run_id, null);

  const list = cli(["runs", "list", "--name", "regression-mlp", "--json"]);
  assert.equal(list.status, 0, list.stderr);
  const runs = JSON.parse(list.stdout) as Record<string, any>[];
  assert.deepEqual(runs.map((r) => r.id), [b.run_id, a.run_id], "newest first, the --no-track run absent");
  assert.equal(runs[1].final_metrics.test_loss, a.test_loss);
  const table = cli(["runs", "list"]).stdout;
  assert.match(table, new RegExp(`${a.run_id}\\s+regression-mlp\\s+synthetic\\s+finished`));

  const show = JSON.parse(cli(["runs", "show", a.run_id.slice(0, 6), "--json"]).stdout) as Record<string, any>;
  assert.equal(show.id, a.run_id);
  assert.equal(show.config.lr, 0.001);
  assert.deepEqual(show.metrics.loss.map((p: number[]) => p[0]), [1, 2, 3], "the custom loop's epochs, recorded after it");
  assert.equal(show.metrics.loss[2][1], a.train_loss);
  assert.deepEqual(show.artifacts.map((x: { name: string }) => x.name), ["model"]);
  // The regression recipe trains without fit: its --logdir events are written from the history.
  assert.deepEqual(tb.readScalars(join(tmp, "reg-logs", "train")).epoch_loss.map((p) => p.step), [0, 1, 2]);

  const cmp = cli(["runs", "compare", a.run_id, b.run_id]);
  assert.equal(cmp.status, 0, cmp.stderr);
  assert.match(cmp.stdout, /^lr\s+0\.001\s+0\.01\s*$/m);
  assert.doesNotMatch(cmp.stdout.split("final metric")[0], /^epochs\s/m, "identical settings are hidden");
  assert.match(cmp.stdout, /identical settings hidden/);
  const d = b.test_loss - a.test_loss;
  const sign = d > 0 ? "\\+" : "−";
  assert.match(cmp.stdout, new RegExp(`^test_loss\\s+${a.test_loss.toFixed(4)}\\s+${b.test_loss.toFixed(4)}\\s+${sign}${Math.abs(d).toFixed(4)}\\s*$`, "m"));
  const cj = JSON.parse(cli(["runs", "compare", a.run_id, b.run_id, "--json", "--all"]).stdout) as Record<string, any>;
  assert.ok(cj.config.some((r: { key: string; differs: boolean }) => r.key === "epochs" && !r.differs));
  assert.ok(Math.abs(cj.metrics.find((m: { key: string }) => m.key === "test_loss").delta[1] - d) < 1e-12);

  const bad = cli(["runs", "show", "zzz"]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /ingot runs: 'zzz' is not a run id/);
  assert.equal(cli(["runs", "compare", a.run_id]).status, 2);
  assert.equal(cli(["runs", "frobnicate"]).status, 2);

  const rm = cli(["runs", "rm", a.run_id]);
  assert.equal(rm.status, 0, rm.stderr);
  assert.match(rm.stdout, new RegExp(`deleted run ${a.run_id}`));
  assert.deepEqual((JSON.parse(cli(["runs", "list", "--name", "regression-mlp", "--json"]).stdout) as { id: string }[]).map((r) => r.id), [b.run_id]);
  assert.ok(existsSync(join(tmp, "reg-0.001", "model.safetensors")), "rm keeps the model folder");
});

test("a training stopped mid-way by Ctrl-C or SIGKILL ends at once, and the store stays consistent with the run failed", { skip: noRunStore }, async () => {
  for (const signal of ["SIGINT", "SIGKILL"] as const) {
    const child = spawn(process.execPath, [bin, "train", "regression-mlp", "--epochs", "1000000", "--limit", "64", "--out", join(tmp, `killed-${signal}`), "--json"], { env, stdio: "ignore" });
    try {
      const store = tracking.RunStore.open(join(home, "runs.db"));
      let id: string | undefined;
      for (let i = 0; i < 600 && !id; i++) {
        await new Promise((r) => setTimeout(r, 100));
        id = store.listRuns({ status: "running" }).find((r) => r.pid === child.pid)?.id;
      }
      assert.ok(id, "the run was recorded as running");
      const exited = new Promise<NodeJS.Signals | null>((r) => child.on("exit", (_c, sig) => r(sig)));
      child.kill(signal);
      // The recipe's loop never yields: Ctrl-C must still stop it at once (nothing may swallow the signal).
      const fallback = setTimeout(() => child.kill("SIGKILL"), 10000);
      assert.equal(await exited, signal);
      clearTimeout(fallback);
      const rec = store.getRun(id);
      assert.equal(rec.status, "failed");
      assert.match(rec.error ?? "", /ended without finishing/);
      assert.equal(store.db.pragma("integrity_check", { simple: true }), "ok");
      store.close();
    } finally {
      // Never leave a runaway training behind, whatever failed above.
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }
  const list = cli(["runs", "list", "--status", "running", "--json"]);
  assert.deepEqual(JSON.parse(list.stdout), []);
});
