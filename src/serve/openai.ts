// OpenAI-compatible routes for language models: GET /v1/models, POST /v1/completions and
// /v1/chat/completions, streamed as server-sent events (`data: {json}\n\n` … `data: [DONE]\n\n`)
// exactly as the openai clients read them. API reference: https://platform.openai.com/docs/api-reference
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply } from "fastify";
import { QueueFullError } from "./batcher.js";
import { type Entry, findModel, requestSignal, type ServeContext } from "./context.js";
import { ApiError, badRequest, overloaded } from "./errors.js";
import { type GenerationParams, generateText, type GenerationTotals } from "./generation.js";
import type { LanguageModel } from "./models.js";

export type Message = { role: string; content: string | { type: string; text?: string }[] | null };

interface CommonBody {
  model: string;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number | null;
  repetition_penalty?: number | null;
  n?: number | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  stop?: string | string[] | null;
  seed?: number | null;
  logprobs?: unknown;
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
}
interface CompletionBody extends CommonBody {
  prompt: string | string[];
  echo?: boolean | null;
}
interface ChatBody extends CommonBody {
  messages: Message[];
  max_completion_tokens?: number | null;
}

const nullable = (s: Record<string, unknown>) => ({ anyOf: [s, { type: "null" }] });
const commonProps = {
  model: { type: "string" },
  max_tokens: nullable({ type: "integer", minimum: 1 }),
  temperature: nullable({ type: "number", minimum: 0, maximum: 2 }),
  top_p: nullable({ type: "number", exclusiveMinimum: 0, maximum: 1 }),
  top_k: nullable({ type: "integer", minimum: 1 }),
  repetition_penalty: nullable({ type: "number", exclusiveMinimum: 0 }),
  n: nullable({ type: "integer", minimum: 1, maximum: 16 }),
  stream: nullable({ type: "boolean" }),
  stream_options: nullable({ type: "object" }),
  stop: { anyOf: [{ type: "string", minLength: 1 }, { type: "array", maxItems: 4, items: { type: "string", minLength: 1 } }, { type: "null" }] },
  seed: nullable({ type: "integer" }),
  frequency_penalty: nullable({ type: "number" }),
  presence_penalty: nullable({ type: "number" }),
};
const completionSchema = {
  body: {
    type: "object",
    required: ["model", "prompt"],
    properties: { ...commonProps, prompt: { anyOf: [{ type: "string" }, { type: "array", minItems: 1, maxItems: 1, items: { type: "string" } }] }, echo: nullable({ type: "boolean" }) },
  },
};
const chatSchema = {
  body: {
    type: "object",
    required: ["model", "messages"],
    properties: {
      ...commonProps,
      max_completion_tokens: nullable({ type: "integer", minimum: 1 }),
      messages: {
        type: "array",
        minItems: 1,
        items: { type: "object", required: ["role"], properties: { role: { type: "string" }, content: { anyOf: [{ type: "string" }, { type: "array" }, { type: "null" }] } } },
      },
    },
  },
};

/** Chat turns as text: "System: …\nUser: …\nAssistant: …\n" then "Assistant:", which the model continues. */
export function chatPrompt(messages: Message[]): string {
  const label = (role: string) => role.charAt(0).toUpperCase() + role.slice(1);
  const text = (m: Message, i: number) => {
    if (typeof m.content === "string" || m.content == null) return m.content ?? "";
    return m.content
      .map((part) => {
        if (part?.type !== "text" || typeof part.text !== "string") throw badRequest(`messages[${i}].content holds a '${String(part?.type)}' part; only text parts are supported`, `messages[${i}].content`);
        return part.text;
      })
      .join("");
  };
  return messages.map((m, i) => `${label(m.role)}: ${text(m, i)}\n`).join("") + "Assistant:";
}
/** Chat replies end where the model starts the user's next turn. */
export const CHAT_STOP = "\nUser:";

/** What a prompt hook sees: the endpoint, the model, the request's text prompt and (chat) its messages. */
export interface PromptHookInput {
  endpoint: "completions" | "chat";
  model: LanguageModel;
  /** The prompt as the server would send it to the model (for chat: the messages in the chat template). */
  prompt: string;
  /** Chat only: the request's messages. */
  messages?: Message[];
}
/**
 * Rewrites a request's prompt before it is tokenized (retrieval-augmented generation, a system
 * prompt, a model's own template); returning undefined keeps it. An error it throws is the request's.
 */
export type PromptHook = (input: PromptHookInput) => string | undefined | Promise<string | undefined>;

async function hooked(ctx: ServeContext, input: PromptHookInput): Promise<string> {
  return (ctx.promptHook ? await ctx.promptHook(input) : undefined) ?? input.prompt;
}

function paramsOf(ctx: ServeContext, b: CommonBody, maxTokens: number | null | undefined, defaultMax: number, extraStop: string[]): GenerationParams {
  if (b.logprobs != null && b.logprobs !== false) throw badRequest("logprobs are not supported by this server", "logprobs");
  for (const k of ["frequency_penalty", "presence_penalty"] as const)
    if (b[k] != null && b[k] !== 0) throw badRequest(`${k} is not supported; use repetition_penalty (> 1 discourages repeats)`, k);
  const max = maxTokens ?? defaultMax;
  if (max > ctx.config.maxTokensLimit) throw badRequest(`max_tokens is ${max}, above this server's limit of ${ctx.config.maxTokensLimit}`, "max_tokens");
  const stop = b.stop == null ? [] : typeof b.stop === "string" ? [b.stop] : b.stop;
  return {
    maxTokens: max,
    temperature: b.temperature ?? 1,
    topP: b.top_p ?? null,
    topK: b.top_k ?? null,
    repetitionPenalty: b.repetition_penalty ?? 1,
    stop: [...stop, ...extraStop],
    seed: b.seed ?? null,
    n: b.n ?? 1,
  };
}

function encodePrompt(lm: LanguageModel, text: string, param: string): number[] {
  let ids: number[];
  try {
    ids = lm.tokenizer.encode(text);
  } catch (e) {
    throw badRequest(`model '${lm.name}' cannot tokenize the ${param}: ${(e as Error).message}`, param);
  }
  if (!ids.length) {
    const start = lm.tokenizer.bosTokenId ?? lm.tokenizer.eosTokenId;
    if (start === undefined) throw badRequest(`the ${param} is empty and model '${lm.name}' has no start token to begin from; send some text`, param);
    ids = [start];
  }
  return ids;
}

/** What differs between the two endpoints. */
interface Flavor {
  object: string;
  chunkObject: string;
  idPrefix: string;
  /** A finished choice in the non-streamed response. */
  choice(index: number, text: string, finish: string | null): unknown;
  /** A streamed piece of a choice (its text, or its end with the finish reason). */
  chunk(index: number, text: string, finish: string | null): unknown;
  /** The chunk that opens a streamed choice, if the endpoint has one (chat: the role). */
  opening?(index: number): unknown;
}

const completionFlavor: Flavor = {
  object: "text_completion",
  chunkObject: "text_completion",
  idPrefix: "cmpl-",
  choice: (index, text, finish) => ({ index, text, logprobs: null, finish_reason: finish }),
  chunk: (index, text, finish) => ({ index, text, logprobs: null, finish_reason: finish }),
};
const chatFlavor: Flavor = {
  object: "chat.completion",
  chunkObject: "chat.completion.chunk",
  idPrefix: "chatcmpl-",
  choice: (index, text, finish) => ({ index, message: { role: "assistant", content: text }, logprobs: null, finish_reason: finish }),
  chunk: (index, text, finish) => ({ index, delta: finish ? {} : { content: text }, logprobs: null, finish_reason: finish }),
  opening: (index) => ({ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }),
};

const sse = (v: unknown) => `data: ${JSON.stringify(v)}\n\n`;

/** Runs one request: waits for a generation slot (429 when the queue is full), then answers or streams. */
async function complete(ctx: ServeContext, reply: FastifyReply, entry: Entry, prompt: number[], p: GenerationParams, stream: boolean, includeUsage: boolean, f: Flavor): Promise<unknown> {
  const lm = entry.model as LanguageModel;
  const { signal, done } = requestSignal(ctx, reply, lm.name);
  let release: () => void;
  try {
    release = await entry.gate!.acquire(signal);
  } catch (e) {
    done();
    if (e instanceof QueueFullError) {
      ctx.metrics.rejected.inc({ model: lm.name });
      throw overloaded(`model '${lm.name}' has ${e.depth} generations waiting (--max-queue ${ctx.config.maxQueue}); retry after the Retry-After seconds`, 1);
    }
    throw e;
  }
  const id = f.idPrefix + randomUUID().replace(/-/g, "");
  const created = Math.floor(Date.now() / 1000);
  const base = { id, object: f.chunkObject, created, model: lm.name, system_fingerprint: null };
  const totals: GenerationTotals = { completionTokens: 0 };
  const usage = () => ({ prompt_tokens: prompt.length, completion_tokens: totals.completionTokens, total_tokens: prompt.length + totals.completionTokens });
  ctx.metrics.promptTokens.inc({ model: lm.name }, prompt.length);
  let counted = 0;
  const count = () => {
    ctx.metrics.countTokens(lm.name, totals.completionTokens - counted);
    counted = totals.completionTokens;
  };
  const finish = () => {
    count();
    done();
    release();
  };

  if (!stream) {
    const texts = Array.from({ length: p.n }, () => "");
    const reasons: (string | null)[] = Array.from({ length: p.n }, () => null);
    try {
      for await (const d of generateText(lm, prompt, p, totals, signal)) {
        texts[d.index] += d.text;
        if (d.finishReason) reasons[d.index] = d.finishReason;
        count();
      }
      if (signal.aborted) throw signal.reason;
    } finally {
      finish();
    }
    return { id, object: f.object, created, model: lm.name, system_fingerprint: null, choices: texts.map((t, i) => f.choice(i, t, reasons[i] ?? "length")), usage: usage() };
  }

  async function* events(): AsyncGenerator<string> {
    try {
      if (f.opening) for (let i = 0; i < p.n; i++) yield sse({ ...base, choices: [f.opening(i)] });
      for await (const d of generateText(lm, prompt, p, totals, signal)) {
        count();
        if (d.text) yield sse({ ...base, choices: [f.chunk(d.index, d.text, null)] });
        if (d.finishReason) yield sse({ ...base, choices: [f.chunk(d.index, "", d.finishReason)] });
      }
      if (signal.aborted) {
        const e = signal.reason instanceof ApiError ? signal.reason : new ApiError(500, String(signal.reason), "server_error");
        yield sse(e.body());
        return;
      }
      if (includeUsage) yield sse({ ...base, choices: [], usage: usage() });
      yield "data: [DONE]\n\n";
    } finally {
      finish();
    }
  }
  reply.header("content-type", "text/event-stream; charset=utf-8").header("cache-control", "no-cache").header("x-accel-buffering", "no");
  return reply.send(Readable.from(events(), { objectMode: false }));
}

/** The language model a request names, or 404 / 400 (a predictor). */
function languageModel(ctx: ServeContext, name: unknown): [Entry, LanguageModel] {
  const entry = findModel(ctx, name);
  const m = entry.model;
  if (m.kind !== "language-model") throw badRequest(`model '${m.name}' is a ${m.kind}, not a language model; use POST /v1/models/${m.name}/predict`, "model", "wrong_endpoint");
  return [entry, m];
}

export function openaiRoutes(app: FastifyInstance, ctx: ServeContext): void {
  const modelObject = (name: string) => {
    const m = ctx.models.get(name)!.model;
    return { id: m.name, object: "model", created: m.created, owned_by: "ingot", kind: m.kind };
  };
  app.get("/v1/models", async () => ({ object: "list", data: ctx.models.names.filter((n) => ctx.models.get(n)).map(modelObject) }));
  app.get<{ Params: { name: string } }>("/v1/models/:name", async (req) => modelObject(findModel(ctx, req.params.name, "name").model.name));

  app.post<{ Body: CompletionBody }>("/v1/completions", { schema: completionSchema }, async (req, reply) => {
    const b = req.body;
    const [entry, lm] = languageModel(ctx, b.model);
    if (b.echo) throw badRequest("echo is not supported by this server", "echo");
    const text = await hooked(ctx, { endpoint: "completions", model: lm, prompt: typeof b.prompt === "string" ? b.prompt : b.prompt[0] });
    const prompt = encodePrompt(lm, text, "prompt");
    const p = paramsOf(ctx, b, b.max_tokens, 16, []);
    return complete(ctx, reply, entry, prompt, p, b.stream ?? false, b.stream_options?.include_usage ?? false, completionFlavor);
  });

  app.post<{ Body: ChatBody }>("/v1/chat/completions", { schema: chatSchema }, async (req, reply) => {
    const b = req.body;
    const [entry, lm] = languageModel(ctx, b.model);
    const text = await hooked(ctx, { endpoint: "chat", model: lm, prompt: chatPrompt(b.messages), messages: b.messages });
    const prompt = encodePrompt(lm, text, "messages");
    const p = paramsOf(ctx, b, b.max_completion_tokens ?? b.max_tokens, 256, [CHAT_STOP]);
    return complete(ctx, reply, entry, prompt, p, b.stream ?? false, b.stream_options?.include_usage ?? false, chatFlavor);
  });
}
