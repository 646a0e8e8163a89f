// The dashboard's server: fastify serving one page (HTML, JS and CSS from string modules, so dist/
// needs no copy step) and a JSON API over the run store, opened read-only. The page polls the API
// (GET /api/runs, GET /api/metrics?after=SEQ) to update its table and charts while runs train.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { defaultRunsDb, RunStore } from "../tracking/run-store.js";
import { TrackingError } from "../tracking/sqlite.js";
import type { RunRecord } from "../tracking/types.js";
import { ValueError } from "../tensor/index.js";
import { PAGE_HTML } from "./page.js";
import { CLIENT_JS } from "./client.js";
import { STYLE_CSS } from "./style.js";
import { profileSummary, type ProfileSummary } from "./profile-summary.js";

export interface DashboardOptions {
  /** The run store (default $INGOT_HOME/runs.db). It is opened read-only, once it exists. */
  db?: string;
  host?: string;
  /** 0 picks a free port. Default 8265. */
  port?: number;
  /** Data-quality reports (JSON files: `ingot data check --json`, QualityReport.toJSON()) shown beside the runs. */
  dataReports?: string[];
  /** How often the page polls, in milliseconds (default 1500). */
  pollMs?: number;
}

export interface Dashboard {
  app: FastifyInstance;
  /** Starts listening; resolves with the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** A run as the runs table shows it. */
export interface RunRow {
  id: string;
  name: string;
  kind: string;
  status: string;
  dataset: string | null;
  startedAt: number;
  endedAt: number | null;
  updatedAt: number;
  parentId: string | null;
  relation: string | null;
  tags: string[];
  /** Metric keys with logged points (for the chart's menu). */
  keys: string[];
  final: Record<string, number | null>;
}

const STATUSES = ["running", "finished", "failed", "killed"];
/** Larger files are not read into the page (a whole-training trace can be hundreds of MB). */
const MAX_JSON_BYTES = 64 << 20;

/** JSON cannot carry NaN or ±∞: they become null. */
const num = (v: number) => (Number.isFinite(v) ? v : null);

function readJson(path: string): unknown {
  const size = statSync(path).size;
  if (size > MAX_JSON_BYTES) throw new ValueError(`${path} is ${Math.round(size / 2 ** 20)} MiB, more than the dashboard reads (64 MiB)`);
  return JSON.parse(readFileSync(path, "utf8")) as unknown;
}

/** The JSON of a file, or {error} saying why it could not be read. */
function tryJson(path: string): unknown {
  try {
    return readJson(path);
  } catch (e) {
    return { error: `cannot read ${path}: ${(e as Error).message}` };
  }
}

/** A run's tags: its kind, and config.tags when it lists strings. */
function tagsOf(r: RunRecord): string[] {
  const t = (r.config as { tags?: unknown }).tags;
  return [r.kind, ...(Array.isArray(t) ? t.filter((x): x is string => typeof x === "string") : [])];
}

export function createDashboard(opts: DashboardOptions = {}): Dashboard {
  const dbPath = opts.db ?? defaultRunsDb();
  const pollMs = opts.pollMs ?? 1500;
  if (!(pollMs >= 100)) throw new ValueError(`dashboard: pollMs must be ≥ 100, got ${pollMs}`);
  for (const f of opts.dataReports ?? []) if (!existsSync(f)) throw new ValueError(`dashboard: the data report ${f} does not exist; write one with 'ingot data check FILE --json > report.json'`);
  let store: RunStore | null = null;
  /** The store, opened read-only once its file exists (a dashboard may start before the first run). */
  const open = (): RunStore | null => {
    if (!store && existsSync(dbPath)) store = RunStore.openReadonly(dbPath);
    return store;
  };
  const profiles = new Map<string, { mtimeMs: number; summary: ProfileSummary | { error: string } }>();

  /** A run with a dead process shows as failed, as reconcile() would record it (the dashboard does not write). */
  const view = (s: RunStore, r: RunRecord): RunRecord =>
    s.isDead(r) ? { ...r, status: "failed", error: r.error ?? `its process (pid ${r.pid}) ended without finishing the run (killed, or it crashed)` } : r;

  const keysOf = (s: RunStore, id: string) =>
    (s.db.prepare("SELECT DISTINCT key FROM metrics WHERE run_id = ? ORDER BY key").all(id) as { key: string }[]).map((k) => k.key);

  const row = (s: RunStore, r: RunRecord): RunRow => ({
    id: r.id,
    name: r.name,
    kind: r.kind,
    status: r.status,
    dataset: r.dataset,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    updatedAt: r.updatedAt,
    parentId: r.parentId,
    relation: r.relation,
    tags: tagsOf(r),
    keys: keysOf(s, r.id),
    final: Object.fromEntries(Object.entries(s.finalMetrics(r.id)).map(([k, v]) => [k, num(v)])),
  });

  const profileOf = (path: string) => {
    try {
      const m = statSync(path).mtimeMs;
      const hit = profiles.get(path);
      if (hit && hit.mtimeMs === m) return hit.summary;
      const summary = profileSummary(readJson(path));
      profiles.set(path, { mtimeMs: m, summary });
      return summary;
    } catch (e) {
      return { error: `cannot read the profile ${path}: ${(e as Error).message}` };
    }
  };

  const app = Fastify({ logger: false });
  app.setErrorHandler((e, _req, reply) => {
    const err = e as Error & { statusCode?: number };
    const status = err instanceof TrackingError && /no run|not a run id|matches several/.test(err.message) ? 404 : err instanceof ValueError ? 400 : (err.statusCode ?? 500);
    void reply.status(status).send({ error: err.message });
  });

  app.get("/", (_req, reply) => reply.type("text/html; charset=utf-8").send(PAGE_HTML));
  app.get("/app.js", (_req, reply) => reply.type("text/javascript; charset=utf-8").send(CLIENT_JS));
  app.get("/style.css", (_req, reply) => reply.type("text/css; charset=utf-8").send(STYLE_CSS));
  app.get("/api/config", () => ({ db: dbPath, pollMs, dataReports: (opts.dataReports ?? []).length }));

  app.get<{ Querystring: { status?: string; q?: string; tag?: string; limit?: string } }>("/api/runs", (req) => {
    const s = open();
    if (!s) return { db: dbPath, runs: [], note: `no run store at ${dbPath} yet; every 'ingot train' creates it` };
    const statuses = req.query.status ? req.query.status.split(",").filter(Boolean) : [];
    for (const st of statuses) if (!STATUSES.includes(st)) throw new ValueError(`status must be one of ${STATUSES.join(", ")}, got '${st}'`);
    const limit = req.query.limit === undefined ? 500 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new ValueError(`limit must be an integer ≥ 1, got '${req.query.limit}'`);
    const q = (req.query.q ?? "").trim().toLowerCase();
    const tag = (req.query.tag ?? "").trim().toLowerCase();
    const runs = s
      .listRuns({ limit })
      .map((r) => view(s, r))
      .filter((r) => statuses.length === 0 || statuses.includes(r.status))
      .filter((r) => !q || [r.id, r.name, r.dataset ?? "", r.command ?? ""].some((f) => f.toLowerCase().includes(q)))
      .filter((r) => !tag || tagsOf(r).some((t) => t.toLowerCase() === tag));
    return { db: dbPath, runs: runs.map((r) => row(s, r)) };
  });

  app.get<{ Params: { id: string } }>("/api/run/:id", (req) => {
    const s = open();
    if (!s) throw new TrackingError(`no run '${req.params.id}': there is no run store at ${dbPath} yet`);
    const r = view(s, s.getRun(req.params.id));
    const artifacts = s.artifacts(r.id);
    const modelDir = r.modelDir ?? artifacts.find((a) => a.kind === "model")?.path ?? null;
    const cardPath = modelDir ? join(modelDir, "card.json") : null;
    const card = cardPath && existsSync(cardPath) ? (tryJson(cardPath) as Record<string, unknown>) : null;
    // What `ingot compress` leaves in the folder it writes: card.json's compression lineage and report.md.
    const reportMd = modelDir && existsSync(join(modelDir, "report.md")) ? readFileSync(join(modelDir, "report.md"), "utf8") : null;
    const compressionArtifacts = artifacts.filter((a) => a.kind === "compression-report" && existsSync(a.path) && !(reportMd !== null && a.path === join(modelDir!, "report.md"))).map((a) => ({ name: a.name, path: a.path, text: readFileSync(a.path, "utf8") }));
    const compression =
      card?.compression || reportMd || compressionArtifacts.length ? { lineage: (card?.compression as unknown[]) ?? [], report: reportMd, reports: compressionArtifacts } : null;
    const dataReports = artifacts.filter((a) => a.kind === "data-report" && existsSync(a.path)).map((a) => ({ name: a.name, path: a.path, report: tryJson(a.path) }));
    const profile = artifacts.filter((a) => a.kind === "profile" && existsSync(a.path)).map((a) => ({ name: a.name, path: a.path, summary: profileOf(a.path) }));
    return {
      run: r,
      keys: keysOf(s, r.id),
      final: Object.fromEntries(Object.entries(s.finalMetrics(r.id)).map(([k, v]) => [k, num(v)])),
      artifacts,
      lineage: s.lineage(r.id).map((p) => ({ id: p.id, name: p.name, relation: p.relation })),
      children: s.listRuns({ parent: r.id }).map((c) => ({ id: c.id, name: c.name, relation: c.relation })),
      card,
      compression,
      dataReports,
      profile,
    };
  });

  app.get<{ Querystring: { runs?: string; keys?: string; key?: string; after?: string } }>("/api/metrics", (req) => {
    const ids = (req.query.runs ?? "").split(",").filter(Boolean);
    if (ids.length === 0) throw new ValueError("name the runs: /api/metrics?runs=ID[,ID…][&keys=loss,val_loss][&after=SEQ]");
    const after = req.query.after === undefined ? 0 : Number(req.query.after);
    if (!Number.isInteger(after) || after < 0) throw new ValueError(`after must be an integer ≥ 0 (the largest seq already seen), got '${req.query.after}'`);
    const keysParam = req.query.keys ?? req.query.key;
    const keys = keysParam ? keysParam.split(",").filter(Boolean) : undefined;
    const s = open();
    if (!s) throw new TrackingError(`no run '${ids[0]}': there is no run store at ${dbPath} yet`);
    const points: Record<string, Record<string, [number, number | null, number][]>> = {};
    let seq = after;
    for (const ref of ids) {
      const id = s.resolveId(ref);
      const series: Record<string, [number, number | null, number][]> = (points[id] = {});
      for (const m of s.metrics(id, { keys, afterSeq: after })) {
        (series[m.key] ??= []).push([m.step, num(m.value), m.seq]);
        if (m.seq > seq) seq = m.seq;
      }
    }
    return { seq, points };
  });

  app.get("/api/data-reports", () => (opts.dataReports ?? []).map((path) => ({ name: path.split("/").pop(), path, report: tryJson(path) })));

  return {
    app,
    async listen() {
      await app.listen({ host: opts.host ?? "127.0.0.1", port: opts.port ?? 8265 });
      const addr = app.server.address();
      const port = typeof addr === "object" && addr ? addr.port : opts.port;
      const host = opts.host ?? "127.0.0.1";
      return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
    },
    async close() {
      await app.close();
      (store as RunStore | null)?.close();
      store = null;
    },
  };
}
