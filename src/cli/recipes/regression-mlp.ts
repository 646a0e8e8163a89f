// Recipe `regression-mlp`: seed 003 §5.2's PyTorch MLP (Linear 10→50, ReLU, Linear 50→1) trained
// with MSELoss and Adam 1e-3 for 100 epochs over a DataLoader, written PyTorch-style with
// ingot.nn / ingot.optim / ingot.data, on a synthetic target that `ingot eval` regenerates.
import * as ingot from "../../index.js";
import { epochLine } from "../progress-table.js";
import { type EpochRow, type EvalResult, type Recipe, secondsSince, type TrainOptions, type TrainResult, UsageError } from "./common.js";

const { nn, optim, data } = ingot;

/** Seed 003's model, as its Python class. */
export class MLP extends nn.Module {
  fc1: ingot.nn.Linear;
  fc2: ingot.nn.Linear;
  constructor(inputDim: number, hiddenDim: number, outputDim: number) {
    super();
    this.fc1 = new nn.Linear(inputDim, hiddenDim);
    this.fc2 = new nn.Linear(hiddenDim, outputDim);
  }
  override forward(x: ingot.Tensor): ingot.Tensor {
    return this.fc2.call(ingot.relu(this.fc1.call(x))); // (B, 50) → (B, 1)
  }
}

/** The synthetic task, as card.json records it. */
export interface SyntheticSpec {
  target: string;
  features: number;
  train_samples: number;
  test_samples: number;
  seed: number;
}

/** Fixed weights of the target's linear part (|w|² = 2.38). */
const W = [0.5, -0.3, 0.8, 0.1, -0.6, 0.4, -0.2, 0.7, -0.5, 0.3];
export const TARGET = "y = 0.5·tanh(x·w) + 0.1·(x·w), x ~ N(0, I₁₀), w fixed";
export const DATA_SEED = 1234;

/**
 * Train and test sets of the synthetic target (a smooth nonlinear function of a projection of x),
 * drawn from a private generator: the same spec gives the same samples everywhere.
 */
export function syntheticRegression(spec: SyntheticSpec): { xTrain: ingot.Tensor; yTrain: ingot.Tensor; xTest: ingot.Tensor; yTest: ingot.Tensor } {
  if (spec.features !== W.length) throw new UsageError(`regression-mlp: the synthetic target has ${W.length} features, the spec asks for ${spec.features}`);
  const w = ingot.tensor(W).reshape([W.length, 1]);
  // One generator per split, so the test set does not depend on the training set's size.
  const make = (n: number, seed: number) => {
    const x = ingot.randn([n, W.length], { generator: new ingot.Generator(seed) }); // (N, 10)
    const z = x.matmul(w); // (N, 1)
    return [x, ingot.tanh(z).mul(0.5).add(z.mul(0.1))];
  };
  const [xTrain, yTrain] = make(spec.train_samples, spec.seed);
  const [xTest, yTest] = make(spec.test_samples, spec.seed + 1);
  return { xTrain, yTrain, xTest, yTest };
}

const HIDDEN = 50;

export const regressionMlp: Recipe = {
  name: "regression-mlp",
  summary: "seed 003 §5.2: PyTorch-style MLP 10→50→1, MSELoss, Adam, 100 epochs, on a synthetic target (synthetic)",
  datasets: ["synthetic"],
  defaults: { dataset: "synthetic", epochs: 100, batchSize: 32, lr: 1e-3 },
  async train(opts: TrainOptions): Promise<TrainResult> {
    const spec: SyntheticSpec = { target: TARGET, features: W.length, train_samples: opts.limit ?? 1000, test_samples: opts.testLimit ?? 250, seed: DATA_SEED };
    const { xTrain, yTrain, xTest, yTest } = syntheticRegression(spec);

    ingot.manualSeed(opts.seed);
    const model = new MLP(W.length, HIDDEN, 1);
    const criterion = new nn.MSELoss();
    const optimizer = new optim.Adam(model.parameters(), { lr: opts.lr });
    const dataLoader = new data.DataLoader(new data.TensorDataset(xTrain, yTrain), { batchSize: opts.batchSize, shuffle: true });
    if (!opts.json) opts.log.write(`ingot train regression-mlp: ${spec.train_samples} train / ${spec.test_samples} test samples of ${TARGET}, backend ${ingot.getBackend()}\n${model.toString()}\n`);

    const bar = opts.json ? null : new ingot.keras.ProgressBar(opts.epochs, { stream: opts.log, unit: "epoch" });
    const rows: EpochRow[] = [];
    const t0 = performance.now();
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const e0 = performance.now();
      let sum = 0;
      for (const [inputs, targets] of dataLoader) {
        optimizer.zeroGrad();
        const outputs = model.call(inputs);
        const loss = criterion.call(outputs, targets);
        loss.backward();
        optimizer.step();
        sum += loss.item() * inputs.shape[0];
      }
      // The mean over the epoch's samples (the seed prints the last batch's loss, which is noisier).
      const row: EpochRow = { epoch: epoch + 1, loss: sum / spec.train_samples, seconds: secondsSince(e0) };
      rows.push(row);
      if (bar) bar.update(epoch + 1, { loss: row.loss });
      else opts.log.write(epochLine(row, opts.epochs));
    }
    const seconds = secondsSince(t0);
    bar?.finish(opts.epochs, { loss: rows[rows.length - 1].loss });
    const test = evaluateMse(model, xTest, yTest);

    const result: TrainResult = {
      recipe: "regression-mlp",
      dataset: "synthetic",
      epochs: opts.epochs,
      batch_size: opts.batchSize,
      lr: opts.lr,
      seed: opts.seed,
      train_samples: spec.train_samples,
      test_samples: spec.test_samples,
      train_loss: rows[rows.length - 1].loss,
      test_loss: test,
      seconds,
      samples_per_second: (opts.epochs * spec.train_samples) / seconds,
      params: model.parameters().reduce((n, p) => n + p.size, 0),
      backend: ingot.getBackend(),
      out: opts.out,
      history: rows,
    };
    ingot.saveModelDir(opts.out, {
      config: { recipe: "regression-mlp", architecture: "MLP", input_dim: W.length, hidden_dim: HIDDEN, output_dim: 1, activation: "relu" },
      weights: model.stateDict(),
      card: {
        framework: "ingot",
        version: ingot.VERSION,
        api: "nn",
        recipe: "regression-mlp",
        dataset: "synthetic",
        data: spec,
        command: opts.command,
        seed: opts.seed,
        backend: result.backend,
        params: { total: result.params, trainable: result.params },
        metrics: { train_loss: result.train_loss, test_loss: result.test_loss, test_mse: result.test_loss },
        training: { epochs: opts.epochs, batch_size: opts.batchSize, optimizer: "adam", lr: opts.lr, loss: "mse", seconds, samples_per_second: result.samples_per_second },
        saved: new Date().toISOString(),
      },
    });
    return result;
  },
};

/** Mean squared error of the model on (x, y), in inference mode. */
function evaluateMse(model: MLP, x: ingot.Tensor, y: ingot.Tensor): number {
  model.eval();
  const mse = ingot.noGrad(() => new nn.MSELoss().call(model.call(x), y).item());
  model.train();
  return mse;
}

/** `ingot eval` of a regression-mlp folder: rebuild the MLP from config.json, regenerate the test set from card.json. */
export function evaluateRegressionDir(config: Record<string, unknown>, weights: Record<string, ingot.Tensor>, card: Record<string, unknown>): EvalResult {
  const spec = card.data as SyntheticSpec | undefined;
  if (!spec || typeof spec.seed !== "number" || typeof spec.test_samples !== "number")
    throw new UsageError("ingot eval: card.json of this regression-mlp model has no 'data' entry (the synthetic task's seed and sizes); it cannot be re-evaluated");
  const model = new MLP(Number(config.input_dim), Number(config.hidden_dim), Number(config.output_dim));
  model.loadStateDict(weights);
  const { xTest, yTest } = syntheticRegression(spec);
  return { test_loss: evaluateMse(model, xTest, yTest), test_samples: spec.test_samples };
}
