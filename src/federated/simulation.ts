// N clients in one process (Flower's start_simulation): each round the strategy samples clients,
// each trains on its own partition from the global weights, the updates are aggregated (optionally
// through real pairwise masking and DP), and the new global model is evaluated.
import { Generator, IngotError } from "../tensor/index.js";
import type { Module } from "../nn/module.js";
import { type ClientData, defaultLoss, evaluate, fitLocal, getWeights, type LossFn, setWeights } from "./client.js";
import { layoutOf } from "./params.js";
import type { Strategy } from "./strategy.js";
import { checkDp, type DpOptions } from "./dp.js";
import { checkScale, DEFAULT_SCALE, generateKeys } from "./secagg.js";
import { clientMessage, meanOfMasked, meanOfPlain, roundWeights } from "./aggregate.js";

export interface SimulationOptions {
  /** The model all clients train (one instance, reloaded with each client's starting weights). */
  model: Module;
  /** One entry per client: its training samples. */
  clients: ClientData[];
  strategy: Strategy;
  numRounds: number;
  /** Evaluated after every round (centralized evaluation, Flower's evaluate_fn). */
  testData?: ClientData;
  loss?: LossFn;
  /** Pairwise-masked aggregation (fresh X25519 keys per client); `scale` is the fixed-point scale. */
  secureAggregation?: boolean | { scale?: number };
  dp?: DpOptions | null;
  /** Seeds client shuffling, sampling and DP noise. */
  seed?: number;
  /** Called after every round. */
  onRound?: (r: RoundRecord) => void;
}

export interface RoundRecord {
  round: number;
  clients: number[];
  trainLoss: number;
  testLoss?: number;
  testAccuracy?: number;
  seconds: number;
}

export interface SimulationResult {
  history: RoundRecord[];
  /** The final global weights (also loaded into `model`). */
  weights: Float32Array;
  initial?: { testLoss: number; testAccuracy: number };
}

export function startSimulation(opts: SimulationOptions): SimulationResult {
  const { model, clients, strategy } = opts;
  if (!Number.isInteger(opts.numRounds) || opts.numRounds < 1) throw new IngotError(`startSimulation: numRounds must be an integer ≥ 1, got ${opts.numRounds}`);
  if (clients.length < strategy.minAvailableClients)
    throw new IngotError(`startSimulation: ${clients.length} clients, but the strategy waits for minAvailableClients = ${strategy.minAvailableClients}`);
  const loss = opts.loss ?? defaultLoss;
  const dp = opts.dp ? checkDp(opts.dp) : null;
  const secure = opts.secureAggregation ? checkScale((typeof opts.secureAggregation === "object" ? opts.secureAggregation.scale : undefined) ?? DEFAULT_SCALE) : null;
  const seed = opts.seed ?? 0;
  const layout = layoutOf(model.stateDict());
  const clientGens = clients.map((_, i) => new Generator(seed * 1000003 + i + 1));
  const serverGen = new Generator(seed * 1000003 + 999983);
  const keys = secure ? clients.map(() => generateKeys()) : null;
  let weights = getWeights(model, layout);
  const initial = opts.testData ? evaluate(model, opts.testData, loss) : undefined;
  const history: RoundRecord[] = [];
  const ids = clients.map((_, i) => i);
  for (let round = 1; round <= opts.numRounds; round++) {
    const t0 = performance.now();
    const chosen = strategy.sampleClients(ids);
    const cfg = strategy.configureFit(round);
    const w = roundWeights(new Map(chosen.map((i) => [i, clients[i].x.shape[0]])), dp);
    const peers = keys ? new Map(chosen.map((i) => [i, keys[i].publicKey])) : null;
    const plain = new Map<number, Float32Array>();
    const masked: Uint32Array[] = [];
    let lossSum = 0;
    for (const i of chosen) {
      const r = fitLocal(model, clients[i], weights, layout, cfg, clientGens[i], loss);
      lossSum += r.trainLoss * w.get(i)!;
      const msg = clientMessage(r.delta, i, w.get(i)!, { dp, g: clientGens[i], secure: keys && secure ? { privateKey: keys[i].privateKey, peers: peers!, round, scale: secure } : null });
      if (msg.kind === "plain") plain.set(i, msg.delta);
      else masked.push(msg.words);
    }
    const mean = secure ? meanOfMasked(masked, secure, dp, serverGen) : meanOfPlain(plain, w, layout.size, dp, serverGen);
    weights = strategy.applyUpdate(round, weights, mean);
    setWeights(model, weights, layout);
    const rec: RoundRecord = { round, clients: chosen, trainLoss: lossSum, seconds: (performance.now() - t0) / 1000 };
    if (opts.testData) {
      const ev = evaluate(model, opts.testData, loss);
      rec.testLoss = ev.loss;
      rec.testAccuracy = ev.accuracy;
    }
    history.push(rec);
    opts.onRound?.(rec);
  }
  return { history, weights, initial: initial ? { testLoss: initial.loss, testAccuracy: initial.accuracy } : undefined };
}
