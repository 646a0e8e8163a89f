// One round's arithmetic, shared by the in-process simulation and the HTTP server/clients:
// the aggregation weights, what a client sends (plain or masked), and how the server gets the mean.
import type { KeyObject } from "node:crypto";
import { IngotError } from "../tensor/index.js";
import type { Generator } from "../tensor/random.js";
import { type DpOptions, noiseMean, privatizeUpdate } from "./dp.js";
import { dequantize, maskUpdate, quantize, sumMasked } from "./secagg.js";

/**
 * Each participant's weight in the round's mean: n_i / Σ n_j (FedAvg), or 1/m with DP (the bound
 * C/m on one client's influence needs equal weights).
 */
export function roundWeights(numExamples: Map<number, number>, dp?: DpOptions | null): Map<number, number> {
  const ids = [...numExamples.keys()];
  if (ids.length === 0) throw new IngotError("federated: a round needs at least one participant");
  if (dp) return new Map(ids.map((id) => [id, 1 / ids.length]));
  const total = ids.reduce((s, id) => s + numExamples.get(id)!, 0);
  if (!(total > 0)) throw new IngotError("federated: the participants report 0 examples in total");
  return new Map(ids.map((id) => [id, numExamples.get(id)! / total]));
}

export interface SecureContext {
  privateKey: KeyObject;
  /** Every participant's public key by client id (the client's own included or not). */
  peers: Map<number, string>;
  round: number;
  scale: number;
}

/** What one client sends: its (privatized) update, plain, or weighted, quantized and masked. */
export type ClientMessage = { kind: "plain"; delta: Float32Array } | { kind: "masked"; words: Uint32Array; clamped: number };

/**
 * Turns a client's raw update into its message. DP clipping (and local noise) happens first, on the
 * client; with `secure` the update is multiplied by the client's weight, quantized and masked.
 */
export function clientMessage(delta: Float32Array, clientId: number, weight: number, opts: { dp?: DpOptions | null; g: Generator; secure?: SecureContext | null }): ClientMessage {
  const d = Float32Array.from(delta);
  if (opts.dp) privatizeUpdate(d, opts.dp, opts.g);
  if (!opts.secure) return { kind: "plain", delta: d };
  const { privateKey, peers, round, scale } = opts.secure;
  if ([...peers.keys()].filter((j) => j !== clientId).length < 1)
    throw new IngotError("secure aggregation: this round has no other participant, so a masked update would be the update itself; secure aggregation needs at least 2 clients per round");
  const x = new Float64Array(d.length);
  for (let j = 0; j < d.length; j++) x[j] = weight * d[j];
  const { q, clamped } = quantize(x, scale, Math.max(peers.size, 1));
  return { kind: "masked", words: maskUpdate(q, clientId, privateKey, peers, round), clamped };
}

/** The server's mean from plain messages: Σ weight_i Δ_i (then central DP noise). */
export function meanOfPlain(messages: Map<number, Float32Array>, weights: Map<number, number>, size: number, dp: DpOptions | null | undefined, g: Generator): Float64Array {
  const mean = new Float64Array(size);
  for (const [id, d] of messages) {
    const w = weights.get(id);
    if (w === undefined) throw new IngotError(`federated: an update from client ${id}, which is not in this round`);
    if (d.length !== size) throw new IngotError(`federated: client ${id} sent ${d.length} values, the model has ${size}`);
    for (let j = 0; j < size; j++) mean[j] += w * d[j];
  }
  if (dp) noiseMean(mean, dp, messages.size, g);
  return mean;
}

/** The server's mean from masked messages: their sum mod 2^32, decoded (then central DP noise). */
export function meanOfMasked(messages: Uint32Array[], scale: number, dp: DpOptions | null | undefined, g: Generator): Float64Array {
  const mean = dequantize(sumMasked(messages), scale);
  if (dp) noiseMean(mean, dp, messages.length, g);
  return mean;
}
