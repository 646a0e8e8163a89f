// Secure aggregation by pairwise masking (Bonawitz et al. 2017, "Practical Secure Aggregation for
// Privacy-Preserving Machine Learning", CCS; the honest-but-curious protocol without dropout recovery).
//
//  1. Each client makes an X25519 key pair and the server relays the public keys of a round's
//     participants (it never sees a private key).
//  2. Clients i and j both compute s_ij = X25519(sk_i, pk_j) = X25519(sk_j, pk_i) (Diffie–Hellman).
//  3. The weighted update x_i (floats) is quantized to fixed point, q_i = round(x_i · scale), as
//     integers mod 2^32 (two's complement).
//  4. y_i = q_i + Σ_{j>i} PRG(s_ij, round) − Σ_{j<i} PRG(s_ij, round)  (mod 2^32)
//     PRG: AES-256-CTR keyed by HKDF-SHA256(s_ij, info = round), so masks differ every round.
//  5. The server adds the y_i mod 2^32: every mask appears once with + and once with −, so the sum is
//     exactly Σ q_i; decoded as a signed int32 and divided by scale it is Σ x_i to within m/(2·scale).
// A single y_i is q_i plus uniformly random words (the PRG output), so alone it says nothing about q_i.
// If a participant drops out after keys are shared, its masks do not cancel and the round cannot be
// decoded (Bonawitz's secret-shared recovery is not implemented): the round fails with an error.
import { createCipheriv, diffieHellman, generateKeyPairSync, hkdfSync, createPublicKey, type KeyObject } from "node:crypto";
import { IngotError } from "../tensor/index.js";

/** Fixed-point scale: 2^24 gives steps of 6e-8 and room for sums up to ±128. */
export const DEFAULT_SCALE = 2 ** 24;

export interface SecAggKeys {
  /** The public key as base64 DER (SPKI), what the server relays. */
  publicKey: string;
  privateKey: KeyObject;
}

/** A fresh X25519 key pair. */
export function generateKeys(): SecAggKeys {
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  return { publicKey: publicKey.export({ type: "spki", format: "der" }).toString("base64"), privateKey };
}

/** The 32-byte secret shared with a peer (X25519 Diffie–Hellman). */
export function sharedSecret(own: KeyObject, peerPublicKey: string): Buffer {
  let pub: KeyObject;
  try {
    pub = createPublicKey({ key: Buffer.from(peerPublicKey, "base64"), format: "der", type: "spki" });
  } catch (e) {
    throw new IngotError(`secure aggregation: a peer's public key is not a base64 X25519 SPKI key (${(e as Error).message})`);
  }
  if (pub.asymmetricKeyType !== "x25519") throw new IngotError(`secure aggregation: a peer's public key is ${pub.asymmetricKeyType}, not x25519`);
  return diffieHellman({ privateKey: own, publicKey: pub });
}

/** `length` pseudo-random 32-bit words from a shared secret, different for every round. */
export function maskStream(secret: Uint8Array, round: number, length: number): Uint32Array {
  const key = Buffer.from(hkdfSync("sha256", secret, "ingot-secagg-v1", `round ${round}`, 32));
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  const bytes = Buffer.concat([cipher.update(Buffer.alloc(length * 4)), cipher.final()]);
  const words = new Uint32Array(length);
  new Uint8Array(words.buffer).set(bytes.subarray(0, length * 4));
  return words;
}

/**
 * Fixed-point encoding mod 2^32: round(x·scale), clamped so that the sum of `numClients` such values
 * cannot overflow a signed 32-bit integer. Returns the words and how many values were clamped.
 */
export function quantize(x: ArrayLike<number>, scale: number, numClients: number): { q: Uint32Array; clamped: number } {
  const limit = Math.floor((2 ** 31 - 1) / numClients);
  const q = new Uint32Array(x.length);
  let clamped = 0;
  for (let i = 0; i < x.length; i++) {
    let v = Math.round(x[i] * scale);
    if (!Number.isFinite(v)) throw new IngotError(`secure aggregation: update value ${x[i]} at index ${i} is not finite`);
    if (v > limit) (v = limit), clamped++;
    else if (v < -limit) (v = -limit), clamped++;
    q[i] = v >>> 0;
  }
  return { q, clamped };
}

/** The signed values of words mod 2^32, divided by scale. */
export function dequantize(q: Uint32Array, scale: number): Float64Array {
  const out = new Float64Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = (q[i] | 0) / scale;
  return out;
}

/**
 * Masks a quantized update in place: + PRG(s_ij) for every peer j with a larger id, − for a smaller one.
 * `peers` maps each other participant's id to its public key.
 */
export function maskUpdate(q: Uint32Array, ownId: number, own: KeyObject, peers: Map<number, string>, round: number): Uint32Array {
  for (const [j, pk] of peers) {
    if (j === ownId) continue;
    const m = maskStream(sharedSecret(own, pk), round, q.length);
    if (ownId < j) for (let k = 0; k < q.length; k++) q[k] = (q[k] + m[k]) >>> 0;
    else for (let k = 0; k < q.length; k++) q[k] = (q[k] - m[k]) >>> 0;
  }
  return q;
}

/** Adds masked updates word by word mod 2^32: the masks cancel, leaving Σ q_i exactly. */
export function sumMasked(updates: Uint32Array[]): Uint32Array {
  if (updates.length === 0) throw new IngotError("secure aggregation: no masked updates to add");
  const n = updates[0].length;
  const sum = new Uint32Array(n);
  for (const u of updates) {
    if (u.length !== n) throw new IngotError(`secure aggregation: masked updates differ in length (${u.length} vs ${n})`);
    for (let k = 0; k < n; k++) sum[k] = (sum[k] + u[k]) >>> 0;
  }
  return sum;
}

/** Checks a fixed-point scale. */
export function checkScale(scale: number): number {
  if (!(scale >= 1) || !Number.isFinite(scale)) throw new IngotError(`secure aggregation: scale must be a finite number ≥ 1 (default 2^24), got ${scale}`);
  return scale;
}
