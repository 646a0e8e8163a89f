// Masked-LM inputs, as BERT and Hugging Face's DataCollatorForLanguageModeling: 15 % of the non-special,
// non-pad tokens are chosen as targets; of those 80 % become [MASK], 10 % a random token, 10 % stay;
// every other position gets the label −100 (ignored by the loss). Seeded, so a run repeats.
import { Generator, type Tensor, ValueError } from "../tensor/index.js";
import { tensor } from "../ops/index.js";
import { padBatch } from "../text/index.js";
import { IGNORE_INDEX } from "../models/bert.js";

export interface MaskOptions {
  /** Token ids are drawn from [0, vocabSize) for the "random token" case (special ids excluded). */
  vocabSize: number;
  /** The [MASK] id. */
  maskId: number;
  /** Ids that are never chosen as targets nor drawn as random tokens ([PAD], [CLS], [SEP], [MASK], [UNK], …). */
  specialIds: readonly number[];
  /** The share of eligible tokens chosen as targets (default 0.15). */
  probability?: number;
  /** Where the random numbers come from (default: a generator seeded with `seed`, default 0). */
  generator?: Generator;
  seed?: number;
}

export interface MaskedRows {
  /** The corrupted rows (same lengths as the input rows). */
  inputIds: number[][];
  /** The original id at each chosen position, −100 elsewhere. */
  labels: number[][];
}

/**
 * Chooses and corrupts the masked-LM targets of token rows. NOTE: when no position of the whole batch
 * is chosen (possible for a few short rows) one eligible position is chosen, so the loss is never an
 * average over nothing; random replacement tokens exclude the special ids.
 * @example maskTokens([[2, 17, 9, 3]], { vocabSize: 100, maskId: 4, specialIds: [0, 1, 2, 3, 4], seed: 1 })
 */
export function maskTokens(rows: readonly (readonly number[])[], opts: MaskOptions): MaskedRows {
  const p = opts.probability ?? 0.15;
  if (!(p > 0 && p <= 1)) throw new ValueError(`maskTokens: probability must be in (0, 1], got ${p}`);
  const special = new Set(opts.specialIds);
  if (!special.has(opts.maskId)) special.add(opts.maskId);
  const ordinary = opts.vocabSize - [...special].filter((s) => s >= 0 && s < opts.vocabSize).length;
  if (ordinary < 1) throw new ValueError(`maskTokens: every id of the ${opts.vocabSize}-token vocabulary is special; nothing can be a target`);
  const g = opts.generator ?? new Generator(opts.seed ?? 0);
  const randomToken = (): number => {
    for (;;) {
      const t = g.int(0, opts.vocabSize);
      if (!special.has(t)) return t;
    }
  };
  const inputIds = rows.map((r) => [...r]);
  const labels = rows.map((r) => new Array<number>(r.length).fill(IGNORE_INDEX));
  let chosen = 0;
  const corrupt = (i: number, j: number): void => {
    const tok = rows[i][j];
    labels[i][j] = tok;
    chosen++;
    const u = g.random();
    if (u < 0.8) inputIds[i][j] = opts.maskId;
    else if (u < 0.9) inputIds[i][j] = randomToken();
  };
  rows.forEach((r, i) => r.forEach((tok, j) => !special.has(tok) && g.random() < p && corrupt(i, j)));
  if (chosen === 0) {
    const eligible = rows.flatMap((r, i) => r.map((tok, j) => [i, j, tok]).filter(([, , tok]) => !special.has(tok)));
    if (eligible.length) {
      const [i, j] = eligible[g.int(0, eligible.length)];
      corrupt(i, j);
    }
  }
  return { inputIds, labels };
}

/** A padded masked-LM batch: ids, attention mask and labels, each (B, T) int32. */
export interface MlmBatch {
  inputIds: Tensor;
  attentionMask: Tensor;
  labels: Tensor;
}

/** Masks token rows and pads them (labels padded with −100) into tensors. */
export function mlmBatch(rows: readonly (readonly number[])[], opts: MaskOptions & { padId: number }): MlmBatch {
  const { inputIds, labels } = maskTokens(rows, opts);
  const enc = padBatch(inputIds, { padId: opts.padId });
  const [B, T] = enc.inputIds.shape;
  const lab = new Int32Array(B * T).fill(IGNORE_INDEX);
  labels.forEach((r, i) => r.forEach((l, j) => (lab[i * T + j] = l)));
  return { inputIds: enc.inputIds, attentionMask: enc.attentionMask, labels: tensor(lab, { dtype: "int32", shape: [B, T] }) };
}
