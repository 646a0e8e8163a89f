// The federated server behind `ingot fl server`: a small HTTP (node:http) coordinator. Clients register,
// long-poll for their round, fetch the global weights and post their update, all as safetensors bodies.
//
//   POST /register        JSON {clientId, numExamples, publicKey?}        → JSON {numRounds, model, size, secure, scale, dp}
//   GET  /round?clientId=i&wait=ms  (long poll)  → JSON {status: "train", round, config, weight, peers?, scale?}
//                                                   | {status: "wait"} | {status: "done"} | {status: "failed", error}
//   GET  /weights         the global weights: safetensors, one tensor per model weight, metadata {round}
//   POST /update?clientId=i&round=r   safetensors body: 'update' (F32 plain, or I32 masked words)
//   GET  /health          JSON {status, round, registered}
//
// A round starts when minAvailableClients have registered; the strategy samples its participants.
// The round ends when every participant has posted, or at the round timeout: without secure
// aggregation the updates that arrived are aggregated (Flower's accept_failures), with it the round
// cannot be unmasked and the run fails with an error naming the missing clients.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, renameSync, rmSync } from "node:fs";
import { Generator, IngotError } from "../tensor/index.js";
import { serializeSafetensors } from "../io/safetensors.js";
import type { Model } from "../keras/model.js";
import type { Module } from "../nn/module.js";
import { decodeVector, layoutOf, type ParamLayout, unflattenState } from "./params.js";
import type { FitConfig, Strategy } from "./strategy.js";
import { checkDp, type DpOptions } from "./dp.js";
import { checkScale, DEFAULT_SCALE } from "./secagg.js";
import { meanOfMasked, meanOfPlain, roundWeights } from "./aggregate.js";
import { type ClientData, evaluate, type LossFn, getWeights, MNIST_PREPROCESSING, setWeights } from "./client.js";

export interface ServerOptions {
  /** The global model (a Keras model for saveFederatedModel; any Module for the protocol itself). */
  model: Module;
  /** What clients build (a recipe name or a folder), sent to them at registration. */
  modelSpec: string;
  strategy: Strategy;
  numRounds: number;
  port?: number;
  host?: string;
  secureAggregation?: boolean;
  scale?: number;
  dp?: DpOptions | null;
  /** A round not complete after this many seconds times out (default 600). */
  roundTimeoutS?: number;
  /** Centralized evaluation after every round. */
  testData?: ClientData;
  /** The evaluation loss (default: sparse categorical cross-entropy on probabilities). */
  loss?: LossFn;
  seed?: number;
  log?: (line: string) => void;
}

export interface ServerRound {
  round: number;
  participants: number[];
  received: number[];
  testLoss?: number;
  testAccuracy?: number;
  seconds: number;
}

interface ClientInfo {
  numExamples: number;
  publicKey?: string;
}

interface RoundState {
  round: number;
  participants: number[];
  weights: Map<number, number>;
  config: FitConfig;
  plain: Map<number, Float32Array>;
  masked: Map<number, Uint32Array>;
  t0: number;
  timer: NodeJS.Timeout;
}

type Waiter = { clientId: number; res: ServerResponse; timer: NodeJS.Timeout };

const MAX_BODY = 1 << 30;

/** Answers with JSON. */
function json(res: ServerResponse, code: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(s) });
  res.end(s);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on("data", (c: Buffer) => {
      n += c.length;
      if (n > MAX_BODY) {
        reject(new IngotError("request body over 1 GiB"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class FederatedServer {
  readonly layout: ParamLayout;
  readonly history: ServerRound[] = [];
  initial?: { testLoss: number; testAccuracy: number };
  private weights: Float32Array;
  private readonly clients = new Map<number, ClientInfo>();
  /** Clients that have been answered "done" or "failed". */
  private readonly told = new Set<number>();
  private state: "waiting" | "training" | "done" | "failed" = "waiting";
  private error: string | null = null;
  private current: RoundState | null = null;
  private waiters: Waiter[] = [];
  private server: Server | null = null;
  private readonly serverGen: Generator;
  private finish!: (ok: boolean) => void;
  readonly finished: Promise<boolean>;
  private readonly log: (line: string) => void;

  private readonly opts: ServerOptions;

  constructor(opts: ServerOptions) {
    if (!Number.isInteger(opts.numRounds) || opts.numRounds < 1) throw new IngotError(`fl server: rounds must be an integer ≥ 1, got ${opts.numRounds}`);
    this.opts = { ...opts, scale: checkScale(opts.scale ?? DEFAULT_SCALE), dp: opts.dp ? checkDp(opts.dp) : null };
    if (opts.secureAggregation && opts.strategy.minFitClients < 2)
      throw new IngotError("fl server: secure aggregation needs at least 2 clients per round; set minFitClients (--min-clients) ≥ 2");
    this.layout = layoutOf(opts.model.stateDict());
    this.weights = getWeights(opts.model, this.layout);
    this.serverGen = new Generator((opts.seed ?? 0) + 7919);
    this.log = opts.log ?? (() => {});
    this.finished = new Promise((r) => (this.finish = r));
    if (opts.testData) {
      const ev = evaluate(opts.model, opts.testData, opts.loss);
      this.initial = { testLoss: ev.loss, testAccuracy: ev.accuracy };
      this.log(`initial model: test accuracy ${ev.accuracy.toFixed(4)}, loss ${ev.loss.toFixed(4)}`);
    }
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        const code = e instanceof HttpError ? e.code : e instanceof IngotError ? 400 : 500;
        if (!res.headersSent) json(res, code, { error: (e as Error).message });
        else res.destroy();
      });
    });
    return new Promise((resolve, reject) => {
      this.server!.once("error", (e: NodeJS.ErrnoException) =>
        reject(new IngotError(e.code === "EADDRINUSE" ? `fl server: port ${this.opts.port} is in use; pick another with --port` : `fl server: ${e.message}`)),
      );
      this.server!.listen(this.opts.port ?? 8765, this.opts.host ?? "127.0.0.1", () => resolve((this.server!.address() as AddressInfo).port));
    });
  }

  /** Stops listening and ends every open long poll. */
  async close(): Promise<void> {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      json(w.res, 200, this.statusFor(w.clientId));
    }
    if (this.current) clearTimeout(this.current.timer);
    const srv = this.server;
    if (!srv) return;
    const closed = new Promise<void>((r) => srv.close(() => r()));
    srv.closeIdleConnections();
    await closed;
  }

  /** The global weights as a vector (a copy). */
  getWeights(): Float32Array {
    return Float32Array.from(this.weights);
  }

  get failure(): string | null {
    return this.error;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const route = `${req.method} ${url.pathname}`;
    if (route === "GET /health") return json(res, 200, { status: this.state, round: this.current?.round ?? this.history.length, registered: this.clients.size });
    if (route === "POST /register") return this.register(JSON.parse((await readBody(req)).toString("utf8") || "{}"), res);
    if (route === "GET /round") return this.poll(this.clientIdOf(url), Number(url.searchParams.get("wait") ?? 30000), res);
    if (route === "GET /weights") {
      const body = serializeSafetensors(unflattenState(this.weights, this.layout), { round: String(this.current?.round ?? this.history.length) });
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
      return void res.end(body);
    }
    if (route === "POST /update") return this.update(this.clientIdOf(url), Number(url.searchParams.get("round")), await readBody(req), res);
    throw new HttpError(404, `no route ${route}; the server answers POST /register, GET /round, GET /weights, POST /update, GET /health`);
  }

  private clientIdOf(url: URL): number {
    const id = Number(url.searchParams.get("clientId"));
    if (!Number.isInteger(id) || id < 0) throw new HttpError(400, `clientId must be an integer ≥ 0, got '${url.searchParams.get("clientId")}'`);
    if (!this.clients.has(id)) throw new HttpError(403, `client ${id} has not registered; POST /register first`);
    return id;
  }

  private register(body: { clientId?: unknown; numExamples?: unknown; publicKey?: unknown }, res: ServerResponse): void {
    const id = Number(body.clientId);
    const n = Number(body.numExamples);
    if (!Number.isInteger(id) || id < 0) throw new HttpError(400, `register: clientId must be an integer ≥ 0, got ${JSON.stringify(body.clientId)}`);
    if (!Number.isInteger(n) || n < 1) throw new HttpError(400, `register: numExamples must be an integer ≥ 1, got ${JSON.stringify(body.numExamples)}`);
    if (this.opts.secureAggregation && typeof body.publicKey !== "string")
      throw new HttpError(400, "register: this server runs secure aggregation; send publicKey (an X25519 key, base64 SPKI)");
    if (this.state !== "waiting" && !this.clients.has(id)) throw new HttpError(409, `register: the run has started (round ${this.current?.round ?? "-"}); client ${id} is too late`);
    if (this.state !== "waiting" && this.clients.get(id)!.publicKey !== body.publicKey)
      throw new HttpError(409, `register: client ${id} registered with another key and the run has started; its peers' masks depend on that key, so it cannot change now`);
    this.clients.set(id, { numExamples: n, publicKey: body.publicKey as string | undefined });
    this.log(`client ${id} registered (${n} examples); ${this.clients.size}/${this.opts.strategy.minAvailableClients} to start`);
    json(res, 200, {
      numRounds: this.opts.numRounds,
      model: this.opts.modelSpec,
      size: this.layout.size,
      secure: !!this.opts.secureAggregation,
      scale: this.opts.scale,
      dp: this.opts.dp ?? null,
      strategy: this.opts.strategy.name,
    });
    if (this.state === "waiting" && this.clients.size >= this.opts.strategy.minAvailableClients) this.startRound(1);
  }

  /** Resolves when every registered client has been told the run ended (or after `maxMs`). */
  async drain(maxMs = 10000): Promise<void> {
    const t0 = Date.now();
    while (this.told.size < this.clients.size && Date.now() - t0 < maxMs) await new Promise((r) => setTimeout(r, 50));
  }

  private statusFor(id: number): Record<string, unknown> {
    if (this.state === "done" || this.state === "failed") this.told.add(id);
    if (this.state === "done") return { status: "done" };
    if (this.state === "failed") return { status: "failed", error: this.error };
    const r = this.current;
    if (!r || !r.participants.includes(id) || r.plain.has(id) || r.masked.has(id)) return { status: "wait" };
    const out: Record<string, unknown> = { status: "train", round: r.round, config: r.config, weight: r.weights.get(id) };
    if (this.opts.secureAggregation) {
      out.peers = Object.fromEntries(r.participants.map((p) => [p, this.clients.get(p)!.publicKey]));
      out.scale = this.opts.scale;
    }
    return out;
  }

  private poll(id: number, waitMs: number, res: ServerResponse): void {
    const s = this.statusFor(id);
    if (s.status !== "wait" || !(waitMs > 0)) return json(res, 200, s);
    const w: Waiter = {
      clientId: id,
      res,
      timer: setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        json(res, 200, this.statusFor(id));
      }, Math.min(waitMs, 60000)),
    };
    res.on("close", () => {
      clearTimeout(w.timer);
      this.waiters = this.waiters.filter((x) => x !== w);
    });
    this.waiters.push(w);
  }

  /** Answers every long poll whose answer has changed. */
  private wake(): void {
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      const s = this.statusFor(w.clientId);
      if (s.status === "wait") keep.push(w);
      else {
        clearTimeout(w.timer);
        json(w.res, 200, s);
      }
    }
    this.waiters = keep;
  }

  private startRound(round: number): void {
    const strategy = this.opts.strategy;
    const participants = strategy.sampleClients([...this.clients.keys()].sort((a, b) => a - b));
    const weights = roundWeights(new Map(participants.map((p) => [p, this.clients.get(p)!.numExamples])), this.opts.dp);
    const timeoutS = this.opts.roundTimeoutS ?? 600;
    this.current = {
      round,
      participants,
      weights,
      config: strategy.configureFit(round),
      plain: new Map(),
      masked: new Map(),
      t0: performance.now(),
      timer: setTimeout(() => this.timeout(), timeoutS * 1000),
    };
    this.state = "training";
    this.log(`round ${round}/${this.opts.numRounds}: clients ${participants.join(", ")}`);
    this.wake();
  }

  private timeout(): void {
    const r = this.current!;
    const got = [...r.plain.keys(), ...r.masked.keys()];
    const missing = r.participants.filter((p) => !got.includes(p));
    if (this.opts.secureAggregation)
      return this.fail(`round ${r.round} timed out waiting for client(s) ${missing.join(", ")}; secure aggregation cannot unmask a round with a missing client (no dropout recovery), so the run stops`);
    if (got.length === 0) return this.fail(`round ${r.round} timed out: no client sent an update (waited for ${r.participants.join(", ")})`);
    this.log(`round ${r.round}: timed out; aggregating ${got.length} of ${r.participants.length} updates (missing ${missing.join(", ")})`);
    // Re-weight over the clients that answered.
    r.weights = roundWeights(new Map(got.map((p) => [p, this.clients.get(p)!.numExamples])), this.opts.dp);
    this.completeRound();
  }

  private fail(msg: string): void {
    this.error = msg;
    this.state = "failed";
    this.log(`failed: ${msg}`);
    if (this.current) clearTimeout(this.current.timer);
    this.wake();
    this.finish(false);
  }

  private update(id: number, round: number, body: Buffer, res: ServerResponse): void {
    const r = this.current;
    if (this.state !== "training" || !r) throw new HttpError(409, `update: no round is open (the server is ${this.state})`);
    if (round !== r.round) throw new HttpError(409, `update: for round ${round}, but round ${r.round} is open`);
    if (!r.participants.includes(id)) throw new HttpError(409, `update: client ${id} is not a participant of round ${r.round}`);
    if (r.plain.has(id) || r.masked.has(id)) throw new HttpError(409, `update: client ${id} already sent its round-${r.round} update`);
    const { vec } = decodeVector(body, `client ${id}'s update`, this.layout.size);
    if (this.opts.secureAggregation) {
      if (!(vec instanceof Int32Array)) throw new HttpError(400, "update: this server runs secure aggregation; send the masked update as I32 words");
      r.masked.set(id, new Uint32Array(vec.buffer, vec.byteOffset, vec.length));
    } else {
      if (!(vec instanceof Float32Array)) throw new HttpError(400, "update: send the update as F32 values (secure aggregation is off)");
      r.plain.set(id, vec);
    }
    json(res, 200, { ok: true });
    if (r.plain.size + r.masked.size === r.participants.length) {
      clearTimeout(r.timer);
      this.completeRound();
    }
  }

  private completeRound(): void {
    const r = this.current!;
    const dp = this.opts.dp ?? null;
    const mean = this.opts.secureAggregation
      ? meanOfMasked([...r.masked.values()], this.opts.scale as number, dp, this.serverGen)
      : meanOfPlain(r.plain, r.weights, this.layout.size, dp, this.serverGen);
    this.weights = this.opts.strategy.applyUpdate(r.round, this.weights, mean);
    setWeights(this.opts.model, this.weights, this.layout);
    const rec: ServerRound = { round: r.round, participants: r.participants, received: [...r.plain.keys(), ...r.masked.keys()].sort((a, b) => a - b), seconds: (performance.now() - r.t0) / 1000 };
    if (this.opts.testData) {
      const ev = evaluate(this.opts.model, this.opts.testData, this.opts.loss);
      rec.testLoss = ev.loss;
      rec.testAccuracy = ev.accuracy;
    }
    this.history.push(rec);
    this.log(`round ${r.round}/${this.opts.numRounds} done in ${rec.seconds.toFixed(1)} s${rec.testAccuracy !== undefined ? `: test accuracy ${rec.testAccuracy.toFixed(4)}, loss ${rec.testLoss!.toFixed(4)}` : ""}`);
    if (r.round >= this.opts.numRounds) {
      this.current = null;
      this.state = "done";
      this.wake();
      this.finish(true);
    } else this.startRound(r.round + 1);
  }
}

/**
 * Saves the trained Keras model as a model folder, atomically as a whole: written to `<out>.tmp-<pid>`,
 * then renamed into place (an existing folder is replaced only after the new one is complete).
 */
export function saveFederatedModel(model: Model, out: string, card: Record<string, unknown>): void {
  const tmp = `${out}.tmp-${process.pid}`;
  const old = `${out}.old-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  model.save(tmp, { card: { preprocessing: MNIST_PREPROCESSING, ...card } });
  if (existsSync(out)) renameSync(out, old);
  renameSync(tmp, out);
  rmSync(old, { recursive: true, force: true });
}
