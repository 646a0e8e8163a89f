#!/usr/bin/env node
// The `ingot` command. Sub-commands live one per file in this folder.
import { VERSION } from "../version.js";

const HELP = `ingot ${VERSION} — train, compress and serve neural models in TypeScript

Usage: ingot <command> [options]

Options:
  -h, --help       show this help
  -v, --version    print the version

Commands:
  train <recipe>   train a recipe (mnist-mlp, cnn, regression-mlp, lenet300, char-gpt) and save the model folder
  eval <modelDir>  compute a saved model's test metrics again, as its card.json records them
  generate <dir>   continue a prompt with a GPT model folder (--prompt TEXT, sampling options, --stream)
  import gpt2 <hfDir>  convert a Hugging Face GPT-2 folder (config.json + model.safetensors) into a GPT folder (--out DIR)
  serve <modelDir>...  serve model folders over HTTP: predict, OpenAI-compatible completions, metrics
  info [modelDir]  the backend in use and its kernels; with a folder: its layers, parameters and files
  pretrain mlm     masked-LM pretraining of a BERT on a folder of text (--corpus DIR)
  finetune <dir>   fine-tune a BERT folder as a classifier (--task classify --data FILE.jsonl; --lora, --freeze)
  compress <modelDir>  quantize, prune, factorize or distill a saved model; report size, accuracy, latency
  runs list|show|compare|rm  the recorded runs (~/.ingot/runs.db, INGOT_HOME moves it): config, metrics, lineage
  dashboard        a local web dashboard of the recorded runs, their curves, data reports and profiles
  profile <script|recipe>  record a trace of ops and kernels (Chrome trace format) with a summary table
  data check|clean  data-quality report (missing, types, duplicates, outliers, imbalance, drift, PII); a recorded cleaning pipeline
  encrypt|decrypt <modelDir>  AES-256-GCM model folders (passphrase or key file), with a SHA-256 manifest
  fl server|client  federated learning over HTTP (FedAvg, FedProx, FedAdam; secure aggregation)
  run --nproc-per-node N script.js  launch distributed training (torchrun's shape; Gloo process groups)
  export <modelDir> --format onnx  write an ONNX (opset 17) file for the MLP, CNN or GPT
  estimate         parameters, FLOPs, memory, time and cost of training or serving a model

Run 'ingot <command> --help' for a command's options.

Environment:
  INGOT_BACKEND    ref | cpu   (the kernel backend; default cpu when the native addon is built)
  INGOT_DATA       folder holding datasets (mnist/, fashion-mnist/, tinyshakespeare/, …)
  INGOT_HOME       Ingot's folder (default ~/.ingot): runs.db, the run store
`;

// One module per sub-command, loaded only when used; each exports run(args) → exit code.
const COMMANDS: Record<string, string> = {
  train: "./train.js",
  eval: "./eval.js",
  generate: "./generate.js",
  import: "./import.js",
  compress: "./compress.js",
  serve: "./serve.js",
  pretrain: "./pretrain.js",
  finetune: "./finetune.js",
  runs: "./runs.js",
  data: "./data.js",
  encrypt: "./encrypt.js",
  decrypt: "./decrypt.js",
  fl: "./fl.js",
  run: "./run.js",
  export: "./export.js",
  estimate: "./estimate.js",
  dashboard: "./dashboard.js",
  profile: "./profile.js",
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "-h" || cmd === "--help" || cmd === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  if (cmd === "-v" || cmd === "--version") {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const file = COMMANDS[cmd];
  if (file) {
    const mod = (await import(file)) as { run: (args: string[]) => Promise<number> | number };
    return await mod.run(rest);
  }
  if (cmd === "info") {
    // `ingot info` (with --kernels) describes the backend; `ingot info <modelDir>` a model folder.
    const aboutModel = rest.some((a) => !a.startsWith("-") || a === "-h" || a === "--help");
    const { run } = aboutModel ? await import("./model-info.js") : await import("./info.js");
    return run(rest);
  }
  process.stderr.write(`ingot: unknown command '${cmd}'; run 'ingot --help' for the list\n`);
  return 2;
}

// `ingot info --kernels | head` closes stdout early: that is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`ingot: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
