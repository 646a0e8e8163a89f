// The records of the run store, as the CLI, the library and a dashboard see them. Times are Unix
// seconds (as TensorBoard's wall_time); config and summary are JSON objects.

/** running: in progress; finished: ended normally; failed: an error, or its process died; killed: stopped by a signal. */
export type RunStatus = "running" | "finished" | "failed" | "killed";

export interface RunRecord {
  /** 8 hex digits; commands accept any unique prefix. */
  id: string;
  /** What ran: the recipe (mnist-mlp) or a name the program chose. */
  name: string;
  /** train | lm | compress | eval | script …: what kind of work the run was. */
  kind: string;
  status: RunStatus;
  /** The command line. */
  command: string | null;
  /** Parameters and settings (epochs, lr, batch size, …). */
  config: Record<string, unknown>;
  seed: number | null;
  gitCommit: string | null;
  gitBranch: string | null;
  dataset: string | null;
  /** `sha256:<hex>` of the dataset's files (see datasetChecksum). */
  datasetChecksum: string | null;
  /** The final model folder. */
  modelDir: string | null;
  /** The TensorBoard folder. */
  logdir: string | null;
  /** Lineage: the run this one started from (fine-tuned, compressed, resumed from), and how. */
  parentId: string | null;
  relation: string | null;
  host: string;
  pid: number;
  startedAt: number;
  endedAt: number | null;
  /** When the run last logged anything. */
  updatedAt: number;
  /** Why it failed. */
  error: string | null;
  /** Final metrics (test accuracy, …). */
  summary: Record<string, number>;
}

/** One logged value; `seq` grows with every write, so a reader can ask for what is new since its last look. */
export interface MetricPoint {
  seq: number;
  key: string;
  step: number;
  /** NaN when the logged value was not finite (SQLite stores NaN as NULL). */
  value: number;
  wallTime: number;
}

export interface Artifact {
  name: string;
  /** model | tensorboard | checkpoint | file | folder | … */
  kind: string;
  path: string;
  /** Size in bytes (a folder: its files together). */
  bytes: number | null;
  /** SHA-256 of a file; null for folders. */
  sha256: string | null;
  createdAt: number;
}

export interface StartRunOptions {
  name: string;
  kind?: string;
  /** Default: this process's command line. */
  command?: string;
  config?: Record<string, unknown>;
  seed?: number | null;
  dataset?: string | null;
  datasetChecksum?: string | null;
  logdir?: string | null;
  modelDir?: string | null;
  /** The parent run's id (or a unique prefix). */
  parent?: string | null;
  /** How this run derives from its parent: 'fine-tuned-from', 'compressed-from', 'resumed-from', …. */
  relation?: string | null;
  /** The folder whose git commit is recorded (default: the working folder); false records none. */
  gitDir?: string | false;
}

export interface ListRunsOptions {
  status?: RunStatus | RunStatus[];
  /** Exact name (recipe). */
  name?: string;
  kind?: string;
  /** Runs started at or after this time (Unix seconds). */
  since?: number;
  /** Children of this run. */
  parent?: string;
  /** Newest first; at most this many (default all). */
  limit?: number;
}

/** Runs side by side: every config key and final metric, one value per run (null where absent). */
export interface Comparison {
  runs: RunRecord[];
  config: { key: string; values: unknown[]; differs: boolean }[];
  metrics: { key: string; values: (number | null)[] }[];
}
