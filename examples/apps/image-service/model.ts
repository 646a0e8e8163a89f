// The image service's model: the seed CNN (`ingot train cnn`'s recipe and training run; its augmentation
// in the full configuration) trained on Fashion-MNIST, then quantized to int8 by compress.quantize (the Dense layers: int8 weights per
// output channel, int8 activations per row, integer GEMM; the convolutions stay float32, as Ingot has
// no int8 convolution yet) and saved as the keras folder that `ingot serve` predicts with.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ingot from "../../../src/index.js";
import { augmentationFor, buildCnn, cnn } from "../../../src/cli/recipes/cnn.js";
import { EVAL_BATCH_SIZE, trainClassifier } from "../../../src/cli/recipes/keras-classifier.js";
import { firstN, IMAGE_DATASETS, loadImageDataset, prepareImages, prepareLabels, type Preprocessing, type TrainOptions } from "../../../src/cli/recipes/common.js";

const { keras, compress } = ingot;

/** A training configuration: `ci` trains in well under a minute on 2 cores; `full` is the recipe's 10 epochs on all 60 000 images. */
export interface ImageSize {
  epochs: number;
  /** Training images used (the first N), or null for all. */
  limit: number | null;
  /** The recipe's ImageDataGenerator augmentation (it slows convergence; a short run goes without). */
  augment: boolean;
}

export const SIZES: Readonly<Record<"ci" | "full", ImageSize>> = {
  ci: { epochs: 2, limit: 15_000, augment: false },
  full: { epochs: 10, limit: null, augment: true },
};

/** One line describing a size, from its numbers (for --help and the training log). */
export function sizeSummary(s: ImageSize): string {
  return `${s.epochs} epochs on ${s.limit === null ? "all" : `the first ${s.limit}`} training images, ${s.augment ? "with the cnn recipe's augmentation" : "no augmentation"}`;
}

/** The folder names under the app's model folder. */
export const FLOAT_DIR = "cnn-float32";
export const INT8_DIR = "cnn-int8";

export interface ImageReport {
  size: string;
  train_samples: number;
  epochs: number;
  train_seconds: number;
  float32: { test_accuracy: number; bytes: number };
  int8: { test_accuracy: number; bytes: number; quantized_layers: string[] };
  classes: string[];
  seconds: number;
}

type Log = (line: string) => void;

/**
 * Trains the seed CNN on Fashion-MNIST into `<dir>/cnn-float32`, quantizes it to int8 into
 * `<dir>/cnn-int8` (the folder to serve) and returns the figures; both evaluated on the full test set.
 */
export async function trainImageModel(dir: string, size: keyof typeof SIZES, opts: { seed?: number; data?: string; log?: Log } = {}): Promise<ImageReport> {
  const s = SIZES[size];
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  const floatDir = join(dir, FLOAT_DIR);
  const int8Dir = join(dir, INT8_DIR);
  const data = await loadImageDataset("image-service", "fashion-mnist", opts.data);
  const { classes } = await ingot.data.fashionMnist({ dir: data.dir });
  log(`image-service: training the seed CNN on Fashion-MNIST (${sizeSummary(s)}) from ${data.dir}`);
  const shape = [...IMAGE_DATASETS["fashion-mnist"].shape];
  const augmentation = augmentationFor("fashion-mnist");
  const trainOpts: TrainOptions = {
    dataset: "fashion-mnist",
    data: data.dir,
    epochs: s.epochs,
    batchSize: cnn.defaults.batchSize,
    lr: cnn.defaults.lr,
    seed: opts.seed ?? 0,
    out: floatDir,
    limit: s.limit,
    // The recipe's own test evaluation; the app evaluates both models on the whole test split below.
    testLimit: 1000,
    download: false,
    json: true,
    command: `image-service --size ${size}`,
    log: { write: (line: string) => (line.trim() ? log(`image-service: ${line.trim()}`) : undefined) },
  };
  // `ingot train cnn`'s run (trainClassifier with the recipe's model), with or without its augmentation.
  const trained = await trainClassifier(trainOpts, {
    recipe: "cnn",
    dataset: "fashion-mnist",
    preprocessing: { divide: 255, input_shape: shape, labels: "one-hot", classes: 10 },
    validateEachEpoch: false,
    card: { augmentation: s.augment ? augmentation : null },
    flow: s.augment ? (x, y) => {
      const datagen = ingot.data.imageDataGenerator(augmentation);
      datagen.fit(x);
      return datagen.flow(x, y, { batchSize: trainOpts.batchSize, seed: trainOpts.seed });
    } : undefined,
    build: () => buildCnn(shape, trainOpts.lr),
  });

  // Evaluate both on the whole test split, exactly as `ingot eval` would (card.json's preprocessing).
  const card = JSON.parse(readFileSync(join(floatDir, "card.json"), "utf8")) as Record<string, unknown>;
  const pre = (card.preprocessing ?? null) as Preprocessing | null;
  if (!pre) throw new Error(`image-service: ${floatDir}/card.json has no preprocessing block`);
  const test = firstN(data.test, null);
  const x = prepareImages(test.images, pre);
  const y = prepareLabels(test.labels, pre);
  const accuracy = (m: ingot.keras.Model) => m.evaluate(x, y, { batchSize: EVAL_BATCH_SIZE, verbose: 0, returnDict: true }).accuracy;
  const model = keras.loadModel(floatDir);
  const floatAcc = accuracy(model);
  compress.quantize(model, { bits: 8 });
  const int8Acc = accuracy(model);
  const quantized = Object.keys(compress.quantizationBlock(model)?.layers ?? {});
  model.save(int8Dir, {
    card: {
      ...card,
      app: "image-service",
      classes,
      metrics: { ...(card.metrics as object), test_accuracy: int8Acc },
      evaluation: { split: "test", batch_size: EVAL_BATCH_SIZE, test_samples: test.labels.shape[0], test_limit: null },
      compression: [{ method: "quantize", parameters: { bits: 8, mode: "dynamic" }, source: floatDir, float32_test_accuracy: floatAcc, date: new Date().toISOString() }],
    },
  });
  const report: ImageReport = {
    size,
    train_samples: trained.train_samples,
    epochs: trained.epochs,
    train_seconds: trained.seconds,
    float32: { test_accuracy: floatAcc, bytes: compress.weightsBytes(floatDir) },
    int8: { test_accuracy: int8Acc, bytes: compress.weightsBytes(int8Dir), quantized_layers: quantized },
    classes,
    seconds: (performance.now() - t0) / 1000,
  };
  log(`image-service: test accuracy float32 ${(floatAcc * 100).toFixed(2)} %, int8 ${(int8Acc * 100).toFixed(2)} % (layers ${quantized.join(", ")} int8)`);
  return report;
}
