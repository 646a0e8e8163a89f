// `ingot serve <modelDir>...`: serves model folders over HTTP until SIGTERM/SIGINT (graceful: stop
// accepting, finish what is in flight, exit 0); SIGHUP reloads the folders and the keys file.
import * as ingot from "../index.js";
import { parseCli, reportError, UsageError } from "./recipes/common.js";

export const SERVE_HELP = `Usage: ingot serve <modelDir | name=modelDir>... [options]

Serves model folders written by 'ingot train', a keras model's save() or models.saveGPT:
  POST /v1/models/{name}/predict          classifiers and regressors: {"inputs": [...]} → {"outputs", "predictions"}
  GET  /v1/models, POST /v1/completions, POST /v1/chat/completions   language models, OpenAI-compatible
  GET  /healthz, /readyz, /metrics (Prometheus);  POST /admin/reload (behind the key)
A model's name is its folder's name, or NAME in name=modelDir.

Options:
  --host HOST            address to listen on (default 127.0.0.1; 0.0.0.0 in a container)
  --port N               port (default 8080; 0 picks a free one, printed at start)
  --api-key KEY          require 'Authorization: Bearer KEY' on /v1 and /admin routes (repeatable)
  --api-keys-file FILE   keys, one per line: KEY [models=a,b] [rpm=N] [burst=N] ('#' comments; a key with
                         models= gets 403 for other models, one with rpm= gets 429 past its rate); read again on SIGHUP
  --max-batch N          rows per forward when batching concurrent predict requests (default 32; 1 = no batching)
  --max-wait-ms N        how long a request waits for others to share its forward (default 5)
  --max-queue N          requests that may wait per model; beyond, 429 with Retry-After (default 256)
  --timeout-ms N         a request still running after N ms gets 504 and its work stops (default 60000)
  --max-generations N    generations of one language model running at once (default 8)
  --max-body-bytes N     largest request body; larger gets 413 (default 8388608)
  --cors ORIGIN          allow browsers from ORIGIN ('*' or a comma-separated list)
  -h, --help             show this help

Encrypted folders ('ingot encrypt') are decrypted in memory with INGOT_MODEL_KEY (the key, hex or
base64) or INGOT_MODEL_PASSPHRASE; a folder with a manifest.json is checked against it at load.

Signals: SIGHUP reloads every model folder (requests in flight finish on the old version);
SIGTERM or SIGINT stops accepting connections, finishes requests in flight and exits 0.
`;

const INT_OPTIONS = ["port", "max-batch", "max-wait-ms", "max-queue", "timeout-ms", "max-generations", "max-body-bytes"] as const;

/** The options of `ingot serve` as createServer takes them. */
export function parseServeArgs(args: string[]): ingot.serve.ServeOptions | "help" {
  const { values: v, positionals } = parseCli("ingot serve", args, {
    host: { type: "string" },
    port: { type: "string" },
    "api-key": { type: "string", multiple: true },
    "api-keys-file": { type: "string" },
    "max-batch": { type: "string" },
    "max-wait-ms": { type: "string" },
    "max-queue": { type: "string" },
    "timeout-ms": { type: "string" },
    "max-generations": { type: "string" },
    "max-body-bytes": { type: "string" },
    cors: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  });
  if (v.help) return "help";
  if (!positionals.length) throw new UsageError("ingot serve: pass at least one model folder, e.g. ingot serve runs/mnist-mlp (see ingot serve --help)");
  const n: Partial<Record<(typeof INT_OPTIONS)[number], number>> = {};
  for (const k of INT_OPTIONS) {
    const s = v[k] as string | undefined;
    if (s === undefined) continue;
    const x = Number(s);
    const min = k === "port" || k === "max-wait-ms" || k === "max-queue" ? 0 : 1;
    if (!Number.isInteger(x) || x < min || (k === "port" && x > 65535)) throw new UsageError(`ingot serve: --${k} must be an integer ≥ ${min}, got '${s}'`);
    n[k] = x;
  }
  return {
    models: positionals,
    host: v.host,
    port: n.port,
    apiKeys: (v["api-key"] as string[] | undefined) ?? [],
    apiKeysFile: v["api-keys-file"] as string | undefined,
    maxBatch: n["max-batch"],
    maxWaitMs: n["max-wait-ms"],
    maxQueue: n["max-queue"],
    timeoutMs: n["timeout-ms"],
    maxGenerations: n["max-generations"],
    bodyLimit: n["max-body-bytes"],
    cors: v.cors as string | undefined,
  };
}

export async function run(args: string[]): Promise<number> {
  let server: ingot.serve.IngotServer;
  let stopped!: Promise<number>;
  try {
    const opts = parseServeArgs(args);
    if (opts === "help") {
      process.stdout.write(SERVE_HELP);
      return 0;
    }
    server = await ingot.serve.createServer(opts);
    // Signal handlers go in before the "listening" line: whoever reads it may signal at once.
    stopped = handleSignals(server);
    const url = await server.listen();
    const models = server.models.list().map((e) => `${e.model.name} (${e.model.kind})`);
    process.stdout.write(`ingot serve: listening on ${url} — models: ${models.join(", ")}; backend ${ingot.getBackend()}\n`);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith("ingot serve:")) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    if (e instanceof Error && "code" in e && (e.code === "EADDRINUSE" || e.code === "EACCES")) {
      process.stderr.write(`ingot serve: cannot listen: ${e.message}; pick another --port\n`);
      return 1;
    }
    return reportError("ingot serve", e);
  }
  return stopped;
}

/** SIGHUP reloads; SIGTERM/SIGINT close gracefully. Resolves with the exit code once closed. */
export function handleSignals(server: ingot.serve.IngotServer): Promise<number> {
  return new Promise<number>((resolve) => {
    process.on("SIGHUP", () => {
      process.stderr.write("ingot serve: SIGHUP: reloading model folders\n");
      server.reload();
    });
    const stop = (signal: string) => {
      if (server.closing) return;
      process.stderr.write(`ingot serve: ${signal}: no new connections; finishing ${server.metrics.inflight.get()} request(s) in flight\n`);
      server.close().then(
        () => {
          process.stderr.write("ingot serve: stopped\n");
          resolve(0);
        },
        (e: unknown) => {
          process.stderr.write(`ingot serve: shutdown failed: ${(e as Error).message}\n`);
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
  });
}
