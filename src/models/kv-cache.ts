// The key/value cache of a causal language model: every layer's keys and values for the tokens seen
// so far, so that generating one more token runs one position through the model, not the whole context.
import { IndexError, type Tensor } from "../tensor/index.js";
import { cat, contiguous, indexSelect, tensor } from "../ops/index.js";

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

  /** Appends a layer's new keys and values (B, H, T, D) along the positions; returns the whole (B, H, S + T, D). */
  update(layer: number, k: Tensor, v: Tensor): [Tensor, Tensor] {
    const pk = this.keys[layer];
    const pv = this.values[layer];
    // NOTE: the concatenation copies S positions per step, as much as the attention reads anyway.
    this.keys[layer] = pk ? cat([pk, k], 2) : contiguous(k);
    this.values[layer] = pv ? cat([pv, v], 2) : contiguous(v);
    return [this.keys[layer], this.values[layer]];
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
    }
    this.real = rows.map((r) => this.real[r]);
  }
}
