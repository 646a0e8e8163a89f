// Optimizers by Keras name with Keras' defaults ('adam': lr 1e-3, epsilon 1e-7; 'sgd': lr 0.01), as
// specs that create the ingot.optim optimizer once the model's weights exist (they are built lazily).
import { ValueError } from "../tensor/index.js";
import type { Parameter } from "../nn/parameter.js";
import { Adagrad, Adam, AdamW, Optimizer, RMSprop, SGD } from "../optim/index.js";

/** A recipe for an optimizer: its Keras name and settings (what config.json stores) and a factory. */
export interface OptimizerSpec {
  readonly className: string;
  readonly config: Record<string, number | boolean>;
  create(params: Parameter[]): Optimizer;
}

export interface AdamArgs {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  amsgrad?: boolean;
}

function adamConfig(a: AdamArgs) {
  return { learningRate: a.learningRate ?? 1e-3, beta1: a.beta1 ?? 0.9, beta2: a.beta2 ?? 0.999, epsilon: a.epsilon ?? 1e-7, amsgrad: a.amsgrad ?? false };
}

/** Adam (defaults lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7 as in Keras). */
export function adam(a: AdamArgs = {}): OptimizerSpec {
  const config = adamConfig(a);
  return { className: "Adam", config, create: (p) => new Adam(p, { lr: config.learningRate, betas: [config.beta1, config.beta2], eps: config.epsilon, amsgrad: config.amsgrad }) };
}

/** AdamW (defaults lr 1e-3, weightDecay 0.004 as in Keras). */
export function adamw(a: AdamArgs & { weightDecay?: number } = {}): OptimizerSpec {
  const config = { ...adamConfig(a), weightDecay: a.weightDecay ?? 0.004 };
  return {
    className: "AdamW",
    config,
    create: (p) => new AdamW(p, { lr: config.learningRate, betas: [config.beta1, config.beta2], eps: config.epsilon, amsgrad: config.amsgrad, weightDecay: config.weightDecay }),
  };
}

/** SGD (defaults lr 0.01, momentum 0, nesterov false as in Keras). */
export function sgd(a: { learningRate?: number; momentum?: number; nesterov?: boolean } = {}): OptimizerSpec {
  const config = { learningRate: a.learningRate ?? 0.01, momentum: a.momentum ?? 0, nesterov: a.nesterov ?? false };
  return { className: "SGD", config, create: (p) => new SGD(p, { lr: config.learningRate, momentum: config.momentum, nesterov: config.nesterov }) };
}

/** RMSprop (defaults lr 1e-3, rho 0.9, momentum 0, epsilon 1e-7 as in Keras). */
export function rmsprop(a: { learningRate?: number; rho?: number; momentum?: number; epsilon?: number; centered?: boolean } = {}): OptimizerSpec {
  const config = { learningRate: a.learningRate ?? 1e-3, rho: a.rho ?? 0.9, momentum: a.momentum ?? 0, epsilon: a.epsilon ?? 1e-7, centered: a.centered ?? false };
  return {
    className: "RMSprop",
    config,
    create: (p) => new RMSprop(p, { lr: config.learningRate, alpha: config.rho, momentum: config.momentum, eps: config.epsilon, centered: config.centered }),
  };
}

/** Adagrad (defaults lr 1e-3, initial accumulator 0.1, epsilon 1e-7 as in Keras). */
export function adagrad(a: { learningRate?: number; initialAccumulatorValue?: number; epsilon?: number } = {}): OptimizerSpec {
  const config = { learningRate: a.learningRate ?? 1e-3, initialAccumulatorValue: a.initialAccumulatorValue ?? 0.1, epsilon: a.epsilon ?? 1e-7 };
  return {
    className: "Adagrad",
    config,
    create: (p) => new Adagrad(p, { lr: config.learningRate, initialAccumulatorValue: config.initialAccumulatorValue, eps: config.epsilon }),
  };
}

const BY_NAME: Record<string, (c: Record<string, any>) => OptimizerSpec> = { adam, adamw, sgd, rmsprop, adagrad };

/** What compile accepts: a name, a spec, an ingot.optim optimizer (over the built model's parameters) or a factory. */
export type OptimizerId = string | OptimizerSpec | Optimizer | ((params: Parameter[]) => Optimizer);

/** A spec from a name ('adam'), a {className, config} from config.json, a spec, an optimizer or a factory. */
export function getOptimizer(id: OptimizerId | { className: string; config?: Record<string, any> }): OptimizerSpec {
  if (id instanceof Optimizer) return { className: id.constructor.name, config: {}, create: () => id };
  if (typeof id === "function") return { className: "custom", config: {}, create: id };
  if (typeof id === "object" && id !== null && "create" in id && typeof id.create === "function") return id as OptimizerSpec;
  const name = typeof id === "string" ? id : (id as { className?: string })?.className;
  const make = typeof name === "string" ? BY_NAME[name.toLowerCase()] : undefined;
  if (!make) throw new ValueError(`compile: unknown optimizer ${JSON.stringify(name ?? id)}; use 'adam', 'adamw', 'sgd', 'rmsprop', 'adagrad', keras.optimizers.adam({…}) or an ingot.optim optimizer`);
  return make(typeof id === "object" ? ((id as { config?: Record<string, any> }).config ?? {}) : {});
}

/** The learning rate of the first parameter group. */
export function getLearningRate(opt: Optimizer): number {
  return opt.paramGroups[0].lr;
}

/** Sets the learning rate of every parameter group. */
export function setLearningRate(opt: Optimizer, lr: number): void {
  if (typeof lr !== "number" || !(lr >= 0)) throw new ValueError(`learning rate must be a number ≥ 0, got ${JSON.stringify(lr)}`);
  for (const g of opt.paramGroups) g.lr = lr;
}
