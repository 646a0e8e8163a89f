// The dashboard's JSON API over a temp run store: the runs list and its filters, a run's details
// (model card, compression lineage and report.md, data-quality reports, profile summary), metric
// points with incremental `after`, read-only access (a dead run shows failed but is not rewritten),
// errors, and a page that loads nothing from elsewhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ingot from "../../src/index.js";
import { createDashboard, profileSummary } from "../../src/dashboard/index.js";
import * as profiler from "../../src/profiler/index.js";
import { writeJsonAtomic } from "../../src/io/atomic.js";
import { noRunStore } from "./requirements.js";

const tmp = mkdtempSync(join(tmpdir(), "ingot-dashboard-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const db = join(tmp, "home", "runs.db");

async function get(url: string): Promise<{ status: number; body: any; type: string }> {
  const r = await fetch(url);
  const type = r.headers.get("content-type") ?? "";
  return { status: r.status, body: type.includes("json") ? await r.json() : await r.text(), type };
}

test("a dashboard started before any run shows an empty list, then the runs once the store exists", { skip: noRunStore }, async () => {
  const dbLater = join(tmp, "later", "runs.db");
  const dash = createDashboard({ db: dbLater, port: 0 });
  const url = await dash.listen();
  try {
    const empty = await get(`${url}/api/runs`);
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body.runs, []);
    assert.match(empty.body.note, /no run store/);
    const s = ingot.tracking.RunStore.open(dbLater);
    s.startRun({ name: "late", gitDir: false }).finish();
    s.close();
    assert.equal((await get(`${url}/api/runs`)).body.runs[0].name, "late");
  } finally {
    await dash.close();
  }
});

test("API: runs with filters, a run's card, compression, data report and profile, metrics after a seq; read-only", { skip: noRunStore }, async () => {
  const store = ingot.tracking.RunStore.open(db);
  // A trained run with a model folder that `ingot compress` wrote into (card.json's compression, report.md).
  const modelDir = join(tmp, "model");
  mkdirSync(modelDir, { recursive: true });
  writeJsonAtomic(join(modelDir, "card.json"), { framework: "ingot", recipe: "mnist-mlp", metrics: { test_accuracy: 0.97 }, compression: [{ method: "quantize", parameters: { bits: 8 }, source: "/x", finetune_epochs: 0 }] });
  writeFileSync(join(modelDir, "report.md"), "| | before | after |\n|---|---|---|\n| size | 400 kB | 100 kB |\n");
  const a = store.startRun({ name: "mnist-mlp", command: "ingot train mnist-mlp", config: { lr: 0.001, tags: ["baseline"] }, seed: 0, gitDir: false });
  a.log({ loss: 0.5, accuracy: 0.8 }, 1);
  a.log({ loss: 0.25, accuracy: 0.9 }, 2);
  a.set({ modelDir });
  // A data-quality report recorded as an artefact, and a profile.
  const reportPath = join(tmp, "data-report.json");
  writeJsonAtomic(reportPath, { source: "train.csv", format: "csv", rows: 100, columns: [{ name: "age", kind: "number", count: 98, missing: 2, unique: 40 }], issues: [{ kind: "missing", column: "age", count: 2 }] });
  a.logArtifact("data-check", reportPath, { kind: "data-report" });
  const t = ingot.randn([16, 16]);
  const prof = profiler.profile(() => ingot.relu(ingot.matmul(t, t)));
  const tracePath = join(tmp, "trace.json");
  prof.exportChromeTrace(tracePath);
  a.logArtifact("profile", tracePath, { kind: "profile" });
  a.finish({ test_accuracy: 0.97 });
  const b = store.startRun({ name: "char-gpt", kind: "lm", command: "ingot train char-gpt", gitDir: false, parent: a.id, relation: "fine-tuned-from" });
  b.log({ loss: 3 }, 10);
  // A run whose process is gone (as after SIGKILL): pid 2^22 + 1 is above Linux's pid_max default.
  const dead = store.startRun({ name: "killed-one", gitDir: false });
  store.db.prepare("UPDATE runs SET pid = ? WHERE id = ?").run(4194305, dead.id);

  const extraReport = join(tmp, "extra.json");
  writeJsonAtomic(extraReport, { rows: 3, duplicateRows: 1, columns: [], warnings: ["1 duplicate row"] });
  const dash = createDashboard({ db, port: 0, dataReports: [extraReport] });
  const url = await dash.listen();
  try {
    // The page and its script: served here, nothing from elsewhere.
    const page = await get(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(page.type, /text\/html/);
    assert.match(page.body, /<script src="\/app\.js">/);
    const js = await get(`${url}/app.js`);
    assert.match(js.type, /javascript/);
    for (const text of [page.body, js.body, (await get(`${url}/style.css`)).body]) assert.doesNotMatch(text, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, "no external URL");

    const all = (await get(`${url}/api/runs`)).body.runs as any[];
    assert.deepEqual(all.map((r) => r.name), ["killed-one", "char-gpt", "mnist-mlp"]);
    const byName = Object.fromEntries(all.map((r) => [r.name, r]));
    assert.equal(byName["killed-one"].status, "failed", "a run whose process is gone shows as failed");
    assert.deepEqual(byName["mnist-mlp"].keys, ["accuracy", "loss"]);
    assert.deepEqual(byName["mnist-mlp"].tags, ["train", "baseline"]);
    assert.equal(byName["mnist-mlp"].final.test_accuracy, 0.97);
    assert.deepEqual((await get(`${url}/api/runs?status=running`)).body.runs.map((r: any) => r.name), ["char-gpt"]);
    assert.deepEqual((await get(`${url}/api/runs?status=failed,finished`)).body.runs.map((r: any) => r.name), ["killed-one", "mnist-mlp"]);
    assert.deepEqual((await get(`${url}/api/runs?q=CHAR`)).body.runs.map((r: any) => r.name), ["char-gpt"]);
    assert.deepEqual((await get(`${url}/api/runs?tag=baseline`)).body.runs.map((r: any) => r.name), ["mnist-mlp"]);
    assert.deepEqual((await get(`${url}/api/runs?tag=lm`)).body.runs.map((r: any) => r.name), ["char-gpt"]);
    const badStatus = await get(`${url}/api/runs?status=done`);
    assert.equal(badStatus.status, 400);
    assert.match(badStatus.body.error, /status must be one of running, finished, failed, killed/);

    const d = (await get(`${url}/api/run/${a.id.slice(0, 5)}`)).body;
    assert.equal(d.run.id, a.id);
    assert.equal(d.card.recipe, "mnist-mlp");
    assert.equal(d.compression.lineage[0].method, "quantize");
    assert.match(d.compression.report, /400 kB/);
    assert.equal(d.dataReports[0].report.issues[0].kind, "missing");
    assert.deepEqual(d.children, [{ id: b.id, name: "char-gpt", relation: "fine-tuned-from" }]);
    const ps = d.profile[0].summary;
    assert.deepEqual(ps.rows.map((r: any) => r.name).sort(), ["matmul", "relu"]);
    assert.equal(ps.rows.find((r: any) => r.name === "matmul").flops, 2 * 16 * 16 * 16);
    const selfMs = prof.profiler.events.reduce((s, e) => s + e.self, 0);
    assert.ok(Math.abs(ps.selfUs - selfMs * 1000) < 0.01, "the summary's self time is the profile's");
    assert.equal((await get(`${url}/api/run/${b.id}`)).body.lineage[0].id, a.id);

    const missing = await get(`${url}/api/run/ffffffff`);
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /no run 'ffffffff'/);

    // Metrics: everything, then only what is newer than the seq already seen.
    const m1 = (await get(`${url}/api/metrics?runs=${a.id},${b.id}&keys=loss`)).body;
    assert.deepEqual(m1.points[a.id].loss.map((p: number[]) => [p[0], p[1]]), [[1, 0.5], [2, 0.25]]);
    assert.deepEqual(m1.points[b.id].loss.map((p: number[]) => [p[0], p[1]]), [[10, 3]]);
    assert.equal(m1.points[a.id].accuracy, undefined);
    b.log({ loss: 2.5 }, 20);
    const m2 = (await get(`${url}/api/metrics?runs=${a.id},${b.id}&after=${m1.seq}`)).body;
    assert.deepEqual(m2.points[a.id], {});
    assert.deepEqual(m2.points[b.id].loss.map((p: number[]) => [p[0], p[1]]), [[20, 2.5]]);
    assert.ok(m2.seq > m1.seq);
    assert.equal((await get(`${url}/api/metrics`)).status, 400);
    assert.match((await get(`${url}/api/metrics?runs=${a.id}&after=-1`)).body.error, /after must be an integer/);

    const reports = (await get(`${url}/api/data-reports`)).body;
    assert.deepEqual(reports[0].report.warnings, ["1 duplicate row"]);

    // Read-only: the dead run is still 'running' in the file (only the writer's reconcile may change it).
    const row = store.db.prepare("SELECT status FROM runs WHERE id = ?").get(dead.id) as { status: string };
    assert.equal(row.status, "running");
  } finally {
    await dash.close();
  }
  b.finish();
  dead.finish();
  store.close();
});

test("bad options and inputs say what to do", () => {
  assert.throws(() => createDashboard({ db, dataReports: [join(tmp, "nope.json")] }), /data report .*nope\.json does not exist; write one with 'ingot data check/);
  assert.throws(() => createDashboard({ db, pollMs: 5 }), /pollMs must be ≥ 100/);
  assert.throws(() => profileSummary({ events: [] }), /not a Chrome trace: no traceEvents array/);
  // A trace from another tool (no self time): durations count as self time.
  const s = profileSummary({ traceEvents: [{ name: "a", ph: "X", ts: 0, dur: 5 }, { name: "a", ph: "X", ts: 9, dur: 3 }, { name: "m", ph: "M" }] });
  assert.deepEqual(s.rows, [{ name: "a", kind: "", calls: 2, selfUs: 8, totalUs: 8, flops: 0, bytes: 0 }]);
});

test("ingot dashboard: prints its URL, serves the API, stops on SIGINT; bad options exit 2", { skip: noRunStore }, async () => {
  const { spawn, spawnSync } = await import("node:child_process");
  const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
  const child = spawn(process.execPath, [bin, "dashboard", "--port", "0", "--db", db], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const url = await new Promise<string>((ok, fail) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) ok(m[1]);
      });
      child.on("exit", (code) => fail(new Error(`exited with ${code} before printing its URL`)));
    });
    const runs = await get(`${url}/api/runs`);
    assert.equal(runs.status, 200);
    assert.ok(runs.body.runs.length >= 3);
    const code = await new Promise<number | null>((ok) => {
      child.on("exit", (c) => ok(c));
      child.kill("SIGINT");
    });
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  const bad = spawnSync(process.execPath, [bin, "dashboard", "--port", "99999"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--port must be an integer in 0–65535, got '99999'/);
});
