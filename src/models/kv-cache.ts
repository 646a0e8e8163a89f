// The key/value cache of a causal language model: every layer's keys and values for the tokens seen
// so far, so that generating one more token runs one position through the model, not the whole context.
import { IndexError, type Tensor } from "../tensor/index.js";
import { cat, contiguous, copy_, indexSelect, kvCacheAttention, kvCacheWrite_, narrow, tensor, zeros } from "../ops/index.js";
import { isGradEnabled } from "../autograd/index.js";

/**
 * Per layer, keys and values (B, H, S, D) of the S positions seen so far, and per row which of those
 * positions are real tokens (1) or left padding (0). A model's forward({cache}) appends to it.
 * @example const cache = new KVCache(); model.forward(prompt, null, { cache }); model.forward(next, null, { cache });
 */
export class KVCache {
  /** Per row, 1 for a real token and 0 for padding, one entry per cached position. */
  real: number[][] = [];

  /** Cached positions S (padding included). */
  get length(): number {
    return this.real[0]?.length ?? 0;
  }

  /** Rows B (0 before the first forward). */
  get batchSize(): number {
    return this.real.length;
  }

  /** Keys of each layer, (B, H, S, D); empty before the first forward. */
  get keys(): Tensor[] {
    return this.k.map((_, l) => this.views(l)[0]);
  }

  /** Values of each layer, (B, H, S, Dv). */
  get values(): Tensor[] {
    return this.v.map((_, l) => this.views(l)[1]);
  }

  // A layer is in one of two forms. General (update): keys and values (B, H, S, D) are views of
  // per-layer buffers (capacity, B, H, D), or concatenations when gradients flow through the cache.
  // Fused (attend): one buffer [capacity, 2, B, H, D] written and read by the kvCacheWrite_ and
  // kvCacheAttention ops, with its filled length; k/v hold null for such a layer.
  private readonly k: (Tensor | null)[] = [];
  private readonly v: (Tensor | null)[] = [];
  private readonly bufK: (Tensor | null)[] = [];
  private readonly bufV: (Tensor | null)[] = [];
  private readonly fused: (Tensor | null)[] = [];
  private readonly fusedLength: number[] = [];

  /** Whether a layer can take the fused path (attend): it holds nothing yet, or holds the fused form. */
  canAttend(layer: number): boolean {
    return this.k[layer] === undefined || this.fused[layer] != null;
  }

  /**
   * The fused decoding step of one layer, for inference: writes the keys and values of qkv (B, T, 3C),
   * a fused q/k/v projection, into the cache and returns the attention (B, T, C) of its T queries over
   * every cached position up to each one's own. Two ops, where update + scaledDotProductAttention
   * take about eighteen. Needs canAttend(layer) and no padding.
   */
  attend(layer: number, qkv: Tensor, nHead: number): Tensor {
    const [B, T, C3] = qkv.shape;
    const D = C3 / 3 / nHead;
    const past = this.fusedLength[layer] ?? 0;
    let buf = this.fused[layer] ?? null;
    if (!buf || buf.shape[0] < past + T || buf.dtype !== qkv.dtype) {
      // NOTE: growing by doubling copies each position O(1) times over a generation.
      const grown = zeros([Math.max(past + T, 2 * past, 16), 2, B, nHead, D], { dtype: qkv.dtype });
      if (buf && past > 0) copy_(narrow(grown, 0, 0, past), narrow(buf, 0, 0, past));
      buf = this.fused[layer] = grown;
      this.k[layer] = this.v[layer] = null; // the layer exists, in the fused form
    }
    kvCacheWrite_(buf, qkv, { past, nHead });
    this.fusedLength[layer] = past + T;
    return kvCacheAttention(qkv, buf, { past, nHead });
  }

  /** Appends a layer's new keys and values (B, H, T, D) along the positions; returns the whole (B, H, S + T, D). */
  update(layer: number, k: Tensor, v: Tensor): [Tensor, Tensor] {
    const [pk, pv] = this.k[layer] === undefined ? [undefined, undefined] : this.generalize(layer);
    if (pk && pv && isGradEnabled() && (k.requiresGrad || v.requiresGrad || pk.requiresGrad || pv.requiresGrad)) {
      // Differentiable path (training through a cache): concatenate, so gradients reach earlier positions.
      this.k[layer] = cat([pk, k], 2);
      this.v[layer] = cat([pv, v], 2);
      this.bufK[layer] = this.bufV[layer] = null;
      return [this.k[layer]!, this.v[layer]!];
    }
    // NOTE: appending into a buffer that grows by doubling copies only the new positions per step;
    // concatenating would copy all S cached positions of every layer for every generated token.
    this.k[layer] = this.append(this.bufK, layer, pk, k);
    this.v[layer] = this.append(this.bufV, layer, pv, v);
    return [this.k[layer]!, this.v[layer]!];
  }

  /** A layer's keys and values (B, H, S, D): views of the fused buffer, or the general form's tensors. */
  private views(layer: number): [Tensor, Tensor] {
    const buf = this.fused[layer];
    if (!buf) return [this.k[layer]!, this.v[layer]!];
    const S = this.fusedLength[layer];
    return [narrow(buf, 0, 0, S).select(1, 0).permute(1, 2, 0, 3), narrow(buf, 0, 0, S).select(1, 1).permute(1, 2, 0, 3)];
  }

  /** Converts a fused layer to the general form (its keys and values become views of the old buffer). */
  private generalize(layer: number): [Tensor, Tensor] {
    if (this.fused[layer]) {
      [this.k[layer], this.v[layer]] = this.views(layer);
      this.fused[layer] = null;
      this.bufK[layer] = this.bufV[layer] = null; // the next append copies into a buffer of its own
    }
    return [this.k[layer]!, this.v[layer]!];
  }

  private append(bufs: (Tensor | null)[], layer: number, prev: Tensor | undefined, x: Tensor): Tensor {
    // The buffer is laid out (capacity, B, H, D), so that the slot of new positions is contiguous
    // (copy_ writes into contiguous destinations); the returned (B, H, S, D) is a strided view of it.
    const S = prev ? prev.shape[2] : 0;
    const T = x.shape[2];
    let buf = bufs[layer] ?? null;
    if (!buf || buf.shape[0] < S + T || buf.dtype !== x.dtype) {
      const [B, H, , D] = x.shape;
      const grown = zeros([Math.max(S + T, 2 * S, 16), B, H, D], { dtype: x.dtype });
      if (prev && S > 0) copy_(narrow(grown, 0, 0, S), prev.permute(2, 0, 1, 3));
      bufs[layer] = grown;
      buf = grown;
    }
    copy_(narrow(buf, 0, S, T), x.permute(2, 0, 1, 3));
    return narrow(buf, 0, 0, S + T).permute(1, 2, 0, 3);
  }

  /** Records the new positions' padding flags (B rows of T entries) once every layer has been updated. */
  advance(real: number[][]): void {
    this.real = this.real.length ? this.real.map((r, b) => [...r, ...real[b]]) : real.map((r) => [...r]);
  }

  /** Keeps only the given rows, in that order (generation drops the rows that have finished). */
  selectRows(rows: readonly number[]): void {
    for (const r of rows)
      if (!Number.isInteger(r) || r < 0 || r >= this.batchSize) throw new IndexError(`KVCache.selectRows: row ${r} is out of range for a cache of ${this.batchSize} row(s)`);
    const idx = tensor(rows.length ? [...rows] : [], { dtype: "int32", shape: [rows.length] });
    for (let l = 0; l < this.k.length; l++) {
      const [k, v] = this.generalize(l);
      this.k[l] = indexSelect(k, 0, idx);
      this.v[l] = indexSelect(v, 0, idx);
      this.bufK[l] = this.bufV[l] = null; // the next append reallocates for the new rows
    }
    this.real = rows.map((r) => this.real[r]);
  }
}
