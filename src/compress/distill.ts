// Knowledge distillation (Hinton, Vinyals & Dean 2015): a student learns from a teacher's
// temperature-softened outputs and from the hard labels. Convention (as the issue and Keras's
// example): loss = α·CE(student, labels) + (1 − α)·T²·KL(softmax(teacher/T) ‖ softmax(student/T)),
// α weighting the hard labels; T² keeps the soft term's gradients the same size as T changes.
import { ShapeError, shapeStr, Tensor, ValueError } from "../tensor/index.js";
import { add, argmax, cat, crossEntropy, div, klDiv, log, clamp, logSoftmax, matmul, mul, randperm, indexSelect } from "../ops/index.js";
import { noGrad } from "../autograd/index.js";
import { Module } from "../nn/module.js";
import { Adam } from "../optim/adam.js";
import type { Optimizer } from "../optim/optimizer.js";
import { Model } from "../keras/model.js";
import { Sequential } from "../keras/sequential.js";
import { Dense } from "../keras/layers/core.js";
import { Conv2D } from "../keras/layers/conv.js";
import { layerSpecs } from "./rebuild.js";
import { layerFromConfig } from "../keras/load.js";
import type { CompileArgs } from "../keras/model.js";

export interface DistillationLossOptions {
  /** T > 0 (default 4): the softmax temperature of both models in the soft term. */
  temperature?: number;
  /** α in [0, 1] (default 0.1): the weight of the hard-label cross-entropy; 1 − α weights the soft term. */
  alpha?: number;
  /** Labels equal to this are ignored by the hard term (default −100, as crossEntropy; nanoGPT uses −1). */
  ignoreIndex?: number;
}

function checkLossOptions(where: string, o: DistillationLossOptions): { T: number; alpha: number } {
  const T = o.temperature ?? 4;
  const alpha = o.alpha ?? 0.1;
  if (typeof T !== "number" || !(T > 0) || !Number.isFinite(T)) throw new ValueError(`${where}: temperature must be a number > 0, got ${JSON.stringify(o.temperature)}`);
  if (typeof alpha !== "number" || !(alpha >= 0 && alpha <= 1)) throw new ValueError(`${where}: alpha must be in [0, 1], got ${JSON.stringify(o.alpha)}`);
  return { T, alpha };
}

/**
 * Hinton's distillation loss for logits [N, C] (classifiers) or [B, T, V] (language models, averaged
 * over tokens). labels: class indices [N] / [B, T] (int32), one-hot rows, or null for the soft term alone.
 * @example const loss = compress.distillationLoss(student.call(x), teacherLogits, y, {temperature: 4, alpha: 0.1});
 */
export function distillationLoss(student: Tensor, teacher: Tensor, labels: Tensor | null, opts: DistillationLossOptions = {}): Tensor {
  const where = "distillationLoss";
  const { T, alpha } = checkLossOptions(where, opts);
  const C = student.shape[student.ndim - 1];
  const Ct = teacher.shape[teacher.ndim - 1];
  if (Ct !== C)
    throw new ShapeError(`${where}: the teacher outputs ${Ct} values per sample (shape ${shapeStr(teacher.shape)}) but the student outputs ${C} (shape ${shapeStr(student.shape)}); distill between models with the same classes or vocabulary`);
  const n = student.size / C;
  if (teacher.size !== student.size)
    throw new ShapeError(`${where}: the teacher's logits ${shapeStr(teacher.shape)} and the student's ${shapeStr(student.shape)} must have the same shape`);
  const s = student.reshape([n, C]);
  const t = teacher.detach().reshape([n, C]);
  // KL(p_t ‖ p_s) per row, averaged over rows: klDiv(log p_s, log p_t, logTarget, batchmean).
  const soft = mul(klDiv(logSoftmax(div(s, T), -1), logSoftmax(div(t, T), -1), { reduction: "batchmean", logTarget: true }), T * T);
  if (labels === null || alpha === 0) {
    if (alpha !== 0) throw new ValueError(`${where}: alpha is ${alpha} but no labels were given; pass labels or alpha 0`);
    return soft;
  }
  let y = labels;
  if (y.dtype !== "int32") {
    if (y.shape[y.ndim - 1] !== C || y.size !== student.size)
      throw new ShapeError(`${where}: labels ${shapeStr(y.shape)} must be class indices (int32, one per sample) or one-hot rows like the logits ${shapeStr(student.shape)}`);
    y = argmax(y.reshape([n, C]), -1);
  }
  if (y.size !== n) throw new ShapeError(`${where}: got ${y.size} labels for ${n} samples (logits ${shapeStr(student.shape)})`);
  const hard = crossEntropy(s, y.reshape([n]), { ignoreIndex: opts.ignoreIndex ?? -100 });
  return add(mul(hard, alpha), mul(soft, 1 - alpha));
}

/**
 * A model's logits: for a keras model whose last layer is a Dense with softmax, the values before
 * the softmax (exact); other keras models' probabilities are turned into log-probabilities; an nn
 * module's output is its logits (a GPT's `.logits`).
 */
export function logitsOf(model: Module, x: Tensor): Tensor {
  if (model instanceof Sequential) {
    const layers = model.layers;
    const last = layers[layers.length - 1];
    if (last instanceof Dense && last.activation.name === "softmax") {
      let h = x.dtype === "float32" || x.dtype === "float64" ? x : x.to(model.floatDType);
      for (const l of layers.slice(0, -1)) h = l.call(h);
      const y = matmul(h, last.kernel!);
      return last.bias ? add(y, last.bias) : y;
    }
  }
  if (model instanceof Model) {
    const out = model.call(x.dtype === "float32" || x.dtype === "float64" ? x : x.to(model.floatDType));
    const last = model.layers[model.layers.length - 1];
    const probs = last instanceof Dense && (last.activation.name === "softmax" || last.activation.name === "sigmoid");
    // NOTE: log of clamped probabilities: softmax(log p) = p, so these act as logits.
    return probs ? log(clamp(out, 1e-7, 1)) : out;
  }
  const out = model.call(x) as Tensor | { logits: Tensor };
  return out instanceof Tensor ? out : out.logits;
}

export interface DistillOptions extends DistillationLossOptions {
  epochs?: number;
  batchSize?: number;
  /** The student's optimizer (default: a keras student's compiled optimizer, else Adam 1e-3). */
  optimizer?: Optimizer;
  /** Called after each epoch with the mean training loss. */
  onEpochEnd?: (epoch: number, loss: number) => void | Promise<void>;
  /** Called after every optimizer step (e.g. a Pruner's step). */
  onStep?: () => void;
}

/** The teacher's logits for all of x, in batches, without gradients, in eval mode. */
export function teacherLogits(teacher: Module, x: Tensor, batchSize = 500): Tensor {
  const mode = teacher.training;
  teacher.eval();
  try {
    return noGrad(() => {
      const parts: Tensor[] = [];
      for (let s = 0; s < x.shape[0]; s += batchSize) parts.push(logitsOf(teacher, x.slice(0, s, Math.min(x.shape[0], s + batchSize))));
      return parts.length === 1 ? parts[0] : cat(parts, 0);
    });
  } finally {
    teacher.train(mode);
  }
}

/**
 * Trains `student` on (x, labels) with the distillation loss against `teacher` (keras models or nn
 * modules; shuffled each epoch from the global generator). Returns the mean loss of each epoch.
 * @example await compress.distill(student, teacher, xTrain, yTrain, {epochs: 5, temperature: 4, alpha: 0.1});
 */
export async function distill(student: Module, teacher: Module, x: Tensor, labels: Tensor | null, opts: DistillOptions = {}): Promise<number[]> {
  const where = "distill";
  checkLossOptions(where, opts);
  const epochs = opts.epochs ?? 1;
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(epochs) || epochs < 0) throw new ValueError(`${where}: epochs must be an integer ≥ 0, got ${JSON.stringify(opts.epochs)}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`${where}: batchSize must be an integer ≥ 1, got ${JSON.stringify(opts.batchSize)}`);
  const tl = teacherLogits(teacher, x);
  // Check the sizes once, before training, with a clear message.
  noGrad(() => distillationLoss(logitsOf(student, x.slice(0, 0, 1)), tl.slice(0, 0, 1), null, { ...opts, alpha: 0 }));
  const optimizer = opts.optimizer ?? (student instanceof Model && student.compiled ? student.ensureOptimizer() : null) ?? new Adam(student.parameters().filter((p) => p.requiresGrad), { lr: 1e-3 });
  if (!optimizer) throw new ValueError(`${where}: the student has no trainable weights`);
  const N = x.shape[0];
  const losses: number[] = [];
  const mode = student.training;
  try {
    for (let e = 0; e < epochs; e++) {
      student.train();
      const perm = randperm(N);
      let total = 0;
      for (let s = 0; s < N; s += batchSize) {
        const idx = perm.slice(0, s, Math.min(N, s + batchSize));
        const xb = indexSelect(x, 0, idx);
        const yb = labels ? indexSelect(labels, 0, idx) : null;
        const loss = distillationLoss(logitsOf(student, xb), indexSelect(tl, 0, idx), yb, opts);
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
        opts.onStep?.();
        total += loss.item() * xb.shape[0];
      }
      losses.push(total / N);
      await opts.onEpochEnd?.(e, total / N);
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    student.train(mode);
  }
  return losses;
}

/**
 * A fresh student like a keras Sequential teacher with every hidden Dense's units and Conv2D's
 * filters halved (the output layer kept), so it has about half (MLP) to a quarter (CNN) of the
 * weights; compiled like the teacher. Seed first (manualSeed) for repeatable initial weights.
 */
export function halfStudent(teacher: Sequential): Sequential {
  const specs = layerSpecs(teacher);
  const layers = teacher.layers;
  const lastWeighted = layers.map((l) => l instanceof Dense || l instanceof Conv2D).lastIndexOf(true);
  specs.forEach((s, i) => {
    if (i === lastWeighted) return;
    if (layers[i] instanceof Dense) s.config.units = Math.max(1, Math.round((s.config.units as number) / 2));
    if (layers[i] instanceof Conv2D) s.config.filters = Math.max(1, Math.round((s.config.filters as number) / 2));
  });
  const m = new Sequential({ name: `${teacher.name}_student` });
  specs.forEach((s, i) => m.add(layerFromConfig(s, `layers[${i}]`)));
  if (teacher.inputShapeSeen) m.buildFromShapes([teacher.inputShapeSeen as (number | null)[]]);
  if (teacher.compiled?.config) m.compile(teacher.compiled.config as unknown as CompileArgs);
  return m;
}
