// ingot.tracking: the SQLite run store (runs, config, git commit, dataset checksums, metrics,
// artefacts, lineage, compare, delete), its consistency when a process dies mid-run, reading .git
// without git, and the Keras callback that logs while fit trains. INGOT_HOME points at a temp folder.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ingot from "../../src/index.js";
import { noRunStore } from "./requirements.js";

const { tracking, keras } = ingot;
const tmp = mkdtempSync(join(tmpdir(), "ingot-tracking-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
process.env.INGOT_HOME = join(tmp, "home");
let n = 0;
const freshDb = () => join(tmp, `db${n++}`, "runs.db");

test("the store lives at INGOT_HOME/runs.db and records a run's config, seed, command, dataset and git commit", { skip: noRunStore }, () => {
  assert.equal(tracking.defaultRunsDb(), join(tmp, "home", "runs.db"));
  const store = tracking.RunStore.open();
  assert.equal(store.path, join(tmp, "home", "runs.db"));
  const run = store.startRun({ name: "mnist-mlp", config: { epochs: 3, lr: 1e-3, optimizer: { name: "adam" } }, seed: 7, command: "ingot train mnist-mlp", dataset: "mnist", datasetChecksum: "sha256:ab" });
  assert.match(run.id, /^[0-9a-f]{8}$/);
  const r = store.getRun(run.id);
  assert.equal(r.status, "running");
  assert.deepEqual(r.config, { epochs: 3, lr: 1e-3, optimizer: { name: "adam" } });
  assert.equal(r.seed, 7);
  assert.equal(r.command, "ingot train mnist-mlp");
  assert.equal(r.dataset, "mnist");
  assert.equal(r.datasetChecksum, "sha256:ab");
  assert.equal(r.pid, process.pid);
  assert.equal(r.kind, "train");
  // The commit read from .git equals git's own answer, where this is a git checkout with git installed.
  const git = spawnSync("git", ["rev-parse", "HEAD"], { encoding: "utf8" });
  if (git.status === 0) assert.equal(r.gitCommit, git.stdout.trim());
  run.finish({ test_accuracy: 0.9 });
  assert.equal(store.getRun(run.id).status, "finished");
  assert.ok(store.getRun(run.id).endedAt! >= r.startedAt);
  assert.throws(() => run.log({ loss: 1 }, 1), /after the run ended/);
  store.close();
});

test("gitInfo reads HEAD, loose and packed refs, detached heads and worktree gitdir files", () => {
  const repo = join(tmp, "repo");
  const sha1 = "1".repeat(40);
  const sha2 = "2".repeat(40);
  mkdirSync(join(repo, ".git", "refs", "heads"), { recursive: true });
  mkdirSync(join(repo, "src", "deep"), { recursive: true });
  writeFileSync(join(repo, ".git", "HEAD"), "ref: refs/heads/main\n");
  writeFileSync(join(repo, ".git", "refs", "heads", "main"), `${sha1}\n`);
  assert.deepEqual(tracking.gitInfo(join(repo, "src", "deep")), { commit: sha1, branch: "main", root: repo });
  writeFileSync(join(repo, ".git", "HEAD"), "ref: refs/heads/feature/x\n");
  writeFileSync(join(repo, ".git", "packed-refs"), `# pack-refs with: peeled fully-peeled sorted\n${sha2} refs/heads/feature/x\n`);
  assert.deepEqual(tracking.gitInfo(repo), { commit: sha2, branch: "feature/x", root: repo });
  writeFileSync(join(repo, ".git", "HEAD"), `${sha1}\n`);
  assert.equal(tracking.gitInfo(repo)!.branch, null);
  // A worktree: .git is a file pointing at .git/worktrees/wt, whose commondir leads back.
  const wtGit = join(repo, ".git", "worktrees", "wt");
  mkdirSync(wtGit, { recursive: true });
  writeFileSync(join(wtGit, "HEAD"), "ref: refs/heads/main\n");
  writeFileSync(join(wtGit, "commondir"), "../..\n");
  const wt = join(tmp, "wt");
  mkdirSync(wt);
  writeFileSync(join(wt, ".git"), `gitdir: ${wtGit}\n`);
  assert.deepEqual(tracking.gitInfo(wt), { commit: sha1, branch: "main", root: wt });
  writeFileSync(join(repo, ".git", "HEAD"), "ref: refs/heads/unborn\n");
  assert.equal(tracking.gitInfo(repo), null, "a branch without commits");
  assert.equal(tracking.gitInfo(tmpdir()), null);
});

test("metrics per step: ordered by write, incremental reads by seq, replacement, NaN, last values", { skip: noRunStore }, () => {
  const store = tracking.RunStore.open(freshDb());
  const run = store.startRun({ name: "x", gitDir: false });
  run.log({ loss: 2, accuracy: 0.1 }, 1);
  run.log({ loss: 1, accuracy: 0.5 }, 2);
  const all = store.metrics(run.id);
  assert.deepEqual(all.map((m) => [m.key, m.step, m.value]), [["loss", 1, 2], ["accuracy", 1, 0.1], ["loss", 2, 1], ["accuracy", 2, 0.5]]);
  const seen = all[all.length - 1].seq;
  run.log({ loss: 0.5, val_loss: NaN }, 3);
  run.log({ loss: 0.75 }, 2); // replaces step 2, and counts as new
  const fresh = store.metrics(run.id, { afterSeq: seen });
  assert.deepEqual(fresh.map((m) => [m.key, m.step]), [["loss", 3], ["val_loss", 3], ["loss", 2]]);
  assert.ok(Number.isNaN(fresh[1].value));
  assert.deepEqual(store.metrics(run.id, { keys: ["loss"] }).map((m) => [m.step, m.value]), [[1, 2], [3, 0.5], [2, 0.75]]);
  const last = store.lastMetrics(run.id);
  assert.deepEqual(last.loss, { step: 3, value: 0.5 });
  assert.deepEqual(last.accuracy, { step: 2, value: 0.5 });
  assert.throws(() => run.log({ loss: 1 }, 1.5), /step must be an integer/);
  run.finish({ test_loss: 0.6 });
  assert.deepEqual(store.finalMetrics(run.id), { accuracy: 0.5, loss: 0.5, val_loss: NaN, test_loss: 0.6 });
  store.close();
});

test("artefacts, model folder, lineage, prefixes, compare and delete", { skip: noRunStore }, () => {
  const store = tracking.RunStore.open(freshDb());
  const a = store.startRun({ name: "mnist-mlp", config: { lr: 0.001, epochs: 3 }, seed: 0, gitDir: false });
  const dir = join(tmp, "model-a");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model.safetensors"), "weights!");
  writeFileSync(join(dir, "card.json"), "{}");
  a.set({ modelDir: dir, logdir: join(tmp, "logs-a") });
  a.logArtifact("model", dir, { kind: "model" });
  a.logArtifact("weights", join(dir, "model.safetensors"));
  a.log({ loss: 0.3 }, 3);
  a.finish({ test_accuracy: 0.9 });
  const arts = store.artifacts(a.id);
  assert.deepEqual(arts.map((x) => [x.name, x.kind, x.bytes]), [["model", "model", 10], ["weights", "file", 8]]);
  assert.equal(arts[1].sha256, createHash("sha256").update("weights!").digest("hex"));
  assert.equal(arts[0].sha256, null);
  assert.equal(store.getRun(a.id).modelDir, dir);

  const b = store.startRun({ name: "mnist-mlp", config: { lr: 0.01, epochs: 3 }, seed: 0, parent: a.id.slice(0, 5), relation: "fine-tuned-from", gitDir: false });
  b.log({ loss: 0.2 }, 3);
  b.finish({ test_accuracy: 0.95 });
  const c = store.startRun({ name: "quantize", kind: "compress", parent: b.id, relation: "compressed-from", gitDir: false });
  c.fail(new Error("out of memory"));
  assert.deepEqual(store.lineage(c.id).map((r) => [r.id, r.relation]), [[b.id, "fine-tuned-from"], [a.id, null]]);
  assert.equal(store.getRun(c.id).relation, "compressed-from");
  assert.equal(store.getRun(c.id).status, "failed");
  assert.equal(store.getRun(c.id).error, "out of memory");
  assert.equal(store.resolveId("latest"), c.id);
  assert.deepEqual(store.listRuns({ parent: a.id }).map((r) => r.id), [b.id]);
  assert.deepEqual(store.listRuns({ status: "finished" }).map((r) => r.id), [b.id, a.id]);
  assert.deepEqual(store.listRuns({ kind: "compress" }).map((r) => r.id), [c.id]);
  assert.equal(store.listRuns({ limit: 2 }).length, 2);
  assert.throws(() => store.resolveId("zz"), /not a run id/);
  const missing = ["00000000", "ffffffff"].find((x) => ![a.id, b.id, c.id].includes(x))!;
  assert.throws(() => store.resolveId(missing), /no run/);

  const cmp = store.compare([a.id, b.id]);
  const lr = cmp.config.find((r) => r.key === "lr")!;
  assert.deepEqual(lr, { key: "lr", values: [0.001, 0.01], differs: true });
  assert.equal(cmp.config.find((r) => r.key === "epochs")!.differs, false);
  assert.deepEqual(cmp.metrics.find((m) => m.key === "test_accuracy")!.values, [0.9, 0.95]);
  assert.deepEqual(cmp.metrics.find((m) => m.key === "loss")!.values, [0.3, 0.2]);

  store.deleteRun(a.id);
  assert.throws(() => store.getRun(a.id), /no run/);
  assert.equal(store.getRun(b.id).parentId, null, "children lose their parent, not their record");
  assert.equal((store.db.prepare("SELECT COUNT(*) AS n FROM metrics WHERE run_id = ?").get(a.id) as { n: number }).n, 0);
  assert.equal((store.db.prepare("SELECT COUNT(*) AS n FROM artifacts WHERE run_id = ?").get(a.id) as { n: number }).n, 0);
  store.close();
});

test("dataset checksums depend on names and contents only, and per-file hashes are cached", { skip: noRunStore }, () => {
  const d1 = join(tmp, "ds1");
  const d2 = join(tmp, "ds2");
  for (const d of [d1, d2]) {
    mkdirSync(join(d, "sub"), { recursive: true });
    writeFileSync(join(d, "a.bin"), "alpha");
    writeFileSync(join(d, "sub", "b.bin"), "beta");
    writeFileSync(join(d, ".hidden"), String(Math.random()));
  }
  const c1 = tracking.datasetChecksum(d1);
  assert.match(c1, /^sha256:[0-9a-f]{64}$/);
  assert.equal(tracking.datasetChecksum(d2), c1);
  writeFileSync(join(d2, "sub", "b.bin"), "betA");
  assert.notEqual(tracking.datasetChecksum(d2), c1);
  // By hand: one line per file, "name\tsize\tsha256\n", hashed.
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");
  assert.equal(c1, `sha256:${sha(`a.bin\t5\t${sha("alpha")}\nsub/b.bin\t4\t${sha("beta")}\n`)}`);
  let gets = 0;
  let sets = 0;
  const memo = new Map<string, string>();
  const cache = {
    get: (p: string, s: number, m: number) => (gets++, memo.get(`${p}|${s}|${m}`)),
    set: (p: string, s: number, m: number, h: string) => (sets++, void memo.set(`${p}|${s}|${m}`, h)),
  };
  tracking.datasetChecksum(d1, cache);
  tracking.datasetChecksum(d1, cache);
  assert.deepEqual([gets, sets], [4, 2], "the second pass reads no file");
  const store = tracking.RunStore.open(freshDb());
  assert.equal(store.datasetChecksum(d1), c1);
  assert.equal((store.db.prepare("SELECT COUNT(*) AS n FROM file_hashes").get() as { n: number }).n, 2);
  assert.equal(tracking.jsonChecksum({ b: 1, a: [1, 2] }), tracking.jsonChecksum({ a: [1, 2], b: 1 }));
  store.close();
});

const indexUrl = new URL("../../src/index.js", import.meta.url).href;

test("a run whose process dies is marked failed (or killed by its own signal handler), and the database stays consistent", { skip: noRunStore }, () => {
  const db = freshDb();
  const cases: [string, string, RegExp][] = [
    ["process.exit(3)", "failed", /exited \(code 3\) before the run finished/],
    ["throw new Error('boom')", "failed", /exited \(code 1\)/],
    ["process.kill(process.pid, 'SIGTERM')", "failed", /ended without finishing the run/],
    ["process.kill(process.pid, 'SIGKILL')", "failed", /ended without finishing the run/],
    // A program's own Ctrl-C handler may end its runs as 'killed' before it exits.
    ["process.on('SIGINT', () => { ingot.tensorboard.runExitHooks({ kind: 'signal', signal: 'SIGINT' }); process.exit(130); }); process.kill(process.pid, 'SIGINT')", "killed", /stopped by SIGINT/],
  ];
  for (const [how, status, why] of cases) {
    const script = `import * as ingot from ${JSON.stringify(indexUrl)};
      const store = ingot.tracking.RunStore.open(${JSON.stringify(db)});
      const run = store.startRun({ name: "dies", gitDir: false });
      for (let s = 1; s <= 20; s++) run.log({ loss: 1 / s }, s);
      console.log(run.id);
      // Keep the event loop busy, as a training would, so that a signal is handled while running.
      setTimeout(() => {}, 5000);
      ${how};`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20000 });
    const id = r.stdout.trim();
    assert.match(id, /^[0-9a-f]{8}$/, `${how}: ${r.stderr}`);
    const store = tracking.RunStore.open(db);
    const rec = store.getRun(id);
    assert.equal(rec.status, status, how);
    assert.match(rec.error ?? "", why, how);
    assert.equal(store.metrics(id).length, 20, `${how}: every committed metric is kept`);
    assert.equal(store.db.pragma("integrity_check", { simple: true }), "ok");
    store.close();
  }
});

test("TrackingCallback logs fit's epochs (step = epoch from 1) and batches while training", { skip: noRunStore }, async () => {
  const store = tracking.RunStore.open(freshDb());
  const run = store.startRun({ name: "fit", gitDir: false });
  ingot.manualSeed(2);
  const x = ingot.randn([16, 3]);
  const y = ingot.randn([16, 1]);
  const model = keras.sequential([keras.dense({ units: 1, inputShape: [3] })]);
  model.compile({ optimizer: "sgd", loss: "meanSquaredError" });
  const cb = new tracking.TrackingCallback(run, { batchFreq: 3 });
  const hist = await model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0, callbacks: [cb] });
  const loss = store.metrics(run.id, { keys: ["loss"] });
  assert.deepEqual(loss.map((m) => m.step), [1, 2, 3]);
  assert.deepEqual(loss.map((m) => m.value), hist.history.loss);
  assert.deepEqual(store.metrics(run.id, { keys: ["batch_loss"] }).map((m) => m.step), [3, 6, 9, 12]);
  assert.equal(store.metrics(run.id, { keys: ["epoch_seconds"] }).length, 3);
  assert.equal(cb.epochs, 3);
  run.finish();
  store.close();
});

test("a store that cannot be created says to set INGOT_HOME", { skip: noRunStore }, () => {
  const file = join(tmp, "not-a-folder");
  writeFileSync(file, "x");
  assert.throws(() => tracking.RunStore.open(join(file, "runs.db")), /cannot open the run store .*set INGOT_HOME/);
  assert.ok(readFileSync(file, "utf8") === "x");
});

test("TrainingObserver.logStep records a loop of its own in the run and the event files; end() tags card.json", { skip: noRunStore }, () => {
  const logdir = join(tmp, "lm-logs");
  const model = join(tmp, "lm-model");
  mkdirSync(model, { recursive: true });
  writeFileSync(join(model, "card.json"), JSON.stringify({ recipe: "char-gpt" }));
  const db = freshDb();
  const obs = new tracking.TrainingObserver({ name: "char-gpt", kind: "lm", gitDir: false }, { db, logdir });
  for (let it = 1; it <= 5; it++) obs.logStep({ loss: 3 / it, lr: 1e-3 }, it);
  obs.logStep({ val_loss: 1.25 }, 5);
  obs.end({ modelDir: model, metrics: { val_loss: 1.25, skipped: undefined }, history: [{ epoch: 1, loss: 9 }] });
  const store = tracking.RunStore.open(db);
  const id = obs.run!.id;
  assert.deepEqual(store.metrics(id, { keys: ["loss"] }).map((m) => m.step), [1, 2, 3, 4, 5], "no history written after the fact");
  assert.deepEqual(store.getRun(id).summary, { val_loss: 1.25 });
  assert.equal(store.getRun(id).status, "finished");
  assert.deepEqual(store.artifacts(id).map((a) => a.name), ["model", "tensorboard"]);
  assert.equal(JSON.parse(readFileSync(join(model, "card.json"), "utf8")).run_id, id);
  const scalars = ingot.tensorboard.readScalars(join(logdir, "train"));
  assert.deepEqual(scalars.loss.map((p) => p.value), [3, 1.5, 1, 0.75, 0.6].map(Math.fround));
  assert.deepEqual(scalars.val_loss.map((p) => p.step), [5]);
  store.close();
});
