// Uninitialized kernel outputs: kernels registered with `overwrites: true` get storage that is not
// zero-filled; poisoning (used by the conformance suite) fills it with NaN so partial writes show.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import { registerBackend, registerKernel } from "../../src/backend/registry.js";
import { loadNative, native } from "../../src/backend/cpu/native.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

test("allocArrayUninit: right type and length; large arrays own a fresh buffer; small ones are zero-filled slab views", () => {
  const big = ig.allocArrayUninit("float32", 10_000);
  assert.ok(big instanceof Float32Array);
  assert.equal(big.length, 10_000);
  // A buffer of its own, with at most the slack needed to start on a cache line.
  assert.ok(big.buffer.byteLength >= 40_000 && big.buffer.byteLength - 40_000 < 64, `buffer of ${big.buffer.byteLength} bytes`);
  assert.ok(big.byteOffset + big.byteLength <= big.buffer.byteLength);
  const small = ig.allocArrayUninit("int32", 3);
  assert.ok(small instanceof Int32Array);
  assert.deepEqual([...small], [0, 0, 0]);
  const packed = ig.allocArrayUninit("int4", 9_000);
  assert.equal(packed.length, 4_500);
});

test("small arrays come from shared slabs: zero-filled, aligned, disjoint; safetensors round-trips them", () => {
  const arrays = [
    ig.allocArray("float32", 384),
    ig.allocArrayUninit("float32", 1),
    ig.allocArray("float64", 3),
    ig.allocArrayUninit("int32", 100),
    ig.allocArray("bool", 7),
    ig.allocArray("float32", 1023),
  ];
  for (const a of arrays) {
    assert.ok(a.buffer.byteLength > a.byteLength, "a view of a larger slab");
    assert.equal(a.byteOffset % (a.byteLength >= 256 ? 64 : 16), 0, "aligned");
    assert.ok([...a].every((v) => v === 0), "zero as new");
  }
  arrays.forEach((a, i) => a.fill(i + 1));
  arrays.forEach((a, i) => assert.ok([...a].every((v) => v === i + 1), `array ${i} kept its values`));
  assert.equal(ig.allocArray("float32", 0).length, 0);
  const t = { s: ig.tensor([1.5, -2, 3], { dtype: "float64" }), i: ig.tensor([7, 8], { dtype: "int32" }) };
  const dir = mkdtempSync(join(tmpdir(), "ingot-slab-"));
  try {
    ig.saveSafetensors(join(dir, "x.safetensors"), t);
    const back = ig.loadSafetensors(join(dir, "x.safetensors")).tensors;
    assert.deepEqual([...back.s.dataSync()], [1.5, -2, 3]);
    assert.deepEqual([...back.i.dataSync()], [7, 8]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("with the native backend loaded, tensor buffers start on 64-byte boundaries (small ones on 16)", (t) => {
  if (!loadNative() || native.misalign === undefined) {
    t.skip("the native addon is not loaded: allocations keep malloc's alignment");
    return;
  }
  const at = (a: ig.TypedArray) => native.misalign!(new Uint8Array(a.buffer, a.byteOffset, 1));
  const arrays: [ig.TypedArray, number][] = [];
  for (let i = 0; i < 64; i++) {
    arrays.push([ig.allocArrayUninit("float32", 1024 + 7 * i), 64]);
    arrays.push([ig.allocArray("float64", 600 + 3 * i), 64]);
    arrays.push([ig.allocArray("int8", 5000 + i), 64]);
    arrays.push([ig.allocArrayUninit("float32", 64 + i), 64]); // slab views of 256 bytes or more
    arrays.push([ig.allocArray("int32", 1 + (i % 60)), 16]);
  }
  const m = ig.randn([70, 90]).matmul(ig.randn([90, 50])); // a kernel output, 14 000 bytes
  arrays.push([m.storage.data, 64]);
  for (const [a, align] of arrays) assert.equal(at(a) % align, 0, `${a.constructor.name}(${a.length}) starts ${at(a)} bytes into a cache line`);
});

test("poisoning fills uninitialized floats with NaN and integers with 0x5A bytes", () => {
  const prev = ig.setUninitPoison(true);
  try {
    assert.ok([...ig.allocArrayUninit("float64", 2000)].every(Number.isNaN));
    assert.ok([...ig.allocArrayUninit("float32", 5)].every(Number.isNaN));
    assert.ok([...ig.allocArrayUninit("int32", 2000)].every((v) => v === 0x5a5a5a5a));
  } finally {
    ig.setUninitPoison(prev);
  }
});

test("the dispatcher gives overwriting kernels uninitialized outputs and the others zeros", () => {
  // Two throw-away backends over ref whose 'neg' writes only the first half of its output.
  const half = (([x]: ig.Tensor[], [out]: ig.Tensor[]) => {
    const src = x.contiguous().storage.data as Float32Array;
    const dst = out.storage.data as Float32Array;
    for (let i = 0; i < dst.length / 2; i++) dst[i] = -src[i];
  }) as Parameters<typeof registerKernel>[3];
  registerBackend({ name: "test-overwrites", inherits: "ref", device: "cpu" });
  registerBackend({ name: "test-zeroed", inherits: "ref", device: "cpu" });
  registerKernel("neg", "test-overwrites", ["float32"], half, { overwrites: true });
  registerKernel("neg", "test-zeroed", ["float32"], half);
  const x = ig.ones([2048]);
  const prev = ig.setUninitPoison(true);
  try {
    const a = ig.withBackend("test-overwrites", () => ig.neg(x)).toArray() as number[];
    assert.equal(a[0], -1);
    assert.ok(Number.isNaN(a[2047]), "the unwritten half of an overwriting kernel's output is poisoned");
    const b = ig.withBackend("test-zeroed", () => ig.neg(x)).toArray() as number[];
    assert.equal(b[0], -1);
    assert.equal(b[2047], 0, "a kernel without overwrites gets zero-filled outputs");
  } finally {
    ig.setUninitPoison(prev);
  }
});
