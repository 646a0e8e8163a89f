// What a client does in one round: load the global weights, train E local epochs on its own data
// (SGD or Adam, fresh optimizer state each round as Flower's examples do; FedProx adds the proximal
// term's gradient μ(w − w_global) to every parameter's gradient, the exact gradient of μ/2‖w − w_global‖²),
// and report the update Δ = w_trained − w_global with its example count. Also: evaluation, the
// models the command line knows, and the data a client reads.
import { noGrad } from "../autograd/index.js";
import { Generator, IngotError, manualSeed, type Tensor } from "../tensor/index.js";
import { argmax, eq, indexSelect, randperm, tensor } from "../ops/index.js";
import type { Module } from "../nn/module.js";
import { Adam } from "../optim/adam.js";
import { SGD } from "../optim/sgd.js";
import type { Optimizer } from "../optim/optimizer.js";
import * as keras from "../keras/index.js";
import { loadMnist } from "../data/idx.js";
import type { FitConfig } from "./strategy.js";
import { flattenState, type ParamLayout, unflattenState } from "./params.js";

/** A client's (or the test set's) samples: float inputs and int32 class labels. */
export interface ClientData {
  x: Tensor;
  y: Tensor;
}

/** yTrue, yPred → mean loss (a 0-d tensor). Default: Keras' sparse categorical cross-entropy on probabilities. */
export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;
export const defaultLoss: LossFn = (y, p) => keras.losses.sparseCategoricalCrossentropy(y, p).mean();

/** The samples at `indices`. */
export function subset(data: ClientData, indices: number[]): ClientData {
  const idx = tensor(Int32Array.from(indices), { dtype: "int32" });
  return { x: indexSelect(data.x, 0, idx), y: indexSelect(data.y, 0, idx) };
}

/** The model's weights as one vector. */
export function getWeights(model: Module, layout: ParamLayout): Float32Array {
  return flattenState(model.stateDict(), layout);
}

/** Sets the model's weights (in place) from one vector. */
export function setWeights(model: Module, vec: Float32Array, layout: ParamLayout): void {
  model.loadStateDict(unflattenState(vec, layout));
}

function makeOptimizer(model: Module, cfg: FitConfig): Optimizer<any> {
  if (cfg.optimizer === "adam") return new Adam(model.parameters(), { lr: cfg.lr });
  if (cfg.optimizer === "sgd") return new SGD(model.parameters(), { lr: cfg.lr, momentum: cfg.momentum });
  throw new IngotError(`federated: unknown client optimizer '${cfg.optimizer}'; use sgd or adam`);
}

export interface LocalFitResult {
  delta: Float32Array;
  numExamples: number;
  /** Mean training loss over the last local epoch. */
  trainLoss: number;
}

/**
 * Client training for one round: the model is set to `global`, trained, and its update returned.
 * `g` seeds the shuffling (each client its own stream).
 */
export function fitLocal(model: Module, data: ClientData, global: Float32Array, layout: ParamLayout, cfg: FitConfig, g: Generator, loss: LossFn = defaultLoss): LocalFitResult {
  const n = data.x.shape[0];
  if (n === 0) throw new IngotError("federated: this client has no training samples");
  if (!(cfg.localEpochs >= 1) || !(cfg.batchSize >= 1) || !(cfg.lr > 0))
    throw new IngotError(`federated: bad fit config (localEpochs ${cfg.localEpochs}, batchSize ${cfg.batchSize}, lr ${cfg.lr}); each must be positive`);
  setWeights(model, global, layout);
  model.train();
  const opt = makeOptimizer(model, cfg);
  const named = model.namedParameters();
  const anchors = cfg.proximalMu > 0 ? unflattenState(global, layout) : null;
  let lastLoss = 0;
  for (let e = 0; e < cfg.localEpochs; e++) {
    const perm = randperm(n, { generator: g });
    let sum = 0;
    let batches = 0;
    for (let i = 0; i < n; i += cfg.batchSize) {
      const idx = perm.slice(0, i, Math.min(n, i + cfg.batchSize));
      const l = loss(indexSelect(data.y, 0, idx), model.call(indexSelect(data.x, 0, idx)));
      opt.zeroGrad();
      l.backward();
      if (anchors)
        noGrad(() => {
          for (const [name, p] of named) if (p.grad && anchors[name]) p.grad = p.grad.add(p.detach().sub(anchors[name]).mul(cfg.proximalMu));
        });
      opt.step();
      sum += l.item();
      batches++;
    }
    lastLoss = sum / batches;
  }
  const w = getWeights(model, layout);
  const delta = new Float32Array(w.length);
  for (let j = 0; j < w.length; j++) delta[j] = w[j] - global[j];
  return { delta, numExamples: n, trainLoss: lastLoss };
}

/** Loss and accuracy on `data` (inference mode, batches of `batchSize`). */
export function evaluate(model: Module, data: ClientData, loss: LossFn = defaultLoss, batchSize = 1000): { loss: number; accuracy: number } {
  const n = data.x.shape[0];
  return noGrad(() => {
    model.eval();
    let total = 0;
    let correct = 0;
    for (let i = 0; i < n; i += batchSize) {
      const end = Math.min(n, i + batchSize);
      const p = model.call(data.x.slice(0, i, end)) as Tensor;
      const y = data.y.slice(0, i, end);
      total += loss(y, p).item() * (end - i);
      correct += eq(argmax(p, 1), y).sum().item();
    }
    model.train();
    return { loss: total / n, accuracy: correct / n };
  });
}

/** The models `--model` names: MLPs on 28×28 images, as `ingot train`'s recipes of the same name build them. */
export const FL_MODELS: Record<string, { hidden: number[]; summary: string }> = {
  "mnist-mlp": { hidden: [128], summary: "Flatten → Dense 128 relu → Dense 10 softmax (as ingot train mnist-mlp)" },
  lenet300: { hidden: [300, 100], summary: "Flatten → Dense 300 relu → Dense 100 relu → Dense 10 softmax (as ingot train lenet300)" },
};

/**
 * A model by recipe name (built after manualSeed(seed), so every process gets the same initial
 * weights) or a Keras model folder (keras.loadModel).
 */
export function buildModel(spec: string, seed = 0): keras.Model {
  const recipe = FL_MODELS[spec];
  if (!recipe) {
    try {
      return keras.loadModel(spec);
    } catch (e) {
      throw new IngotError(`federated: --model '${spec}' is neither a recipe (${Object.keys(FL_MODELS).join(", ")}) nor a Keras model folder: ${(e as Error).message}`);
    }
  }
  manualSeed(seed);
  const model = keras.sequential([
    keras.flatten({ inputShape: [28, 28] }),
    ...recipe.hidden.map((units) => keras.dense({ units, activation: "relu" })),
    keras.dense({ units: 10, activation: "softmax" }),
  ]);
  model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  return model;
}

/** How images become inputs (card.json's `preprocessing`, as `ingot train` records it so `ingot eval` repeats it). */
export const MNIST_PREPROCESSING = { divide: 255, input_shape: [28, 28], labels: "index", classes: 10 } as const;

/** MNIST or Fashion-MNIST as float inputs in [0, 1] and int32 labels; `limit` keeps the first N of each split. */
export function loadImageData(opts: { name?: "mnist" | "fashion-mnist"; root?: string; limit?: number | null; testLimit?: number | null } = {}): { train: ClientData; test: ClientData; labels: Int32Array } {
  const { train, test } = loadMnist({ root: opts.root, name: opts.name ?? "mnist" });
  const prep = (s: { images: Tensor; labels: Tensor }, lim: number | null | undefined): ClientData => {
    const n = lim == null ? s.labels.shape[0] : Math.min(lim, s.labels.shape[0]);
    return { x: s.images.slice(0, 0, n).to("float32").div(MNIST_PREPROCESSING.divide), y: s.labels.slice(0, 0, n).contiguous() };
  };
  const tr = prep(train, opts.limit);
  return { train: tr, test: prep(test, opts.testLimit), labels: tr.y.dataSync() as Int32Array };
}
