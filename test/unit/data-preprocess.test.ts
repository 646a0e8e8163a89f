// ingot.data preprocessing: scalers (values by hand, save/restore), one-hot, class weights, over- and
// undersampling, (stratified) splits, cleaning and the quality report.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";

const { data } = ig;

function close(got: unknown, want: unknown, tol = 1e-6, path = "value"): void {
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), `${path}: expected an array`);
    assert.equal(got.length, want.length, `${path}: length`);
    want.forEach((w, i) => close((got as unknown[])[i], w, tol, `${path}[${i}]`));
  } else if (typeof want === "number" && Number.isNaN(want)) assert.ok(Number.isNaN(got), `${path}: expected NaN, got ${got}`);
  else assert.ok(Math.abs((got as number) - (want as number)) <= tol * (1 + Math.abs(want as number)), `${path}: got ${got}, want ${want}`);
}

test("StandardScaler: population mean/std per feature, fitted on train and applied to new data, NaN ignored", () => {
  const train = ig.tensor([[1, 10], [2, 20], [3, 30], [4, 40]]);
  const s = new data.StandardScaler().fit(train);
  close(s.mean, [2.5, 25]);
  close(s.variance, [1.25, 125]);
  const s1 = Math.sqrt(1.25);
  const s2 = Math.sqrt(125);
  close(s.transform(train).toArray(), [[-1.5 / s1, -15 / s2], [-0.5 / s1, -5 / s2], [0.5 / s1, 5 / s2], [1.5 / s1, 15 / s2]]);
  close(s.transform(ig.tensor([[5, 0]])).toArray(), [[2.5 / s1, -25 / s2]]);
  close(s.inverseTransform(s.transform(ig.tensor([[7, -3]]))).toArray(), [[7, -3]], 1e-6);
  // Saved as JSON and restored, it transforms the same.
  const back = data.StandardScaler.fromJSON(JSON.parse(JSON.stringify(s)));
  assert.deepEqual(back.transform(train).toArray(), s.transform(train).toArray());
  // A constant feature is centred, not divided by zero; NaN is skipped when fitting and stays NaN.
  const c = new data.StandardScaler().fit(ig.tensor([[5, 1], [5, NaN], [5, 3]], { dtype: "float64" }));
  close(c.scale, [1, 1]);
  const out = c.transform(ig.tensor([[5, 1], [6, NaN]], { dtype: "float64" }));
  assert.equal(out.dtype, "float64");
  close(out.toArray(), [[0, -1], [1, NaN]]);
  assert.equal(new data.StandardScaler().fit(ig.tensor([[1], [3]], { dtype: "int32" })).transform(ig.tensor([[2]], { dtype: "int32" })).dtype, "float32");
  assert.throws(() => new data.StandardScaler().transform(train), /StandardScaler\.transform: the scaler is not fitted; call fit\(train\) first/);
  assert.throws(() => s.transform(ig.zeros(2, 3)), { name: "ShapeError", message: /x has shape \[2,3\] but the scaler was fitted on samples of shape \[2\]/ });
  assert.throws(() => data.StandardScaler.fromJSON({ type: "MinMaxScaler" } as never), /expected \{type: 'StandardScaler'/);
});

test("MinMaxScaler: training min/max to the feature range, clip, constant features, save/restore", () => {
  const train = ig.tensor([[1, -1], [3, 1], [5, 3]]);
  const s = new data.MinMaxScaler().fit(train);
  close(s.transform(train).toArray(), [[0, 0], [0.5, 0.5], [1, 1]]);
  close(s.transform(ig.tensor([[7, -3]])).toArray(), [[1.5, -0.5]]);
  close(new data.MinMaxScaler({ clip: true }).fit(train).transform(ig.tensor([[7, -3]])).toArray(), [[1, 0]]);
  close(new data.MinMaxScaler({ featureRange: [-1, 1] }).fit(train).transform(train).toArray(), [[-1, -1], [0, 0], [1, 1]]);
  close(new data.MinMaxScaler().fit(ig.tensor([[4], [4]])).transform(ig.tensor([[4], [5]])).toArray(), [[0], [1]]);
  close(s.inverseTransform(ig.tensor([[0.25, 1]])).toArray(), [[2, 3]]);
  const back = data.MinMaxScaler.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
  assert.deepEqual(back.transform(train).toArray(), s.transform(train).toArray());
  assert.throws(() => new data.MinMaxScaler({ featureRange: [1, 0] }), /featureRange \[1,0\] must be increasing/);
  // Per-position features of image-like samples [N, 2, 2].
  const imgs = ig.tensor([[[0, 10], [5, 1]], [[2, 30], [5, 3]]]);
  close(new data.MinMaxScaler().fit(imgs).transform(imgs).toArray(), [[[0, 0], [0, 0]], [[1, 1], [0, 1]]]);
});

test("standardize / minMaxScale fit on the first tensor and apply to all", () => {
  const { scaler, values } = data.standardize(ig.tensor([[0], [2]]), ig.tensor([[4]]));
  close(scaler.mean, [1]);
  close(values.map((v) => v.toArray()), [[[-1], [1]], [[3]]]);
  const mm = data.minMaxScale(ig.tensor([[0], [2]]), ig.tensor([[1], [4]]));
  close(mm.values[1].toArray(), [[0.5], [2]]);
});

test("oneHot: float32 rows for labels [N] or [N,1], numClasses inferred or given", () => {
  const o = data.oneHot([0, 2, 1], 3);
  assert.equal(o.dtype, "float32");
  assert.deepEqual(o.toArray(), [[1, 0, 0], [0, 0, 1], [0, 1, 0]]);
  assert.deepEqual(data.oneHot(ig.tensor([[1], [0]], { dtype: "int32" })).toArray(), [[0, 1], [1, 0]]);
  assert.deepEqual(data.toCategorical(ig.tensor([3], { dtype: "int32" }), 5, { dtype: "int32" }).toArray(), [[0, 0, 0, 1, 0]]);
  assert.throws(() => data.oneHot([0, 3], 3), /oneHot: label 3 at position 1 is not a class index for 3 classes \(expected an integer 0 to 2\)/);
  assert.throws(() => data.oneHot([0.5]), /oneHot: label 0\.5 at position 0 is not a class index \(a non-negative integer\)/);
});

test("computeClassWeight('balanced') is n / (classes · count), as scikit-learn", () => {
  close(Object.values(data.computeClassWeight("balanced", [0, 0, 0, 1])), [4 / 6, 2]);
  assert.deepEqual(Object.keys(data.computeClassWeight("balanced", ig.tensor([2, 0, 2, 2, 0, 5], { dtype: "int32" }))), ["0", "2", "5"]);
  const w = data.computeClassWeight("balanced", ig.tensor([2, 0, 2, 2, 0, 5], { dtype: "int32" }));
  close([w[0], w[2], w[5]], [6 / 6, 6 / 9, 6 / 3]);
  // One-hot labels count by their argmax; string labels work too.
  close(Object.values(data.computeClassWeight("balanced", data.oneHot([1, 1, 0]))), [1.5, 0.75]);
  assert.deepEqual(data.computeClassWeight("balanced", ["b", "a", "b", "b"]), { a: 2, b: 4 / 6 });
  assert.deepEqual(data.computeClassWeight(null, [1, 0]), { 0: 1, 1: 1 });
});

test("oversample / undersample balance the classes, keep x and y paired, and repeat with a seed", () => {
  const x = ig.arange(0, 12, 1, { dtype: "float32" }).reshape(6, 2); // row i = [2i, 2i+1]
  const y = ig.tensor([0, 0, 0, 0, 1, 1], { dtype: "int32" });
  const o = data.oversample(x, y, { seed: 1 });
  assert.deepEqual(o.x.shape, [8, 2]);
  assert.deepEqual(o.indices.slice(0, 6), [0, 1, 2, 3, 4, 5], "the originals first");
  assert.ok(o.indices.slice(6).every((i) => i === 4 || i === 5), "then repeats of the minority class");
  const ys = o.y.toFlatArray();
  assert.deepEqual([ys.filter((v) => v === 0).length, ys.filter((v) => v === 1).length], [4, 4]);
  (o.x.toArray() as number[][]).forEach((row, k) => assert.deepEqual(row, [2 * o.indices[k], 2 * o.indices[k] + 1]));
  assert.deepEqual(data.oversample(x, y, { seed: 1 }).indices, o.indices);
  const u = data.undersample(x, y, { seed: 2 });
  assert.equal(u.indices.length, 4);
  assert.deepEqual(u.indices.slice(-2), [4, 5]);
  assert.deepEqual([...u.indices].sort((a, b) => a - b), u.indices, "original order kept");
  assert.deepEqual(u.y.toFlatArray(), [0, 0, 1, 1]);
  const partial = data.oversample(["a", "b", "c"], ["p", "q", "q"], { samplingStrategy: { p: 3 }, seed: 0 });
  assert.deepEqual(partial.x, ["a", "b", "c", "a", "a"]);
  assert.throws(() => data.undersample(x, y, { samplingStrategy: { 1: 3 } }), /class 1 has 2 samples, fewer than its target 3/);
  assert.throws(() => data.oversample(x, [0, 1]), /x has 6 samples but y has 2 labels/);
});

test("trainTestSplit: sizes as scikit-learn, rows stay paired, seeded, unshuffled order", () => {
  const n = 10;
  const x = ig.arange(n).reshape(n, 1);
  const y = Array.from({ length: n }, (_, i) => `s${i}`);
  const { train, test: tst } = data.trainTestSplit([x, y], { seed: 3 });
  assert.equal(tst[0].shape[0], 3, "ceil(0.25 · 10)");
  assert.equal(train[1].length, 7);
  const trIds = train[0].toFlatArray();
  assert.deepEqual(train[1], trIds.map((i) => `s${i}`));
  assert.deepEqual([...trIds, ...tst[0].toFlatArray()].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
  assert.deepEqual(data.trainTestSplit([x], { seed: 3 }).test[0].toArray(), tst[0].toArray());
  const fixed = data.trainTestSplit([x], { shuffle: false, testSize: 0.3 });
  assert.deepEqual(fixed.train[0].toFlatArray(), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(fixed.test[0].toFlatArray(), [7, 8, 9]);
  assert.equal(data.trainTestSplit([x], { testSize: 4 }).test[0].shape[0], 4);
  assert.equal(data.trainTestSplit([x], { trainSize: 0.5, testSize: 2 }).train[0].shape[0], 5);
  assert.throws(() => data.trainTestSplit([x, ig.zeros(9)]), /array 1 has 9 samples but array 0 has 10/);
  assert.throws(() => data.trainTestSplit([x], { testSize: 11 }), /need 11 samples but there are only 10/);
});

test("stratified splits keep the class proportions (largest remainder per class)", () => {
  const y = ig.tensor([...Array(60).fill(0), ...Array(30).fill(1), ...Array(10).fill(2)], { dtype: "int32" });
  const x = ig.arange(100).reshape(100, 1);
  const counts = (t: ig.Tensor) => [0, 1, 2].map((c) => t.toFlatArray().filter((v) => v === c).length);
  const s = data.trainTestSplit([x, y], { testSize: 0.2, stratify: y, seed: 0 });
  assert.deepEqual(counts(s.test[1]), [12, 6, 2]);
  assert.deepEqual(counts(s.train[1]), [48, 24, 8]);
  s.test[0].toFlatArray().forEach((i, k) => assert.equal(s.test[1].toFlatArray()[k], i < 60 ? 0 : i < 90 ? 1 : 2));
  const three = data.trainValTestSplit([x, y], { valSize: 0.1, testSize: 0.2, stratify: y, seed: 5 });
  assert.deepEqual(counts(three.val[1]), [6, 3, 1]);
  assert.deepEqual(counts(three.test[1]), [12, 6, 2]);
  assert.deepEqual(counts(three.train[1]), [42, 21, 7]);
  // 7 vs 3 samples, 3 for test: quotas 2.1 and 0.9 → 2 + the largest remainder → [2, 1].
  const yy = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1];
  const small = data.trainTestSplit([yy], { testSize: 0.3, stratify: yy, seed: 9 });
  assert.deepEqual([small.test[0].filter((v) => v === 0).length, small.test[0].filter((v) => v === 1).length], [2, 1]);
  assert.throws(() => data.trainTestSplit([yy], { stratify: [...yy.slice(0, 9), 2] }), /class 2 has only 1 sample; stratifying needs at least 2 per class/);
  assert.throws(() => data.trainTestSplit([yy], { stratify: yy, shuffle: false }), /a stratified split must shuffle/);
});

const CSV = "id,age,city,score\n1,30,Paris,1.5\n2,,Lyon,2.5\n3,40,,100\n1,30,Paris,1.5\n4,50,Paris,3.5\n";

test("cleaning: dropMissing, imputeMissing, dropDuplicates", () => {
  const t = data.parseCsv(CSV);
  assert.deepEqual(Array.from(data.dropMissing(t).column("id").values as Float64Array), [1, 1, 4]);
  assert.equal(data.dropMissing(t, { columns: ["city"] }).numRows, 4);
  assert.equal(data.dropMissing(t, { columns: ["age", "city"], how: "all" }).numRows, 5);
  const mean = data.imputeMissing(t);
  assert.deepEqual(Array.from(mean.column("age").values as Float64Array), [30, 37.5, 40, 30, 50]);
  assert.equal(mean.column("age").type, "float", "a fractional fill turns an int column into float");
  assert.deepEqual(mean.column("city").values, ["Paris", "Lyon", "Paris", "Paris", "Paris"], "text columns take the most frequent value");
  assert.deepEqual(Array.from(data.imputeMissing(t, { strategy: "median" }).column("age").values as Float64Array), [30, 35, 40, 30, 50]);
  const constant = data.imputeMissing(t, { strategy: "constant", fillValue: { age: 0, city: "unknown" } });
  assert.deepEqual(Array.from(constant.column("age").values as Float64Array), [30, 0, 40, 30, 50]);
  assert.equal(constant.column("age").type, "int");
  assert.deepEqual(constant.column("city").values, ["Paris", "Lyon", "unknown", "Paris", "Paris"]);
  assert.throws(() => data.imputeMissing(t, { strategy: "constant", fillValue: "x", columns: ["age"] }), /column 'age' is int; its fillValue must be a number/);
  assert.deepEqual(Array.from(data.dropDuplicates(t).column("id").values as Float64Array), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(data.dropDuplicates(t, { keep: "last" }).column("id").values as Float64Array), [2, 3, 1, 4]);
  assert.equal(data.dropDuplicates(t, { columns: ["city"] }).numRows, 3, "Paris, Lyon and one missing city");
});

test("clipOutliers: IQR, z-score and quantile bounds, learned on train and applied to test", () => {
  const t = data.parseCsv(CSV);
  // score sorted [1.5, 1.5, 2.5, 3.5, 100]: q1 1.5, q3 3.5, IQR 2 → [-1.5, 6.5].
  const b = data.outlierBounds(t, { columns: ["score"] });
  assert.deepEqual(b, { score: [-1.5, 6.5] });
  assert.deepEqual(Array.from(data.clipOutliers(t).column("score").values as Float64Array), [1.5, 2.5, 6.5, 1.5, 3.5]);
  // z-score: [0,0,0,0,10] has mean 2 and std 4, so threshold 1 gives [-2, 6].
  const x = ig.tensor([[0, 1], [0, 2], [0, 3], [0, 4], [10, 5]]);
  close(data.clipOutliers(x, { method: "zscore", threshold: 1 }).toArray(), [[0, 1.585786], [0, 2], [0, 3], [0, 4], [6, 4.414214]]);
  const q = data.outlierBounds(x, { method: "quantile", quantiles: [0.25, 0.75] });
  close(q[1], [2, 4]);
  close(data.clipOutliers(ig.tensor([[-5, 9]]), { bounds: q }).toArray(), [[0, 4]]);
  assert.throws(() => data.outlierBounds(t, { columns: ["city"] }), /column 'city' is category; only numeric columns have outliers/);
});

test("qualityReport: per-column statistics, class balance, duplicates and warnings, as text and JSON", () => {
  const r = data.qualityReport(data.parseCsv(CSV));
  assert.equal(r.rows, 5);
  assert.equal(r.duplicateRows, 1);
  const age = r.columns.find((c) => c.name === "age")!;
  assert.deepEqual([age.count, age.missing, age.unique, age.min, age.max, age.mean], [4, 1, 3, 30, 50, 37.5]);
  close(age.std, Math.sqrt(275 / 3), 1e-12);
  const city = r.columns.find((c) => c.name === "city")!;
  assert.deepEqual(city.classBalance, [
    { value: "Paris", count: 3, fraction: 0.75 },
    { value: "Lyon", count: 1, fraction: 0.25 },
  ]);
  assert.equal(city.min, null);
  assert.ok(r.warnings.includes("age: 20.0% missing (see dropMissing, imputeMissing)"));
  assert.ok(r.warnings.includes("1 duplicate row (dropDuplicates removes them)"));
  const text = r.toString();
  assert.match(text, /^5 rows, 4 columns, 1 duplicate rows\ncolumn +type +count +missing +unique +min +max +mean +std\n/);
  assert.match(text, /\nage +int +4 +1 \(20\.0%\) +3 +30 +50 +37\.5 +9\.574\n/);
  assert.match(text, /\nscore +float +5 +0 \(0\.0%\) +4 +1\.5 +100 +21\.8 +43\.72\n/);
  // Only label-like columns get a balance: id and age have (almost) one row per value.
  assert.match(text, /class balance\n {2}city: Paris 3 \(75\.0%\), Lyon 1 \(25\.0%\)\n/);
  assert.equal(r.columns[0].classBalance, null);
  const json = JSON.parse(JSON.stringify(r));
  assert.equal(json.columns[3].max, 100);
  assert.equal(json.duplicateRows, 1);
  // A 2-D tensor reports one column per feature; an imbalanced int column is flagged.
  const labels = ig.tensor([[0], [0], [0], [0], [0], [0], [0], [0], [0], [0], [1]], { dtype: "int32" });
  const lr = data.qualityReport(labels);
  assert.match(lr.warnings.join("\n"), /c0: imbalanced: '0' has 10 rows, '1' only 1/);
});
