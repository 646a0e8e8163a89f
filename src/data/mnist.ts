// MNIST and Fashion-MNIST readers: the four IDX files from a folder (dir, else INGOT_DATA/<name>,
// else the cache), downloaded from the canonical addresses with {download: true}, sha256-checked.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { IngotError } from "../tensor/index.js";
import { cacheDir, downloadFromMirrors } from "./download.js";
import { readIdx, type MnistSplit } from "./idx.js";

export interface IdxSource {
  /** Base URLs tried in order. */
  mirrors: readonly string[];
  /** The four files (.gz) and their sha256. */
  files: Readonly<Record<string, string>>;
}

const FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] as const;

/**
 * Where the files live upstream, with their sha256 (the byte-identical copies in shared/data/*
 * /SOURCE.txt; MD5s match the upstream tables). MNIST: the mirror torchvision uses (yann.lecun.com
 * no longer serves the files reliably), then Google's cvdf copy. Fashion-MNIST: the Zalando
 * repository's data/fashion folder, then the S3 bucket its README links.
 */
export const IDX_SOURCES: Readonly<Record<"mnist" | "fashion-mnist", IdxSource>> = {
  mnist: {
    mirrors: ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"],
    files: {
      "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
      "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
      "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
      "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
  },
  "fashion-mnist": {
    mirrors: ["https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
    files: {
      "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
      "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
      "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
      "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
  },
};

export interface IdxDatasetOptions {
  /** The folder holding the four files (default INGOT_DATA/<name>). */
  dir?: string;
  /** Fetch files that are absent locally into the cache (default false: never touch the network). */
  download?: boolean;
  /** Base URLs to download from instead of the canonical ones (the sha256 check stays). */
  mirrors?: readonly string[];
  /** The cache folder (default INGOT_CACHE, else ~/.cache/ingot); files go to <cacheDir>/<name>/. */
  cacheDir?: string;
}

export interface IdxDataset {
  train: MnistSplit;
  test: MnistSplit;
  /** Class names, index = label. */
  classes: string[];
}

const CLASSES: Record<keyof typeof IDX_SOURCES, string[]> = {
  mnist: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
};

async function loadIdxDataset(name: keyof typeof IDX_SOURCES, op: string, opts: IdxDatasetOptions): Promise<IdxDataset> {
  const source = IDX_SOURCES[name];
  const local = opts.dir ?? (process.env.INGOT_DATA ? join(process.env.INGOT_DATA, name) : undefined);
  const cache = join(opts.cacheDir ?? cacheDir(), name);
  const folders = local ? [local, cache] : [cache];
  const paths: Record<string, string> = {};
  for (const base of FILES) {
    const found = folders.flatMap((d) => [join(d, base + ".gz"), join(d, base)]).find((p) => existsSync(p));
    if (found) paths[base] = found;
    else if (opts.download) {
      const file = base + ".gz";
      paths[base] = await downloadFromMirrors(opts.mirrors ?? source.mirrors, file, join(cache, file), source.files[file]);
    } else
      throw new IngotError(
        `${op}: no ${base}(.gz) in ${folders.join(" or ")}; set INGOT_DATA to a folder holding ${name}/, pass {dir} (--data DIR on the command line), ` +
          `or pass {download: true} to fetch it from ${source.mirrors[0]}`,
      );
  }
  const split = (prefix: "train" | "t10k"): MnistSplit => ({
    images: readIdx(paths[`${prefix}-images-idx3-ubyte`]),
    labels: readIdx(paths[`${prefix}-labels-idx1-ubyte`]).to("int32"),
  });
  return { train: split("train"), test: split("t10k"), classes: CLASSES[name] };
}

/**
 * MNIST digits: uint8 images [N, 28, 28] and int32 labels [N], 60 000 train and 10 000 test.
 * Reads dir, else INGOT_DATA/mnist, else the cache; with `download: true` fetches missing files.
 * @example const { train, test } = await data.mnist(); // INGOT_DATA=../shared/data
 */
export function mnist(opts: IdxDatasetOptions = {}): Promise<IdxDataset> {
  return loadIdxDataset("mnist", "mnist", opts);
}

/** Fashion-MNIST (Zalando): the same layout as MNIST, ten clothing classes. */
export function fashionMnist(opts: IdxDatasetOptions = {}): Promise<IdxDataset> {
  return loadIdxDataset("fashion-mnist", "fashionMnist", opts);
}
