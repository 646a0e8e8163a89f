// `ingot fl server|client`: federated learning over HTTP (src/federated). The server holds the global
// model, runs the strategy and writes the final model folder; each client trains on its own share of
// a dataset (a seeded IID or Dirichlet split every client computes alike) and sends only updates.
import { join } from "node:path";
import * as ingot from "../index.js";
import * as fl from "../federated/index.js";
import { CliError, datasetDir, parseCli, reportError, UsageError } from "./recipes/common.js";

const FL_HELP = `Usage: ingot fl server|client [options]

Federated learning over HTTP: one server, N clients; weights and updates travel as safetensors bodies.

ingot fl server --rounds R --min-clients N [options]
  --model SPEC          ${Object.keys(fl.FL_MODELS).join(" | ")} (built from --seed) or a Keras model folder (default mnist-mlp)
  --strategy NAME       fedavg | fedprox | fedadam (default fedavg)
  --rounds R            federated rounds (default 3)
  --min-clients N       wait for N clients before round 1; every round uses at least N (default 2)
  --fraction-fit F      fraction of the registered clients that train each round (default 1)
  --local-epochs E      client epochs per round (default 1)
  --batch-size B        client batch size (default 32)
  --lr X                client learning rate (default 0.01; fedadam: --eta-l)
  --optimizer NAME      client optimizer: sgd | adam (default sgd)
  --momentum M          client SGD momentum (default 0)
  --proximal-mu MU      fedprox: μ of the proximal term μ/2‖w − w_global‖² (default 0.1)
  --eta X, --eta-l X, --beta1 X, --beta2 X, --tau X
                        fedadam: server lr (0.1), client lr (0.1), moments (0.9, 0.99), adaptivity (1e-9)
  --secure-agg          pairwise-masked secure aggregation (X25519 + AES-CTR masks, fixed point mod 2^32)
  --scale S             secure aggregation's fixed-point scale (default 16777216 = 2^24)
  --dp central|local    clip every update to --clipping-norm and add Gaussian noise at the server or the clients
  --clipping-norm C     L2 bound on each client update (default 1)
  --noise-multiplier Z  noise std in units of C (default 1)
  --port P              port (default 8765; 0 picks a free one)
  --host H              interface (default 127.0.0.1)
  --round-timeout S     seconds before a round gives up on missing clients (default 600)
  --dataset NAME        mnist | fashion-mnist: the test split for the server's evaluation after each round
  --data DIR            data root (default INGOT_DATA); without data the server does not evaluate
  --test-limit N        evaluate on the first N test samples
  --no-eval             do not evaluate
  --seed N              initial weights, client sampling, noise (default 0)
  --out DIR             the final model folder (default runs/fl-<model>)
  --json                print one JSON object as the last line

ingot fl client --server URL --client-id I --num-clients N [options]
  --partition P         iid | dirichlet:<alpha> (e.g. dirichlet:0.5) (default iid)
  --dataset NAME        mnist | fashion-mnist (default mnist)
  --data DIR            data root (default INGOT_DATA)
  --limit N             split only the first N training samples
  --seed N              the split's seed: every client must use the same (default 0)
  --model SPEC          build this model instead of the one the server announces (a folder on this machine)
  --connect-timeout S   give up when the server is unreachable this long (default 60)
  --json                print one JSON object as the last line

Example (three shells):
  ingot fl server --rounds 5 --min-clients 2 --secure-agg
  ingot fl client --server http://127.0.0.1:8765 --client-id 0 --num-clients 2 --partition dirichlet:0.5
  ingot fl client --server http://127.0.0.1:8765 --client-id 1 --num-clients 2 --partition dirichlet:0.5
`;

function num(cmd: string, name: string, raw: string | undefined, def: number, check: (n: number) => boolean, what: string): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || !check(n)) throw new UsageError(`${cmd}: --${name} must be ${what}, got '${raw}'`);
  return n;
}
const int = (min: number) => (n: number) => Number.isInteger(n) && n >= min;
const pos = (n: number) => n > 0;

function dataRootFor(cmd: string, dataset: "mnist" | "fashion-mnist", data: string | undefined): string {
  // datasetDir finds <root>/<name> (or the folder itself); loadMnist wants the root.
  return join(datasetDir(cmd, dataset, data), "..");
}

function datasetOf(cmd: string, raw: string | undefined): "mnist" | "fashion-mnist" {
  const d = raw ?? "mnist";
  if (d !== "mnist" && d !== "fashion-mnist") throw new UsageError(`${cmd}: --dataset must be mnist or fashion-mnist, got '${d}'`);
  return d;
}

/**
 * Parses a sub-command's own options plus the shared --json and --help; returns null after printing
 * the help, and refuses positional arguments.
 */
const SHARED_OPTIONS = {
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

function parseSub<O extends Parameters<typeof parseCli>[2]>(cmd: string, args: string[], options: O) {
  const { values, positionals } = parseCli(cmd, args, { ...options, ...SHARED_OPTIONS });
  if ((values as { help?: boolean }).help) {
    process.stdout.write(FL_HELP);
    return null;
  }
  if (positionals.length) throw new UsageError(`${cmd}: unexpected argument '${positionals[0]}'; run '${cmd} --help'`);
  return values;
}

async function server(args: string[]): Promise<number> {
  const cmd = "ingot fl server";
  const v = parseSub(cmd, args, {
    model: { type: "string" },
    strategy: { type: "string" },
    rounds: { type: "string" },
    "min-clients": { type: "string" },
    "fraction-fit": { type: "string" },
    "local-epochs": { type: "string" },
    "batch-size": { type: "string" },
    lr: { type: "string" },
    optimizer: { type: "string" },
    momentum: { type: "string" },
    "proximal-mu": { type: "string" },
    eta: { type: "string" },
    "eta-l": { type: "string" },
    beta1: { type: "string" },
    beta2: { type: "string" },
    tau: { type: "string" },
    "secure-agg": { type: "boolean", default: false },
    scale: { type: "string" },
    dp: { type: "string" },
    "clipping-norm": { type: "string" },
    "noise-multiplier": { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    "round-timeout": { type: "string" },
    dataset: { type: "string" },
    data: { type: "string" },
    "test-limit": { type: "string" },
    "no-eval": { type: "boolean", default: false },
    seed: { type: "string" },
    out: { type: "string" },
  });
  if (v === null) return 0;
  const strategyName = v.strategy ?? "fedavg";
  if (!["fedavg", "fedprox", "fedadam"].includes(strategyName)) throw new UsageError(`${cmd}: --strategy must be fedavg, fedprox or fedadam, got '${strategyName}'`);
  const optimizer = v.optimizer ?? "sgd";
  if (optimizer !== "sgd" && optimizer !== "adam") throw new UsageError(`${cmd}: --optimizer must be sgd or adam, got '${optimizer}'`);
  const rounds = num(cmd, "rounds", v.rounds, 3, int(1), "an integer ≥ 1");
  const minClients = num(cmd, "min-clients", v["min-clients"], 2, int(1), "an integer ≥ 1");
  const seed = num(cmd, "seed", v.seed, 0, int(0), "an integer ≥ 0");
  if (v["secure-agg"] && minClients < 2) throw new UsageError(`${cmd}: --secure-agg needs --min-clients ≥ 2 (one client's masked update would be its update)`);
  const fit: Partial<fl.FitConfig> = {
    localEpochs: num(cmd, "local-epochs", v["local-epochs"], 1, int(1), "an integer ≥ 1"),
    batchSize: num(cmd, "batch-size", v["batch-size"], 32, int(1), "an integer ≥ 1"),
    optimizer,
    momentum: num(cmd, "momentum", v.momentum, 0, (n) => n >= 0 && n < 1, "in [0, 1)"),
  };
  if (v.lr !== undefined) fit.lr = num(cmd, "lr", v.lr, 0.01, pos, "a positive number");
  else if (strategyName !== "fedadam") fit.lr = 0.01;
  let dp: fl.DpOptions | null = null;
  if (v.dp !== undefined) {
    if (v.dp !== "central" && v.dp !== "local") throw new UsageError(`${cmd}: --dp must be central or local, got '${v.dp}'`);
    dp = {
      mode: v.dp,
      clippingNorm: num(cmd, "clipping-norm", v["clipping-norm"], 1, pos, "a positive number"),
      noiseMultiplier: num(cmd, "noise-multiplier", v["noise-multiplier"], 1, (n) => n >= 0, "a number ≥ 0"),
    };
  } else if (v["clipping-norm"] !== undefined || v["noise-multiplier"] !== undefined) throw new UsageError(`${cmd}: --clipping-norm and --noise-multiplier need --dp central|local`);
  const strategy = fl.makeStrategy(strategyName, {
    minFitClients: minClients,
    minAvailableClients: minClients,
    fractionFit: num(cmd, "fraction-fit", v["fraction-fit"], 1, (n) => n > 0 && n <= 1, "in (0, 1]"),
    onFitConfig: fit,
    seed,
    proximalMu: num(cmd, "proximal-mu", v["proximal-mu"], 0.1, (n) => n >= 0, "a number ≥ 0"),
    eta: num(cmd, "eta", v.eta, 0.1, pos, "a positive number"),
    etaL: num(cmd, "eta-l", v["eta-l"], 0.1, pos, "a positive number"),
    beta1: num(cmd, "beta1", v.beta1, 0.9, (n) => n >= 0 && n < 1, "in [0, 1)"),
    beta2: num(cmd, "beta2", v.beta2, 0.99, (n) => n >= 0 && n < 1, "in [0, 1)"),
    tau: num(cmd, "tau", v.tau, 1e-9, (n) => n >= 0, "a number ≥ 0"),
  });
  const modelSpec = v.model ?? "mnist-mlp";
  const model = fl.buildModel(modelSpec, seed);
  const dataset = datasetOf(cmd, v.dataset);
  let testData: fl.ClientData | undefined;
  if (!v["no-eval"] && (v.data !== undefined || process.env.INGOT_DATA)) {
    const testLimit = v["test-limit"] === undefined ? null : num(cmd, "test-limit", v["test-limit"], 0, int(1), "an integer ≥ 1");
    testData = fl.loadImageData({ name: dataset, root: dataRootFor(cmd, dataset, v.data), limit: 0, testLimit }).test;
  }
  const log = (l: string) => (v.json ? process.stderr : process.stdout).write(`fl server: ${l}\n`);
  const scale = num(cmd, "scale", v.scale, fl.DEFAULT_SCALE, (n) => n >= 1, "a number ≥ 1");
  const srv = new fl.FederatedServer({
    model,
    modelSpec,
    strategy,
    numRounds: rounds,
    port: num(cmd, "port", v.port, 8765, (n) => int(0)(n) && n < 65536, "a port number (0–65535)"),
    host: v.host ?? "127.0.0.1",
    secureAggregation: v["secure-agg"],
    scale,
    dp,
    roundTimeoutS: num(cmd, "round-timeout", v["round-timeout"], 600, pos, "a positive number of seconds"),
    testData,
    seed,
    log,
  });
  const port = await srv.listen();
  log(`listening on http://${v.host ?? "127.0.0.1"}:${port}; ${strategy.name}, ${rounds} rounds, waiting for ${minClients} clients${v["secure-agg"] ? ", secure aggregation" : ""}${dp ? `, ${dp.mode} DP (C ${dp.clippingNorm}, σ ${dp.noiseMultiplier})` : ""}`);
  const stop = () => srv.close().then(() => process.exit(130));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const t0 = performance.now();
  const ok = await srv.finished;
  // Let every client hear "done" (or "failed") before closing.
  await srv.drain(10000);
  await srv.close();
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  if (!ok) throw new CliError(`${cmd}: ${srv.failure}`);
  const out = v.out ?? `runs/fl-${modelSpec.replace(/[^A-Za-z0-9_-]+/g, "_")}`;
  const last = srv.history[srv.history.length - 1];
  const seconds = (performance.now() - t0) / 1000;
  const metrics = last.testAccuracy !== undefined ? { test_loss: last.testLoss, test_accuracy: last.testAccuracy } : {};
  fl.saveFederatedModel(model, out, {
    recipe: modelSpec,
    dataset,
    command: ["ingot", "fl", "server", ...args].join(" "),
    seed,
    backend: ingot.getBackend(),
    metrics,
    evaluation: { split: "test", batch_size: 1000, test_samples: testData?.x.shape[0], test_limit: testData ? testData.x.shape[0] : null },
    federated: {
      strategy: strategy.name,
      rounds,
      fit_config: strategy.configureFit(rounds),
      secure_aggregation: v["secure-agg"],
      dp,
      initial: srv.initial ?? null,
      history: srv.history,
      seconds,
    },
  });
  const result = { out, strategy: strategy.name, rounds, seconds, initial_test_accuracy: srv.initial?.testAccuracy ?? null, test_accuracy: last.testAccuracy ?? null, test_loss: last.testLoss ?? null, history: srv.history };
  if (v.json) process.stdout.write(JSON.stringify(result) + "\n");
  else log(`saved ${out}/ after ${rounds} rounds (${seconds.toFixed(1)} s)${last.testAccuracy !== undefined ? `; test accuracy ${last.testAccuracy.toFixed(4)} (initial ${srv.initial!.testAccuracy.toFixed(4)})` : ""}`);
  return 0;
}

async function client(args: string[]): Promise<number> {
  const cmd = "ingot fl client";
  const v = parseSub(cmd, args, {
    server: { type: "string" },
    "client-id": { type: "string" },
    "num-clients": { type: "string" },
    partition: { type: "string" },
    dataset: { type: "string" },
    data: { type: "string" },
    limit: { type: "string" },
    seed: { type: "string" },
    model: { type: "string" },
    "connect-timeout": { type: "string" },
  });
  if (v === null) return 0;
  if (!v.server) throw new UsageError(`${cmd}: --server URL is required (e.g. --server http://127.0.0.1:8765)`);
  if (v["client-id"] === undefined || v["num-clients"] === undefined) throw new UsageError(`${cmd}: --client-id I and --num-clients N are required (this client's share of the data is part I of N)`);
  const numClients = num(cmd, "num-clients", v["num-clients"], 1, int(1), "an integer ≥ 1");
  const clientId = num(cmd, "client-id", v["client-id"], 0, int(0), "an integer ≥ 0");
  if (clientId >= numClients) throw new UsageError(`${cmd}: --client-id must be below --num-clients (${numClients}), got ${clientId}`);
  let spec: fl.PartitionSpec;
  try {
    spec = fl.parsePartition(v.partition ?? "iid");
  } catch (e) {
    throw new UsageError(`${cmd}: --partition: ${(e as Error).message}`);
  }
  const seed = num(cmd, "seed", v.seed, 0, int(0), "an integer ≥ 0");
  const dataset = datasetOf(cmd, v.dataset);
  const limit = v.limit === undefined ? null : num(cmd, "limit", v.limit, 0, int(1), "an integer ≥ 1");
  const data = fl.loadImageData({ name: dataset, root: dataRootFor(cmd, dataset, v.data), limit, testLimit: 0 });
  const parts = fl.partition(data.labels, numClients, spec, seed);
  const mine = fl.subset(data.train, parts[clientId]);
  const log = (l: string) => (v.json ? process.stderr : process.stdout).write(`fl ${l}\n`);
  const summary = await fl.runClient({
    server: v.server,
    clientId,
    data: mine,
    buildModel: (announced) => fl.buildModel(v.model ?? announced, seed),
    seed,
    connectTimeoutS: num(cmd, "connect-timeout", v["connect-timeout"], 60, pos, "a positive number of seconds"),
    log,
  });
  if (v.json) process.stdout.write(JSON.stringify({ client_id: clientId, num_examples: summary.numExamples, rounds: summary.rounds }) + "\n");
  return 0;
}

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (!sub || sub === "-h" || sub === "--help") {
      process.stdout.write(FL_HELP);
      return sub ? 0 : 2;
    }
    if (sub === "server") return await server(rest);
    if (sub === "client") return await client(rest);
    throw new UsageError(`ingot fl: unknown sub-command '${sub}'; use 'ingot fl server' or 'ingot fl client' (see ingot fl --help)`);
  } catch (e) {
    return reportError(`ingot fl${sub === "server" || sub === "client" ? ` ${sub}` : ""}`, e);
  }
}
