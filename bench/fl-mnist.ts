// FedAvg on MNIST with non-IID clients against centralized training of the same model with the same
// optimizer for the same total number of epochs (rounds × local epochs). Writes bench/results/fl-mnist.json.
//   INGOT_DATA=../shared/data node dist/bench/fl-mnist.js [--clients 10] [--alpha 0.5] [--rounds 20]
//     [--local-epochs 1] [--optimizer sgd] [--lr 0.05] [--momentum 0.9] [--batch-size 32] [--seed 0]
//     [--strategy fedavg|fedprox|fedadam] [--proximal-mu 0.1] [--eta 0.1] [--secure-agg] [--limit N] [--out bench/results/fl-mnist.json]
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as ingot from "../src/index.js";
import { writeJsonAtomic } from "../src/io/atomic.js";
import * as fl from "../src/federated/index.js";
import { ROOT } from "./common.js";

const { values: a } = parseArgs({
  options: {
    clients: { type: "string", default: "10" },
    alpha: { type: "string", default: "0.5" },
    rounds: { type: "string", default: "20" },
    "local-epochs": { type: "string", default: "1" },
    optimizer: { type: "string", default: "sgd" },
    lr: { type: "string", default: "0.05" },
    momentum: { type: "string", default: "0.9" },
    "batch-size": { type: "string", default: "32" },
    seed: { type: "string", default: "0" },
    strategy: { type: "string", default: "fedavg" },
    "proximal-mu": { type: "string", default: "0.1" },
    eta: { type: "string", default: "0.1" },
    "secure-agg": { type: "boolean", default: false },
    limit: { type: "string" },
    "skip-centralized": { type: "boolean", default: false },
    out: { type: "string", default: join(ROOT, "bench", "results", "fl-mnist.json") },
  },
});
const numClients = Number(a.clients);
const alpha = Number(a.alpha);
const rounds = Number(a.rounds);
const localEpochs = Number(a["local-epochs"]);
const seed = Number(a.seed);
const cfg: fl.FitConfig = {
  localEpochs,
  batchSize: Number(a["batch-size"]),
  lr: Number(a.lr),
  optimizer: a.optimizer as "sgd" | "adam",
  momentum: Number(a.momentum),
  proximalMu: 0,
};
const log = (s: string) => process.stderr.write(s + "\n");
const data = fl.loadImageData({ limit: a.limit ? Number(a.limit) : null });
const totalEpochs = rounds * localEpochs;
log(`backend ${ingot.getBackend()}; ${data.train.x.shape[0]} train / ${data.test.x.shape[0]} test samples`);

// Centralized: one "client" holding all the data, trained for rounds × localEpochs epochs.
let centralized: { test_accuracy: number; test_loss: number; seconds: number } | null = null;
if (!a["skip-centralized"]) {
  const model = fl.buildModel("mnist-mlp", seed);
  const layout = fl.layoutOf(model.stateDict());
  const t0 = performance.now();
  fl.fitLocal(model, data.train, fl.getWeights(model, layout), layout, { ...cfg, localEpochs: totalEpochs }, new ingot.Generator(seed + 1));
  const ev = fl.evaluate(model, data.test);
  centralized = { test_accuracy: ev.accuracy, test_loss: ev.loss, seconds: (performance.now() - t0) / 1000 };
  log(`centralized, ${totalEpochs} epochs: test accuracy ${ev.accuracy.toFixed(4)} (${centralized.seconds.toFixed(0)} s)`);
}

// Federated: Dirichlet(α) label split over the clients.
const parts = fl.dirichletPartition(data.labels, numClients, { alpha, seed });
const counts = fl.labelCounts(data.labels, parts, 10);
log(`client sizes ${parts.map((p) => p.length).join(" ")}`);
const model = fl.buildModel("mnist-mlp", seed);
const strategy = fl.makeStrategy(a.strategy!, { onFitConfig: cfg, minFitClients: numClients, minAvailableClients: numClients, seed, proximalMu: Number(a["proximal-mu"]), eta: Number(a.eta) });
const t0 = performance.now();
const sim = fl.startSimulation({
  model,
  clients: parts.map((p) => fl.subset(data.train, p)),
  strategy,
  numRounds: rounds,
  testData: data.test,
  secureAggregation: a["secure-agg"],
  seed,
  onRound: (r) => log(`round ${r.round}/${rounds}: train loss ${r.trainLoss.toFixed(4)}, test accuracy ${r.testAccuracy!.toFixed(4)} (${r.seconds.toFixed(1)} s)`),
});
const seconds = (performance.now() - t0) / 1000;
const last = sim.history[sim.history.length - 1];
const result = {
  what: "FedAvg, non-IID Dirichlet(alpha) label split, vs centralized training of the same model and optimizer for rounds × local epochs",
  command: `node dist/bench/fl-mnist.js ${process.argv.slice(2).join(" ")}`.trim(),
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, node: process.version, backend: ingot.getBackend() },
  model: "mnist-mlp: Flatten → Dense 128 relu → Dense 10 softmax",
  config: { clients: numClients, alpha, rounds, local_epochs: localEpochs, total_epochs: totalEpochs, strategy: strategy.name, proximal_mu: strategy.name === "fedprox" ? Number(a["proximal-mu"]) : undefined, eta: strategy.name === "fedadam" ? Number(a.eta) : undefined, secure_aggregation: a["secure-agg"], ...cfg, seed, train_samples: data.train.x.shape[0] },
  centralized,
  federated: { test_accuracy: last.testAccuracy, test_loss: last.testLoss, seconds, best_test_accuracy: Math.max(...sim.history.map((r) => r.testAccuracy!)) },
  gap_points: centralized ? (centralized.test_accuracy - last.testAccuracy!) * 100 : null,
  within_2_points: centralized ? (centralized.test_accuracy - last.testAccuracy!) * 100 <= 2 : null,
  client_sizes: parts.map((p) => p.length),
  client_label_counts: counts,
  history: sim.history.map((r) => ({ round: r.round, train_loss: r.trainLoss, test_accuracy: r.testAccuracy, test_loss: r.testLoss, seconds: r.seconds })),
};
writeJsonAtomic(a.out!, result);
log(`federated: ${last.testAccuracy!.toFixed(4)}; centralized: ${centralized?.test_accuracy.toFixed(4) ?? "skipped"}; gap ${result.gap_points?.toFixed(2) ?? "?"} points → ${a.out}`);
console.log(JSON.stringify({ federated: result.federated.test_accuracy, centralized: centralized?.test_accuracy, gap_points: result.gap_points }));
