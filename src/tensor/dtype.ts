// The dtypes and their storage. Every dtype maps to one typed-array class; packed and 16-bit float
// dtypes store raw bits (int4: two values per byte; float16/bfloat16: one Uint16 per value).
import { DTypeError } from "./errors.js";

export type DType =
  | "float32"
  | "float64"
  | "int32"
  | "bool"
  | "int8"
  | "uint8"
  | "float16"
  | "bfloat16"
  | "int4";

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Int8Array
  | Uint8Array
  | Uint16Array;

type TypedArrayCtor = { new (n: number): TypedArray; new (buf: ArrayBufferLike, off: number, n: number): TypedArray; BYTES_PER_ELEMENT: number };

export interface DTypeInfo {
  readonly name: DType;
  /** Typed-array class used for storage. */
  readonly array: TypedArrayCtor;
  /** Storage elements needed for n logical elements. */
  storageLength(n: number): number;
  readonly isFloat: boolean;
  readonly isInt: boolean;
  /** True when values live in storage as plain numbers (ops can compute on them directly). */
  readonly computable: boolean;
}

const plain = (name: DType, array: TypedArrayCtor, isFloat: boolean, computable = true): DTypeInfo => ({
  name,
  array,
  storageLength: (n) => n,
  isFloat,
  isInt: !isFloat && name !== "bool",
  computable,
});

export const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  float32: plain("float32", Float32Array as TypedArrayCtor, true),
  float64: plain("float64", Float64Array as TypedArrayCtor, true),
  int32: plain("int32", Int32Array as TypedArrayCtor, false),
  bool: plain("bool", Uint8Array as TypedArrayCtor, false),
  int8: plain("int8", Int8Array as TypedArrayCtor, false),
  uint8: plain("uint8", Uint8Array as TypedArrayCtor, false),
  float16: plain("float16", Uint16Array as TypedArrayCtor, true, false),
  bfloat16: plain("bfloat16", Uint16Array as TypedArrayCtor, true, false),
  int4: { ...plain("int4", Uint8Array as TypedArrayCtor, false, false), storageLength: (n: number) => Math.ceil(n / 2) },
};

export function dtypeInfo(dtype: DType): DTypeInfo {
  const info = DTYPES[dtype];
  if (!info) throw new DTypeError(`unknown dtype '${String(dtype)}'; expected one of ${Object.keys(DTYPES).join(", ")}`);
  return info;
}

export function isFloatDType(d: DType): boolean {
  return DTYPES[d].isFloat;
}

/** Result dtype of a binary arithmetic op, as in PyTorch: any float wins, bool/int combine to int32. */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  const rank = (d: DType): number => (d === "float64" ? 4 : d === "float32" ? 3 : d === "int32" ? 2 : d === "bool" ? 0 : 1);
  const ra = rank(a);
  const rb = rank(b);
  if (ra >= 3 || rb >= 3) return ra >= rb ? a : b;
  return "int32";
}

// ── Small arrays ───────────────────────────────────────────────────────────────────────────────
// A typed array of its own costs about 1.3 µs to create once it is over V8's 64-byte on-heap limit
// (its memory is allocated and registered apart), and an on-heap one is moved off the heap the
// first time native code reads it (about 0.6 µs more): per op that is more than a small kernel's
// work (a decoding step's LayerNorm of 384 values makes three). Arrays under UNINIT_MIN_BYTES are
// therefore carved from 16 KiB slabs, a view each (about 0.1 µs); a slab is never reused while any of
// its views lives, so its memory is zero as new, and V8 frees it with its last view.
const SLAB_BYTES = 16 * 1024;
// Below this size arrays come from slabs (zero as new), and recycling does not bother with them.
const UNINIT_MIN_BYTES = 4096;

let slab: ArrayBuffer | null = null;
let slabBase = 0; // where the slab's aligned region starts in its ArrayBuffer
let slabUsed = SLAB_BYTES;

function slabArray(ctor: TypedArrayCtor, len: number, bytes: number): TypedArray {
  if (bytes === 0) return new ctor(0);
  const align = bytes >= 256 ? 64 : 16; // vectors start on a cache line
  let start = (slabUsed + align - 1) & ~(align - 1);
  if (start + bytes > SLAB_BYTES) {
    [slab, slabBase] = freshRegion(SLAB_BYTES);
    new Uint8Array(slab, slabBase, SLAB_BYTES).fill(0);
    start = 0;
  }
  slabUsed = start + bytes;
  return new ctor(slab!, slabBase + start, len);
}

// ── Alignment ──────────────────────────────────────────────────────────────────────────────────
// malloc, which backs every ArrayBuffer, promises 16-byte alignment, so three tensors in four
// started inside a cache line, and every 64-byte vector load or store of such a tensor touches two
// lines: a GEMM writing its C tiles that way ran 3–8 % slower (docs/native-gemm.md). PyTorch's CPU
// allocator aligns to 64 bytes; Ingot does too, once the native backend has loaded and supplied a
// probe of where an array's memory lies (JavaScript cannot see addresses). Before that, or without
// the addon, buffers start wherever malloc puts them, which is correct, only slower.

type UnsafeAlloc = (bytes: number) => { buffer: ArrayBufferLike; byteOffset: number };
// Node's Buffer.allocUnsafeSlow: a fresh ArrayBuffer (byteOffset 0, not from the shared pool) that
// is not zero-filled. Absent outside Node; then regions are plain (zeroed) ArrayBuffers.
const allocUnsafeSlow: UnsafeAlloc | undefined = (globalThis as { Buffer?: { allocUnsafeSlow?: UnsafeAlloc } }).Buffer?.allocUnsafeSlow;
const ALIGN = 64;
let addressMod64: ((view: Uint8Array) => number) | undefined;

/**
 * Installs (or removes, with undefined) the probe that says where a typed array's first byte lies
 * modulo 64; the cpu backend installs its addon's when it loads. From then on every buffer of
 * 4 KiB or more, and every slab, starts on a 64-byte boundary.
 */
export function setAddressProbe(probe: ((view: Uint8Array) => number) | undefined): void {
  addressMod64 = probe;
  slabUsed = SLAB_BYTES; // the next small array opens a new (aligned) slab
}

/** A fresh region of `bytes` bytes, not zero-filled where the platform allows: [buffer, start]. */
function freshRegion(bytes: number): [ArrayBuffer, number] {
  if (allocUnsafeSlow === undefined) return [new ArrayBuffer(bytes), 0];
  if (addressMod64 === undefined) {
    const b = allocUnsafeSlow(bytes);
    return [b.buffer as ArrayBuffer, b.byteOffset];
  }
  const b = allocUnsafeSlow(bytes + ALIGN - 8) as Uint8Array; // malloc gives at least 8-byte alignment
  const mis = addressMod64(b);
  const skip = mis % 8 === 0 ? (ALIGN - mis) % ALIGN : 0; // a start every dtype can use
  return [b.buffer as ArrayBuffer, b.byteOffset + skip];
}

/** Allocates zeroed storage for n logical elements of a dtype. */
export function allocArray(dtype: DType, n: number): TypedArray {
  const info = dtypeInfo(dtype);
  const len = info.storageLength(n);
  const bytes = len * info.array.BYTES_PER_ELEMENT;
  if (bytes < UNINIT_MIN_BYTES) return slabArray(info.array, len, bytes);
  const [buf, start] = region(bytes);
  return new info.array(buf, start, len).fill(0);
}

/** A region of `bytes` (≥ UNINIT_MIN_BYTES) bytes, recycled or fresh, contents undefined; recorded as born while backward tracks. */
function region(bytes: number): [ArrayBuffer, number] {
  const r = takeRecycled(bytes) ?? freshRegion(bytes);
  born?.set(r[0], r[1]);
  return r;
}

// ── Buffer recycling ───────────────────────────────────────────────────────────────────────────
// Memory a kernel writes is fastest when it is still in cache, as PyTorch's caching allocator
// ensures; a fresh ArrayBuffer is cold and adds to the external memory that makes V8 collect.
// Ingot cannot know when an arbitrary tensor dies, but backward can for the gradients it creates
// and consumes (src/autograd/backward.ts): it hands those buffers back here, and the next
// allocations of the same byte size (later in backward, the optimizer, the next forward) reuse
// them. Only buffers born during that backward and referenced by nothing but the engine qualify.

const POOL_MAX_BYTES = 256 * 1024 * 1024;
/** Free regions by their size in bytes: [buffer, where the region starts in it]. */
const pool = new Map<number, [ArrayBuffer, number][]>();
let pooledBytes = 0;
/** The buffers allocated since tracking began, with where their region starts. */
let born: Map<ArrayBuffer, number> | null = null;
let recycling = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.INGOT_RECYCLE !== "0";

/** A pooled region of exactly `bytes` bytes (contents undefined), or undefined. */
function takeRecycled(bytes: number): [ArrayBuffer, number] | undefined {
  const region = pool.get(bytes)?.pop();
  if (region !== undefined) pooledBytes -= bytes;
  return region;
}

/**
 * Starts recording the buffers allocated from now on (backward calls this first); false, and
 * nothing is recorded, when recycling is off (INGOT_RECYCLE=0). `endBufferTracking` stops it.
 */
export function beginBufferTracking(): boolean {
  if (!recycling) return false;
  born = new Map();
  return true;
}

export function endBufferTracking(): void {
  born = null;
}

/**
 * Hands back a buffer that nothing references any more (its caller guarantees it: see
 * backward.ts). Only whole regions allocated while tracking are taken. With poisoning on, it is filled with NaN
 * bytes at once, so that a wrong hand-back shows up in any test that reads the old tensor.
 */
export function recycleBuffer(a: TypedArray): void {
  const buf = a.buffer as ArrayBuffer;
  const bytes = a.byteLength;
  if (born === null || born.get(buf) !== a.byteOffset) return;
  born.delete(buf);
  if (pooledBytes + bytes > POOL_MAX_BYTES) return;
  if (poison) new Uint8Array(buf, a.byteOffset, bytes).fill(0xff);
  let list = pool.get(bytes);
  if (!list) pool.set(bytes, (list = []));
  list.push([buf, a.byteOffset]);
  pooledBytes += bytes;
}

/** Turns buffer recycling on or off (default on; INGOT_RECYCLE=0 starts it off) and empties the pool; returns the previous setting. */
export function setBufferRecycling(on: boolean): boolean {
  const prev = recycling;
  recycling = on;
  pool.clear();
  pooledBytes = 0;
  return prev;
}

/** Bytes held for reuse now (tests, the profiler). */
export function recycledBytes(): number {
  return pooledBytes;
}

let poison = false;

/**
 * Storage for n elements whose contents are undefined, for kernel outputs that the kernel writes in
 * full (registered with `overwrites: true`): it skips the zero fill of allocArray, which showed up
 * as a large share of a small GPT training step. With poisoning on (`setUninitPoison(true)`, used
 * by the conformance suite), the memory is filled with NaN (floats) or 0x5A bytes (integers), so a
 * kernel that forgets to write some elements fails its checks instead of passing on zeros.
 */
export function allocArrayUninit(dtype: DType, n: number): TypedArray {
  const info = dtypeInfo(dtype);
  const len = info.storageLength(n);
  const bytes = len * info.array.BYTES_PER_ELEMENT;
  let arr: TypedArray;
  if (bytes < UNINIT_MIN_BYTES) arr = slabArray(info.array, len, bytes);
  else {
    const [buf, start] = region(bytes);
    arr = new info.array(buf, start, len);
  }
  if (poison) {
    if (info.isFloat && info.computable) arr.fill(NaN);
    else new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).fill(0x5a);
  }
  return arr;
}

/** Turns poisoning of uninitialized kernel outputs on or off (tests); returns the previous setting. */
export function setUninitPoison(on: boolean): boolean {
  const prev = poison;
  poison = on;
  return prev;
}

/** The dtype whose storage class is this typed array (float32 for Float32Array, …). */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Int8Array) return "int8";
  if (a instanceof Uint8Array) return "uint8";
  throw new DTypeError(`tensor: cannot infer a dtype from ${Object.prototype.toString.call(a)}; pass {dtype}`);
}
