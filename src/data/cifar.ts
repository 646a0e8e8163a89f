// CIFAR-10 "binary version" reader: data_batch_1..5.bin and test_batch.bin, each a run of 3073-byte
// records (one label byte, then 1024 red, 1024 green and 1024 blue bytes of a 32×32 image).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { IngotError, Storage, Tensor, ValueError } from "../tensor/index.js";
import type { MnistSplit } from "./idx.js";

const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;

export const CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

export interface Cifar10Options {
  /** The folder holding the .bin files (default INGOT_DATA/cifar10); a cifar-10-batches-bin/ inside it is found too. */
  dir?: string;
  /** 'channelsLast' gives images [N, 32, 32, 3] as Keras does (default); 'channelsFirst' gives [N, 3, 32, 32]. */
  dataFormat?: "channelsLast" | "channelsFirst";
}

/** Parses the records of one CIFAR-10 binary batch into uint8 images and int32 labels. */
export function parseCifarBatch(buf: Uint8Array, name = "CIFAR-10 batch", dataFormat: Cifar10Options["dataFormat"] = "channelsLast"): MnistSplit {
  if (dataFormat !== "channelsLast" && dataFormat !== "channelsFirst")
    throw new ValueError(`cifar10: dataFormat must be 'channelsLast' or 'channelsFirst', got ${JSON.stringify(dataFormat)}`);
  if (buf.length % RECORD !== 0)
    throw new ValueError(`cifar10: ${name} has ${buf.length} bytes, not a whole number of ${RECORD}-byte records; is it the binary version (not the Python pickles)?`);
  const n = buf.length / RECORD;
  const labels = new Int32Array(n);
  const images = new Uint8Array(n * 3 * PLANE);
  for (let i = 0; i < n; i++) {
    const r = i * RECORD;
    labels[i] = buf[r];
    if (buf[r] > 9) throw new ValueError(`cifar10: ${name} record ${i} has label ${buf[r]}; CIFAR-10 labels are 0 to 9`);
    const img = buf.subarray(r + 1, r + RECORD);
    if (dataFormat === "channelsFirst") images.set(img, i * 3 * PLANE);
    else for (let p = 0; p < PLANE; p++) for (let c = 0; c < 3; c++) images[i * 3 * PLANE + p * 3 + c] = img[c * PLANE + p];
  }
  const shape = dataFormat === "channelsFirst" ? [n, 3, SIDE, SIDE] : [n, SIDE, SIDE, 3];
  return { images: new Tensor(new Storage("uint8", images), shape), labels: new Tensor(new Storage("int32", labels), [n]) };
}

function concatSplits(parts: MnistSplit[]): MnistSplit {
  const imgs = parts.map((p) => p.images.dataSync() as Uint8Array);
  const labs = parts.map((p) => p.labels.dataSync() as Int32Array);
  const images = new Uint8Array(imgs.reduce((a, b) => a + b.length, 0));
  const labels = new Int32Array(labs.reduce((a, b) => a + b.length, 0));
  let io = 0;
  let lo = 0;
  parts.forEach((_, k) => {
    images.set(imgs[k], io);
    labels.set(labs[k], lo);
    io += imgs[k].length;
    lo += labs[k].length;
  });
  const shape = [labels.length, ...parts[0].images.shape.slice(1)];
  return { images: new Tensor(new Storage("uint8", images), shape), labels: new Tensor(new Storage("int32", labels), [labels.length]) };
}

/**
 * CIFAR-10 from the binary batches: 50 000 train and 10 000 test uint8 images with int32 labels.
 * There is no download: get cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html
 * and extract it into INGOT_DATA/cifar10 (or pass dir).
 */
export function cifar10(opts: Cifar10Options = {}): { train: MnistSplit; test: MnistSplit; classes: string[] } {
  const root = opts.dir ?? (process.env.INGOT_DATA ? join(process.env.INGOT_DATA, "cifar10") : undefined);
  if (!root) throw new IngotError("cifar10: no dataset folder; set INGOT_DATA (a folder holding cifar10/) or pass {dir} (--data DIR on the command line)");
  const dir = existsSync(join(root, "data_batch_1.bin")) || !existsSync(join(root, "cifar-10-batches-bin")) ? root : join(root, "cifar-10-batches-bin");
  const read = (file: string): MnistSplit => {
    const p = join(dir, file);
    if (!existsSync(p))
      throw new IngotError(
        `cifar10: no ${file} in ${dir}; extract the binary version (cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html) there, set INGOT_DATA, or pass {dir} (--data DIR)`,
      );
    return parseCifarBatch(readFileSync(p), p, opts.dataFormat);
  };
  const train = concatSplits([1, 2, 3, 4, 5].map((k) => read(`data_batch_${k}.bin`)));
  const test = read("test_batch.bin");
  let classes = CIFAR10_CLASSES;
  const meta = join(dir, "batches.meta.txt");
  if (existsSync(meta)) {
    const names = readFileSync(meta, "utf8").split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    if (names.length === 10) classes = names;
  }
  return { train, test, classes: [...classes] };
}
