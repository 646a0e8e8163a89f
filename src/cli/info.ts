// `ingot info`: which backend runs, and which kernels it has.
import { describeKernels, getBackend, VERSION } from "../index.js";

export function run(args: string[]): number {
  const backend = getBackend();
  process.stdout.write(`ingot ${VERSION}\nbackend: ${backend}\nnode: ${process.version}\n`);
  if (args.includes("--kernels")) for (const k of describeKernels(backend)) process.stdout.write(`  ${k.op} ${k.dtype} ← ${k.from}\n`);
  return 0;
}
