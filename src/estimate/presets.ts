// Named models for `ingot estimate --preset`: GPT-2's four sizes (as models.GPT builds them with GPT-2's
// 50257-token vocabulary), LLaMA 7B/13B, BERT-base with the masked-LM head, and the char-gpt sizes of
// `ingot train char-gpt` (on Tiny Shakespeare's 65 characters).
import { ValueError } from "../tensor/index.js";
import { CHAR_GPT_SIZES } from "../cli/train-lm.js";
import { BERT_SIZES } from "../models/bert.js";
import { bertSpec, gptSpec, llamaSpec, type TransformerSpec } from "./transformer.js";

export interface Preset {
  summary: string;
  spec: TransformerSpec;
  /** The micro-batch (sequences) the memory estimate assumes unless --batch says otherwise. */
  batch: number;
  /** Published parameter count, for the reader to compare (the estimate itself counts by formula). */
  published?: string;
}

const gpt2 = (nLayer: number, nHead: number, nEmbd: number) => gptSpec({ vocabSize: 50257, blockSize: 1024, nLayer, nHead, nEmbd, bias: true });
const TINY_SHAKESPEARE_VOCAB = 65;

export const PRESETS: Record<string, Preset> = {
  "gpt2-124m": { summary: "GPT-2 small: 12 layers, 12 heads, 768 wide, context 1024", spec: gpt2(12, 12, 768), batch: 12, published: "124,439,808 (Hugging Face gpt2)" },
  "gpt2-355m": { summary: "GPT-2 medium: 24 layers, 16 heads, 1024 wide", spec: gpt2(24, 16, 1024), batch: 12, published: "354,823,168 (gpt2-medium)" },
  "gpt2-774m": { summary: "GPT-2 large: 36 layers, 20 heads, 1280 wide", spec: gpt2(36, 20, 1280), batch: 12, published: "774,030,080 (gpt2-large)" },
  "gpt2-1.5b": { summary: "GPT-2 XL: 48 layers, 25 heads, 1600 wide", spec: gpt2(48, 25, 1600), batch: 12, published: "1,557,611,200 (gpt2-xl)" },
  "llama-7b": {
    summary: "LLaMA 7B: 32 layers, 32 heads, 4096 wide, SwiGLU 11008, context 2048 (not built by Ingot)",
    spec: llamaSpec({ vocabSize: 32000, dModel: 4096, nLayer: 32, nHead: 32, dFF: 11008, contextLength: 2048 }),
    batch: 1,
    published: "6,738,415,616 (Touvron et al. 2023, '6.7B')",
  },
  "llama-13b": {
    summary: "LLaMA 13B: 40 layers, 40 heads, 5120 wide, SwiGLU 13824, context 2048 (not built by Ingot)",
    spec: llamaSpec({ vocabSize: 32000, dModel: 5120, nLayer: 40, nHead: 40, dFF: 13824, contextLength: 2048 }),
    batch: 1,
    published: "13,015,864,320 (Touvron et al. 2023, '13.0B')",
  },
  "bert-base": { summary: "BERT-base with the masked-LM head (bert-base-uncased's sizes), sequences of 512", spec: bertSpec({}, "mlm"), batch: 32, published: "109,514,298 (bert-base-uncased BertForMaskedLM)" },
  "bert-tiny": { summary: "BERT-Tiny (Turc et al. 2019) with the masked-LM head, 30522-token vocabulary", spec: bertSpec({ vocabSize: 30522, ...BERT_SIZES.tiny }, "mlm"), batch: 32 },
  "bert-small": { summary: "BERT-Mini (Ingot's 'small') with the masked-LM head, 30522-token vocabulary", spec: bertSpec({ vocabSize: 30522, ...BERT_SIZES.small }, "mlm"), batch: 32 },
};
for (const [size, s] of Object.entries(CHAR_GPT_SIZES))
  PRESETS[`char-gpt-${size}`] = {
    summary: `ingot train char-gpt --size ${size}: ${s.summary}`,
    spec: gptSpec({ ...s.model, vocabSize: TINY_SHAKESPEARE_VOCAB, bias: true }),
    batch: s.batchSize,
  };

export function getPreset(name: string): Preset {
  const p = PRESETS[name.toLowerCase()];
  if (!p) throw new ValueError(`estimate: unknown preset '${name}'; known presets: ${Object.keys(PRESETS).join(", ")}`);
  return p;
}
