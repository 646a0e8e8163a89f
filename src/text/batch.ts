// Batches of token ids: truncation (longest first, right or left) and padding into int32 tensors
// inputIds / attentionMask / tokenTypeIds, plus the tokenizer.json form of both settings.
import { tensor } from "../ops/index.js";
import { type Tensor, ValueError } from "../tensor/index.js";

export type Side = "right" | "left";

/** Truncation settings (tokenizer.json "truncation"); maxLength counts the special tokens too. */
export interface TruncationConfig {
  maxLength: number;
  side: Side;
  /** Kept for tokenizer.json round trips; pairs are always truncated longest-first. */
  strategy: string;
  stride: number;
}

/** Padding settings (tokenizer.json "padding"). */
export interface PaddingConfig {
  /** "longest": to the longest sequence of the batch; "maxLength": to maxLength. */
  strategy: "longest" | "maxLength";
  maxLength?: number;
  side: Side;
  padToMultipleOf?: number;
  padId: number;
  padTypeId: number;
  padToken: string;
}

/** Padded int32 tensors of shape [B, T]: ids, 1 for real tokens and 0 for padding, segment ids. */
export interface BatchEncoding {
  inputIds: Tensor; // (B, T)
  attentionMask: Tensor; // (B, T)
  tokenTypeIds: Tensor; // (B, T)
  /** Tokens per row before padding. */
  lengths: number[];
}

/** Options of padBatch. */
export interface PadOptions {
  padId: number;
  padding?: "longest" | "maxLength";
  maxLength?: number;
  padToMultipleOf?: number;
  side?: Side;
  padTypeId?: number;
  /** Segment ids per row (default all 0). */
  typeIds?: number[][];
}

const cut = (ids: number[], n: number, side: Side) => (ids.length <= n ? ids : side === "right" ? ids.slice(0, n) : ids.slice(ids.length - n));

/**
 * Truncates a sequence (or a pair, longest first: tokens are removed one at a time from the longer
 * one, from b on ties) so that the total is at most `budget`.
 */
export function truncatePair(a: number[], b: number[] | null, budget: number, side: Side = "right"): [number[], number[] | null] {
  if (budget < 0) throw new ValueError(`truncate: maxLength leaves no room for the special tokens (${-budget} too few); raise maxLength`);
  if (b === null) return [cut(a, budget, side), null];
  if (a.length + b.length <= budget) return [a, b];
  const half = Math.floor(budget / 2);
  if (Math.min(a.length, b.length) <= half) {
    return a.length > b.length ? [cut(a, budget - b.length, side), b] : [a, cut(b, budget - a.length, side)];
  }
  return [cut(a, budget - half, side), cut(b, half, side)];
}

/**
 * Pads rows of token ids into int32 tensors [B, T] (T: the longest row, or maxLength), with the
 * attention mask; throws when a row is longer than maxLength (truncate first).
 * @example padBatch([[5, 6, 7], [8]], {padId: 0}).inputIds // [[5,6,7],[8,0,0]]
 */
export function padBatch(rows: number[][], opts: PadOptions): BatchEncoding {
  const { padId, padding = "longest", side = "right", padTypeId = 0 } = opts;
  const longest = rows.reduce((m, r) => Math.max(m, r.length), 0);
  let T = longest;
  if (padding === "maxLength") {
    if (opts.maxLength === undefined) throw new ValueError(`padBatch: padding "maxLength" needs maxLength`);
    if (longest > opts.maxLength) {
      const i = rows.findIndex((r) => r.length === longest);
      throw new ValueError(`padBatch: row ${i} has ${longest} tokens, more than maxLength ${opts.maxLength}; truncate it first (truncation: true)`);
    }
    T = opts.maxLength;
  }
  const k = opts.padToMultipleOf;
  if (k !== undefined && k > 0) T = Math.ceil(T / k) * k;
  const B = rows.length;
  const ids = new Int32Array(B * T).fill(padId);
  const mask = new Int32Array(B * T);
  const types = new Int32Array(B * T).fill(padTypeId);
  rows.forEach((row, i) => {
    const off = i * T + (side === "right" ? 0 : T - row.length);
    const t = opts.typeIds?.[i];
    for (let j = 0; j < row.length; j++) {
      ids[off + j] = row[j];
      mask[off + j] = 1;
      types[off + j] = t ? t[j] : 0;
    }
  });
  const shape = [B, T];
  return {
    inputIds: tensor(ids, { shape, dtype: "int32" }),
    attentionMask: tensor(mask, { shape, dtype: "int32" }),
    tokenTypeIds: tensor(types, { shape, dtype: "int32" }),
    lengths: rows.map((r) => r.length),
  };
}

const sideOf = (d: unknown): Side => (d === "Left" ? "left" : "right");
const sideJSON = (s: Side) => (s === "left" ? "Left" : "Right");

/** Reads tokenizer.json's "truncation". */
export function truncationFromJSON(j: unknown): TruncationConfig | null {
  if (j === null || j === undefined) return null;
  const o = j as Record<string, unknown>;
  return { maxLength: Number(o.max_length), side: sideOf(o.direction), strategy: String(o.strategy ?? "LongestFirst"), stride: Number(o.stride ?? 0) };
}

export function truncationToJSON(t: TruncationConfig | null): unknown {
  return t === null ? null : { direction: sideJSON(t.side), max_length: t.maxLength, strategy: t.strategy, stride: t.stride };
}

/** Reads tokenizer.json's "padding". */
export function paddingFromJSON(j: unknown): PaddingConfig | null {
  if (j === null || j === undefined) return null;
  const o = j as Record<string, unknown>;
  const fixed = typeof o.strategy === "object" && o.strategy !== null ? Number((o.strategy as Record<string, unknown>).Fixed) : undefined;
  return {
    strategy: fixed === undefined ? "longest" : "maxLength",
    maxLength: fixed,
    side: sideOf(o.direction),
    padToMultipleOf: typeof o.pad_to_multiple_of === "number" ? o.pad_to_multiple_of : undefined,
    padId: Number(o.pad_id ?? 0),
    padTypeId: Number(o.pad_type_id ?? 0),
    padToken: String(o.pad_token ?? "[PAD]"),
  };
}

export function paddingToJSON(p: PaddingConfig | null): unknown {
  if (p === null) return null;
  return {
    strategy: p.strategy === "maxLength" ? { Fixed: p.maxLength } : "BatchLongest",
    direction: sideJSON(p.side),
    pad_to_multiple_of: p.padToMultipleOf ?? null,
    pad_id: p.padId,
    pad_type_id: p.padTypeId,
    pad_token: p.padToken,
  };
}
