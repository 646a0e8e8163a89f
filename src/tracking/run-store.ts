// The run store: every training run (config, seed, git commit, dataset checksum, metrics per step,
// artefacts, model folder, lineage) in one SQLite database, ~/.ingot/runs.db (INGOT_HOME moves it).
// WAL journaling and one transaction per write keep it consistent when a process dies mid-run.
import { mkdirSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { datasetChecksum, type HashCache } from "./checksum.js";
import { gitInfo } from "./git.js";
import { ActiveRun, now } from "./run.js";
import { type Database, sqlite, TrackingError } from "./sqlite.js";
import type { Artifact, Comparison, ListRunsOptions, MetricPoint, RunRecord, RunStatus, StartRunOptions } from "./types.js";

/** Ingot's own folder: INGOT_HOME, else ~/.ingot. */
export function ingotHome(): string {
  return resolve(process.env.INGOT_HOME || join(homedir(), ".ingot"));
}

/** Where the run store lives by default: <ingotHome>/runs.db. */
export function defaultRunsDb(): string {
  return join(ingotHome(), "runs.db");
}

const SCHEMA_VERSION = 1;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'killed')),
  command TEXT,
  config TEXT NOT NULL DEFAULT '{}',
  seed INTEGER,
  git_commit TEXT,
  git_branch TEXT,
  dataset TEXT,
  dataset_checksum TEXT,
  model_dir TEXT,
  logdir TEXT,
  parent_id TEXT REFERENCES runs(id) ON DELETE SET NULL,
  relation TEXT,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  started_at REAL NOT NULL,
  ended_at REAL,
  updated_at REAL NOT NULL,
  error TEXT,
  summary TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
CREATE INDEX IF NOT EXISTS runs_parent ON runs (parent_id);
CREATE TABLE IF NOT EXISTS metrics (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  wall_time REAL NOT NULL,
  UNIQUE (run_id, key, step)
);
CREATE TABLE IF NOT EXISTS artifacts (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  path TEXT NOT NULL,
  bytes INTEGER,
  sha256 TEXT,
  created_at REAL NOT NULL,
  PRIMARY KEY (run_id, name)
);
CREATE TABLE IF NOT EXISTS file_hashes (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ms REAL NOT NULL, sha256 TEXT NOT NULL);
`;

interface RunRow {
  id: string;
  name: string;
  kind: string;
  status: RunStatus;
  command: string | null;
  config: string;
  seed: number | null;
  git_commit: string | null;
  git_branch: string | null;
  dataset: string | null;
  dataset_checksum: string | null;
  model_dir: string | null;
  logdir: string | null;
  parent_id: string | null;
  relation: string | null;
  host: string;
  pid: number;
  started_at: number;
  ended_at: number | null;
  updated_at: number;
  error: string | null;
  summary: string;
}

function toRecord(r: RunRow): RunRecord {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    status: r.status,
    command: r.command,
    config: JSON.parse(r.config) as Record<string, unknown>,
    seed: r.seed,
    gitCommit: r.git_commit,
    gitBranch: r.git_branch,
    dataset: r.dataset,
    datasetChecksum: r.dataset_checksum,
    modelDir: r.model_dir,
    logdir: r.logdir,
    parentId: r.parent_id,
    relation: r.relation,
    host: r.host,
    pid: r.pid,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    updatedAt: r.updated_at,
    error: r.error,
    summary: JSON.parse(r.summary) as Record<string, number>,
  };
}

/** Whether a process of this machine is alive (EPERM: it is, but belongs to someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The run store. Open one with `RunStore.open()` (default ~/.ingot/runs.db, INGOT_HOME moves it),
 * start runs with `startRun`, read them with `listRuns`, `getRun`, `metrics`, `compare`.
 * @example
 * const store = ingot.tracking.RunStore.open();
 * const run = store.startRun({ name: "my-mlp", config: { lr: 1e-3 }, seed: 0 });
 * run.log({ loss: 0.31 }, 1);
 * run.finish({ test_accuracy: 0.97 });
 */
export class RunStore {
  readonly path: string;
  /** The SQLite connection (better-sqlite3), for readers that need a query this class lacks. */
  readonly db: Database;

  private constructor(path: string, db: Database) {
    this.path = path;
    this.db = db;
  }

  /** Opens (creating if needed) the store at `path` (default: defaultRunsDb()). */
  static open(path: string = defaultRunsDb()): RunStore {
    const Db = sqlite();
    const abs = resolve(path);
    let db: Database;
    try {
      mkdirSync(dirname(abs), { recursive: true });
      db = new Db(abs, { timeout: 5000 });
      db.pragma("journal_mode = WAL");
      // NORMAL in WAL mode: a commit survives the process dying; only a power loss can undo the last ones.
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      db.exec(SCHEMA);
    } catch (e) {
      throw new TrackingError(`cannot open the run store ${abs}: ${(e as Error).message}; set INGOT_HOME to a writable folder`);
    }
    const v = (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined)?.value;
    if (v === undefined) db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
    else if (Number(v) > SCHEMA_VERSION) throw new TrackingError(`the run store ${abs} has schema version ${v}, newer than this Ingot understands (${SCHEMA_VERSION}); upgrade Ingot`);
    return new RunStore(abs, db);
  }

  /** True for a store opened with openReadonly (a dashboard): it never writes. */
  readonly = false;

  /**
   * Opens an existing store read-only (the dashboard): no schema is created and reads do not mark
   * dead runs failed (see isDead). Throws a TrackingError when the file does not exist.
   */
  static openReadonly(path: string = defaultRunsDb()): RunStore {
    const Db = sqlite();
    const abs = resolve(path);
    let db: Database;
    try {
      db = new Db(abs, { readonly: true, fileMustExist: true, timeout: 5000 });
    } catch (e) {
      throw new TrackingError(`cannot open the run store ${abs} read-only: ${(e as Error).message}; every 'ingot train' creates it, or pass the right file`);
    }
    const store = new RunStore(abs, db);
    store.readonly = true;
    return store;
  }

  /** Whether a 'running' run's process is gone (this machine only): what reconcile() would mark failed. */
  isDead(run: RunRecord): boolean {
    return run.status === "running" && run.host === hostname() && run.pid !== process.pid && !alive(run.pid);
  }

  /** Starts a run (status 'running'); the returned handle logs to it and ends it. */
  startRun(opts: StartRunOptions): ActiveRun {
    if (!opts || typeof opts.name !== "string" || !opts.name) throw new TrackingError("startRun: a run needs a name (the recipe or program), e.g. {name: 'mnist-mlp'}");
    const parent = opts.parent ? this.resolveId(opts.parent) : null;
    const git = opts.gitDir === false ? null : gitInfo(opts.gitDir ?? process.cwd());
    const t = now();
    for (let attempt = 0; ; attempt++) {
      const id = randomBytes(4).toString("hex");
      try {
        this.db
          .prepare(
            `INSERT INTO runs (id, name, kind, status, command, config, seed, git_commit, git_branch, dataset, dataset_checksum, model_dir, logdir, parent_id, relation, host, pid, started_at, updated_at)
             VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            id,
            opts.name,
            opts.kind ?? "train",
            opts.command ?? process.argv.slice(1).join(" "),
            JSON.stringify(opts.config ?? {}),
            opts.seed ?? null,
            git?.commit ?? null,
            git?.branch ?? null,
            opts.dataset ?? null,
            opts.datasetChecksum ?? null,
            opts.modelDir ?? null,
            opts.logdir ?? null,
            parent,
            opts.relation ?? (parent ? "derived-from" : null),
            hostname(),
            process.pid,
            t,
            t,
          );
        return new ActiveRun(this, id);
      } catch (e) {
        // An id collision (1 in 4 billion per pair) is retried; anything else is real.
        if (attempt < 3 && /UNIQUE constraint failed: runs\.id/.test((e as Error).message)) continue;
        throw e;
      }
    }
  }

  /** The full id of a run from its id, a unique prefix of it, or 'latest'; throws a TrackingError naming the candidates. */
  resolveId(ref: string): string {
    if (ref === "latest" || ref === "last") {
      const r = this.db.prepare("SELECT id FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1").get() as { id: string } | undefined;
      if (!r) throw new TrackingError(`no runs in ${this.path} yet`);
      return r.id;
    }
    if (!/^[0-9a-f]{1,8}$/i.test(ref)) throw new TrackingError(`'${ref}' is not a run id (8 hex digits, or a unique prefix; see 'ingot runs list')`);
    const rows = this.db.prepare("SELECT id FROM runs WHERE id LIKE ? ORDER BY id LIMIT 6").all(`${ref.toLowerCase()}%`) as { id: string }[];
    if (rows.length === 1) return rows[0].id;
    if (rows.length === 0) throw new TrackingError(`no run '${ref}' in ${this.path}; see 'ingot runs list'`);
    throw new TrackingError(`'${ref}' matches several runs (${rows.map((r) => r.id).join(", ")}${rows.length > 5 ? ", …" : ""}); give more digits`);
  }

  /**
   * Marks 'running' runs of this machine whose process is gone (killed with SIGKILL, power cut) as
   * failed; returns how many. Reads call it, so a dead run never shows as running.
   */
  reconcile(): number {
    if (this.readonly) return 0;
    const rows = this.db.prepare("SELECT id, pid FROM runs WHERE status = 'running' AND host = ?").all(hostname()) as { id: string; pid: number }[];
    let n = 0;
    for (const r of rows) {
      if (r.pid === process.pid || alive(r.pid)) continue;
      n += this.db
        .prepare("UPDATE runs SET status = 'failed', error = ?, ended_at = updated_at WHERE id = ? AND status = 'running'")
        .run(`its process (pid ${r.pid}) ended without finishing the run (killed, or it crashed)`, r.id).changes;
    }
    return n;
  }

  /** Runs, newest first, filtered. */
  listRuns(opts: ListRunsOptions = {}): RunRecord[] {
    this.reconcile();
    const where: string[] = [];
    const params: unknown[] = [];
    if (opts.status !== undefined) {
      const s = Array.isArray(opts.status) ? opts.status : [opts.status];
      where.push(`status IN (${s.map(() => "?").join(", ")})`);
      params.push(...s);
    }
    if (opts.name !== undefined) (where.push("name = ?"), params.push(opts.name));
    if (opts.kind !== undefined) (where.push("kind = ?"), params.push(opts.kind));
    if (opts.since !== undefined) (where.push("started_at >= ?"), params.push(opts.since));
    if (opts.parent !== undefined) (where.push("parent_id = ?"), params.push(this.resolveId(opts.parent)));
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY started_at DESC, rowid DESC${opts.limit ? " LIMIT ?" : ""}`;
    if (opts.limit) params.push(opts.limit);
    return (this.db.prepare(sql).all(...params) as RunRow[]).map(toRecord);
  }

  /** One run by id, prefix or 'latest'. */
  getRun(ref: string): RunRecord {
    this.reconcile();
    return toRecord(this.db.prepare("SELECT * FROM runs WHERE id = ?").get(this.resolveId(ref)) as RunRow);
  }

  /** A run's logged values in the order they were written; `afterSeq` returns only newer ones (for live views). */
  metrics(ref: string, opts: { keys?: string[]; afterSeq?: number } = {}): MetricPoint[] {
    const id = this.resolveId(ref);
    const params: unknown[] = [id, opts.afterSeq ?? 0];
    let sql = "SELECT seq, key, step, value, wall_time FROM metrics WHERE run_id = ? AND seq > ?";
    if (opts.keys?.length) {
      sql += ` AND key IN (${opts.keys.map(() => "?").join(", ")})`;
      params.push(...opts.keys);
    }
    const rows = this.db.prepare(`${sql} ORDER BY seq`).all(...params) as { seq: number; key: string; step: number; value: number | null; wall_time: number }[];
    return rows.map((r) => ({ seq: r.seq, key: r.key, step: r.step, value: r.value ?? NaN, wallTime: r.wall_time }));
  }

  /** Each metric's value at its highest step. */
  lastMetrics(ref: string): Record<string, { step: number; value: number }> {
    const id = this.resolveId(ref);
    const rows = this.db
      .prepare("SELECT m.key, m.step, m.value FROM metrics m JOIN (SELECT key, MAX(step) AS step FROM metrics WHERE run_id = ? GROUP BY key) l ON m.key = l.key AND m.step = l.step WHERE m.run_id = ? ORDER BY m.key")
      .all(id, id) as { key: string; step: number; value: number | null }[];
    return Object.fromEntries(rows.map((r) => [r.key, { step: r.step, value: r.value ?? NaN }]));
  }

  /** The final metrics of a run: its summary, plus the last value of each logged metric the summary lacks. */
  finalMetrics(ref: string): Record<string, number> {
    const run = this.getRun(ref);
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.lastMetrics(run.id))) out[k] = v.value;
    return { ...out, ...run.summary };
  }

  artifacts(ref: string): Artifact[] {
    const rows = this.db.prepare("SELECT name, kind, path, bytes, sha256, created_at FROM artifacts WHERE run_id = ? ORDER BY created_at, name").all(this.resolveId(ref)) as {
      name: string;
      kind: string;
      path: string;
      bytes: number | null;
      sha256: string | null;
      created_at: number;
    }[];
    return rows.map((r) => ({ name: r.name, kind: r.kind, path: r.path, bytes: r.bytes, sha256: r.sha256, createdAt: r.created_at }));
  }

  /** The chain of parents of a run, nearest first. */
  lineage(ref: string): RunRecord[] {
    const out: RunRecord[] = [];
    const seen = new Set<string>();
    let cur = this.getRun(ref).parentId;
    while (cur && !seen.has(cur)) {
      seen.add(cur);
      const row = this.db.prepare("SELECT * FROM runs WHERE id = ?").get(cur) as RunRow | undefined;
      if (!row) break;
      out.push(toRecord(row));
      cur = row.parent_id;
    }
    return out;
  }

  /** Runs side by side: config keys (flattened with dots) and final metrics. */
  compare(refs: string[]): Comparison {
    if (refs.length < 1) throw new TrackingError("compare: name at least one run");
    const runs = refs.map((r) => this.getRun(r));
    const flat = runs.map((r) => flatten({ ...r.config, seed: r.seed, dataset: r.dataset, dataset_checksum: r.datasetChecksum, git_commit: r.gitCommit }));
    const configKeys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
    const config = configKeys.map((key) => {
      const values = flat.map((f) => (key in f ? f[key] : null));
      return { key, values, differs: new Set(values.map((v) => JSON.stringify(v))).size > 1 };
    });
    const finals = runs.map((r) => this.finalMetrics(r.id));
    const metricKeys = [...new Set(finals.flatMap((f) => Object.keys(f)))].sort();
    return { runs, config, metrics: metricKeys.map((key) => ({ key, values: finals.map((f) => (key in f ? f[key] : null)) })) };
  }

  /** Deletes a run's record, metrics and artefact list (not its files); its children keep existing, without a parent. */
  deleteRun(ref: string): RunRecord {
    const run = this.getRun(ref);
    this.db.prepare("DELETE FROM runs WHERE id = ?").run(run.id);
    return run;
  }

  /** `sha256:<hex>` of a dataset's files, with per-file hashes cached here by path, size and mtime. */
  datasetChecksum(paths: string | string[]): string {
    return datasetChecksum(paths, this.hashCache);
  }

  private readonly hashCache: HashCache = {
    get: (path, size, mtimeMs) =>
      (this.db.prepare("SELECT sha256 FROM file_hashes WHERE path = ? AND size = ? AND mtime_ms = ?").get(resolve(path), size, mtimeMs) as { sha256: string } | undefined)?.sha256,
    set: (path, size, mtimeMs, sha256) => {
      this.db.prepare("INSERT OR REPLACE INTO file_hashes (path, size, mtime_ms, sha256) VALUES (?, ?, ?, ?)").run(resolve(path), size, mtimeMs, sha256);
    },
  };

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** {a: {b: 1}} → {"a.b": 1}; arrays stay values. */
function flatten(o: Record<string, unknown>, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(o)) {
    if (v && typeof v === "object" && !Array.isArray(v)) flatten(v as Record<string, unknown>, `${prefix}${k}.`, out);
    else if (v !== undefined) out[`${prefix}${k}`] = v;
  }
  return out;
}
