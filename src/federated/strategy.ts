// Server strategies, with Flower's names and defaults (flwr.server.strategy): how many clients train
// each round, what they are told (local epochs, learning rate, FedProx's μ), and how the round's
// updates become the next global model.
//
// Every strategy sees the round's *weighted mean update* Δ̄ = Σ n_i Δ_i / Σ n_i, with Δ_i = w_i − w
// (client i's trained weights minus the global weights it started from) and n_i its example count.
// Working on Δ̄ rather than on each Δ_i lets secure aggregation hide the individual updates: the
// server only ever decodes the masked sum (see secagg.ts).
//   FedAvg  (McMahan et al. 2017):  w ← w + Δ̄               (= Σ n_i w_i / Σ n_i)
//   FedProx (Li et al. 2020):       the same aggregation; clients add μ/2‖w − w_global‖² to their loss
//   FedAdam (Reddi et al. 2021, Alg. 2, as flwr.server.strategy.FedAdam):
//            m ← β1 m + (1−β1) Δ̄;  v ← β2 v + (1−β2) Δ̄²;
//            w ← w + η_t m / (√v + τ),  η_t = η √(1−β2^(t+1)) / (1−β1^(t+1))   (Flower's bias correction)
import { IngotError } from "../tensor/index.js";
import { Generator } from "../tensor/random.js";
import { shuffledIndices } from "./partition.js";

/** What a client is told to do in one round (Flower's fit config, camelCase). */
export interface FitConfig {
  /** Local epochs E over the client's data. */
  localEpochs: number;
  batchSize: number;
  /** The client optimizer's learning rate (Flower's FedAdam calls it eta_l). */
  lr: number;
  optimizer: "sgd" | "adam";
  /** SGD momentum (0: plain SGD). */
  momentum: number;
  /** FedProx's μ (0 for FedAvg and FedAdam). */
  proximalMu: number;
}

export const DEFAULT_FIT_CONFIG: FitConfig = { localEpochs: 1, batchSize: 32, lr: 0.01, optimizer: "sgd", momentum: 0, proximalMu: 0 };

/** One client's answer to a round (the plain, unmasked form used by simulation without secure aggregation). */
export interface FitRes {
  clientId: number;
  /** Trained weights minus the round's global weights. */
  delta: Float32Array;
  numExamples: number;
  metrics?: Record<string, number>;
}

export interface StrategyOptions {
  /** Fraction of the available clients that train each round (Flower's fraction_fit, default 1). */
  fractionFit?: number;
  /** At least this many train each round (min_fit_clients, default 2). */
  minFitClients?: number;
  /** Wait for this many clients before round 1 (min_available_clients, default 2). */
  minAvailableClients?: number;
  /** The client fit config; a function of the round or a fixed object (Flower's on_fit_config_fn). */
  onFitConfig?: Partial<FitConfig> | ((round: number) => Partial<FitConfig>);
  /** Seeds client sampling. */
  seed?: number;
}

export abstract class Strategy {
  abstract readonly name: string;
  readonly fractionFit: number;
  readonly minFitClients: number;
  readonly minAvailableClients: number;
  protected readonly onFitConfig: StrategyOptions["onFitConfig"];
  private readonly sampler: Generator;

  constructor(opts: StrategyOptions = {}) {
    this.fractionFit = opts.fractionFit ?? 1;
    if (!(this.fractionFit > 0 && this.fractionFit <= 1)) throw new IngotError(`${this.constructor.name}: fractionFit must be in (0, 1], got ${opts.fractionFit}`);
    this.minFitClients = opts.minFitClients ?? 2;
    this.minAvailableClients = opts.minAvailableClients ?? 2;
    for (const [k, v] of [["minFitClients", this.minFitClients], ["minAvailableClients", this.minAvailableClients]] as const)
      if (!Number.isInteger(v) || v < 1) throw new IngotError(`${this.constructor.name}: ${k} must be an integer ≥ 1, got ${v}`);
    this.onFitConfig = opts.onFitConfig;
    this.sampler = new Generator(opts.seed ?? 0);
  }

  /** How many of `available` clients train: max(⌊available·fractionFit⌋, minFitClients), at most all. */
  numFitClients(available: number): number {
    return Math.min(available, Math.max(Math.floor(available * this.fractionFit), this.minFitClients));
  }

  /** The clients (ids from `available`) that train in a round, sampled without replacement. */
  sampleClients(available: number[]): number[] {
    const k = this.numFitClients(available.length);
    if (k === available.length) return [...available];
    return shuffledIndices(available.length, this.sampler)
      .slice(0, k)
      .map((i) => available[i])
      .sort((a, b) => a - b);
  }

  /** The fit config for a round (defaults, then onFitConfig, then the strategy's own keys). */
  configureFit(round: number): FitConfig {
    const user = typeof this.onFitConfig === "function" ? this.onFitConfig(round) : (this.onFitConfig ?? {});
    return { ...DEFAULT_FIT_CONFIG, ...user, ...this.fitOverrides() };
  }

  protected fitOverrides(): Partial<FitConfig> {
    return {};
  }

  /** The next global weights from the current ones and the round's weighted mean update. */
  abstract applyUpdate(round: number, current: Float32Array, meanDelta: ArrayLike<number>): Float32Array;

  /** Flower's aggregate_fit for plain results: weighted mean of the updates, then applyUpdate. */
  aggregateFit(round: number, current: Float32Array, results: FitRes[]): Float32Array {
    return this.applyUpdate(round, current, weightedMeanDelta(results, current.length));
  }
}

/** Σ n_i Δ_i / Σ n_i in float64. */
export function weightedMeanDelta(results: FitRes[], size: number): Float64Array {
  if (results.length === 0) throw new IngotError("aggregateFit: no client results in this round; nothing to aggregate");
  const total = results.reduce((s, r) => s + r.numExamples, 0);
  if (!(total > 0)) throw new IngotError("aggregateFit: the clients report 0 examples in total; every client must train on at least one example");
  const out = new Float64Array(size);
  for (const r of results) {
    if (r.delta.length !== size) throw new IngotError(`aggregateFit: client ${r.clientId} sent ${r.delta.length} values, the model has ${size}`);
    const w = r.numExamples / total;
    for (let j = 0; j < size; j++) out[j] += w * r.delta[j];
  }
  return out;
}

/** Federated averaging (McMahan et al. 2017): the example-weighted mean of the clients' weights. */
export class FedAvg extends Strategy {
  readonly name: string = "fedavg";
  applyUpdate(_round: number, current: Float32Array, meanDelta: ArrayLike<number>): Float32Array {
    const out = new Float32Array(current.length);
    for (let j = 0; j < current.length; j++) out[j] = current[j] + meanDelta[j];
    return out;
  }
}

/** FedProx (Li et al. 2020): FedAvg's aggregation; the clients add μ/2‖w − w_global‖² to their loss. */
export class FedProx extends FedAvg {
  override readonly name = "fedprox";
  readonly proximalMu: number;
  constructor(opts: StrategyOptions & { proximalMu: number }) {
    super(opts);
    if (!(opts.proximalMu >= 0)) throw new IngotError(`FedProx: proximalMu must be ≥ 0 (Flower's proximal_mu; try 0.01–1), got ${opts.proximalMu}`);
    this.proximalMu = opts.proximalMu;
  }
  protected override fitOverrides(): Partial<FitConfig> {
    return { proximalMu: this.proximalMu };
  }
}

export interface FedAdamOptions extends StrategyOptions {
  /** Server learning rate η (Flower default 1e-1). */
  eta?: number;
  /** Client learning rate η_l (Flower default 1e-1); sets FitConfig.lr unless onFitConfig sets it. */
  etaL?: number;
  beta1?: number;
  beta2?: number;
  /** Adaptivity τ (Flower default 1e-9). */
  tau?: number;
}

/** FedAdam (Reddi et al. 2021): Adam on the server, the negated mean update as its gradient. */
export class FedAdam extends Strategy {
  readonly name = "fedadam";
  readonly eta: number;
  readonly etaL: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly tau: number;
  private m: Float64Array | null = null;
  private v: Float64Array | null = null;

  constructor(opts: FedAdamOptions = {}) {
    super(opts);
    this.eta = opts.eta ?? 1e-1;
    this.etaL = opts.etaL ?? 1e-1;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.99;
    this.tau = opts.tau ?? 1e-9;
    if (!(this.eta > 0) || !(this.etaL > 0)) throw new IngotError(`FedAdam: eta and etaL must be > 0, got ${this.eta} and ${this.etaL}`);
    if (!(this.beta1 >= 0 && this.beta1 < 1) || !(this.beta2 >= 0 && this.beta2 < 1)) throw new IngotError(`FedAdam: beta1 and beta2 must be in [0, 1), got ${this.beta1} and ${this.beta2}`);
    if (!(this.tau >= 0)) throw new IngotError(`FedAdam: tau must be ≥ 0, got ${this.tau}`);
  }

  override configureFit(round: number): FitConfig {
    const user = typeof this.onFitConfig === "function" ? this.onFitConfig(round) : (this.onFitConfig ?? {});
    return { ...DEFAULT_FIT_CONFIG, lr: this.etaL, ...user };
  }

  applyUpdate(round: number, current: Float32Array, meanDelta: ArrayLike<number>): Float32Array {
    const n = current.length;
    this.m ??= new Float64Array(n);
    this.v ??= new Float64Array(n);
    const { m, v, beta1, beta2, tau } = this;
    const etaNorm = (this.eta * Math.sqrt(1 - Math.pow(beta2, round + 1))) / (1 - Math.pow(beta1, round + 1));
    const out = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      const d = meanDelta[j];
      m[j] = beta1 * m[j] + (1 - beta1) * d;
      v[j] = beta2 * v[j] + (1 - beta2) * d * d;
      out[j] = current[j] + (etaNorm * m[j]) / (Math.sqrt(v[j]) + tau);
    }
    return out;
  }
}

export type StrategyName = "fedavg" | "fedprox" | "fedadam";

/** A strategy by name (the command line's --strategy). */
export function makeStrategy(name: string, opts: StrategyOptions & FedAdamOptions & { proximalMu?: number } = {}): Strategy {
  switch (name) {
    case "fedavg":
      return new FedAvg(opts);
    case "fedprox":
      return new FedProx({ ...opts, proximalMu: opts.proximalMu ?? 0.1 });
    case "fedadam":
      return new FedAdam(opts);
    default:
      throw new IngotError(`federated: unknown strategy '${name}'; use fedavg, fedprox or fedadam`);
  }
}
