// POST /v1/models/{name}/predict: a batch of examples in, the model's outputs (and, for classifiers,
// the predicted class of each row) out. Rows from concurrent requests share one forward (batcher.ts).
import type { FastifyInstance } from "fastify";
import { DynamicBatcher, QueueFullError } from "./batcher.js";
import { type Entry, findModel, type PredictItem, requestSignal, type ServeContext } from "./context.js";
import { badRequest, overloaded } from "./errors.js";
import type { Predictor } from "./models.js";

const shapeStr = (s: number[]) => `[${s.join(",")}]`;

/** The nested-array shape of x (following first elements), [] for a number. */
function nestedShape(x: unknown): number[] {
  const s: number[] = [];
  for (let c = x; Array.isArray(c); c = c[0]) s.push(c.length);
  return s;
}

/** Writes the numbers of x (of exactly this shape) to out from pos; returns the next position. */
function fill(x: unknown, shape: number[], depth: number, out: Float32Array, pos: number, where: string): number {
  if (depth === shape.length) {
    if (typeof x !== "number") throw badRequest(`${where} is ${JSON.stringify(x)?.slice(0, 40)}, not a number`, "inputs");
    out[pos] = x;
    return pos + 1;
  }
  if (!Array.isArray(x) || x.length !== shape[depth]) throw badRequest(`${where} must be a list of ${shape[depth]}, got ${Array.isArray(x) ? `a list of ${x.length}` : JSON.stringify(x)?.slice(0, 40)} (the examples are not rectangular)`, "inputs");
  for (let i = 0; i < x.length; i++) pos = fill(x[i], shape, depth + 1, out, pos, `${where}[${i}]`);
  return pos;
}

/**
 * The examples of a request as rows × features float32, with the card's preprocessing applied.
 * Each example has the model's input shape, or is flat (features numbers), or a number when features is 1.
 */
export function parseInputs(m: Predictor, inputs: unknown, preprocess = true): PredictItem {
  if (!Array.isArray(inputs) || !inputs.length)
    throw badRequest(`'inputs' must be a non-empty list of examples, each of shape ${shapeStr(m.inputShape)} (or ${m.features} numbers); a single example is [example]`, "inputs");
  const rows = inputs.length;
  const data = new Float32Array(rows * m.features);
  for (let r = 0; r < rows; r++) {
    const got = nestedShape(inputs[r]);
    const flat = [m.features];
    const shape = got.length === m.inputShape.length && got.every((d, i) => d === m.inputShape[i]) ? m.inputShape : got.length === 1 && got[0] === m.features ? flat : got.length === 0 && m.features === 1 ? [] : null;
    if (!shape)
      throw badRequest(
        `inputs[${r}] has shape ${shapeStr(got)}, but model '${m.name}' takes examples of shape ${shapeStr(m.inputShape)}${m.inputShape.length > 1 ? ` (or ${m.features} numbers flat)` : ""}; send a list of examples, even for one`,
        "inputs",
      );
    fill(inputs[r], shape, 0, data, r * m.features, `inputs[${r}]`);
  }
  if (preprocess && m.divide !== null) for (let i = 0; i < data.length; i++) data[i] /= m.divide;
  return { data, rows };
}

/** The batcher of a predictor: concatenates the requests' rows, runs one forward, splits the outputs. */
export function predictBatcher(ctx: ServeContext, m: Predictor): DynamicBatcher<PredictItem, Float32Array> {
  const { maxBatch, maxWaitMs, maxQueue } = ctx.config;
  return new DynamicBatcher<PredictItem, Float32Array>(
    (items) => {
      const rows = items.reduce((a, it) => a + it.rows, 0);
      let x = items[0].data;
      if (items.length > 1) {
        x = new Float32Array(rows * m.features);
        let pos = 0;
        for (const it of items) {
          x.set(it.data, pos);
          pos += it.data.length;
        }
      }
      const y = m.forward(x, rows);
      const w = y.length / rows;
      let row = 0;
      return items.map((it) => {
        const out = y.subarray(row * w, (row + it.rows) * w);
        row += it.rows;
        return out;
      });
    },
    (it) => it.rows,
    {
      maxBatch,
      maxWaitMs,
      maxQueue,
      onBatch: (rows, requests) => {
        ctx.metrics.batchSize.observe({ model: m.name }, rows);
        ctx.metrics.batchRequests.observe({ model: m.name }, requests);
      },
      onDepth: (d) => ctx.metrics.queueDepth.set({ model: m.name }, d),
    },
  );
}

const predictSchema = {
  params: { type: "object", properties: { name: { type: "string" } } },
  body: {
    type: "object",
    required: ["inputs"],
    properties: {
      inputs: { type: "array", minItems: 1 },
      preprocess: { type: "boolean" },
    },
  },
} as const;

/** The response of a predict request. */
export interface PredictResponse {
  model: string;
  outputs: number[][];
  predictions?: number[];
}

export function predictRoutes(app: FastifyInstance, ctx: ServeContext): void {
  app.post<{ Params: { name: string }; Body: { inputs: unknown[]; preprocess?: boolean } }>("/v1/models/:name/predict", { schema: predictSchema }, async (req, reply) => {
    const entry: Entry = findModel(ctx, req.params.name, "name");
    const m = entry.model;
    if (m.kind !== "predictor") throw badRequest(`model '${m.name}' is a language model; use POST /v1/completions or /v1/chat/completions`, "name", "wrong_endpoint");
    const item = parseInputs(m, req.body.inputs, req.body.preprocess ?? true);
    const { signal, done } = requestSignal(ctx, reply, m.name);
    let y: Float32Array;
    try {
      y = await entry.batcher!.submit(item, signal);
    } catch (e) {
      if (e instanceof QueueFullError) {
        ctx.metrics.rejected.inc({ model: m.name });
        throw overloaded(`model '${m.name}' has ${e.depth} requests waiting (--max-queue ${ctx.config.maxQueue}); retry after the Retry-After seconds`, Math.max(1, ctx.config.maxWaitMs / 1000));
      }
      throw e;
    } finally {
      done();
    }
    const w = y.length / item.rows;
    const outputs: number[][] = [];
    for (let r = 0; r < item.rows; r++) outputs.push(Array.from(y.subarray(r * w, (r + 1) * w)));
    const res: PredictResponse = { model: m.name, outputs };
    if (m.task === "classification") res.predictions = outputs.map((o) => (o.length === 1 ? (o[0] >= 0.5 ? 1 : 0) : o.indexOf(Math.max(...o))));
    return res;
  });
}
