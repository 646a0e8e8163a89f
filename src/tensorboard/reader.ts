// An events-file reader written from the format's specification, independent of the writer (its
// own bitwise CRC-32C and protobuf decoder), used by the tests and by `ingot` to read logs back.
// Every record's two CRCs are checked; a record cut short at the end of a file (a writer still
// running, or killed mid-write) is reported as `truncated`, as TensorBoard tolerates it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** CRC-32C bit by bit (no table): a second implementation to check the writer's against. */
function crc32cBitwise(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function masked(bytes: Uint8Array): number {
  const c = crc32cBitwise(bytes);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

/** Splits a TFRecord file into its records, verifying both CRCs of each; throws on a mismatch. */
export function readRecords(buf: Uint8Array, name = "records"): { records: Uint8Array[]; truncated: boolean } {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const records: Uint8Array[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + 12 > buf.length) return { records, truncated: true };
    const len = dv.getUint32(off, true) + dv.getUint32(off + 4, true) * 2 ** 32;
    if (dv.getUint32(off + 8, true) !== masked(buf.subarray(off, off + 8))) throw new Error(`${name}: bad length CRC in the record at byte ${off}`);
    if (off + 12 + len + 4 > buf.length) return { records, truncated: true };
    const data = buf.subarray(off + 12, off + 12 + len);
    if (dv.getUint32(off + 12 + len, true) !== masked(data)) throw new Error(`${name}: bad data CRC in the record at byte ${off}`);
    records.push(data);
    off += 16 + len;
  }
  return { records, truncated: false };
}

/** A decoded field value: varints as numbers, fixed64/fixed32 as raw 8/4-byte arrays' numbers, LEN as bytes. */
export type FieldValue = { wire: 0; n: number } | { wire: 1; f64: number } | { wire: 5; f32: number } | { wire: 2; bytes: Uint8Array };

/** Decodes one protobuf message into its fields, by number, in order (no schema needed). */
export function decodeFields(buf: Uint8Array): Map<number, FieldValue[]> {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const fields = new Map<number, FieldValue[]>();
  let off = 0;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (off >= buf.length) throw new Error("protobuf: varint runs past the end");
      const b = buf[off++];
      result += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) return result;
    }
  };
  while (off < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    let v: FieldValue;
    if (wire === 0) v = { wire, n: varint() };
    else if (wire === 1) {
      v = { wire, f64: dv.getFloat64(off, true) };
      off += 8;
    } else if (wire === 5) {
      v = { wire, f32: dv.getFloat32(off, true) };
      off += 4;
    } else if (wire === 2) {
      const len = varint();
      if (off + len > buf.length) throw new Error("protobuf: a field runs past the end");
      v = { wire, bytes: buf.subarray(off, off + len) };
      off += len;
    } else throw new Error(`protobuf: unsupported wire type ${wire} (field ${field})`);
    if (!fields.has(field)) fields.set(field, []);
    fields.get(field)!.push(v);
  }
  return fields;
}

const utf8 = new TextDecoder();
const last = (m: Map<number, FieldValue[]>, f: number) => m.get(f)?.[m.get(f)!.length - 1];
const num = (m: Map<number, FieldValue[]>, f: number): number => {
  const v = last(m, f);
  return v === undefined ? 0 : v.wire === 0 ? v.n : v.wire === 1 ? v.f64 : v.wire === 5 ? v.f32 : NaN;
};
const bytesOf = (m: Map<number, FieldValue[]>, f: number): Uint8Array | undefined => {
  const v = last(m, f);
  return v?.wire === 2 ? v.bytes : undefined;
};
const str = (m: Map<number, FieldValue[]>, f: number): string => utf8.decode(bytesOf(m, f) ?? new Uint8Array(0));

/** Repeated doubles, packed (one LEN field) or not. */
function doubles(m: Map<number, FieldValue[]>, f: number): number[] {
  const out: number[] = [];
  for (const v of m.get(f) ?? []) {
    if (v.wire === 1) out.push(v.f64);
    else if (v.wire === 2) {
      const dv = new DataView(v.bytes.buffer, v.bytes.byteOffset, v.bytes.byteLength);
      for (let i = 0; i + 8 <= v.bytes.length; i += 8) out.push(dv.getFloat64(i, true));
    }
  }
  return out;
}

export interface ReadHistogram {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: number[];
  bucket: number[];
}

export interface ReadValue {
  tag: string;
  simpleValue?: number;
  histo?: ReadHistogram;
  image?: { height: number; width: number; colorspace: number; encoded: Uint8Array };
  tensor?: { dtype: number; shape: number[]; stringVal: string[] };
  metadata?: { pluginName: string; content: Uint8Array; dataClass: number };
}

export interface ReadEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  values?: ReadValue[];
}

function decodeValue(b: Uint8Array): ReadValue {
  const m = decodeFields(b);
  const v: ReadValue = { tag: str(m, 1) };
  if (m.has(2)) v.simpleValue = num(m, 2);
  const histo = bytesOf(m, 5);
  if (histo) {
    const h = decodeFields(histo);
    v.histo = { min: num(h, 1), max: num(h, 2), num: num(h, 3), sum: num(h, 4), sumSquares: num(h, 5), bucketLimit: doubles(h, 6), bucket: doubles(h, 7) };
  }
  const image = bytesOf(m, 4);
  if (image) {
    const i = decodeFields(image);
    v.image = { height: num(i, 1), width: num(i, 2), colorspace: num(i, 3), encoded: bytesOf(i, 4) ?? new Uint8Array(0) };
  }
  const tensor = bytesOf(m, 8);
  if (tensor) {
    const t = decodeFields(tensor);
    const shape = decodeFields(bytesOf(t, 2) ?? new Uint8Array(0));
    v.tensor = {
      dtype: num(t, 1),
      shape: (shape.get(2) ?? []).map((d) => (d.wire === 2 ? num(decodeFields(d.bytes), 1) : NaN)),
      stringVal: (t.get(8) ?? []).map((s) => (s.wire === 2 ? utf8.decode(s.bytes) : "")),
    };
  }
  const meta = bytesOf(m, 9);
  if (meta) {
    const md = decodeFields(meta);
    const pd = decodeFields(bytesOf(md, 1) ?? new Uint8Array(0));
    v.metadata = { pluginName: str(pd, 1), content: bytesOf(pd, 2) ?? new Uint8Array(0), dataClass: num(md, 4) };
  }
  return v;
}

/** Decodes one Event message. */
export function decodeEvent(b: Uint8Array): ReadEvent {
  const m = decodeFields(b);
  const e: ReadEvent = { wallTime: num(m, 1), step: num(m, 2) };
  if (m.has(3)) e.fileVersion = str(m, 3);
  const summary = bytesOf(m, 5);
  if (summary) e.values = (decodeFields(summary).get(1) ?? []).map((v) => decodeValue(v.wire === 2 ? v.bytes : new Uint8Array(0)));
  return e;
}

/** Reads one events file: its events, and whether its last record was cut short. */
export function readEventFile(path: string): { events: ReadEvent[]; truncated: boolean } {
  const { records, truncated } = readRecords(readFileSync(path), path);
  return { events: records.map(decodeEvent), truncated };
}

/** The events files under a folder (recursively), sorted by path; or the file itself. */
export function eventFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const out: string[] = [];
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) out.push(...eventFiles(p));
    else if (e.name.includes("tfevents")) out.push(p);
  }
  return out.sort();
}

/** Every scalar (simple_value) in one folder's own events files (not sub-folders), by tag, in file order. */
export function readScalars(dir: string): Record<string, { step: number; value: number; wallTime: number }[]> {
  const out: Record<string, { step: number; value: number; wallTime: number }[]> = {};
  const files = statSync(dir).isDirectory() ? readdirSync(dir).filter((f) => f.includes("tfevents")).sort().map((f) => join(dir, f)) : [dir];
  for (const f of files)
    for (const e of readEventFile(f).events)
      for (const v of e.values ?? []) if (v.simpleValue !== undefined) (out[v.tag] ??= []).push({ step: e.step, value: v.simpleValue, wallTime: e.wallTime });
  return out;
}
