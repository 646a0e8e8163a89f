// IDX files (MNIST, Fashion-MNIST): big-endian header, then uint8 data; optionally gzip-compressed.
import { readFileSync, existsSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { IngotError, Storage, Tensor, ValueError } from "../tensor/index.js";

/** Parses an IDX buffer (gzip detected by its magic bytes) into a uint8 tensor of the stored shape. */
export function parseIdx(buf: Uint8Array, name = "IDX data"): Tensor {
  const data = buf[0] === 0x1f && buf[1] === 0x8b ? new Uint8Array(gunzipSync(buf)) : buf;
  if (data.length < 4 || data[0] !== 0 || data[1] !== 0)
    throw new ValueError(`readIdx: ${name} is not an IDX file (bad magic ${Array.from(data.subarray(0, 4)).join(",")})`);
  if (data[2] !== 0x08) throw new ValueError(`readIdx: ${name} holds element type 0x${data[2].toString(16)}; only unsigned bytes (0x08) are supported`);
  const ndim = data[3];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const start = 4 + 4 * ndim;
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length - start !== n)
    throw new ValueError(`readIdx: ${name} should hold ${n} values for shape [${shape.join(",")}] but has ${data.length - start} bytes`);
  return new Tensor(new Storage("uint8", data.slice(start)), shape);
}

/** Reads an IDX file (plain or .gz) into a uint8 tensor. */
export function readIdx(path: string): Tensor {
  return parseIdx(readFileSync(path), path);
}

export interface MnistSplit {
  /** uint8 images [N, 28, 28]. */
  images: Tensor;
  /** int32 labels [N]. */
  labels: Tensor;
}

/** The folder holding datasets: --data, else INGOT_DATA; throws a clear error when neither is set. */
export function dataRoot(explicit?: string): string {
  const root = explicit ?? process.env.INGOT_DATA;
  if (!root) throw new IngotError("no dataset folder: set INGOT_DATA (e.g. INGOT_DATA=../shared/data) or pass --data DIR");
  return root;
}

/**
 * Loads MNIST or Fashion-MNIST from `<root>/<name>/` (the four original IDX files, .gz or not).
 * @example const { train, test } = loadMnist(); // INGOT_DATA=../shared/data
 */
export function loadMnist(opts: { root?: string; name?: "mnist" | "fashion-mnist" } = {}): { train: MnistSplit; test: MnistSplit } {
  const name = opts.name ?? "mnist";
  const dir = join(dataRoot(opts.root), name);
  const file = (base: string) => {
    for (const p of [join(dir, base + ".gz"), join(dir, base)]) if (existsSync(p)) return p;
    throw new IngotError(`loadMnist: no ${base}(.gz) in ${dir}; set INGOT_DATA to a folder holding ${name}/ or pass --data`);
  };
  const split = (prefix: string): MnistSplit => ({
    images: readIdx(file(`${prefix}-images-idx3-ubyte`)),
    labels: readIdx(file(`${prefix}-labels-idx1-ubyte`)).to("int32"),
  });
  return { train: split("train"), test: split("t10k") };
}
