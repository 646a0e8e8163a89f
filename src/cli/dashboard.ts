// `ingot dashboard`: serves the dashboard of the run store on a local port until Ctrl-C.
import { createDashboard } from "../dashboard/index.js";
import { defaultRunsDb } from "../tracking/run-store.js";
import { parseCli, reportError, UsageError } from "./recipes/common.js";

export const DASHBOARD_HELP = `Usage: ingot dashboard [options]

A local web page of the recorded runs ($INGOT_HOME/runs.db): a table with filters (status, name,
tag), charts of any metric for the runs you tick, updating while they train, and each run's config,
model card, compression report, data-quality reports and profile. The run store is only read.

Options:
  --port N             the port (default 8265; 0 picks a free one)
  --host HOST          the interface (default 127.0.0.1, this machine only; 0.0.0.0 exposes it)
  --db FILE            the run store (default $INGOT_HOME/runs.db, INGOT_HOME defaulting to ~/.ingot)
  --data-report FILE   a data-quality report (ingot data check --json) to show; repeat for more
  --poll-ms N          how often the page refreshes (default 1500)
  -h, --help           show this help

Example: ingot dashboard --port 8265   then open http://127.0.0.1:8265
`;

export async function run(args: string[]): Promise<number> {
  try {
    const { values: v, positionals } = parseCli("ingot dashboard", args, {
      port: { type: "string" },
      host: { type: "string" },
      db: { type: "string" },
      "data-report": { type: "string", multiple: true },
      "poll-ms": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    });
    if (v.help) {
      process.stdout.write(DASHBOARD_HELP);
      return 0;
    }
    if (positionals.length) throw new UsageError(`ingot dashboard: unexpected argument '${positionals[0]}'; see ingot dashboard --help`);
    const port = v.port === undefined ? 8265 : Number(v.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`ingot dashboard: --port must be an integer in 0–65535, got '${v.port}'`);
    const pollMs = v["poll-ms"] === undefined ? 1500 : Number(v["poll-ms"]);
    if (!Number.isInteger(pollMs) || pollMs < 100) throw new UsageError(`ingot dashboard: --poll-ms must be an integer ≥ 100, got '${v["poll-ms"]}'`);
    const db = v.db ?? defaultRunsDb();
    const dash = createDashboard({ db, host: v.host ?? "127.0.0.1", port, pollMs, dataReports: (v["data-report"] as string[] | undefined) ?? [] });
    const url = await dash.listen();
    process.stdout.write(`ingot dashboard: ${url}  (run store ${db}; Ctrl-C stops it)\n`);
    await new Promise<void>((done) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        void dash.close().then(done);
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    return 0;
  } catch (e) {
    return reportError("ingot dashboard", e);
  }
}
