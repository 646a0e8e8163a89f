// Model folders for the serve tests (not a test file): a keras classifier with recorded preprocessing,
// a keras regressor, and a tiny GPT with a character tokenizer, all small and seeded.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ig from "../../src/index.js";

const { keras } = ig;

/** Text the character tokenizer is trained on: it covers the chat template's characters. */
export const LM_TEXT = "System: User: Assistant: hello world, the quick brown fox jumps over the lazy dog.\nABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789!?";

/** A softmax classifier of [2, 2] examples into 3 classes; card.json says inputs are divided by 10. */
export function saveClassifier(dir: string, seed = 1): ig.keras.Model {
  ig.manualSeed(seed);
  const m = keras.sequential([keras.flatten({ inputShape: [2, 2] }), keras.dense({ units: 8, activation: "relu" }), keras.dense({ units: 3, activation: "softmax" })]);
  m.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy" });
  m.save(dir, { card: { preprocessing: { divide: 10, input_shape: [2, 2], labels: "index", classes: 3 } } });
  return m;
}

/** A linear regressor of 3 features (mean squared error: no predictions field). */
export function saveRegressor(dir: string): ig.keras.Model {
  ig.manualSeed(2);
  const m = keras.sequential([keras.dense({ units: 1, inputShape: [3] })]);
  m.compile({ optimizer: "sgd", loss: "meanSquaredError" });
  m.save(dir);
  return m;
}

/** A 2-layer GPT (random weights) with a character tokenizer. */
export function saveLM(dir: string, opts: { blockSize?: number } = {}): void {
  ig.manualSeed(3);
  const tok = ig.text.trainChar(LM_TEXT);
  const gpt = new ig.models.GPT({ vocabSize: tok.vocabSize, blockSize: opts.blockSize ?? 64, nLayer: 2, nHead: 2, nEmbd: 32 });
  ig.models.saveGPT(dir, gpt, { tokenizer: tok });
}

/** Saves the three folders under a fresh temporary folder. */
export function saveAll(): { root: string; clf: string; reg: string; lm: string } {
  const root = mkdtempSync(join(tmpdir(), "ingot-serve-"));
  const paths = { root, clf: join(root, "clf"), reg: join(root, "reg"), lm: join(root, "lm") };
  saveClassifier(paths.clf);
  saveRegressor(paths.reg);
  saveLM(paths.lm);
  return paths;
}

/** What the server should answer for a greedy completion: the model's own generate, decoded. */
export function greedyText(lmDir: string, prompt: string, maxTokens: number): string {
  const { model, tokenizer } = ig.models.loadGPT(lmDir);
  const ids = tokenizer!.encode(prompt);
  const out = model.generate([ids], maxTokens, { temperature: 0 })[0];
  return tokenizer!.decode(out.slice(ids.length));
}
