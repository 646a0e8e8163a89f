#!/usr/bin/env node
// The `ingot` command. Sub-commands live one per file in this folder.
import { VERSION } from "../version.js";

const HELP = `ingot ${VERSION} — train, compress and serve neural models in TypeScript

Usage: ingot <command> [options]

Options:
  -h, --help       show this help
  -v, --version    print the version

Commands:
  train <recipe>   train a recipe (mnist-mlp, cnn, regression-mlp) and save the model folder
  eval <modelDir>  compute a saved model's test metrics again, as its card.json records them
  info [modelDir]  the backend in use and its kernels; with a folder: its layers, parameters and files

Run 'ingot <command> --help' for a command's options.

Environment:
  INGOT_BACKEND    ref | cpu   (the kernel backend; default cpu when the native addon is built)
  INGOT_DATA       folder holding datasets (mnist/, fashion-mnist/, tinyshakespeare/, …)
`;

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
  if (cmd === "train") {
    const { run } = await import("./train.js");
    return run(rest);
  }
  if (cmd === "eval") {
    const { run } = await import("./eval.js");
    return run(rest);
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
