// `ingot generate <modelDir>`: continues a prompt with a saved GPT folder (models.loadGPT and the
// model's generate/stream): sampling options, stop strings, a seed, streaming, or one JSON line.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import * as ingot from "../index.js";
import { CliError, parseCli, reportError, UsageError } from "./recipes/common.js";

export const GENERATE_HELP = `Usage: ingot generate <modelDir> --prompt TEXT [options]

Continues the prompt with a GPT model folder (written by 'ingot train char-gpt' or models.saveGPT),
sampling with a KV cache.

Options:
  --prompt TEXT              the text to continue (default a newline, as nanoGPT's sample.py)
  --max-tokens N             new tokens at most (default 200)
  --temperature T            divides the logits; 0 is greedy (default 0.8)
  --top-k K                  sample among the K most likely tokens (default 200; 0: all)
  --top-p P                  nucleus sampling: the most likely tokens up to probability P, in (0, 1]
  --repetition-penalty R     > 1 discourages tokens already seen (default 1)
  --stop S                   end when the new text contains S (repeatable)
  --seed N                   the same seed gives the same text (default 1337)
  --stream                   print tokens as they are produced
  --json                     print one JSON object as the last line
  -h, --help                 show this help

Example: ingot generate runs/char-gpt-small --prompt "ROMEO:" --max-tokens 300 --seed 1
`;

export interface GenerateArgs {
  dir: string;
  prompt: string;
  maxTokens: number;
  temperature: number;
  topK: number | null;
  topP: number | null;
  repetitionPenalty: number;
  stop: string[];
  seed: number;
  stream: boolean;
  json: boolean;
}

const CMD = "ingot generate";

/** Parses `ingot generate` arguments; throws UsageError on mistakes. */
export function parseGenerateArgs(args: string[]): GenerateArgs | "help" {
  const { values: v, positionals } = parseCli(CMD, args, {
    prompt: { type: "string" },
    "max-tokens": { type: "string" },
    temperature: { type: "string" },
    "top-k": { type: "string" },
    "top-p": { type: "string" },
    "repetition-penalty": { type: "string" },
    stop: { type: "string", multiple: true },
    seed: { type: "string" },
    stream: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  });
  if (v.help) return "help";
  if (positionals.length !== 1) throw new UsageError(`${CMD}: name one model folder, e.g. ingot generate runs/char-gpt-small --prompt "ROMEO:"`);
  const num = (name: string, raw: string | undefined, dflt: number, ok: (n: number) => boolean, what: string) => {
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (raw.trim() === "" || !ok(n)) throw new UsageError(`${CMD}: --${name} must be ${what}, got '${raw}'`);
    return n;
  };
  const topK = num("top-k", v["top-k"], 200, (n) => Number.isInteger(n) && n >= 0, "an integer ≥ 0");
  const topP = num("top-p", v["top-p"], 1, (n) => n > 0 && n <= 1, "in (0, 1]");
  return {
    dir: positionals[0],
    prompt: v.prompt ?? "\n",
    maxTokens: num("max-tokens", v["max-tokens"], 200, (n) => Number.isInteger(n) && n >= 1, "an integer ≥ 1"),
    temperature: num("temperature", v.temperature, 0.8, (n) => n >= 0 && Number.isFinite(n), "a number ≥ 0"),
    topK: topK === 0 ? null : topK,
    topP: topP === 1 ? null : topP,
    repetitionPenalty: num("repetition-penalty", v["repetition-penalty"], 1, (n) => n > 0 && Number.isFinite(n), "a positive number"),
    stop: v.stop ?? [],
    seed: num("seed", v.seed, 1337, (n) => Number.isInteger(n) && n >= 0, "an integer ≥ 0"),
    stream: v.stream,
    json: v.json,
  };
}

/** Loads the folder, saying plainly what is wrong when it is not a GPT with a tokenizer. */
function loadFolder(dir: string): ingot.models.LoadedGPT & { tokenizer: ingot.text.Tokenizer } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`${CMD}: no model folder at ${dir}; train one with 'ingot train char-gpt'`);
  const cfgPath = join(dir, "config.json");
  if (!existsSync(cfgPath)) throw new CliError(`${CMD}: ${dir} is not a model folder (no config.json)`);
  let arch: unknown;
  try {
    arch = (JSON.parse(readFileSync(cfgPath, "utf8")) as Record<string, unknown>).architecture;
  } catch {
    throw new CliError(`${CMD}: ${cfgPath} is not valid JSON`);
  }
  if (arch !== ingot.models.GPT_ARCHITECTURE)
    throw new CliError(`${CMD}: ${dir} is not a GPT model folder (its architecture is '${String(arch ?? "unknown")}'); generate needs a folder written by 'ingot train char-gpt'`);
  const loaded = ingot.models.loadGPT(dir);
  if (!loaded.tokenizer) throw new CliError(`${CMD}: ${dir} has no tokenizer.json, so the prompt cannot be encoded; save the model with its tokenizer`);
  return loaded as ingot.models.LoadedGPT & { tokenizer: ingot.text.Tokenizer };
}

export async function run(args: string[]): Promise<number> {
  try {
    const a = parseGenerateArgs(args);
    if (a === "help") {
      process.stdout.write(GENERATE_HELP);
      return 0;
    }
    const { model, tokenizer } = loadFolder(a.dir);
    const prompt = tokenizer.encode(a.prompt);
    if (!prompt.length) throw new UsageError(`${CMD}: --prompt encodes to no tokens; give at least one character`);
    // Generation crops the context to the model's blockSize itself.
    const opts: ingot.models.GenerateOptions = {
      temperature: a.temperature,
      topK: a.topK,
      topP: a.topP,
      repetitionPenalty: a.repetitionPenalty,
      stop: a.stop,
      tokenizer,
      seed: a.seed,
    };
    const t0 = performance.now();
    let ids: number[];
    if (a.stream) {
      // Streamed text goes to stdout, or to stderr with --json (stdout then ends with the JSON line).
      const out = a.json ? process.stderr : process.stdout;
      out.write(a.prompt);
      ids = [];
      let shown = "";
      for await (const t of model.stream([prompt], a.maxTokens, opts)) {
        ids.push(t.token);
        // Decode the whole continuation: a byte-level token may end inside a multi-byte character.
        const text = tokenizer.decode(ids);
        if (text.startsWith(shown) && !text.endsWith("\uFFFD")) {
          out.write(text.slice(shown.length));
          shown = text;
        }
      }
      const text = tokenizer.decode(ids);
      out.write(text.slice(shown.length) + "\n");
    } else ids = model.generate([prompt], a.maxTokens, opts)[0].slice(prompt.length);
    const seconds = (performance.now() - t0) / 1000;
    const text = tokenizer.decode(ids);
    if (a.json)
      process.stdout.write(JSON.stringify({ model: a.dir, prompt: a.prompt, text, tokens: ids.length, seconds: Number(seconds.toFixed(3)), tokens_per_second: Math.round(ids.length / seconds), seed: a.seed }) + "\n");
    else if (!a.stream) process.stdout.write(a.prompt + text + "\n");
    return 0;
  } catch (e) {
    return reportError(CMD, e);
  }
}
