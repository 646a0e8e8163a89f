// What the case-study apps share: their command line (--port, --host, --model-dir, --size, --retrain),
// where their trained models are cached, and starting `ingot serve`'s server programmatically with
// the app's page at "/" (fastify routes added to server.app before listen) and graceful signals.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { ParseArgsConfig } from "node:util";
import * as ingot from "../../src/index.js";
import { parseCli, UsageError } from "../../src/cli/recipes/common.js";
import { handleSignals } from "../../src/cli/serve.js";

/** The options every app takes. */
export interface AppOptions {
  host: string;
  port: number;
  /** The folder of the app's trained model(s); trained there on first start. */
  modelDir: string;
  size: "ci" | "full";
  /** Train again even when the model folder exists. */
  retrain: boolean;
  seed: number;
  /** The data root (INGOT_DATA or --data). */
  data: string | undefined;
}

export const COMMON_OPTIONS_HELP = `  --port N          port (default 8080; 0 picks a free one, printed at start)
  --host HOST       address to listen on (default 127.0.0.1)
  --model-dir DIR   where the trained model is kept (default $INGOT_HOME/apps/<app>, INGOT_HOME defaulting to ~/.ingot)
  --size ci|full    the training configuration used on first start (default ci: quick)
  --retrain         train again even if the model folder exists
  --seed N          seed of the training run (default 0)
  --data DIR        the data root holding fashion-mnist/, text-corpora/ (default INGOT_DATA)
  -h, --help        show this help`;

const COMMON = {
  port: { type: "string" },
  host: { type: "string" },
  "model-dir": { type: "string" },
  size: { type: "string" },
  retrain: { type: "boolean", default: false },
  seed: { type: "string" },
  data: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** The default model folder of an app: $INGOT_HOME/apps/<app> (INGOT_HOME defaults to ~/.ingot). */
export function defaultModelDir(app: string): string {
  return join(process.env.INGOT_HOME ?? join(homedir(), ".ingot"), "apps", app);
}

function intArg(app: string, name: string, raw: string | undefined, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return dflt;
  const x = Number(raw);
  if (!Number.isInteger(x) || x < min || x > max) throw new UsageError(`${app}: --${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  return x;
}

/** Parses an app's command line; `extra` adds app-specific options (returned in `values`). */
export function parseAppArgs<E extends NonNullable<ParseArgsConfig["options"]>>(app: string, args: string[], extra: E = {} as E) {
  const v = parseCli(app, args, { ...COMMON, ...extra }).values as Record<string, unknown>;
  if (v.help) return "help" as const;
  const size = (v.size as string | undefined) ?? "ci";
  if (size !== "ci" && size !== "full") throw new UsageError(`${app}: --size must be 'ci' or 'full', got '${size}'`);
  const opts: AppOptions = {
    host: (v.host as string | undefined) ?? "127.0.0.1",
    port: intArg(app, "port", v.port as string | undefined, 8080, 0, 65535),
    modelDir: resolve((v["model-dir"] as string | undefined) ?? defaultModelDir(app)),
    size,
    retrain: v.retrain as boolean,
    seed: intArg(app, "seed", v.seed as string | undefined, 0, 0),
    data: (v.data as string | undefined) ?? process.env.INGOT_DATA,
  };
  return { opts, values: v };
}

/** Whether a model folder is complete (config.json is written last). */
export const hasModel = (dir: string): boolean => existsSync(join(dir, "config.json"));

/** The shared look of the pages. */
export const PAGE_CSS = `
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f4f6fa; }
  body { max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
  h1 { font-size: 1.4rem; margin-bottom: .2rem; }
  .sub { color: #5b6477; margin-top: 0; }
  .card { background: #fff; border-radius: 10px; padding: 1rem 1.2rem; box-shadow: 0 1px 3px rgba(0,0,0,.08); margin: 1rem 0; }
  button { font: inherit; padding: .45rem 1rem; border: 0; border-radius: 6px; background: #2f5bea; color: #fff; cursor: pointer; }
  button:disabled { background: #9aa8d6; cursor: default; }
  input[type=text] { font: inherit; padding: .45rem .6rem; border: 1px solid #c9cfdb; border-radius: 6px; }
  .err { color: #b3261e; }
  footer { color: #8a93a5; font-size: .85rem; }
`;

/** A whole page: title, CSS, body and a module script. */
export function page(title: string, css: string, body: string, script: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${PAGE_CSS}${css}</style></head>
<body>${body}
<script type="module">${script}</script>
</body></html>
`;
}

/**
 * Serves the model folders with `ingot serve`'s server (predict and OpenAI routes, metrics, graceful
 * shutdown) plus the app's page at GET / and its own routes (fastify, added before listen), and prints `<app>: listening on URL` once it listens.
 * Resolves with the exit code when a signal has closed it.
 */
export async function serveApp(
  app: string,
  o: AppOptions,
  serveOptions: Omit<ingot.serve.ServeOptions, "host" | "port">,
  html: string,
  routes?: (server: ingot.serve.IngotServer) => void,
): Promise<number> {
  const server = await ingot.serve.createServer({ ...serveOptions, host: o.host, port: o.port });
  server.app.get("/", async (_req, reply) => reply.type("text/html; charset=utf-8").send(html));
  routes?.(server);
  const stopped = handleSignals(server);
  let url: string;
  try {
    url = await server.listen();
  } catch (e) {
    if (e instanceof Error && "code" in e && (e.code === "EADDRINUSE" || e.code === "EACCES")) {
      process.stderr.write(`${app}: cannot listen on port ${o.port}: ${e.message}; pick another --port\n`);
      await server.close();
      return 1;
    }
    throw e;
  }
  process.stdout.write(`${app}: listening on ${url} — open ${url}/ in a browser (backend ${ingot.getBackend()})\n`);
  return stopped;
}

/** Runs an app's main: usage errors print and exit 2, other errors print their message and exit 1. */
export function runMain(app: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error && e.message.startsWith(app) ? e.message : `${app}: ${e instanceof Error ? e.message : String(e)}`}\n`);
      if (!(e instanceof UsageError) && !(e instanceof ingot.IngotError) && process.env.INGOT_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
      process.exit(e instanceof UsageError ? 2 : 1);
    },
  );
}
