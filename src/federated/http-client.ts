// The federated client behind `ingot fl client`: registers with the server, long-polls for its
// rounds, trains locally, and posts its update (plain F32, or masked I32 words with secure aggregation).
import { Generator, IngotError } from "../tensor/index.js";
import { parseSafetensors } from "../io/safetensors.js";
import type { Module } from "../nn/module.js";
import { type ClientData, fitLocal, type LossFn } from "./client.js";
import { encodeVector, flattenState, layoutOf } from "./params.js";
import type { FitConfig } from "./strategy.js";
import type { DpOptions } from "./dp.js";
import { generateKeys } from "./secagg.js";
import { clientMessage } from "./aggregate.js";

export interface ClientOptions {
  server: string;
  clientId: number;
  data: ClientData;
  /** Builds the model from the spec the server announces (a recipe name or a folder). */
  buildModel: (spec: string) => Module;
  /** The training loss (default: sparse categorical cross-entropy on probabilities). */
  loss?: LossFn;
  seed?: number;
  /** Give up when the server has been unreachable for this long (seconds, default 60). */
  connectTimeoutS?: number;
  /** Per-request timeout for non-polling requests (seconds, default 120). */
  requestTimeoutS?: number;
  log?: (line: string) => void;
}

export interface ClientSummary {
  rounds: number[];
  numExamples: number;
}

interface RegisterReply {
  numRounds: number;
  model: string;
  size: number;
  secure: boolean;
  scale?: number;
  dp: DpOptions | null;
  strategy: string;
}

type RoundReply =
  | { status: "train"; round: number; config: FitConfig; weight: number; peers?: Record<string, string>; scale?: number }
  | { status: "wait" }
  | { status: "done" }
  | { status: "failed"; error: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs one client until the server says the run is done; throws when it failed. */
export async function runClient(opts: ClientOptions): Promise<ClientSummary> {
  const base = opts.server.replace(/\/+$/, "");
  if (!/^https?:\/\//.test(base)) throw new IngotError(`fl client: --server must be an http(s) URL such as http://127.0.0.1:8765, got '${opts.server}'`);
  const log = opts.log ?? (() => {});
  const reqTimeout = (opts.requestTimeoutS ?? 120) * 1000;
  const connectMs = (opts.connectTimeoutS ?? 60) * 1000;
  let lastContact = Date.now();

  /** One request; retries connection failures until the connect deadline; HTTP errors carry the server's message. */
  async function request(path: string, init: RequestInit = {}, timeoutMs = reqTimeout): Promise<Response> {
    for (;;) {
      let res: Response;
      try {
        res = await fetch(base + path, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      } catch (e) {
        const err = e as Error & { cause?: { code?: string } };
        if (err.name === "TimeoutError") throw new IngotError(`fl client: ${init.method ?? "GET"} ${path} got no answer from ${base} in ${timeoutMs / 1000} s`);
        if (Date.now() - lastContact > connectMs) throw new IngotError(`fl client: cannot reach the server at ${base} (${err.cause?.code ?? err.message}); is 'ingot fl server' running there?`);
        await sleep(250);
        continue;
      }
      lastContact = Date.now();
      if (!res.ok) {
        const text = await res.text();
        let msg = text;
        try {
          msg = (JSON.parse(text) as { error?: string }).error ?? text;
        } catch {
          // not JSON
        }
        throw new IngotError(`fl client: the server refused ${init.method ?? "GET"} ${path} (HTTP ${res.status}): ${msg}`);
      }
      return res;
    }
  }

  const numExamples = opts.data.x.shape[0];
  const keys = generateKeys();
  const reg = (await (
    await request("/register", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ clientId: opts.clientId, numExamples, publicKey: keys.publicKey }) })
  ).json()) as RegisterReply;
  const model = opts.buildModel(reg.model);
  const layout = layoutOf(model.stateDict());
  if (layout.size !== reg.size)
    throw new IngotError(`fl client: the model '${reg.model}' has ${layout.size} parameters here but ${reg.size} on the server; use the same --model on both`);
  log(`client ${opts.clientId}: registered with ${base} (${numExamples} examples, ${reg.numRounds} rounds, ${reg.strategy}${reg.secure ? ", secure aggregation" : ""}${reg.dp ? `, ${reg.dp.mode} DP` : ""})`);
  const g = new Generator((opts.seed ?? 0) * 1000003 + opts.clientId + 1);
  const rounds: number[] = [];
  for (;;) {
    const r = (await (await request(`/round?clientId=${opts.clientId}&wait=25000`, {}, 90000)).json()) as RoundReply;
    if (r.status === "wait") continue;
    if (r.status === "done") {
      log(`client ${opts.clientId}: the server finished after ${reg.numRounds} rounds; this client trained in ${rounds.length}`);
      return { rounds, numExamples };
    }
    if (r.status === "failed") throw new IngotError(`fl client: the server stopped the run: ${r.error}`);
    const body = new Uint8Array(await (await request("/weights")).arrayBuffer());
    const global = flattenState(parseSafetensors(body, "the server's weights").tensors, layout);
    const t0 = performance.now();
    const fit = fitLocal(model, opts.data, global, layout, r.config, g, opts.loss);
    const secure = reg.secure ? { privateKey: keys.privateKey, peers: new Map(Object.entries(r.peers ?? {}).map(([k, v]) => [Number(k), v])), round: r.round, scale: r.scale ?? reg.scale! } : null;
    const msg = clientMessage(fit.delta, opts.clientId, r.weight, { dp: reg.dp, g, secure });
    const payload = msg.kind === "plain" ? encodeVector(msg.delta, { round: String(r.round) }) : encodeVector(new Int32Array(msg.words.buffer), { round: String(r.round) });
    if (msg.kind === "masked" && msg.clamped > 0) log(`client ${opts.clientId}: ${msg.clamped} update values exceeded the fixed-point range and were clamped; lower --scale`);
    await request(`/update?clientId=${opts.clientId}&round=${r.round}`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: payload as unknown as BodyInit });
    rounds.push(r.round);
    log(`client ${opts.clientId}: round ${r.round}: trained ${r.config.localEpochs} epoch(s) in ${((performance.now() - t0) / 1000).toFixed(1)} s, loss ${fit.trainLoss.toFixed(4)}`);
  }
}
