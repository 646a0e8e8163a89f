// `ingot import gpt2 <hfDir> --out DIR`: a Hugging Face GPT-2 folder (config.json + model.safetensors,
// and its tokenizer) converted into an Ingot GPT folder, which `ingot generate`, `ingot serve`,
// `ingot compress` and `ingot export` read like one that `ingot train char-gpt` wrote.
import { models } from "../index.js";
import { parseCli, reportError, UsageError } from "./recipes/common.js";

export const IMPORT_HELP = `Usage: ingot import gpt2 <hfDir> --out DIR [--json]

Reads a Hugging Face GPT-2 checkpoint folder: config.json (GPT2Config), model.safetensors (GPT2Model or
GPT2LMHeadModel weights; pytorch_model.bin pickles are refused) and, when present, tokenizer.json or
vocab.json + merges.txt. Writes an Ingot GPT folder (config.json, model.safetensors, tokenizer.json,
card.json); Conv1D weights are transposed to Linear's [out, in] as nanoGPT's from_pretrained does.

Options:
  --out DIR    the Ingot model folder to write
  --json       print one JSON object (the config and the parameter count)
  -h, --help   show this help

Example: ingot import gpt2 ~/models/gpt2 --out runs/gpt2 && ingot generate runs/gpt2 --prompt "Hello"
`;

export async function run(args: string[]): Promise<number> {
  try {
    const { values: v, positionals } = parseCli("ingot import", args, {
      out: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (v.help) {
      process.stdout.write(IMPORT_HELP);
      return 0;
    }
    if (positionals[0] !== "gpt2" || positionals.length !== 2)
      throw new UsageError("ingot import: the form is 'ingot import gpt2 <hfDir> --out DIR' (GPT-2 is the only format so far; see --help)");
    if (!v.out) throw new UsageError("ingot import: pass --out DIR, the Ingot folder to write");
    const src = positionals[1];
    const { model, tokenizer, config } = models.importGPT2(src);
    models.saveGPT(v.out, model, { tokenizer: tokenizer ?? undefined, card: { imported_from: src, format: "huggingface-gpt2" } });
    const params = model.parameters().reduce((n, p) => n + p.size, 0);
    if (v.json) process.stdout.write(JSON.stringify({ out: v.out, config, parameters: params, tokenizer: tokenizer !== null }) + "\n");
    else
      process.stdout.write(
        `imported ${src}: GPT-2 with ${config.nLayer} layers, ${config.nHead} heads, ${config.nEmbd} wide, context ${config.blockSize}, vocabulary ${config.vocabSize} (${params.toLocaleString("en-US")} parameters)${tokenizer ? ", with its tokenizer" : ", no tokenizer"} → ${v.out}\n`,
      );
    return 0;
  } catch (e) {
    return reportError("ingot import", e);
  }
}
