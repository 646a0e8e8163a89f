// The safetensors format: 8-byte little-endian header length, a JSON header (dtype, shape,
// data_offsets per tensor, optional __metadata__), then the raw little-endian tensor bytes.
// Files are written to a temporary name and renamed, so a crash never leaves half a file.
import { readFileSync, renameSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { allocArray, type DType, IngotError, Storage, Tensor } from "../tensor/index.js";

const TO_ST: Partial<Record<DType, string>> = {
  float32: "F32",
  float64: "F64",
  int32: "I32",
  int8: "I8",
  uint8: "U8",
  bool: "BOOL",
  float16: "F16",
  bfloat16: "BF16",
};
const FROM_ST: Record<string, DType> = Object.fromEntries(Object.entries(TO_ST).map(([k, v]) => [v, k as DType]));

/** Serializes named tensors (in the order given) with optional string metadata. */
export function serializeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const st = TO_ST[t.dtype];
    if (!st) throw new IngotError(`saveSafetensors: tensor '${name}' has dtype ${t.dtype}, which safetensors cannot store`);
    const data = t.contiguous().dataSync();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: st, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // align the data to 8 bytes, as the reference writer does
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/** Parses a safetensors buffer into named tensors (copies, so the buffer can be dropped). */
export function parseSafetensors(buf: Uint8Array, name = "safetensors data"): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  if (buf.length < 8) throw new IngotError(`loadSafetensors: ${name} is too short to be a safetensors file`);
  const n = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  if (n > buf.length - 8) throw new IngotError(`loadSafetensors: ${name} has a header of ${n} bytes but only ${buf.length - 8} follow`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
  } catch (e) {
    throw new IngotError(`loadSafetensors: ${name} has a header that is not JSON (${(e as Error).message})`);
  }
  const base = 8 + n;
  const tensors: Record<string, Tensor> = {};
  let metadata: Record<string, string> = {};
  for (const [key, info] of Object.entries(header)) {
    if (key === "__metadata__") {
      metadata = info as unknown as Record<string, string>;
      continue;
    }
    const dtype = FROM_ST[info.dtype];
    if (!dtype) throw new IngotError(`loadSafetensors: tensor '${key}' in ${name} has dtype ${info.dtype}, which Ingot cannot read`);
    const count = info.shape.reduce((a, b) => a * b, 1);
    const arr = allocArray(dtype, count);
    const [s, e] = info.data_offsets;
    if (e - s !== arr.byteLength || base + e > buf.length)
      throw new IngotError(`loadSafetensors: tensor '${key}' in ${name} needs ${arr.byteLength} bytes but its offsets span ${e - s}`);
    new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).set(buf.subarray(base + s, base + e));
    tensors[key] = new Tensor(new Storage(dtype, arr), info.shape);
  }
  return { tensors, metadata };
}

/** Writes a safetensors file atomically (temporary file, then rename). */
export function saveSafetensors(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, serializeSafetensors(tensors, metadata));
  renameSync(tmp, path);
}

/** Reads a safetensors file. */
export function loadSafetensors(path: string): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  return parseSafetensors(readFileSync(path), path);
}
