// What the route handlers share: the server's settings, its models (each with its batcher or
// generation gate), its metrics, and the per-request signal that ends work on timeout or disconnect.
import type { FastifyReply } from "fastify";
import type { DynamicBatcher, Gate } from "./batcher.js";
import { ApiError, notFound, timedOut } from "./errors.js";
import type { ServerMetrics } from "./metrics.js";
import type { ModelRegistry, ServedModel } from "./models.js";
import type { PromptHook } from "./openai.js";

/** The settings of a running server (defaults filled in). */
export interface ServeConfig {
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
  timeoutMs: number;
  /** Generations of one language model that run at once (interleaved token by token). */
  maxGenerations: number;
  /** The largest max_tokens a request may ask for. */
  maxTokensLimit: number;
}

/** One rows × features block of a predict request. */
export interface PredictItem {
  data: Float32Array;
  rows: number;
}

/** A loaded model and what the server attached to it. */
export interface Entry {
  model: ServedModel;
  /** Predictors: gathers concurrent requests into one forward. */
  batcher?: DynamicBatcher<PredictItem, Float32Array>;
  /** Language models: bounds the generations that run at once (shared across reloads). */
  gate?: Gate;
}

export interface ServeContext {
  config: ServeConfig;
  models: ModelRegistry<Entry>;
  metrics: ServerMetrics;
  /** ServeOptions.promptHook: rewrites completion and chat prompts before tokenization. */
  promptHook?: PromptHook;
}

/** The model of a request, or 404 naming the loaded ones. */
export function findModel(ctx: ServeContext, name: unknown, param = "model"): Entry {
  const entry = typeof name === "string" ? ctx.models.get(name) : undefined;
  if (!entry) throw notFound(`the model '${String(name)}' does not exist; loaded: ${ctx.models.names.join(", ") || "none"} (GET /v1/models lists them)`, param);
  return entry;
}

/**
 * An abort signal for one request: it aborts with a 504 ApiError after timeoutMs, or when the client
 * goes away before the response ends. `done` clears the timer (call it when the work ends).
 */
export function requestSignal(ctx: ServeContext, reply: FastifyReply, model: string): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  const timer = setTimeout(() => {
    ctx.metrics.timeouts.inc({ model });
    ac.abort(timedOut(ctx.config.timeoutMs));
  }, ctx.config.timeoutMs);
  const onClose = () => {
    if (!reply.raw.writableFinished) ac.abort(new ApiError(499, "the client closed the connection", "client_closed"));
  };
  reply.raw.once("close", onClose);
  return {
    signal: ac.signal,
    done: () => {
      clearTimeout(timer);
      reply.raw.off("close", onClose);
    },
  };
}
