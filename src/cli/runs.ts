// `ingot runs list|show|compare|rm`: the runs the run store recorded (every `ingot train`, and
// programs using ingot.tracking), as tables or --json.
import * as ingot from "../index.js";
import { parseCli, reportError, UsageError } from "./recipes/common.js";
import { bytes, formatNumber, formatPairs, formatTable } from "./progress-table.js";

type RunRecord = ingot.tracking.RunRecord;

export const RUNS_HELP = `Usage: ingot runs <command> [options]

Commands:
  list                    the runs, newest first (--status S, --name NAME, --limit N)
  show <id>               one run: command, config, git commit, dataset, metrics, artefacts, lineage
  compare <id> <id> …     config and final metrics side by side, with the differences (--all: every setting)
  rm <id> …               delete runs' records (their model folders and logs stay on disk)

A run id may be shortened to a unique prefix; 'latest' is the newest run.

Options:
  --db FILE    the run store (default $INGOT_HOME/runs.db, INGOT_HOME defaulting to ~/.ingot)
  --json       print JSON instead of tables
  -h, --help   show this help

Example: ingot runs list --limit 5   ·   ingot runs compare 3f2a 8b1d
`;

const STATUSES = ["running", "finished", "failed", "killed"];

/** `2026-11-23 09:45:12` in local time. */
function when(t: number): string {
  const d = new Date(t * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
function duration(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.round((s % 3600) / 60)).padStart(2, "0")} min`;
}

const seconds = (r: RunRecord) => (r.endedAt ?? r.updatedAt) - r.startedAt;

/** The one or two metrics a list row shows: test metrics first, else the last loss. */
function headline(final: Record<string, number>): string {
  const keys = ["test_accuracy", "test_loss"].filter((k) => k in final);
  if (keys.length === 0) keys.push(...["val_accuracy", "val_loss", "accuracy", "loss"].filter((k) => k in final).slice(0, 2));
  return keys.map((k) => `${k} ${formatNumber(final[k])}`).join(", ");
}

/** A setting as it was given (0.001, not 0.0010); `asMetric` rounds as the metric tables do. */
function valueText(v: unknown, asMetric = false): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return asMetric ? formatNumber(v) : String(v);
  return typeof v === "string" ? v : JSON.stringify(v);
}

function list(store: ingot.tracking.RunStore, v: Record<string, unknown>): string {
  const status = v.status as string | undefined;
  if (status !== undefined && !STATUSES.includes(status)) throw new UsageError(`ingot runs list: --status must be one of ${STATUSES.join(", ")}, got '${status}'`);
  const limit = v.limit === undefined ? undefined : Number(v.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw new UsageError(`ingot runs list: --limit must be an integer ≥ 1, got '${v.limit}'`);
  const runs = store.listRuns({ status: status as ingot.tracking.RunStatus | undefined, name: v.name as string | undefined, limit });
  if (v.json) return JSON.stringify(runs.map((r) => ({ ...r, final_metrics: store.finalMetrics(r.id) }))) + "\n";
  if (runs.length === 0) return `no runs in ${store.path} yet; every 'ingot train' records one\n`;
  const rows = runs.map((r) => [r.id, r.name, r.dataset ?? "—", r.status, when(r.startedAt), duration(seconds(r)), headline(store.finalMetrics(r.id))]);
  return formatTable(["id", "name", "dataset", "status", "started", "took", "metrics"], rows);
}

function show(store: ingot.tracking.RunStore, ref: string, json: boolean): string {
  const r = store.getRun(ref);
  const final = store.finalMetrics(r.id);
  const series: Record<string, [number, number][]> = {};
  for (const m of store.metrics(r.id)) (series[m.key] ??= []).push([m.step, m.value]);
  for (const s of Object.values(series)) s.sort((a, b) => a[0] - b[0]);
  const artifacts = store.artifacts(r.id);
  const lineage = store.lineage(r.id);
  const children = store.listRuns({ parent: r.id });
  if (json) return JSON.stringify({ ...r, final_metrics: final, metrics: series, artifacts, lineage: lineage.map((p) => p.id), children: children.map((c) => c.id) }) + "\n";
  const pairs: [string, string][] = [
    ["run", `${r.id}  ${r.name} (${r.kind}), ${r.status}`],
    ["command", r.command ?? "—"],
    ["started", `${when(r.startedAt)} on ${r.host} (pid ${r.pid}), ${r.status === "running" ? "running for" : "took"} ${duration(seconds(r))}`],
    ["git", r.gitCommit ? `${r.gitCommit}${r.gitBranch ? ` (${r.gitBranch})` : " (detached)"}` : "—"],
    ["seed", r.seed === null ? "—" : String(r.seed)],
    ["dataset", r.dataset ? `${r.dataset}${r.datasetChecksum ? `  ${r.datasetChecksum}` : ""}` : "—"],
    ["model", r.modelDir ?? "—"],
  ];
  if (r.logdir) pairs.push(["tensorboard", `tensorboard --logdir ${r.logdir}`]);
  if (lineage.length) pairs.push(["lineage", `${[r.id, ...lineage.map((p) => p.id)].join(" ← ")}${r.relation ? `  (${r.relation})` : ""}`]);
  if (children.length) pairs.push(["children", children.map((c) => `${c.id} (${c.relation ?? "derived"})`).join(", ")]);
  if (r.error) pairs.push(["error", r.error]);
  let out = formatPairs(pairs);
  const cfg = Object.entries(r.config);
  if (cfg.length) out += `\nconfig\n${formatPairs(cfg.map(([k, v]) => [`  ${k}`, valueText(v)]))}`;
  const keys = Object.keys(series).sort();
  if (keys.length || Object.keys(final).length) {
    const rows = [...new Set([...keys, ...Object.keys(final)])].sort().map((k) => {
      const s = series[k] ?? [];
      return [k, k in final ? final[k] : "—", s.length ? String(s.length) : "—", s.length ? `${s[0][0]}–${s[s.length - 1][0]}` : "—"];
    });
    out += `\n${formatTable(["metric", "final", "points", "steps"], rows)}`;
  }
  if (artifacts.length) out += `\n${formatTable(["artefact", "kind", "size", "path"], artifacts.map((a) => [a.name, a.kind, a.bytes === null ? "—" : bytes(a.bytes), a.path]))}`;
  return out;
}

/** `+0.0123` / `−0.0071`, or — when either side is missing. */
function delta(a: number | null, b: number | null): string {
  if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b)) return "—";
  const d = b - a;
  return d === 0 ? "0" : `${d > 0 ? "+" : "−"}${formatNumber(Math.abs(d))}`;
}

function compare(store: ingot.tracking.RunStore, refs: string[], all: boolean, json: boolean): string {
  if (refs.length < 2) throw new UsageError("ingot runs compare: name two runs or more, e.g. ingot runs compare 3f2a 8b1d");
  const c = store.compare(refs);
  if (json)
    return (
      JSON.stringify({
        runs: c.runs.map((r) => r.id),
        config: c.config.filter((row) => all || row.differs),
        metrics: c.metrics.map((m) => ({ ...m, delta: m.values.map((v) => (v === null || m.values[0] === null ? null : v - m.values[0])) })),
      }) + "\n"
    );
  const ids = c.runs.map((r) => r.id);
  const two = ids.length === 2;
  const extra = two ? [`Δ (${ids[1].slice(0, 4)} − ${ids[0].slice(0, 4)})`] : [];
  const shown = c.config.filter((row) => all || row.differs);
  const hidden = c.config.length - shown.length;
  const rows: (string | number)[][] = [["name", ...c.runs.map((r) => r.name), ...(two ? [""] : [])], ["status", ...c.runs.map((r) => r.status), ...(two ? [""] : [])]];
  for (const row of shown) rows.push([row.key, ...row.values.map((x) => valueText(x)), ...(two ? [""] : [])]);
  let out = formatTable(["setting", ...ids, ...extra], rows);
  if (hidden > 0) out += `(${hidden} identical setting${hidden === 1 ? "" : "s"} hidden; --all shows them)\n`;
  if (c.metrics.length === 0) return out + "\nno metrics recorded for these runs\n";
  const mrows = c.metrics.map((m) => [m.key, ...m.values.map((x) => valueText(x, true)), ...(two ? [delta(m.values[0], m.values[1])] : [])]);
  return `${out}\n${formatTable(["final metric", ...ids, ...extra], mrows)}`;
}

export async function run(args: string[]): Promise<number> {
  try {
    const { values: v, positionals } = parseCli("ingot runs", args, {
      db: { type: "string" },
      json: { type: "boolean", default: false },
      all: { type: "boolean", default: false },
      status: { type: "string" },
      name: { type: "string" },
      limit: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    });
    const [sub, ...ids] = positionals;
    if (v.help || sub === undefined || sub === "help") {
      process.stdout.write(RUNS_HELP);
      return v.help || sub === "help" ? 0 : 2;
    }
    if (!["list", "ls", "show", "compare", "rm"].includes(sub)) throw new UsageError(`ingot runs: unknown command '${sub}'; the commands are list, show, compare, rm`);
    if ((sub === "list" || sub === "ls") && ids.length) throw new UsageError(`ingot runs list takes no run ids; use 'ingot runs show ${ids[0]}'`);
    if ((sub === "show" && ids.length !== 1) || (sub === "rm" && ids.length === 0)) throw new UsageError(`ingot runs ${sub}: name ${sub === "show" ? "one run" : "the runs to delete"} by id (see 'ingot runs list')`);
    const store = ingot.tracking.RunStore.open(v.db ?? ingot.tracking.defaultRunsDb());
    try {
      let out: string;
      if (sub === "show") out = show(store, ids[0], v.json);
      else if (sub === "compare") out = compare(store, ids, v.all, v.json);
      else if (sub === "rm") {
        const gone = ids.map((id) => store.resolveId(id)).map((id) => store.deleteRun(id));
        out = v.json ? JSON.stringify({ deleted: gone.map((r) => r.id) }) + "\n" : gone.map((r) => `deleted run ${r.id} (${r.name}, ${r.status}); its files stay${r.modelDir ? ` in ${r.modelDir}` : ""}\n`).join("");
      } else out = list(store, v);
      process.stdout.write(out);
    } finally {
      store.close();
    }
    return 0;
  } catch (e) {
    return reportError("ingot runs", e);
  }
}
