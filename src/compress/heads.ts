// Structured pruning of attention heads in a GPT: in each block the heads whose weights (their q,
// k, v rows of c_attn and their columns of c_proj) have the smallest L1/L2 norm are removed, so
// c_attn shrinks from [3C, C] to [3·H'·D, C] and c_proj from [C, C] to [C, H'·D].
import { type Tensor, ValueError } from "../tensor/index.js";
import { scaledDotProductAttention } from "../ops/index.js";
import { Module } from "../nn/module.js";
import { Linear } from "../nn/linear.js";
import { Dropout } from "../nn/dropout.js";
import { CausalSelfAttention, GPT } from "../models/gpt.js";
import type { KVCache } from "../models/kv-cache.js";
import { checkFraction } from "./targets.js";
import { keepIndices, take } from "./rebuild.js";

/** GPT's causal self-attention with any number of heads of a fixed size D (inner width H·D ≠ C allowed). */
export class HeadPrunedAttention extends Module {
  c_attn: Linear;
  c_proj: Linear;
  resid_dropout: Dropout;

  constructor(
    c_attn: Linear,
    c_proj: Linear,
    readonly nHead: number,
    readonly headDim: number,
    readonly dropout: number,
    /** The original indices of the heads kept, for the record. */
    readonly keptHeads: readonly number[],
  ) {
    super();
    this.c_attn = c_attn;
    this.c_proj = c_proj;
    this.resid_dropout = new Dropout(dropout);
  }

  override forward(x: Tensor, ctx: { attnMask: Tensor | null; isCausal: boolean; cache: KVCache | null; layer: number }): Tensor {
    const [B, T] = x.shape;
    const H = this.nHead;
    const D = this.headDim;
    const qkv = this.c_attn.call(x).view(B, T, 3, H, D).permute(2, 0, 3, 1, 4); // (3, B, H, T, D)
    const q = qkv.select(0, 0);
    let k = qkv.select(0, 1);
    let v = qkv.select(0, 2);
    if (ctx.cache) [k, v] = ctx.cache.update(ctx.layer, k, v);
    const y = scaledDotProductAttention(q, k, v, { attnMask: ctx.attnMask, isCausal: ctx.isCausal, dropoutP: this.training ? this.dropout : 0 }); // (B, H, T, D)
    return this.resid_dropout.call(this.c_proj.call(y.transpose(1, 2).reshape(B, T, H * D))); // (B, T, C)
  }

  override extraRepr(): string {
    return `nHead=${this.nHead}, headDim=${this.headDim}, keptHeads=[${this.keptHeads.join(", ")}]`;
  }
}

export interface PruneHeadsOptions {
  /** The fraction of each block's heads to remove, in [0, 1) (at least one head stays). */
  fraction: number;
  norm?: "l1" | "l2";
}

/** Per block: heads before and after, and the original indices kept. */
export type HeadsReport = Record<string, { before: number; after: number; kept: number[] }>;

/**
 * Removes the weakest attention heads of every block of a GPT, in place; returns the model and what
 * was kept. Such a model runs, trains and generates as before; its folder needs the kept head counts
 * (saveGPT's config still describes nHead heads), so save its stateDict yourself for now.
 * @example const { report } = compress.pruneHeads(gpt, { fraction: 0.25 });
 */
export function pruneHeads(model: GPT, opts: PruneHeadsOptions): { model: GPT; report: HeadsReport } {
  const where = "pruneHeads";
  if (!(model instanceof GPT)) throw new ValueError(`${where}: expected a models.GPT, got ${(model as unknown) instanceof Module ? (model as Module).constructor.name : typeof model}`);
  checkFraction(where, "fraction", opts?.fraction);
  const norm = opts.norm ?? "l1";
  if (norm !== "l1" && norm !== "l2") throw new ValueError(`${where}: norm must be 'l1' or 'l2', got ${JSON.stringify(opts.norm)}`);
  const report: HeadsReport = {};
  model.transformer.h.namedChildren().forEach(([i, block]) => {
    const attn = (block as unknown as { attn: CausalSelfAttention | HeadPrunedAttention }).attn;
    const C = model.config.nEmbd;
    const H = attn.nHead;
    const D = attn instanceof HeadPrunedAttention ? attn.headDim : C / H;
    const prior = attn instanceof HeadPrunedAttention ? attn.keptHeads : Array.from({ length: H }, (_, h) => h);
    const wa = attn.c_attn.weight.contiguous().dataSync() as ArrayLike<number>; // [3·H·D, C]
    const wp = attn.c_proj.weight.contiguous().dataSync() as ArrayLike<number>; // [C, H·D]
    const scores = new Float64Array(H);
    const add = (v: number, h: number) => (scores[h] += norm === "l1" ? Math.abs(v) : v * v);
    for (let r = 0; r < 3 * H * D; r++) for (let c = 0; c < C; c++) add(wa[r * C + c], Math.floor((r % (H * D)) / D));
    for (let r = 0; r < C; r++) for (let c = 0; c < H * D; c++) add(wp[r * H * D + c], Math.floor(c / D));
    const keep = keepIndices(scores, Math.min(H - 1, Math.round(opts.fraction * H)));
    const inner = keep.flatMap((h) => Array.from({ length: D }, (_, d) => h * D + d));
    const rows = [0, 1, 2].flatMap((part) => inner.map((j) => part * H * D + j));
    const cAttn = new Linear(C, rows.length, { bias: !!attn.c_attn.bias, dtype: attn.c_attn.weight.dtype });
    const aState: Record<string, Tensor> = { weight: take(attn.c_attn.weight, 0, rows) };
    if (attn.c_attn.bias) aState.bias = take(attn.c_attn.bias, 0, rows);
    cAttn.loadStateDict(aState);
    const cProj = new Linear(inner.length, C, { bias: !!attn.c_proj.bias, dtype: attn.c_proj.weight.dtype });
    const pState: Record<string, Tensor> = { weight: take(attn.c_proj.weight, 1, inner) };
    if (attn.c_proj.bias) pState.bias = attn.c_proj.bias.detach();
    cProj.loadStateDict(pState);
    const fresh = new HeadPrunedAttention(cAttn, cProj, keep.length, D, attn.dropout, keep.map((h) => prior[h]));
    fresh.train(attn.training);
    block.registerModule("attn", fresh);
    report[`transformer.h.${i}`] = { before: H, after: keep.length, kept: [...fresh.keptHeads] };
  });
  return { model, report };
}
