// `ingot train <recipe> --nproc N`: data-parallel training of the Keras image recipes. The command
// re-launches itself through the launcher (src/distributed/launcher.ts) as N workers; each joins the
// Gloo process group, trains on its shard of the data with DistributedDataParallel
// (src/cli/recipes/keras-classifier.ts), and rank 0 alone prints, records the run and saves the model.
import { freePort, launch } from "../distributed/launcher.js";
import { destroyProcessGroup, initProcessGroup } from "../distributed/process-group.js";
import { UsageError, type Log } from "./recipes/common.js";

/** Recipes that train under DistributedDataParallel (the Keras classifiers). */
export const DISTRIBUTED_RECIPES = ["mnist-mlp", "lenet300", "cnn"];

/** Set in the workers' environment, so that they train instead of launching again. */
const WORKER_ENV = "INGOT_TRAIN_WORKER";

/** Starts N workers of `ingot train` (args without --nproc) and returns the exit status. */
export async function launchTrain(args: string[], at: number): Promise<number> {
  const a = args[at];
  const raw = a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[at + 1];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`ingot train: --nproc must be an integer ≥ 1, got '${raw ?? ""}'`);
  const rest = args.filter((_, i) => i !== at && (a.includes("=") || i !== at + 1));
  const recipe = rest.find((x) => !x.startsWith("-"));
  if (recipe && !DISTRIBUTED_RECIPES.includes(recipe))
    throw new UsageError(`ingot train: --nproc trains the Keras image recipes (${DISTRIBUTED_RECIPES.join(", ")}), not '${recipe}'`);
  if (isWorker()) throw new UsageError("ingot train: --nproc inside a distributed worker (RANK and WORLD_SIZE are set); remove it");
  const res = await launch({
    script: process.argv[1],
    args: ["train", ...rest],
    nprocPerNode: n,
    masterAddr: "127.0.0.1",
    masterPort: await freePort(),
    env: { [WORKER_ENV]: "1" },
    rawStdoutRank: 0, // rank 0's report (or --json line) unchanged; other ranks print nothing
  });
  if (res.exitCode !== 0) process.stderr.write(`ingot train: ${res.message}\n`);
  return res.exitCode;
}

/** A worker's place in the run: rank 0 reports; `finish` leaves the process group. */
export interface TrainWorker {
  rank: number;
  worldSize: number;
  finish(): Promise<void>;
}

/** True in a process started by launchTrain, `ingot run` or torchrun with several workers (WORLD_SIZE > 1). */
function isWorker(): boolean {
  return process.env[WORKER_ENV] === "1" || (Number(process.env.WORLD_SIZE ?? "1") > 1 && process.env.RANK !== undefined);
}

/**
 * In a worker (of launchTrain, or of `ingot run … main.js train <recipe>` on several nodes): joins the
 * process group. Otherwise null.
 */
export async function joinTrainWorkers(): Promise<TrainWorker | null> {
  if (!isWorker()) return null;
  const pg = await initProcessGroup();
  return { rank: pg.rank, worldSize: pg.worldSize, finish: () => destroyProcessGroup() };
}

/** Where the other ranks' progress goes: nowhere. */
export const silentLog: Log = { write: () => true };
