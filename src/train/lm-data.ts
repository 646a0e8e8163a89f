// Data for language-model training, as nanoGPT's shakespeare_char/prepare.py and get_batch: a text
// tokenized into one Int32Array, split into train/val, and random-offset (x, y) blocks from a seeded generator.
import { Generator, type Tensor, ValueError } from "../tensor/index.js";
import { tensor } from "../ops/index.js";
import { type CharTokenizer, trainChar } from "../text/index.js";

/** A tokenized text split into a training and a validation part. */
export interface LMDataset {
  tokenizer: CharTokenizer;
  train: Int32Array;
  val: Int32Array;
}

/**
 * nanoGPT's shakespeare_char preparation: a character tokenizer over the whole text, the first
 * `trainFraction` (default 0.9) of the characters for training, the rest for validation.
 * @example const { tokenizer, train, val } = charDataset(readFileSync("input.txt", "utf8")); // 65 characters, 1 003 854 / 111 540 tokens
 */
export function charDataset(text: string, opts: { trainFraction?: number } = {}): LMDataset {
  const frac = opts.trainFraction ?? 0.9;
  if (!(frac > 0 && frac < 1)) throw new ValueError(`charDataset: trainFraction must be in (0, 1), got ${frac}`);
  if (text.length === 0) throw new ValueError("charDataset: the text is empty");
  const tokenizer = trainChar(text);
  const ids = Int32Array.from(tokenizer.encode(text));
  // NOTE: nanoGPT splits the characters (n = len(data); data[:int(n*0.9)]); with one id per code point it is the same cut.
  const n = Math.floor(ids.length * frac);
  return { tokenizer, train: ids.subarray(0, n), val: ids.subarray(n) };
}

/** One batch: inputs x and next-token targets y, both int32 (B, T). */
export interface LMBatch {
  x: Tensor;
  y: Tensor;
}

/**
 * Draws `batchSize` random offsets i ∈ [0, len − T) from `gen` (nanoGPT's
 * torch.randint(len(data) − block_size, (batch_size,))) and returns x = data[i : i+T], y = data[i+1 : i+1+T].
 */
export function getBatch(data: Int32Array, blockSize: number, batchSize: number, gen: Generator): LMBatch {
  const T = blockSize;
  if (data.length <= T) throw new ValueError(`getBatch: the data has ${data.length} tokens, fewer than blockSize + 1 = ${T + 1}; use more text or a shorter context`);
  const x = new Int32Array(batchSize * T);
  const y = new Int32Array(batchSize * T);
  for (let b = 0; b < batchSize; b++) {
    const i = gen.int(0, data.length - T);
    x.set(data.subarray(i, i + T), b * T);
    y.set(data.subarray(i + 1, i + 1 + T), b * T);
  }
  return { x: tensor(x, { dtype: "int32", shape: [batchSize, T] }), y: tensor(y, { dtype: "int32", shape: [batchSize, T] }) };
}

/**
 * A generator for one purpose at one iteration, derived from the run's seed: the batches of an
 * iteration depend only on (seed, stream, iter), so a resumed run draws exactly what an
 * uninterrupted one would, without saving any generator state.
 */
export function streamGenerator(seed: number, stream: number, iter: number): Generator {
  // Distinct seeds for distinct (seed, stream, iter) while iter < 2^24 and stream < 2^4; splitmix inside Generator mixes them.
  return new Generator(seed * 2 ** 28 + stream * 2 ** 24 + iter);
}
