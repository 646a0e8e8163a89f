// The key/value cache of a causal language model: every layer's keys and values for the tokens seen
// so far, so that generating one more token runs one position through the model, not the whole context.
import { IndexError, type Tensor } from "../tensor/index.js";
import { cat, contiguous, copy_, indexSelect, narrow, tensor, zeros } from "../ops/index.js";
import { isGradEnabled } from "../autograd/index.js";

/**
 * Per layer, keys and values (B, H, S, D) of the S positions seen so far, and per row which of those
 * positions are real tokens (1) or left padding (0). A model's forward({cache}) appends to it.
 * @example const cache = new KVCache(); model.forward(prompt, null, { cache }); model.forward(next, null, { cache });
 */
export class KVCache {
  /** Keys of each layer, (B, H, S, D); empty before the first forward. */
  readonly keys: Tensor[] = [];
  /** Values of each layer, (B, H, S, Dv). */
  readonly values: Tensor[] = [];
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

  /** Per layer, the preallocated key and value buffers (capacity, B, H, D) that keys/values are views of. */
  private readonly bufK: (Tensor | null)[] = [];
  private readonly bufV: (Tensor | null)[] = [];

  /** Appends a layer's new keys and values (B, H, T, D) along the positions; returns the whole (B, H, S + T, D). */
  update(layer: number, k: Tensor, v: Tensor): [Tensor, Tensor] {
    const pk = this.keys[layer];
    const pv = this.values[layer];
    if (pk && pv && isGradEnabled() && (k.requiresGrad || v.requiresGrad || pk.requiresGrad || pv.requiresGrad)) {
      // Differentiable path (training through a cache): concatenate, so gradients reach earlier positions.
      this.keys[layer] = cat([pk, k], 2);
      this.values[layer] = cat([pv, v], 2);
      this.bufK[layer] = this.bufV[layer] = null;
      return [this.keys[layer], this.values[layer]];
    }
    // NOTE: appending into a buffer that grows by doubling copies only the new positions per step;
    // concatenating would copy all S cached positions of every layer for every generated token.
    this.keys[layer] = this.append(this.bufK, layer, pk, k);
    this.values[layer] = this.append(this.bufV, layer, pv, v);
    return [this.keys[layer], this.values[layer]];
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
    for (let l = 0; l < this.keys.length; l++) {
      this.keys[l] = indexSelect(this.keys[l], 0, idx);
      this.values[l] = indexSelect(this.values[l], 0, idx);
      this.bufK[l] = this.bufV[l] = null; // the next append reallocates for the new rows
    }
    this.real = rows.map((r) => this.real[r]);
  }
}
