// The inference server: fastify with JSON-schema validation, API keys, CORS, OpenAI-shaped errors,
// health/readiness/metrics routes, model reload without dropping requests, and a graceful close.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from "fastify";
import cors from "@fastify/cors";
import { AccessControl, type ApiKeySpec, type KeyEntry, readKeysFile } from "./access.js";
import { Gate } from "./batcher.js";
import type { Entry, ServeConfig, ServeContext } from "./context.js";
import { ApiError, badRequest, notFound, unauthorized } from "./errors.js";
import { PROMETHEUS_CONTENT_TYPE, serverMetrics, type ServerMetrics } from "./metrics.js";
import { ModelRegistry, type ModelSource, parseModelArg, type ServedModel } from "./models.js";
import { openaiRoutes, type PromptHook } from "./openai.js";
import { predictBatcher, predictRoutes } from "./predict.js";

export interface ServeOptions {
  /** Model folders: "dir", "name=dir", or {name, dir}. */
  models: (string | ModelSource)[];
  host?: string;
  /** 0 picks a free port (see the URL listen() returns). Default 8080. */
  port?: number;
  /** Bearer keys, each alone or with {models, rpm, burst}; when any are given (here or in apiKeysFile), every /v1 and /admin route needs one. */
  apiKeys?: ApiKeySpec[];
  /** A file of keys, one per line: KEY [models=a,b] [rpm=N] [burst=N] ('#' starts a comment); read again on reload. */
  apiKeysFile?: string | null;
  /** Rows per forward at most (predictors). Default 32. */
  maxBatch?: number;
  /** How long a request waits for others to share its forward, in ms. Default 5. */
  maxWaitMs?: number;
  /** Requests that may wait per model; one more gets 429. Default 256. */
  maxQueue?: number;
  /** A request that has not finished after this many ms gets 504 (and its work stops). Default 60000. */
  timeoutMs?: number;
  /** Generations of one language model running at once, interleaved token by token. Default 8. */
  maxGenerations?: number;
  /** The largest max_tokens a request may ask for. Default 4096. */
  maxTokensLimit?: number;
  /** Allowed browser origins ("*", or a comma-separated list); null: no CORS headers. */
  cors?: string | null;
  /** The largest request body in bytes; larger ones get 413. Default 8 MiB. */
  bodyLimit?: number;
  /** Where the server logs (startup, reloads, errors). Default stderr. */
  log?: (line: string) => void;
  /** Rewrites the prompt of /v1/completions and /v1/chat/completions before tokenization (e.g. retrieval). */
  promptHook?: PromptHook;
}

export interface ReloadResult {
  name: string;
  ok: boolean;
  error?: string;
}

/** A created server: listen, reload, close. */
export interface IngotServer {
  app: FastifyInstance;
  models: ModelRegistry<Entry>;
  metrics: ServerMetrics;
  config: ServeConfig;
  /** Starts listening; resolves with the base URL (http://host:port). */
  listen(): Promise<string>;
  /** Loads model folders (all when none are named) and the keys file again; requests in flight finish on the old versions. */
  reload(names?: string[]): ReloadResult[];
  /** Graceful shutdown: stop accepting, run what is queued, wait for requests in flight, close. */
  close(): Promise<void>;
  readonly closing: boolean;
}

const OPEN_ROUTES = new Set(["/healthz", "/readyz", "/metrics"]);

function positive(name: string, v: number, min = 1): number {
  if (!Number.isInteger(v) || v < min) throw new Error(`ingot serve: ${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

/**
 * Creates a server for the model folders (loaded now; a folder that does not load is an error).
 * @example const s = await createServer({ models: ["runs/mnist-mlp"], port: 0 }); const url = await s.listen();
 */
export async function createServer(opts: ServeOptions): Promise<IngotServer> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const config: ServeConfig = {
    maxBatch: positive("--max-batch", opts.maxBatch ?? 32),
    maxWaitMs: positive("--max-wait-ms", opts.maxWaitMs ?? 5, 0),
    maxQueue: positive("--max-queue", opts.maxQueue ?? 256, 0),
    timeoutMs: positive("--timeout-ms", opts.timeoutMs ?? 60_000),
    maxGenerations: positive("--max-generations", opts.maxGenerations ?? 8),
    maxTokensLimit: positive("maxTokensLimit", opts.maxTokensLimit ?? 4096),
  };
  const bodyLimit = positive("--max-body-bytes", opts.bodyLimit ?? 8 * 1024 * 1024);
  if (!opts.models.length) throw new Error("ingot serve: pass at least one model folder");
  const sources = opts.models.map((m) => (typeof m === "string" ? parseModelArg(m) : m));
  const metrics = serverMetrics();
  const ctx = { config, metrics, promptHook: opts.promptHook } as ServeContext;
  const gates = new Map<string, Gate>();
  const wrap = (m: ServedModel): Entry => {
    metrics.modelInfo.set({ model: m.name, kind: m.kind }, 1);
    if (m.kind === "predictor") return { model: m, batcher: predictBatcher(ctx, m) };
    let gate = gates.get(m.name);
    if (!gate) {
      gate = new Gate(config.maxGenerations, config.maxQueue, (active, waiting) => {
        metrics.activeGenerations.set({ model: m.name }, active);
        metrics.queueDepth.set({ model: m.name }, waiting);
      });
      gates.set(m.name, gate);
    }
    return { model: m, gate };
  };
  ctx.models = new ModelRegistry<Entry>(sources, wrap);
  ctx.models.loadAll();

  // Keys are compared as SHA-256 digests in constant time; each may carry model scopes and a rate (access.ts).
  const access = new AccessControl();
  const loadKeys = () => access.setKeys([...(opts.apiKeys ?? []), ...(opts.apiKeysFile ? readKeysFile(opts.apiKeysFile) : [])]);
  loadKeys();
  const keyOf = new WeakMap<FastifyRequest, KeyEntry>();

  let closing = false;
  const app = Fastify({
    logger: false,
    bodyLimit,
    return503OnClosing: true,
    forceCloseConnections: "idle",
    // No type coercion or silent removal: a wrong type is a 400 that names the field.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
  });
  if (opts.cors) await app.register(cors, { origin: opts.cors === "*" ? "*" : opts.cors.split(",").map((s) => s.trim()), maxAge: 600 });

  app.addHook("onRequest", async (req) => {
    metrics.inflight.inc();
    if (!access.size || req.method === "OPTIONS" || OPEN_ROUTES.has(req.url.split("?")[0])) return;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    if (!m) throw unauthorized("this server needs an API key: send the header 'Authorization: Bearer KEY'");
    const key = access.find(m[1]);
    if (!key) throw unauthorized("the API key is not valid for this server");
    access.charge(key); // 429 with Retry-After when the key's rate is spent
    keyOf.set(req, key);
  });
  // Model scopes: checked once the body is parsed (the model is in the path or in body.model), before validation.
  app.addHook("preValidation", async (req) => {
    const key = keyOf.get(req);
    if (!key) return;
    if (req.url.startsWith("/admin")) return access.checkAdmin(key);
    const model = (req.params as { name?: unknown } | undefined)?.name ?? (req.body as { model?: unknown } | null | undefined)?.model;
    if (typeof model === "string") access.checkModel(key, model);
  });
  // While closing, every response ends its connection, so that the drain does not wait on keep-alive.
  app.addHook("onSend", async (_req, reply, payload) => {
    if (closing) reply.header("connection", "close");
    return payload;
  });
  app.addHook("onResponse", async (req, reply) => {
    metrics.inflight.dec();
    const route = req.routeOptions.url ?? "unmatched";
    metrics.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else if (err.validation) {
      const v = err.validation[0];
      const param = (v?.instancePath ?? "").replace(/^\//, "").replace(/\//g, ".") || ((v?.params as { missingProperty?: string })?.missingProperty ?? null);
      e = badRequest(`invalid request: ${err.validationContext ?? "body"}${v?.instancePath ? v.instancePath.replace(/\//g, ".") : ""} ${v?.message ?? err.message}`, param, "invalid_value");
    } else if (err.statusCode === 413) e = new ApiError(413, `the request body is larger than ${bodyLimit} bytes (--max-body-bytes); send fewer examples per request`, "invalid_request_error", "request_too_large");
    else if (err.code === "FST_ERR_CTP_INVALID_JSON_BODY" || err instanceof SyntaxError) e = badRequest(`the request body is not valid JSON: ${err.message}`, null, "invalid_json");
    else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) e = new ApiError(err.statusCode, err.message, "invalid_request_error", err.code ?? null);
    else {
      log(`ingot serve: ${req.method} ${req.url} failed: ${err.stack ?? err.message}`);
      e = new ApiError(500, `the server failed: ${err.message}`, "server_error");
    }
    if (reply.raw.headersSent) return;
    void reply.code(e.status).headers(e.headers).send(e.body());
  });
  app.setNotFoundHandler((req, reply) => {
    const e = notFound(`no route ${req.method} ${req.url.split("?")[0]}; see GET /v1/models, POST /v1/models/{name}/predict, /v1/completions, /v1/chat/completions`, null, "not_found");
    void reply.code(404).send(e.body());
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const loaded = ctx.models.names.every((n) => ctx.models.get(n));
    if (closing || !loaded) return reply.code(503).send({ status: closing ? "closing" : "loading" });
    return { status: "ready", models: ctx.models.names };
  });
  app.get("/metrics", async (_req, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(metrics.registry.expose()));

  const reload = (names?: string[]): ReloadResult[] => {
    const results = ctx.models.reload(names);
    for (const r of results) {
      metrics.reloads.inc({ model: r.name, result: r.ok ? "ok" : "error" });
      log(r.ok ? `ingot serve: reloaded '${r.name}'` : `ingot serve: could not reload '${r.name}' (the old version keeps serving): ${r.error}`);
    }
    if (opts.apiKeysFile) {
      try {
        loadKeys();
      } catch (e) {
        log(`${(e as Error).message}; keeping the old keys`);
      }
    }
    return results;
  };
  app.post<{ Body: { models?: string[] } | null }>(
    "/admin/reload",
    { schema: { body: { anyOf: [{ type: "null" }, { type: "object", properties: { models: { type: "array", items: { type: "string" } } } }] } } },
    async (req) => {
      const names = req.body?.models;
      const unknown = (names ?? []).filter((n) => !ctx.models.names.includes(n));
      if (unknown.length) throw notFound(`no model named ${unknown.map((n) => `'${n}'`).join(", ")}; loaded: ${ctx.models.names.join(", ")}`, "models");
      const results = reload(names);
      const failed = results.filter((r) => !r.ok);
      if (failed.length) throw new ApiError(500, `reload failed (the old versions keep serving): ${failed.map((r) => r.error).join("; ")}`, "server_error", "reload_failed");
      return { reloaded: results.map((r) => r.name) };
    },
  );

  predictRoutes(app, ctx);
  openaiRoutes(app, ctx);

  let closed: Promise<void> | null = null;
  return {
    app,
    models: ctx.models,
    metrics,
    config,
    get closing() {
      return closing;
    },
    async listen() {
      return app.listen({ host: opts.host ?? "127.0.0.1", port: opts.port ?? 8080 });
    },
    reload,
    close() {
      closed ??= (async () => {
        closing = true;
        // Queued predict requests run now instead of waiting out --max-wait-ms.
        const drained = Promise.all(ctx.models.list().map((e) => e.batcher?.drain()));
        // Requests in flight get until their own timeout; after that their connections are cut.
        const force = setTimeout(() => app.server.closeAllConnections(), config.timeoutMs + 1000);
        // Keep-alive connections whose requests have finished are closed as they become idle (fastify
        // closes the idle ones only once, at the start, and its keep-alive timeout is 72 s).
        const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
        await app.close();
        await drained;
        clearTimeout(force);
        clearInterval(sweep);
      })();
      return closed;
    },
  };
}
