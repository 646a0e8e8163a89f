// `ingot data check` finds every planted problem and nothing else; drift statistics against SciPy
// values; the cleaning pipeline's steps, determinism and lineage.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkData, checkTable, type Issue } from "../../src/data/check.js";
import { parseRawTable } from "../../src/data/check-raw.js";
import { ksTwoSample, psiNumeric } from "../../src/data/check-stats.js";
import { cleanFile, convertUnit, runPipeline } from "../../src/data/clean-pipeline.js";

/** 30 rows with planted problems, then 2 exact copies of rows 25 and 26. */
function plantedCsv(): string {
  const lines = ["id,a,b,c,when,note,label"];
  const notes: Record<number, string> = {
    1: "contact alice@example.com",
    2: "cc bob.smith@mail.example.org please",
    3: "from carol+news@example.net",
    4: "reply to dave@example.io",
    5: "paid with 4111 1111 1111 1111",
    6: "card 5555-5555-5555-4444 on file",
    8: "ref 4111 1111 1111 1112", // 16 digits failing Luhn: not a card
  };
  for (let i = 1; i <= 30; i++) {
    const a = [3, 11, 20].includes(i) ? "" : (i * 1.5).toFixed(1);
    const b = i === 17 ? 1000 : 10 + i;
    const c = i === 7 ? "seven" : i === 22 ? "unknown" : String(i * 2);
    const when = i === 9 || i === 14 ? `03/${String(i).padStart(2, "0")}/2024` : `2024-01-${String(i).padStart(2, "0")}`;
    const note = notes[i] ?? `order ${i} fine`;
    const label = [2, 12, 18, 29].includes(i) ? "no" : "yes";
    lines.push([i, a, b, c, when, `"${note}"`, label].join(","));
  }
  lines.push(lines[25], lines[26]);
  return lines.join("\n") + "\n";
}

const key = (i: Issue) => `${i.kind}|${i.column}|${i.type ?? ""}|${i.count}`;

test("data check: exactly the planted issues, with their counts", () => {
  const t = parseRawTable(plantedCsv(), "csv", "planted.csv");
  const r = checkTable(t, { target: "label" }, "planted.csv");
  assert.equal(r.rows, 32);
  assert.deepEqual(r.issues.map(key).sort(), [
    "duplicate_rows|null||2",
    "label_imbalance|label||4",
    "missing|a||3",
    "mixed_date_formats|when||2",
    "mixed_types|c||2",
    "outliers_iqr|b||1",
    "outliers_zscore|b||1",
    "pii|note|card|2",
    "pii|note|email|4",
  ]);
  const get = (kind: string) => r.issues.find((i) => i.kind === kind)!;
  assert.deepEqual(get("missing").rows, [3, 11, 20]);
  assert.deepEqual(get("duplicate_rows").rows, [31, 32]);
  assert.deepEqual(get("mixed_types").examples, ["seven", "unknown"]);
  assert.equal(get("mixed_types").expected, "number");
  assert.deepEqual(get("outliers_iqr").rows, [17]);
  assert.deepEqual(get("mixed_date_formats").formats, { "YYYY-MM-DD": 30, "NN/NN/YYYY": 2 });
  assert.equal(get("label_imbalance").ratio, 28 / 4);
  assert.deepEqual(r.classes, [
    { value: "yes", count: 28 },
    { value: "no", count: 4 },
  ]);
  // The column summaries agree: b is numeric with the outlier as its max; note is text.
  const b = r.columns.find((c) => c.name === "b")!;
  assert.equal(b.kind, "number");
  assert.equal(b.max, 1000);
  assert.equal(r.columns.find((c) => c.name === "note")!.kind, "text");
});

test("data check: a clean table has no issues; the imbalance threshold is a parameter", () => {
  const rows = ["x,y,label", ...Array.from({ length: 20 }, (_, i) => `${i},${(i * 7) % 20},${i % 4 === 0 ? "a" : "b"}`)];
  const t = parseRawTable(rows.join("\n"), "csv", "clean.csv");
  assert.deepEqual(checkTable(t, { target: "label" }).issues, []); // 15:5 = 3, not above 3
  assert.deepEqual(checkTable(t, { target: "label", imbalanceRatio: 2 }).issues.map(key), ["label_imbalance|label||5"]);
  assert.throws(() => checkTable(t, { target: "nope" }), /--target 'nope' is not a column/);
});

test("KS p-value and PSI agree with SciPy / NumPy", () => {
  const a = Array.from({ length: 40 }, (_, i) => (i * 0.37) % 5);
  const b = Array.from({ length: 55 }, (_, i) => 1 + ((i * 0.53) % 6));
  const ks = ksTwoSample(a, b);
  // scipy.stats.ks_2samp(a, b).statistic; p = scipy.special.kolmogorov((en + 0.12 + 0.11/en) * D)
  assert.ok(Math.abs(ks.statistic - 0.325) < 1e-12, String(ks.statistic));
  assert.ok(Math.abs(ks.pValue - 0.011178909165445288) < 1e-9, String(ks.pValue));
  assert.deepEqual(ksTwoSample(a, a), { statistic: 0, pValue: 1 });
  const ref = Array.from({ length: 500 }, (_, i) => ((i * 7919) % 1000) / 10);
  const cur = Array.from({ length: 400 }, (_, i) => (((i * 104729) % 1000) / 10) * 1.1 + 3);
  // numpy: deciles by np.quantile, bins by np.searchsorted(side='left'), proportions floored at 1e-4.
  assert.ok(Math.abs(psiNumeric(ref, cur) - 0.10071703020575468) < 1e-12, String(psiNumeric(ref, cur)));
  assert.equal(psiNumeric(ref, ref), 0);
});

test("data check --against: drift flagged on the shifted column only, schema differences named", () => {
  const ref = ["x,y,cat,extra", ...Array.from({ length: 200 }, (_, i) => `${i},${(i * 37) % 200},${"abc"[i % 3]},1`)].join("\n");
  const cur = ["x,y,cat", ...Array.from({ length: 200 }, (_, i) => `${i + 80},${(i * 37) % 200},${"abc"[i % 3]}`)].join("\n");
  const r = checkTable(parseRawTable(cur, "csv", "cur.csv"), { against: parseRawTable(ref, "csv", "ref.csv") }, "cur.csv");
  assert.deepEqual(r.issues.map(key).sort(), ["drift|x||200", "schema_mismatch|extra||1"]);
  const x = r.drift!.find((d) => d.column === "x")!;
  assert.equal(x.severity, "major");
  assert.ok(Math.abs(x.ks! - 0.4) < 1e-12);
  assert.ok(x.pValue! < 1e-10);
  assert.deepEqual(
    r.drift!.filter((d) => d.column !== "x").map((d) => [d.column, d.psi, d.severity]),
    [
      ["y", 0, "none"],
      ["cat", 0, "none"],
    ],
  );
});

test("data check on a JSONL file and on a text corpus folder", () => {
  const dir = mkdtempSync(join(tmpdir(), "ingot-check-"));
  try {
    const jsonl = join(dir, "t.jsonl");
    writeFileSync(jsonl, ['{"v": 1, "s": "hi"}', '{"v": 2}', '{"v": "two", "s": "ip 10.0.0.1"}', '{"v": 4, "s": "ok"}'].join("\n"));
    const r = checkData(jsonl);
    assert.deepEqual(r.issues.map(key).sort(), ["missing|s||1", "mixed_types|v||1", "pii|s|ipv4|1"]);
    const corpus = join(dir, "corpus");
    mkdirSync(join(corpus, "sub"), { recursive: true });
    writeFileSync(join(corpus, "a.txt"), "mail me: x@y.org or +1 415 555 2671. Card 4111111111111111.");
    writeFileSync(join(corpus, "sub", "b.md"), "nothing here\nbut z@w.io");
    writeFileSync(join(corpus, "image.png"), "x@y.org"); // not a text file: skipped
    const c = checkData(corpus);
    assert.equal(c.format, "corpus");
    assert.deepEqual(c.issues.map((i) => `${i.file}|${i.type}|${i.count}`), ["a.txt|card|1", "a.txt|email|1", "a.txt|phone|1", "sub/b.md|email|1"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("unit conversion", () => {
  assert.equal(convertUnit(10, "in", "cm"), 25.4);
  assert.equal(convertUnit(212, "F", "C"), 100);
  assert.equal(convertUnit(1, "lb", "g"), 453.59237);
  assert.throws(() => convertUnit(1, "kg", "m"), /cannot convert kg \(mass\) to m \(length\)/);
  assert.throws(() => convertUnit(1, "parsec", "m"), /unknown unit 'parsec'/);
});

test("clean pipeline: every step, counts per step", () => {
  const csv = [
    "id,h,unit,score,email,empty",
    "1,10,in,5,ann@x.org,",
    "2,,cm,7,bob@y.org,",
    "3,30,cm,x,none,",
    "3,30,cm,x,none,",
    "4,100,m,400,cid@z.org,",
    "5,2,ft,6,,",
  ].join("\n");
  const t = parseRawTable(csv, "csv", "in.csv");
  const { table, steps } = runPipeline(
    t,
    {
      steps: [
        { op: "drop_missing", axis: "columns", threshold: 0.9 },
        { op: "drop_duplicates" },
        { op: "coerce_type", columns: ["score"], type: "float" },
        { op: "fill_missing", columns: ["score"], strategy: "median" },
        { op: "convert_units", column: "h", unit_column: "unit", to: "cm" },
        { op: "fill_missing", columns: ["h"], strategy: "constant", value: 0 },
        { op: "cap_outliers", columns: ["score"], method: "iqr" },
        { op: "pii", columns: ["email"], mode: "redact" },
      ],
    },
    {},
  );
  assert.deepEqual(table.columns, ["id", "h", "unit", "score", "email"]);
  assert.deepEqual(
    steps.map((s) => [s.op, s.rows_in, s.rows_out, s.cells_changed, s.columns_removed]),
    [
      ["drop_missing", 6, 6, 0, ["empty"]],
      ["drop_duplicates", 6, 5, 0, []],
      ["coerce_type", 5, 5, 1, []], // "x" → missing ("5" → 5 writes the same text)
      ["fill_missing", 5, 5, 1, []],
      ["convert_units", 5, 5, 6, []], // 3 values converted (30 cm stays), 3 unit cells set to cm
      ["fill_missing", 5, 5, 1, []],
      ["cap_outliers", 5, 5, 1, []],
      ["pii", 5, 5, 3, []],
    ],
  );
  assert.deepEqual(steps[3].details, { fill: { score: 6.5 } }); // the median of 5, 7, 400, 6
  assert.deepEqual(steps[6].details, { bounds: { score: [4.5, 8.5] } }); // quartiles 6 and 7 of 5, 6, 6.5, 7, 400
  assert.deepEqual(table.rows, [
    ["1", 25.4, "cm", 5, "[EMAIL]"],
    ["2", 0, "cm", 7, "[EMAIL]"],
    ["3", 30, "cm", 6.5, "none"],
    ["4", 10000, "cm", 8.5, "[EMAIL]"],
    ["5", 60.96, "cm", 6, null],
  ]);
});

test("data check on an IDX folder: duplicate images, count mismatch, label imbalance", () => {
  const dir = mkdtempSync(join(tmpdir(), "ingot-idx-"));
  const idx = (dims: number[], data: number[]) => {
    const head = Buffer.alloc(4 + 4 * dims.length);
    head[2] = 0x08;
    head[3] = dims.length;
    dims.forEach((d, k) => head.writeUInt32BE(d, 4 + 4 * k));
    return Buffer.concat([head, Buffer.from(data)]);
  };
  try {
    // train: 6 images of 2×2, image 4 repeats image 1; labels 5 × '0' and 1 × '1'.
    writeFileSync(join(dir, "train-images-idx3-ubyte"), idx([6, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 5, 6, 7, 8, 0, 0, 0, 1, 0, 0, 1, 0]));
    writeFileSync(join(dir, "train-labels-idx1-ubyte"), idx([6], [0, 0, 0, 0, 0, 1]));
    // t10k: 3 images but 2 labels, balanced.
    writeFileSync(join(dir, "t10k-images-idx3-ubyte"), idx([3, 2, 2], [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]));
    writeFileSync(join(dir, "t10k-labels-idx1-ubyte"), idx([2], [0, 1]));
    const r = checkData(dir);
    assert.equal(r.format, "idx");
    assert.equal(r.rows, 9);
    assert.deepEqual(r.issues.map(key).sort(), ["duplicate_rows|train||1", "label_imbalance|train-labels||1", "length_mismatch|t10k||1"]);
    assert.deepEqual(r.issues.find((i) => i.kind === "duplicate_rows")!.rows, [4]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
