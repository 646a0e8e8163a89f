// ingot.tensorboard: CRC-32C against published vectors, the record framing byte for byte against
// a file written by hand from the spec, every summary kind read back by the independent reader,
// histograms against numpy/PyTorch's rules, PNG images, hparams, flushing at exit, and the Keras callback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 as zlibCrc32, inflateSync } from "node:zlib";
import * as ingot from "../../src/index.js";

const { tensorboard: tb, keras } = ingot;
const tmp = mkdtempSync(join(tmpdir(), "ingot-tb-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
let dirN = 0;
const freshDir = () => join(tmp, `d${dirN++}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const ascii = (s: string) => new TextEncoder().encode(s);
const only = (dir: string) => {
  const files = readdirSync(dir).filter((f) => f.startsWith("events.out.tfevents."));
  assert.equal(files.length, 1, `one events file in ${dir}: ${files.join(", ")}`);
  return join(dir, files[0]);
};

test("crc32c matches the published check value and RFC 3720's vectors; crc32 matches zlib's", () => {
  assert.equal(tb.crc32c(ascii("123456789")), 0xe3069283);
  assert.equal(tb.crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(tb.crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(tb.crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  // A running checksum over two halves equals the checksum of the whole.
  assert.equal(tb.crc32c(ascii("56789"), tb.crc32c(ascii("1234"))), 0xe3069283);
  assert.equal(tb.crc32(ascii("123456789")), 0xcbf43926);
  const some = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff);
  assert.equal(tb.crc32(some), zlibCrc32(some));
  for (const c of [0, 1, 0xe3069283, 0xffffffff, 0x80000000]) assert.equal(tb.unmaskCrc(tb.maskCrc(c)), c);
  // ((c >>> 15) | (c << 17)) + 0xa282ead8, by hand for c = 0xE3069283.
  assert.equal(tb.maskCrc(0xe3069283), (((0xe3069283 >>> 15) | ((0xe3069283 << 17) >>> 0)) + 0xa282ead8) % 2 ** 32);
});

// Two records written by hand from the spec (Event: wall_time = 1 double, step = 2 varint,
// file_version = 3 / summary = 5; Summary.Value: tag = 1, simple_value = 2 float), framed as
// u64 length LE, masked CRC-32C of the length, data, masked CRC-32C of the data.
const VERSION_RECORD = hex(`
  18 00 00 00 00 00 00 00   a3 7f 4b 22
  09 00 00 20 40 fc 54 d9 41   1a 0d 62 72 61 69 6e 2e 45 76 65 6e 74 3a 32
  2b 35 31 10`);
const SCALAR_RECORD = hex(`
  1a 00 00 00 00 00 00 00   12 9b d8 2d
  09 00 00 50 40 fc 54 d9 41   10 03   2a 0d 0a 0b 0a 04 6c 6f 73 73 15 00 00 00 3f
  fb 8b c7 df`);

test("RecordWriter frames records byte for byte as the hand-written file", () => {
  const path = join(freshDir(), "events.out.tfevents.fixed");
  const w = new tb.RecordWriter(path);
  w.write(VERSION_RECORD.subarray(12, 12 + 24));
  w.write(SCALAR_RECORD.subarray(12, 12 + 26));
  assert.equal(existsSync(path), false, "nothing is written before a flush");
  w.close();
  assert.deepEqual(new Uint8Array(readFileSync(path)), Uint8Array.from([...VERSION_RECORD, ...SCALAR_RECORD]));
  assert.throws(() => w.write(new Uint8Array(1)), /closed/);
});

test("SummaryWriter: file name, the brain.Event:2 first record, and a scalar event byte for byte", () => {
  const dir = freshDir();
  const before = Math.floor(Date.now() / 1000);
  const w = new tb.SummaryWriter(dir, { filenameSuffix: ".v2" });
  const name = w.fileName.slice(dir.length + 1);
  const m = /^events\.out\.tfevents\.(\d+)\.(.+)\.(\d+)\.(\d+)\.v2$/.exec(name);
  assert.ok(m, name);
  assert.ok(Number(m[1]) >= before && Number(m[1]) <= before + 5);
  assert.equal(m[2], hostname());
  assert.equal(Number(m[3]), process.pid);
  assert.ok(existsSync(w.fileName), "the file exists as soon as the writer does");
  w.addScalar("loss", 0.5, 3, 1700000001.25);
  w.close();
  const bytes = new Uint8Array(readFileSync(w.fileName));
  assert.deepEqual(bytes.subarray(bytes.length - SCALAR_RECORD.length), SCALAR_RECORD);
  const { events, truncated } = tb.readEventFile(w.fileName);
  assert.equal(truncated, false);
  assert.equal(events.length, 2);
  assert.equal(events[0].fileVersion, "brain.Event:2");
  assert.ok(Math.abs(events[0].wallTime - Date.now() / 1000) < 60);
});

test("the reader returns every scalar, step and tag; a flipped byte fails its CRC; a cut-off tail is reported", () => {
  const dir = freshDir();
  const w = new tb.SummaryWriter(dir, { maxQueue: 7 });
  const want: Record<string, { step: number; value: number }[]> = { "train/loss": [], "train/acc": [] };
  for (let step = 0; step < 50; step++) {
    const loss = 2 * Math.exp(-step / 10) + step * 1e-3;
    const acc = 1 - Math.exp(-step / 7);
    w.addScalar("train/loss", loss, step);
    w.addScalar("train/acc", ingot.tensor([acc]), step);
    want["train/loss"].push({ step, value: Math.fround(loss) });
    want["train/acc"].push({ step, value: Math.fround(acc) });
  }
  w.flush();
  const got = tb.readScalars(dir);
  assert.deepEqual(Object.keys(got).sort(), ["train/acc", "train/loss"]);
  for (const tag of Object.keys(want))
    assert.deepEqual(
      got[tag].map(({ step, value }) => ({ step, value })),
      want[tag],
    );
  w.close();

  const good = readFileSync(w.fileName);
  const bad = Buffer.from(good);
  bad[good.length - 9] ^= 0x10; // inside the last record's data
  writeFileSync(join(dir, "bad"), bad);
  assert.throws(() => tb.readEventFile(join(dir, "bad")), /bad data CRC/);
  const badLen = Buffer.from(good);
  badLen[0] ^= 1; // the first record's length
  writeFileSync(join(dir, "badlen"), badLen);
  assert.throws(() => tb.readEventFile(join(dir, "badlen")), /bad length CRC/);
  writeFileSync(join(dir, "cut"), good.subarray(0, good.length - 5));
  const cut = tb.readEventFile(join(dir, "cut"));
  assert.equal(cut.truncated, true);
  assert.equal(tb.readEventFile(w.fileName).events.length, 101, "the version record and 100 scalars");
  assert.equal(cut.events.length, 100, "all records but the cut one");
});

test("histograms follow numpy.histogram and PyTorch's trimming, with 'tensorflow', counted and explicit bins", () => {
  // Expected values from numpy 1.x with torch.utils.tensorboard's make_histogram.
  const a = tb.makeHistogram("t", [1, 2, 2, 3, 10], 3);
  assert.deepEqual(a, { min: 1, max: 10, num: 5, sum: 18, sumSquares: 118, bucketLimit: [1, 4, 7, 10], bucket: [0, 4, 0, 1] });
  assert.deepEqual(tb.makeHistogram("t", [5, 5, 5], 4).bucketLimit, [5, 5.25]);
  assert.deepEqual(tb.makeHistogram("t", [5, 5, 5], 4).bucket, [0, 3]);
  const c = tb.makeHistogram("t", [0.1, 0.9, 0.5, 0.3], 4);
  assert.deepEqual(c.bucketLimit, [0.1, 0.30000000000000004, 0.5, 0.7000000000000001, 0.9]);
  assert.deepEqual(c.bucket, [0, 2, 0, 1, 1]);
  assert.equal(tb.tensorflowEdges().length, 1549);
  const t = tb.makeHistogram("t", [-0.5, 0.0, 0.25, 0.25, 1.0, 3.0]);
  assert.equal(t.bucket.length, 588);
  assert.equal(t.bucketLimit.length, 588);
  assert.equal(t.bucketLimit[0], -0.5177616740489182);
  assert.equal(t.bucketLimit[587], 3.1665833053880363);
  assert.deepEqual(
    t.bucket.flatMap((k, i) => (k ? [[i, k]] : [])),
    [[1, 1], [285, 1], [561, 2], [575, 1], [587, 1]],
  );
  assert.deepEqual(tb.makeHistogram("t", [0.5, 1.5, 2.5], [0, 1, 2, 3]).bucket, [0, 1, 1, 1]);
  assert.throws(() => tb.makeHistogram("addHistogram('w')", [1, NaN]), /addHistogram\('w'\): the values contain NaN at index 1/);
  assert.throws(() => tb.makeHistogram("t", []), /empty/);
});

test("addHistogram, addText and addImage are read back with their plugin data", () => {
  const dir = freshDir();
  const w = new tb.SummaryWriter(dir);
  ingot.manualSeed(0);
  const weights = ingot.randn([200]);
  w.addHistogram("dense/kernel", weights, 7);
  w.addText("notes", "**bold** café", 2);
  // A 2×3 RGB image, CHW floats in [0, 1], and the same image HWC as uint8.
  const chw = ingot.tensor([[[0, 0.5, 1], [1, 1, 1]], [[0, 0, 0], [0.2, 0.4, 0.6]], [[1, 1, 1], [0, 0, 2]]]);
  w.addImage("img/chw", chw, 1);
  const hwc = ingot.tensor([0, 0, 255, 127, 0, 255, 255, 0, 255, 255, 51, 0, 255, 102, 0, 255, 153, 255], { dtype: "uint8" }).reshape([2, 3, 3]);
  w.addImage("img/hwc", hwc, 1, undefined, "HWC");
  w.close();
  const values = tb.readEventFile(w.fileName).events.flatMap((e) => (e.values ?? []).map((v) => ({ ...v, step: e.step })));
  const h = values.find((v) => v.tag === "dense/kernel")!;
  assert.equal(h.step, 7);
  const data = Array.from(weights.dataSync());
  assert.equal(h.histo!.num, 200);
  assert.equal(h.histo!.min, Math.min(...data));
  assert.equal(h.histo!.max, Math.max(...data));
  assert.equal(h.histo!.bucket.reduce((s, k) => s + k, 0), 200);
  assert.equal(h.histo!.bucket.length, h.histo!.bucketLimit.length);

  const t = values.find((v) => v.tag === "notes")!;
  assert.equal(t.step, 2);
  assert.equal(t.metadata!.pluginName, "text");
  assert.equal(t.tensor!.dtype, 7, "DT_STRING");
  assert.deepEqual(t.tensor!.shape, []);
  assert.deepEqual(t.tensor!.stringVal, ["**bold** café"]);

  const pngs = ["img/chw", "img/hwc"].map((tag) => values.find((v) => v.tag === tag)!.image!);
  for (const img of pngs) {
    assert.deepEqual([img.height, img.width, img.colorspace], [2, 3, 3]);
    assert.deepEqual(decodePng(img.encoded), { width: 3, height: 2, colorType: 2, pixels: [0, 0, 255, 127, 0, 255, 255, 0, 255, 255, 51, 0, 255, 102, 0, 255, 153, 255] });
  }
  assert.throws(() => new tb.SummaryWriter(freshDir()).addImage("x", ingot.zeros([5, 2, 2])), /1, 3 or 4 channels/);
});

/** A PNG decoder for filter type 0 only, checking every chunk's CRC with zlib's crc32. */
function decodePng(png: Uint8Array): { width: number; height: number; colorType: number; pixels: number[] } {
  assert.deepEqual(Array.from(png.subarray(0, 8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let off = 8;
  let width = 0, height = 0, colorType = -1;
  const idat: Uint8Array[] = [];
  while (off < png.length) {
    const len = dv.getUint32(off);
    const type = String.fromCharCode(...png.subarray(off + 4, off + 8));
    const data = png.subarray(off + 8, off + 8 + len);
    assert.equal(dv.getUint32(off + 8 + len), zlibCrc32(png.subarray(off + 4, off + 8 + len)), `${type} CRC`);
    if (type === "IHDR") {
      width = dv.getUint32(off + 8);
      height = dv.getUint32(off + 12);
      colorType = data[9];
      assert.equal(data[8], 8, "bit depth 8");
    } else if (type === "IDAT") idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const ch = { 0: 1, 4: 2, 2: 3, 6: 4 }[colorType]!;
  const pixels: number[] = [];
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (width * ch + 1)], 0, "filter type 0");
    pixels.push(...raw.subarray(y * (width * ch + 1) + 1, (y + 1) * (width * ch + 1)));
  }
  return { width, height, colorType, pixels };
}

test("addScalars writes one folder per key under the main tag; addHparams writes the HPARAMS tab's protos", () => {
  const dir = freshDir();
  const w = new tb.SummaryWriter(dir);
  w.addScalars("loss", { train: 0.5, val: 0.75 }, 4);
  w.addHparams({ lr: 0.01, optimizer: "adam", bn: true }, { "hparam/accuracy": 0.9 }, { runName: "trial1", hparamDomainDiscrete: { optimizer: ["adam", "sgd"] } });
  w.close();
  assert.deepEqual(tb.readScalars(join(dir, "loss_train")), { loss: [{ step: 4, value: 0.5, wallTime: tb.readScalars(join(dir, "loss_train")).loss[0].wallTime }] });
  assert.equal(tb.readScalars(join(dir, "loss_val")).loss[0].value, 0.75);

  const events = tb.readEventFile(only(join(dir, "trial1"))).events;
  const byTag = new Map(events.flatMap((e) => (e.values ?? []).map((v) => [v.tag, v] as const)));
  for (const tag of ["_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"]) assert.equal(byTag.get(tag)?.metadata?.pluginName, "hparams", tag);
  assert.equal(byTag.get("hparam/accuracy")!.simpleValue, Math.fround(0.9));
  const utf8 = (b: Uint8Array) => new TextDecoder().decode(b);
  const bytes = (f: ingot.tensorboard.FieldValue) => (f.wire === 2 ? f.bytes : assert.fail("expected a LEN field"));
  // HParamsPluginData.session_start_info (3) → hparams map entries (1): key (1), google.protobuf.Value (2).
  const ssi = tb.decodeFields(bytes(tb.decodeFields(byTag.get("_hparams_/session_start_info")!.metadata!.content).get(3)![0]));
  const hp: Record<string, unknown> = {};
  for (const entry of ssi.get(1)!) {
    const e = tb.decodeFields(bytes(entry));
    const v = tb.decodeFields(bytes(e.get(2)![0]));
    const [field, [val]] = [...v.entries()][0];
    hp[utf8(bytes(e.get(1)![0]))] = field === 2 && val.wire === 1 ? val.f64 : field === 3 ? utf8(bytes(val)) : field === 4 && val.wire === 0 ? val.n === 1 : "?";
  }
  assert.deepEqual(hp, { lr: 0.01, optimizer: "adam", bn: true });
  // Experiment (2): hparam_infos (4) with name (1) and type (4: STRING 1, BOOL 2, FLOAT64 3); metric_infos (5).
  const exp = tb.decodeFields(bytes(tb.decodeFields(byTag.get("_hparams_/experiment")!.metadata!.content).get(2)![0]));
  const infos = exp.get(4)!.map((f) => tb.decodeFields(bytes(f)));
  assert.deepEqual(infos.map((i) => [utf8(bytes(i.get(1)![0])), (i.get(4)![0] as { n: number }).n]), [["lr", 3], ["optimizer", 1], ["bn", 2]]);
  assert.equal(infos[1].get(5)!.length, 1, "optimizer has a discrete domain");
  const metricName = tb.decodeFields(bytes(tb.decodeFields(bytes(exp.get(5)![0])).get(1)![0]));
  assert.equal(utf8(bytes(metricName.get(2)![0])), "hparam/accuracy");
  // SessionEndInfo (4): status (1) = STATUS_SUCCESS (1).
  const sei = tb.decodeFields(bytes(tb.decodeFields(byTag.get("_hparams_/session_end_info")!.metadata!.content).get(4)![0]));
  assert.deepEqual(sei.get(1), [{ wire: 0, n: 1 }]);
  assert.throws(() => new tb.SummaryWriter(freshDir()).addHparams({ x: null as unknown as number }, {}), /'x' is null/);
});

const indexUrl = new URL("../../src/index.js", import.meta.url).href;

test("the writer flushes at exit; a busy process still dies at once by SIGTERM, leaving a readable file", async () => {
  const dir = freshDir();
  const exitScript = `import * as ingot from ${JSON.stringify(indexUrl)};
    const w = new ingot.tensorboard.SummaryWriter(${JSON.stringify(dir)}, { maxQueue: 1000, flushSecs: 3600 });
    for (let s = 0; s < 25; s++) w.addScalar("x", s * 0.5, s);
    process.exit(3);`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", exitScript], { encoding: "utf8", timeout: 20000 });
  assert.equal(r.status, 3, r.stderr);
  assert.deepEqual(tb.readScalars(dir).x.map((p) => p.value), Array.from({ length: 25 }, (_, s) => s * 0.5));

  // A loop that never yields to the event loop, as a training step loop: SIGTERM must still end it
  // (no JavaScript signal listener may swallow it), and what was written is intact.
  const busy = freshDir();
  const busyScript = `import * as ingot from ${JSON.stringify(indexUrl)};
    const w = new ingot.tensorboard.SummaryWriter(${JSON.stringify(busy)}, { maxQueue: 5 });
    for (let s = 0; ; s++) w.addScalar("x", s, s);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", busyScript], { stdio: "ignore" });
  const exited = new Promise<NodeJS.Signals | null>((res) => child.on("exit", (_c, sig) => res(sig)));
  for (let i = 0; i < 200 && !(existsSync(busy) && readdirSync(busy).length && statSync(join(busy, readdirSync(busy)[0])).size > 2000); i++) await sleep(50);
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
  assert.equal(await exited, "SIGTERM", "ended by SIGTERM, not by the fallback SIGKILL");
  clearTimeout(timer);
  const { events } = tb.readEventFile(only(busy));
  const steps = events.slice(1).map((e) => e.step);
  assert.ok(steps.length >= 5);
  assert.deepEqual(steps, steps.map((_, i) => i), "consecutive steps from 0");
});

test("keras.callbacks.tensorboard writes epoch metrics to train/ and validation/, batch metrics and weight histograms", async () => {
  const dir = freshDir();
  ingot.manualSeed(1);
  const x = ingot.randn([24, 4]);
  const y = ingot.randint(0, 3, [24]);
  const model = keras.sequential([keras.dense({ units: 5, activation: "relu", inputShape: [4] }), keras.dense({ units: 3, activation: "softmax" })]);
  model.compile({ optimizer: keras.optimizers.adam({ learningRate: 0.01 }), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  const cb = keras.callbacks.tensorboard({ logDir: dir, histogramFreq: 1, updateFreq: 2, writeStepsPerSecond: true });
  assert.ok(cb instanceof keras.TensorBoard);
  const hist = await model.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, validationData: [x, y], callbacks: [cb] });
  const train = tb.readScalars(join(dir, "train"));
  const val = tb.readScalars(join(dir, "validation"));
  for (const k of ["loss", "accuracy"]) {
    assert.deepEqual(train[`epoch_${k}`].map((p) => p.step), [0, 1]);
    assert.deepEqual(train[`epoch_${k}`].map((p) => p.value), hist.history[k].map(Math.fround));
    assert.deepEqual(val[`epoch_${k}`].map((p) => p.value), hist.history[`val_${k}`].map(Math.fround));
  }
  assert.deepEqual(train.epoch_learning_rate.map((p) => p.value), [Math.fround(0.01), Math.fround(0.01)]);
  assert.equal(train.epoch_steps_per_second.length, 2);
  // 3 batches an epoch, 6 in all: batch metrics at global steps 2, 4, 6.
  assert.deepEqual(train.batch_loss.map((p) => p.step), [2, 4, 6]);
  const histos = tb.eventFiles(join(dir, "train")).flatMap((f) => tb.readEventFile(f).events.flatMap((e) => (e.values ?? []).filter((v) => v.histo).map((v) => `${v.tag}@${e.step}`)));
  const names = Object.keys(model.getWeights()).map((n) => n.replace(/\./g, "/"));
  assert.deepEqual(histos.sort(), [...names.map((n) => `${n}@0`), ...names.map((n) => `${n}@1`)].sort());
  assert.throws(() => keras.callbacks.tensorboard({ updateFreq: 0 }), /updateFreq/);
});
