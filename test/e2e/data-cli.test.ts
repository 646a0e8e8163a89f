// `ingot data check|clean` as a user runs them: the JSON report and its exit code, the human table,
// a pipeline run twice giving byte-identical output and lineage, PII pseudonymization keyed from the
// environment, and usage errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "ingot-data-cli-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
}
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

// 24 rows: 2 missing heights (one in inches), a duplicate row, one outlying weight, e-mails, and an imbalanced label.
const rows = ["name,height,unit,weight,contact,label"];
for (let i = 0; i < 23; i++) {
  const h = i === 4 || i === 9 ? "" : String(150 + ((i * 7) % 40));
  const w = i === 13 ? "900" : String(50 + ((i * 11) % 30));
  const contact = i < 3 ? `user${i}@example.com` : "none";
  rows.push(`p${i},${h},${i === 9 ? "in" : "cm"},${w},${contact},${i % 6 === 0 ? "pos" : "neg"}`);
}
rows.push(rows[8]);
const input = join(tmp, "people.csv");
writeFileSync(input, rows.join("\n") + "\n");

test("ingot data check --json: one object, every issue, exit 1", () => {
  const r = cli(["data", "check", input, "--target", "label", "--json"]);
  assert.equal(r.status, 1, r.stderr);
  const rep = JSON.parse(r.stdout);
  assert.equal(rep.rows, 24);
  assert.deepEqual(
    rep.issues.map((i: { kind: string; column: string | null; count: number; type?: string }) => `${i.kind}|${i.column}|${i.type ?? ""}|${i.count}`).sort(),
    ["duplicate_rows|null||1", "label_imbalance|label||4", "missing|height||2", "outliers_iqr|weight||1", "outliers_zscore|weight||1", "pii|contact|email|3"],
  );
  const human = cli(["data", "check", input, "--target", "label"]);
  assert.equal(human.status, 1);
  assert.match(human.stdout, /24 rows, 6 columns/);
  assert.match(human.stdout, /outliers_iqr\s+weight\s+1/);
  assert.match(human.stdout, /6 issues found/);
});

test("ingot data clean: the pipeline's output is clean, byte-identical when run twice, with lineage", () => {
  const pipe = join(tmp, "pipe.json");
  writeFileSync(
    pipe,
    JSON.stringify({
      steps: [
        { op: "drop_duplicates" },
        { op: "convert_units", column: "height", unit_column: "unit", to: "cm" },
        { op: "fill_missing", columns: ["height"], strategy: "median" },
        { op: "cap_outliers", columns: ["weight"], method: "iqr" },
        { op: "pii", columns: ["contact"], mode: "pseudonymize" },
      ],
    }),
  );
  const env = { INGOT_PII_KEY: "a-secret" };
  const outs = ["a.csv", "b.csv"].map((n) => join(tmp, n));
  for (const out of outs) {
    const r = cli(["data", "clean", input, "--pipeline", pipe, "--out", out, "--json"], env);
    assert.equal(r.status, 0, r.stderr);
  }
  assert.ok(readFileSync(outs[0]).equals(readFileSync(outs[1])), "two runs differ");
  const lineage = JSON.parse(readFileSync(`${outs[0]}.lineage.json`, "utf8"));
  assert.equal(lineage.input.sha256, sha(input));
  assert.equal(lineage.output.sha256, sha(outs[0]));
  assert.equal(lineage.output.rows, 23);
  assert.deepEqual(lineage.steps.map((s: { op: string; rows_out: number; cells_changed: number }) => [s.op, s.rows_out, s.cells_changed]), [
    ["drop_duplicates", 23, 0],
    ["convert_units", 23, 0], // the one row in inches has no height
    ["fill_missing", 23, 2],
    ["cap_outliers", 23, 1],
    ["pii", 23, 3],
  ]);
  assert.equal(typeof lineage.ingot_version, "string");
  const text = readFileSync(outs[0], "utf8");
  assert.ok(!text.includes("@example.com"));
  assert.match(text, /\[EMAIL:[0-9a-f]{12}\]/);
  // Only the imbalance is left (the pipeline does not change labels), and the unit column is all cm.
  const again = JSON.parse(cli(["data", "check", outs[0], "--target", "label", "--json"]).stdout);
  assert.deepEqual(again.issues.map((i: { kind: string }) => i.kind), ["label_imbalance"]);
  // A different key gives different tokens.
  const c = join(tmp, "c.csv");
  assert.equal(cli(["data", "clean", input, "--pipeline", pipe, "--out", c], { INGOT_PII_KEY: "other" }).status, 0);
  assert.notEqual(sha(c), sha(outs[0]));
  const nokey = cli(["data", "clean", input, "--pipeline", pipe, "--out", join(tmp, "d.csv")], { INGOT_PII_KEY: "" });
  assert.equal(nokey.status, 1);
  assert.match(nokey.stderr, /pipeline step 5 \(pii\): pseudonymize needs a secret key in the environment variable INGOT_PII_KEY/);
});

test("ingot data: exit 0 on a clean file, help, and usage errors", () => {
  const ok = join(tmp, "ok.csv");
  writeFileSync(ok, "x,y\n1,2\n2,4\n3,6\n");
  const r = cli(["data", "check", ok]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /no issues found/);
  assert.equal(cli(["data", "--help"]).status, 0);
  assert.equal(cli(["data", "check"]).status, 2);
  assert.equal(cli(["data", "clean", ok]).status, 2);
  const bad = join(tmp, "bad.json");
  writeFileSync(bad, JSON.stringify({ steps: [{ op: "fill_missing", strategy: "mean", colums: ["x"] }] }));
  const e = cli(["data", "clean", ok, "--pipeline", bad, "--out", join(tmp, "o.csv")]);
  assert.equal(e.status, 1);
  assert.match(e.stderr, /pipeline step 1 \(fill_missing\): unknown key 'colums'/);
  assert.match(cli(["data", "check", join(tmp, "nope.csv")]).stderr, /nope\.csv does not exist/);
});
