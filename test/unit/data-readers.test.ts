// ingot.data readers: MNIST-style IDX folders, the checksum-verified download (against a local HTTP
// server on 127.0.0.1; no outside network), CIFAR-10 binary batches, CSV and JSONL with column types.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { AddressInfo } from "node:net";
import * as ig from "../../src/index.js";

const { data } = ig;
const tmp = (p: string) => mkdtempSync(join(tmpdir(), `ingot-data-${p}-`));

/** An IDX file: magic 0,0,8,ndim, big-endian dims, then the bytes. */
function idx(shape: number[], values: number[]): Uint8Array {
  const head = new Uint8Array(4 + 4 * shape.length);
  head.set([0, 0, 8, shape.length]);
  const dv = new DataView(head.buffer);
  shape.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  return new Uint8Array([...head, ...values]);
}

function writeMnistDir(dir: string, gz: boolean): void {
  mkdirSync(dir, { recursive: true });
  const put = (name: string, bytes: Uint8Array) => writeFileSync(join(dir, gz ? `${name}.gz` : name), gz ? gzipSync(bytes) : bytes);
  put("train-images-idx3-ubyte", idx([3, 2, 2], [0, 1, 2, 3, 10, 11, 12, 13, 250, 251, 252, 255]));
  put("train-labels-idx1-ubyte", idx([3], [7, 0, 9]));
  put("t10k-images-idx3-ubyte", idx([1, 2, 2], [5, 6, 7, 8]));
  put("t10k-labels-idx1-ubyte", idx([1], [3]));
}

/** Serves `files` (name → bytes) on 127.0.0.1; anything else is a 404. */
async function serve(files: Record<string, Uint8Array>): Promise<{ base: string; server: Server; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? "/").split("/").pop() ?? "");
    hits.push(name);
    const body = files[name];
    if (!body) {
      res.writeHead(404, "Not Found").end();
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length }).end(body);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/files/`, server, hits };
}
const close = (s: Server) => new Promise((ok) => s.close(ok));

test("mnist / fashionMnist: the four IDX files from a folder, gzip or not", async () => {
  for (const gz of [true, false]) {
    const dir = tmp("mnist");
    writeMnistDir(dir, gz);
    const m = await data.mnist({ dir, cacheDir: tmp("cache") });
    assert.equal(m.train.images.dtype, "uint8");
    assert.deepEqual(m.train.images.shape, [3, 2, 2]);
    assert.deepEqual(m.train.images.toArray(), [[[0, 1], [2, 3]], [[10, 11], [12, 13]], [[250, 251], [252, 255]]]);
    assert.equal(m.train.labels.dtype, "int32");
    assert.deepEqual(m.train.labels.toArray(), [7, 0, 9]);
    assert.deepEqual(m.test.labels.toArray(), [3]);
    assert.equal(m.classes.length, 10);
  }
  const dir = tmp("fashion");
  writeMnistDir(dir, true);
  const f = await data.fashionMnist({ dir, cacheDir: tmp("cache") });
  assert.equal(f.classes[9], "Ankle boot");
  assert.deepEqual(f.test.images.toArray(), [[[5, 6], [7, 8]]]);
});

test("mnist: a missing file without {download: true} names INGOT_DATA, --data and download, and fetches nothing", async () => {
  const dir = tmp("empty");
  await assert.rejects(data.mnist({ dir, cacheDir: tmp("cache") }), {
    name: "IngotError",
    message: /mnist: no train-images-idx3-ubyte\(\.gz\) in .*; set INGOT_DATA .*--data DIR.*\{download: true\} to fetch it from https:\/\/ossci-datasets\.s3\.amazonaws\.com\/mnist\//,
  });
  await assert.rejects(data.fashionMnist({ dir, cacheDir: tmp("cache") }), /fashionMnist: no train-images-idx3-ubyte.*raw\.githubusercontent\.com\/zalandoresearch\/fashion-mnist/);
});

test("downloadFile: verifies the sha256 before saving; a mismatch or an HTTP error saves nothing", async () => {
  const body = new TextEncoder().encode("a small generated file\n".repeat(100));
  const sha = data.sha256Hex(body);
  const { base, server } = await serve({ "blob.bin": body });
  try {
    const dir = tmp("dl");
    const dest = join(dir, "sub", "blob.bin");
    assert.equal(await data.downloadFile(base + "blob.bin", dest, sha), dest);
    assert.deepEqual(new Uint8Array(readFileSync(dest)), body);
    const bad = join(dir, "bad.bin");
    const wrong = "0".repeat(64);
    await assert.rejects(data.downloadFile(base + "blob.bin", bad, wrong), {
      message: new RegExp(`download: checksum mismatch for ${base.replace(/\./g, "\\.")}blob\\.bin: sha256 is ${sha} but ${wrong} was expected \\(2300 bytes received\\); nothing was saved`),
    });
    assert.equal(existsSync(bad), false);
    await assert.rejects(data.downloadFile(base + "nope.bin", bad, sha), /download: .*nope\.bin answered HTTP 404/);
    assert.deepEqual(readdirSync(dir).sort(), ["sub"], "no partial or temporary files left");
    // Mirrors are tried in order: the first answers 404, the second has the file.
    const viaMirror = join(dir, "m.bin");
    await data.downloadFromMirrors([base + "missing/", base.replace(/\/$/, "")], "blob.bin", viaMirror, sha);
    assert.deepEqual(new Uint8Array(readFileSync(viaMirror)), body);
  } finally {
    await close(server);
  }
  await assert.rejects(data.downloadFile(base + "blob.bin", join(tmp("dl"), "x"), sha), /download: could not fetch .*blob\.bin/, "a closed server is a clear error");
});

test("mnist({download: true}): files from a mirror whose bytes do not match the known sha256 are refused", async () => {
  const files: Record<string, Uint8Array> = {};
  for (const n of ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]) files[`${n}.gz`] = gzipSync(idx([1], [1]));
  const { base, server, hits } = await serve(files);
  const cache = tmp("cache");
  try {
    await assert.rejects(data.mnist({ dir: tmp("empty"), download: true, mirrors: [base], cacheDir: cache }), {
      message: /train-images-idx3-ubyte\.gz could not be downloaded from any mirror:\n {2}download: checksum mismatch .* but 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609 was expected/,
    });
    assert.deepEqual(hits, ["train-images-idx3-ubyte.gz"]);
    assert.equal(existsSync(join(cache, "mnist")), false, "nothing written to the cache");
  } finally {
    await close(server);
  }
});

test("mnist({download: true}): the real files served locally pass the check, land in the cache and are read from it (skips without INGOT_DATA)", async (t) => {
  const src = process.env.INGOT_DATA ? join(process.env.INGOT_DATA, "mnist") : "";
  if (!src || !existsSync(join(src, "t10k-labels-idx1-ubyte.gz"))) {
    t.skip("INGOT_DATA is not set or has no mnist/ folder with the .gz files");
    return;
  }
  const files: Record<string, Uint8Array> = {};
  for (const f of readdirSync(src).filter((f) => f.endsWith(".gz"))) files[f] = new Uint8Array(readFileSync(join(src, f)));
  const { base, server } = await serve(files);
  const cache = tmp("cache");
  try {
    const m = await data.mnist({ dir: tmp("empty"), download: true, mirrors: [base], cacheDir: cache });
    assert.deepEqual(m.train.images.shape, [60000, 28, 28]);
    assert.deepEqual(m.train.labels.slice(0, 0, 5).toArray(), [5, 0, 4, 1, 9]);
    assert.deepEqual(readdirSync(join(cache, "mnist")).sort(), Object.keys(files).sort());
  } finally {
    await close(server);
  }
  // The server is gone: the second call reads the cache (INGOT_CACHE picks it) and downloads nothing.
  const saved = process.env.INGOT_CACHE;
  process.env.INGOT_CACHE = cache;
  try {
    assert.equal(data.cacheDir(), cache);
    const again = await data.mnist({ dir: tmp("empty"), download: true, mirrors: [base] });
    assert.deepEqual(again.test.labels.shape, [10000]);
  } finally {
    if (saved === undefined) delete process.env.INGOT_CACHE;
    else process.env.INGOT_CACHE = saved;
  }
});

/** A CIFAR record: label, then R, G, B planes where plane c at pixel p holds (seed + 3p + c) mod 256. */
function cifarRecord(label: number, seed: number): number[] {
  const r = [label];
  for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) r.push((seed + 3 * p + c) % 256);
  return r;
}

test("cifar10: binary batches into NHWC (or NCHW) uint8 images and int32 labels", () => {
  const root = tmp("cifar");
  const dir = join(root, "cifar-10-batches-bin");
  mkdirSync(dir);
  const files = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"];
  files.forEach((f, k) => writeFileSync(join(dir, f), new Uint8Array([...cifarRecord(k, 10 * k), ...cifarRecord(9 - k, 10 * k + 1)])));
  const c = data.cifar10({ dir: root });
  assert.deepEqual(c.train.images.shape, [10, 32, 32, 3]);
  assert.deepEqual(c.train.labels.toArray(), [0, 9, 1, 8, 2, 7, 3, 6, 4, 5]);
  assert.deepEqual(c.test.labels.toArray(), [5, 4]);
  assert.equal(c.classes[0], "airplane");
  // Image 3 is batch 2's second record (seed 11); pixel row 1, col 2 is p = 34: R = 11 + 102, G = 114, B = 115.
  const img = c.train.images.toArray() as number[][][][];
  assert.deepEqual(img[3][1][2], [113, 114, 115]);
  const first = data.cifar10({ dir, dataFormat: "channelsFirst" });
  assert.deepEqual(first.test.images.shape, [2, 3, 32, 32]);
  assert.equal((first.train.images.toArray() as number[][][][])[3][2][1][2], 115);
  writeFileSync(join(dir, "test_batch.bin"), new Uint8Array(3000));
  assert.throws(() => data.cifar10({ dir }), /cifar10: .*test_batch\.bin has 3000 bytes, not a whole number of 3073-byte records/);
  assert.throws(() => data.cifar10({ dir: tmp("none") }), /cifar10: no data_batch_1\.bin in .*cifar-10-binary\.tar\.gz.*INGOT_DATA.*--data DIR/);
  assert.throws(() => data.parseCifarBatch(new Uint8Array(cifarRecord(10, 0))), /record 0 has label 10; CIFAR-10 labels are 0 to 9/);
});

test("readCsv: quotes, doubled quotes, newlines in quotes, CRLF, BOM, missing values and declared types", () => {
  const text =
    "\ufeffname,age,city,member,score\r\n" +
    '"Smith, Ann",34,Paris,true,1.5\r\n' +
    '"Say ""hi""",NA,"Lyon",false,\r\n' +
    '"two\nlines",,,TRUE,-2e3\r\n' +
    "\r\n" +
    'Bob,41,"NA",false,inf\r\n';
  const dir = tmp("csv");
  const path = join(dir, "people.csv");
  writeFileSync(path, text);
  const t = data.readCsv(path, { columns: { age: "float", city: "category" } });
  assert.equal(t.numRows, 4, "the blank line is skipped");
  assert.deepEqual(t.columnNames, ["name", "age", "city", "member", "score"]);
  assert.deepEqual(t.column("name").values, ["Smith, Ann", 'Say "hi"', "two\nlines", "Bob"]);
  assert.equal(t.column("age").type, "float");
  assert.deepEqual(Array.from(t.column("age").values as Float64Array), [34, NaN, NaN, 41]);
  // Unquoted empty/NA is missing; a quoted "NA" is the literal text.
  assert.deepEqual(t.column("city").values, ["Paris", "Lyon", null, "NA"]);
  assert.equal(t.column("member").type, "bool", "inferred");
  assert.deepEqual(Array.from(t.column("member").values as Float64Array), [1, 0, 1, 0]);
  assert.equal(t.column("score").type, "float");
  assert.deepEqual(Array.from(t.column("score").values as Float64Array), [1.5, NaN, -2000, Infinity]);
  assert.equal(t.column("name").type, "category");
  // Category columns become sorted codes in toTensor (missing → NaN); labels() gives int32 codes and names.
  assert.deepEqual(t.categories("city"), ["Lyon", "NA", "Paris"]);
  const x = t.toTensor(["age", "city"], { dtype: "float64" });
  assert.deepEqual(x.toArray(), [[34, 2], [NaN, 0], [NaN, NaN], [41, 1]]);
  assert.match(t.toString(), /Table 4 rows × 5 columns\nname +age +city/);
});

test("readCsv: inferred int/float/category, other delimiters, no header, and errors that name the line", () => {
  const t = data.parseCsv("1;2.5;a\n2;3;b\n", { header: false, delimiter: ";" });
  assert.deepEqual(t.columnNames, ["c0", "c1", "c2"]);
  assert.deepEqual(t.columns.map((c) => c.type), ["int", "float", "category"]);
  const named = data.parseCsv("x|y\n1|2\n", { delimiter: "|", names: ["a", "b"] });
  assert.deepEqual(named.columnNames, ["a", "b"]);
  // The quoted field spans lines 2–3, so the short row is on line 4.
  assert.throws(() => data.parseCsv('a,b,c\n"x\ny",1,2\n3,4\n', {}, "f.csv"), { name: "ValueError", message: /readCsv: f\.csv line 4 has 2 fields but there are 3 columns \(a, b, c\); quote fields that contain ','/ });
  assert.throws(() => data.parseCsv('a,b\n1,2\n"open,3\n4,5\n', {}, "g.csv"), /readCsv: g\.csv line 3: a quoted field opened here is never closed/);
  assert.throws(() => data.parseCsv('a,b\n"x"y,2\n'), /line 2: unexpected "y" after a closing quote/);
  assert.throws(() => data.parseCsv("name,age\nann,34\nbob,abc\n", { columns: { age: "float" } }, "p.csv"), /readCsv: p\.csv line 3, column 'age': "abc" is not a number/);
  assert.throws(() => data.parseCsv("n\n1.5\n", { columns: { n: "int" } }), /column 'n': "1\.5" is not an integer/);
  assert.throws(() => data.parseCsv("a,b\n1,2\n", { columns: { c: "float" } }), /column 'c' was declared but CSV text has no such column; its columns are a, b/);
  assert.throws(() => data.parseCsv("a,a\n1,2\n"), /two columns named 'a'/);
  assert.throws(() => data.parseCsv(""), /is empty; expected a header line/);
  assert.throws(() => data.readCsv(join(tmp("csv"), "missing.csv")), /ENOENT/);
});

test("readJsonl: one object per line, missing keys, null and 'NA' as missing, errors with the line", () => {
  const text = '{"id": 1, "label": "cat", "w": 0.5, "ok": true}\n\n{"id": 2, "label": "dog", "ok": false}\n{"id": 3, "label": null, "w": "NA", "ok": null}\n';
  const path = join(tmp("jsonl"), "a.jsonl");
  writeFileSync(path, text);
  const t = data.readJsonl(path);
  assert.deepEqual(t.columnNames, ["id", "label", "w", "ok"]);
  assert.deepEqual(t.columns.map((c) => c.type), ["int", "category", "float", "bool"]);
  assert.deepEqual(Array.from(t.column("w").values as Float64Array), [0.5, NaN, NaN]);
  assert.deepEqual(t.column("label").values, ["cat", "dog", null]);
  assert.deepEqual(Array.from(t.column("ok").values as Float64Array), [1, 0, NaN]);
  const typed = data.parseJsonl('{"a": "3"}\n{"a": 4}\n', { columns: { a: "float" } });
  assert.deepEqual(Array.from(typed.column("a").values as Float64Array), [3, 4]);
  assert.throws(() => data.parseJsonl('{"a": 1}\n{"a": 2,}\n', {}, "b.jsonl"), /readJsonl: b\.jsonl line 2 is not valid JSON/);
  assert.throws(() => data.parseJsonl('{"a": 1}\n[1, 2]\n'), /line 2 holds an array; each line must hold one JSON object/);
  assert.throws(() => data.parseJsonl('{"a": "x"}\n', { columns: { a: "float" } }), /readJsonl: JSONL text line 1, column 'a': "x" is not a number/);
});

test("Table: fromRecords inference, select/drop/take, labels(), fromTensor, and clear errors", () => {
  const t = data.Table.fromRecords([{ a: 1, b: "x", c: true }, { a: 2.5, b: "y" }, { a: null, b: "x", c: false }]);
  assert.deepEqual(t.columns.map((c) => c.type), ["float", "category", "bool"]);
  assert.deepEqual(t.row(1), { a: 2.5, b: "y", c: NaN });
  assert.deepEqual(t.select(["b", "a"]).columnNames, ["b", "a"]);
  assert.deepEqual(t.drop(["a"]).columnNames, ["b", "c"]);
  assert.deepEqual(t.take([2, 0, 0]).column("b").values, ["x", "x", "x"]);
  const { labels, classes } = t.labels("b");
  assert.deepEqual(classes, ["x", "y"]);
  assert.equal(labels.dtype, "int32");
  assert.deepEqual(labels.toArray(), [0, 1, 0]);
  assert.deepEqual(t.labels("b", ["y", "x"]).labels.toArray(), [1, 0, 1]);
  assert.throws(() => t.labels("b", ["x"]), /row 1 of 'b' is 'y', which is not one of the classes \["x"\]/);
  assert.throws(() => t.labels("a"), /row 1 of 'a' is 2\.5; class labels must be non-negative integers/);
  assert.throws(() => t.column("z"), /Table: no column 'z'; the columns are 'a', 'b', 'c'/);
  assert.throws(() => t.take([3]), /Table\.take: row 3 is out of range for 3 rows/);
  assert.throws(() => new data.Table([{ name: "a", type: "float", values: new Float64Array(2) }, { name: "b", type: "float", values: new Float64Array(3) }]), /column 'b' has 3 values but 'a' has 2/);
  assert.throws(() => data.Table.fromRecords([{ s: "free text" }], { s: "string" }).toTensor(), /column 's' is free text \(string\); declare it as 'category'/);
  const ft = data.Table.fromTensor(ig.tensor([[1, 2], [3, 4]], { dtype: "int32" }).t(), ["p", "q"]);
  assert.deepEqual(ft.columns.map((c) => c.type), ["int", "int"]);
  assert.deepEqual(Array.from(ft.column("q").values as Float64Array), [3, 4]);
});
