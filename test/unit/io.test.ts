// Files: safetensors round trips (byte layout checked against the format spec) and IDX parsing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as ig from "../../src/index.js";
import * as io from "../../src/io/safetensors.js";
import { loadSafetensors, saveSafetensors, serializeSafetensors } from "../../src/io/safetensors.js";
import { parseIdx, loadMnist } from "../../src/data/idx.js";

test("safetensors: header layout follows the spec and round-trips every dtype", () => {
  const tensors = {
    w: ig.tensor([[1.5, -2], [3, 4]]),
    i: ig.tensor([7, -8, 9], { dtype: "int32" }),
    d: ig.tensor([0.1], { dtype: "float64" }),
    m: ig.tensor([true, false, true]),
  };
  const buf = serializeSafetensors(tensors, { format: "pt" });
  const n = Number(new DataView(buf.buffer).getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0, "data starts 8-byte aligned");
  const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
  assert.deepEqual(header.w, { dtype: "F32", shape: [2, 2], data_offsets: [0, 16] });
  assert.deepEqual(header.i, { dtype: "I32", shape: [3], data_offsets: [16, 28] });
  assert.deepEqual(header.__metadata__, { format: "pt" });
  // The first tensor's bytes are little-endian float32 right after the header.
  assert.equal(new DataView(buf.buffer).getFloat32(8 + n, true), 1.5);
  const dir = mkdtempSync(join(tmpdir(), "ingot-st-"));
  const path = join(dir, "model.safetensors");
  saveSafetensors(path, tensors, { format: "pt" });
  assert.deepEqual(readdirSync(dir), ["model.safetensors"], "no temporary file left behind");
  const back = loadSafetensors(path);
  for (const [k, t] of Object.entries(tensors)) {
    assert.equal(back.tensors[k].dtype, t.dtype);
    assert.deepEqual(back.tensors[k].toArray(), t.toArray());
  }
  assert.deepEqual(back.metadata, { format: "pt" });
});

test("safetensors: non-contiguous tensors are written in row-major order", () => {
  const x = ig.arange(6, undefined, 1, { dtype: "float32" }).reshape(2, 3).t();
  const { tensors } = (() => {
    const dir = mkdtempSync(join(tmpdir(), "ingot-st-"));
    saveSafetensors(join(dir, "a.safetensors"), { x });
    return loadSafetensors(join(dir, "a.safetensors"));
  })();
  assert.deepEqual(tensors.x.toArray(), [[0, 3], [1, 4], [2, 5]]);
});

test("safetensors: corrupt files give clear errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "ingot-st-"));
  const p = join(dir, "bad.safetensors");
  saveSafetensors(p, { w: ig.ones(4) });
  const good = readFileSync(p);
  const { parseSafetensors } = io;
  assert.throws(() => parseSafetensors(good.subarray(0, 4)), /too short/);
  assert.throws(() => parseSafetensors(good.subarray(0, good.length - 4)), /needs 16 bytes|offsets/);
  const notJson = new Uint8Array(good);
  notJson[9] = 0x7b; // '{{' is not JSON
  assert.throws(() => parseSafetensors(notJson), /not JSON/);
});

function idxBytes(shape: number[], values: number[], magicType = 0x08): Uint8Array {
  const head = new Uint8Array(4 + 4 * shape.length);
  head[2] = magicType;
  head[3] = shape.length;
  const dv = new DataView(head.buffer);
  shape.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + values.length);
  out.set(head);
  out.set(values, head.length);
  return out;
}

test("IDX: parses plain and gzip files, rejects bad ones", () => {
  const raw = idxBytes([2, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);
  const t = parseIdx(raw);
  assert.equal(t.dtype, "uint8");
  assert.deepEqual(t.shape, [2, 2, 3]);
  assert.equal(t.toFlatArray()[11], 255);
  assert.deepEqual(parseIdx(gzipSync(raw)).toArray(), t.toArray());
  assert.throws(() => parseIdx(idxBytes([3], [1, 2])), /should hold 3 values/);
  assert.throws(() => parseIdx(idxBytes([1], [1], 0x0d)), /only unsigned bytes/);
  assert.throws(() => parseIdx(new Uint8Array([1, 2, 3, 4])), /not an IDX file/);
});

test("MNIST from INGOT_DATA (skips when the data is absent)", (t) => {
  const root = process.env.INGOT_DATA;
  if (!root || !existsSync(join(root, "mnist"))) {
    t.skip("INGOT_DATA is not set or has no mnist/ folder");
    return;
  }
  const { train, test: tst } = loadMnist();
  assert.deepEqual(train.images.shape, [60000, 28, 28]);
  assert.deepEqual(tst.labels.shape, [10000]);
  assert.equal(train.labels.dtype, "int32");
  // The first training labels of the original MNIST file are 5, 0, 4, 1, 9.
  assert.deepEqual(train.labels.slice(0, 0, 5).toArray(), [5, 0, 4, 1, 9]);
  assert.throws(() => loadMnist({ root: join(root, "nowhere") }), /no train-images-idx3-ubyte/);
});
