#!/usr/bin/env node
// The `ingot` command. Sub-commands live one per file in this folder.
import { VERSION } from "../version.js";

const HELP = `ingot ${VERSION} — train, compress and serve neural models in TypeScript

Usage: ingot <command> [options]

Options:
  -h, --help       show this help
  -v, --version    print the version

Commands:
  info             show the backend in use and the registered kernels

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
  if (cmd === "info") {
    const { run } = await import("./info.js");
    return run(rest);
  }
  process.stderr.write(`ingot: unknown command '${cmd}'; run 'ingot --help' for the list\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`ingot: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
