// The training run shared by the Keras image-classifier recipes (mnist-mlp, cnn): read and prepare
// the data, fit, evaluate on the test split, and save the model folder with a card.json that
// records the preprocessing and evaluation settings `ingot eval` needs to repeat the numbers.
import * as ingot from "../../index.js";
import { EpochRecorder } from "../progress-table.js";
import { makeKerasPrivate } from "../../privacy/keras.js";
import { AllReduceMetrics, ddpOptionsFromEnv, shardRows } from "../../distributed/keras.js";
import { DistributedDataParallel } from "../../distributed/ddp.js";
import { getDefaultGroup, isInitialized } from "../../distributed/process-group.js";
import {
  firstN,
  IMAGE_DATASETS,
  type ImageDatasetName,
  loadImageDataset,
  type Preprocessing,
  prepareImages,
  prepareLabels,
  secondsSince,
  type Recipe,
  type TrainOptions,
  type TrainResult,
} from "./common.js";

/** Test batches of this size: bigger batches run faster, and eval must use the same size to repeat the loss bit for bit. */
export const EVAL_BATCH_SIZE = 250;

export interface ClassifierRun {
  recipe: string;
  dataset: ImageDatasetName;
  /** Builds and compiles the model (called after manualSeed, so the initial weights repeat). */
  build(): ingot.keras.Model;
  preprocessing: Preprocessing;
  /** Batches for fit (augmentation); without it fit shuffles the tensors itself. */
  flow?(x: ingot.Tensor, y: ingot.Tensor): Iterable<unknown>;
  /** Evaluate on the test split after every epoch (fit's validationData), as seed 001 §5.2 does. */
  validateEachEpoch: boolean;
  /** Extra card.json fields (augmentation, …). */
  card?: Record<string, unknown>;
}

export async function trainClassifier(opts: TrainOptions, run: ClassifierRun): Promise<TrainResult> {
  const data = await loadImageDataset("ingot train", run.dataset, opts.data, opts.download);
  const train = firstN(data.train, opts.limit);
  const test = firstN(data.test, opts.testLimit);
  const pre = run.preprocessing;
  const xTrain = prepareImages(train.images, pre);
  const yTrain = prepareLabels(train.labels, pre);
  const xTest = prepareImages(test.images, pre);
  const yTest = prepareLabels(test.labels, pre);
  const nTrain = xTrain.shape[0];

  // Under `ingot train --nproc` each rank fits its shard (same size on every rank) with averaged gradients.
  const pg = isInitialized() ? getDefaultGroup() : null;
  const [xFit, yFit] = pg ? shardRows([xTrain, yTrain], { seed: opts.seed }) : [xTrain, yTrain];
  ingot.manualSeed(opts.seed);
  const model = run.build();
  // --dp-epsilon: DP-SGD (src/privacy/keras.ts): Poisson batches, clipped and noised gradients, ε after every epoch.
  if (opts.dp && pg) throw new ingot.IngotError("ingot train: --dp-epsilon cannot be combined with --nproc yet");
  const dp = opts.dp ? makeKerasPrivate(model, { ...opts.dp, numSamples: nTrain, batchSize: opts.batchSize, epochs: opts.epochs, stream: opts.json ? null : opts.log }) : null;
  if (pg) new DistributedDataParallel(model, ddpOptionsFromEnv()); // rank 0's weights everywhere; fit awaits model.gradientSync
  if (!opts.json) {
    opts.log.write(`ingot train ${run.recipe}: ${IMAGE_DATASETS[run.dataset].title} from ${data.dir} (${nTrain} train, ${xTest.shape[0]} test), backend ${ingot.getBackend()}\n`);
    model.summary((l) => opts.log.write(l + "\n"));
  }
  const recorder = new EpochRecorder(opts.json ? opts.log : null);
  const t0 = performance.now();
  const fitArgs: ingot.keras.FitArgs = {
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    verbose: opts.json ? 0 : 1,
    // `ingot train` adds its observers (--logdir, the run store) as extra callbacks.
    callbacks: [...(pg ? [new AllReduceMetrics(pg)] : []), recorder, ...((opts as TrainOptions & { callbacks?: ingot.keras.Callback[] }).callbacks ?? [])],
    validationData: run.validateEachEpoch ? [xTest, yTest] : undefined,
    validationBatchSize: EVAL_BATCH_SIZE,
    stream: opts.log,
  };
  if (dp) fitArgs.callbacks = [dp.callback, ...(fitArgs.callbacks as ingot.keras.Callback[])]; // first, so the epoch rows get epsilon
  if (dp) await model.fit(dp.flow(xFit, yFit), null, fitArgs);
  else if (run.flow) await model.fit(run.flow(xFit, yFit), null, fitArgs);
  else await model.fit(xFit, yFit, fitArgs);
  const seconds = secondsSince(t0);
  const epochsRun = recorder.rows.length;
  const last = recorder.rows[epochsRun - 1];
  const testLogs = model.evaluate(xTest, yTest, { batchSize: EVAL_BATCH_SIZE, verbose: 0, returnDict: true });

  const result: TrainResult = {
    recipe: run.recipe,
    dataset: run.dataset,
    epochs: epochsRun,
    batch_size: opts.batchSize,
    lr: opts.lr,
    seed: opts.seed,
    train_samples: nTrain,
    test_samples: xTest.shape[0],
    train_loss: last.loss,
    train_accuracy: last.accuracy,
    test_loss: testLogs.loss,
    test_accuracy: testLogs.accuracy,
    seconds,
    samples_per_second: (epochsRun * nTrain) / seconds,
    params: model.countParams(),
    backend: ingot.getBackend(),
    out: opts.out,
    history: recorder.rows,
  };
  if (pg) result.world_size = pg.worldSize;
  // Checkpoints are written by rank 0 only.
  if (!pg || pg.rank === 0) {
    model.save(opts.out, {
      card: {
        recipe: run.recipe,
        dataset: run.dataset,
        data_dir: data.dir,
        command: opts.command,
        seed: opts.seed,
        backend: result.backend,
        metrics: { train_loss: result.train_loss, train_accuracy: result.train_accuracy, test_loss: result.test_loss, test_accuracy: result.test_accuracy },
        training: { epochs: epochsRun, batch_size: opts.batchSize, optimizer: "adam", lr: opts.lr, train_samples: nTrain, limit: opts.limit, seconds, samples_per_second: result.samples_per_second },
        preprocessing: pre,
        evaluation: { split: "test", batch_size: EVAL_BATCH_SIZE, test_samples: result.test_samples, test_limit: opts.testLimit },
        ...run.card,
        ...(dp ? { privacy: (result.privacy = dp.card()) } : {}),
      },
    });
  }
  return result;
}

/**
 * A recipe for a Keras MLP on 28×28 MNIST-like images: Flatten → Dense(h, relu) for each hidden width →
 * Dense 10 softmax, Adam, sparse categorical cross-entropy (mnist-mlp, lenet300).
 */
export function denseMnistRecipe(spec: { name: string; summary: string; hidden: number[]; epochs: number }): Recipe {
  const { keras } = ingot;
  return {
    name: spec.name,
    summary: spec.summary,
    datasets: ["mnist", "fashion-mnist"],
    defaults: { dataset: "mnist", epochs: spec.epochs, batchSize: 32, lr: 1e-3 },
    train: (opts) =>
      trainClassifier(opts, {
        recipe: spec.name,
        dataset: opts.dataset as "mnist" | "fashion-mnist",
        preprocessing: { divide: 255, input_shape: [28, 28], labels: "index", classes: 10 },
        validateEachEpoch: false,
        build() {
          const model = keras.sequential([
            keras.flatten({ inputShape: [28, 28] }),
            ...spec.hidden.map((units) => keras.dense({ units, activation: "relu" })),
            keras.dense({ units: 10, activation: "softmax" }),
          ]);
          model.compile({ optimizer: keras.optimizers.adam({ learningRate: opts.lr }), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
          return model;
        },
      }),
  };
}
