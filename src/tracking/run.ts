// ActiveRun: the handle of a run in progress. It logs metrics and artefacts, ends the run, and if
// the process ends first (an exception, process.exit, Ctrl-C, kill) marks it failed or killed.
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { atExit, type ExitReason } from "../tensorboard/exit-hooks.js";
import { sha256File } from "./checksum.js";
import type { RunStore } from "./run-store.js";
import { type Statement, TrackingError } from "./sqlite.js";
import type { RunRecord, RunStatus } from "./types.js";

export const now = (): number => Date.now() / 1000;

function folderBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? folderBytes(p) : e.isFile() ? statSync(p).size : 0;
  }
  return n;
}

export class ActiveRun {
  private ended = false;
  private readonly cancelExitHook: () => void;
  private logStatements: { ins: Statement; touch: Statement } | null = null;

  constructor(
    readonly store: RunStore,
    readonly id: string,
  ) {
    this.cancelExitHook = atExit((reason) => this.onExit(reason));
  }

  /** The run's record as stored now. */
  get record(): RunRecord {
    return this.store.getRun(this.id);
  }

  /** Whether finish() or fail() was called. */
  get isEnded(): boolean {
    return this.ended;
  }

  private check(what: string): void {
    if (this.ended) throw new TrackingError(`run ${this.id}: ${what} after the run ended`);
  }

  /** Logs values at a step (an epoch, or a batch count), in one transaction; a value logged again at the same step replaces it. */
  log(values: Record<string, number>, step: number, wallTime: number = now()): void {
    this.check("log");
    if (!Number.isSafeInteger(step)) throw new TrackingError(`run ${this.id}: log's step must be an integer, got ${step}`);
    // Prepared once: compiling the statements costs more than running them.
    this.logStatements ??= {
      // REPLACE deletes the old row and inserts a new one, so the value also gets a new (larger) seq.
      ins: this.store.db.prepare("INSERT OR REPLACE INTO metrics (run_id, key, step, value, wall_time) VALUES (?, ?, ?, ?, ?)"),
      touch: this.store.db.prepare("UPDATE runs SET updated_at = ? WHERE id = ?"),
    };
    const { ins, touch } = this.logStatements;
    this.store.db.transaction(() => {
      for (const [k, v] of Object.entries(values)) {
        if (typeof v !== "number") throw new TrackingError(`run ${this.id}: metric '${k}' must be a number, got ${typeof v}`);
        ins.run(this.id, k, step, v, wallTime);
      }
      touch.run(wallTime, this.id);
    })();
  }

  /** Records a file or folder the run produced (size, and SHA-256 for a file). */
  logArtifact(name: string, path: string, opts: { kind?: string } = {}): void {
    const abs = resolve(path);
    const st = statSync(abs);
    const isDir = st.isDirectory();
    this.store.db
      .prepare("INSERT OR REPLACE INTO artifacts (run_id, name, kind, path, bytes, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(this.id, name, opts.kind ?? (isDir ? "folder" : "file"), abs, isDir ? folderBytes(abs) : st.size, isDir ? null : sha256File(abs), now());
  }

  /** Sets fields known after the start: the model folder, the TensorBoard folder, the dataset and its checksum. */
  set(fields: { modelDir?: string; logdir?: string; dataset?: string; datasetChecksum?: string }): void {
    const cols: Record<string, string | undefined> = {
      model_dir: fields.modelDir && resolve(fields.modelDir),
      logdir: fields.logdir && resolve(fields.logdir),
      dataset: fields.dataset,
      dataset_checksum: fields.datasetChecksum,
    };
    const set = Object.entries(cols).filter(([, v]) => v !== undefined);
    if (set.length === 0) return;
    this.store.db.prepare(`UPDATE runs SET ${set.map(([k]) => `${k} = ?`).join(", ")}, updated_at = ? WHERE id = ?`).run(...set.map(([, v]) => v), now(), this.id);
  }

  /** Merges keys into the run's config. */
  updateConfig(config: Record<string, unknown>): void {
    const cur = JSON.parse((this.store.db.prepare("SELECT config FROM runs WHERE id = ?").get(this.id) as { config: string }).config) as Record<string, unknown>;
    this.store.db.prepare("UPDATE runs SET config = ? WHERE id = ?").run(JSON.stringify({ ...cur, ...config }), this.id);
  }

  private end(status: RunStatus, summary: Record<string, number> | undefined, error: string | null): void {
    const t = now();
    const cur = JSON.parse((this.store.db.prepare("SELECT summary FROM runs WHERE id = ?").get(this.id) as { summary: string } | undefined)?.summary ?? "{}") as Record<string, number>;
    this.store.db
      .prepare("UPDATE runs SET status = ?, summary = ?, error = ?, ended_at = ?, updated_at = ? WHERE id = ?")
      .run(status, JSON.stringify({ ...cur, ...(summary ?? {}) }), error, t, t, this.id);
    this.ended = true;
    this.cancelExitHook();
  }

  /** Ends the run as finished, with its final metrics. */
  finish(summary?: Record<string, number>): void {
    this.check("finish");
    this.end("finished", summary, null);
  }

  /** Ends the run as failed (or 'killed'), recording why. */
  fail(error: unknown, status: "failed" | "killed" = "failed"): void {
    if (this.ended) return;
    const msg = error instanceof Error ? error.message : String(error);
    this.end(status, undefined, msg);
  }

  private onExit(reason: ExitReason): void {
    if (this.ended || !this.store.db.open) return;
    if (reason.kind === "signal") this.end("killed", undefined, `stopped by ${reason.signal}`);
    else this.end("failed", undefined, `the process exited (code ${reason.code}) before the run finished`);
  }
}
