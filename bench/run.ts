// `npm run bench [-- sgemm|mlp|cnn ...] [--slow]`: runs the benchmarks (all by default), each
// printing one table of Ingot against its peers, and writing bench/results/<name>.json.
import * as ig from "../src/index.js";
import { machine, ingotVersions } from "./common.js";
import { sgemm } from "./sgemm.js";
import { cnn, mlp } from "./train.js";
import { quant } from "./quant.js";
import { lm } from "./lm.js";

const args = process.argv.slice(2);
const slow = args.includes("--slow");
const chosen = args.filter((a) => !a.startsWith("--"));
const all: Record<string, () => void | Promise<void>> = { sgemm, mlp, cnn: () => cnn(slow), lm, quant };
for (const name of chosen)
  if (!all[name]) {
    console.error(`bench: unknown benchmark '${name}'; choose from ${Object.keys(all).join(", ")}`);
    process.exit(2);
  }
if (ig.getBackend() !== "cpu") console.error(`bench: Ingot runs on '${ig.getBackend()}', not the native backend; build it with npm rebuild`);
console.log("machine:", JSON.stringify(machine()), "ingot:", JSON.stringify(ingotVersions()));
let failed = false;
for (const name of chosen.length ? chosen : Object.keys(all)) {
  try {
    await all[name]();
  } catch (e) {
    failed = true;
    console.error(`bench ${name}: ${(e as Error).message}`);
  }
}
process.exit(failed ? 1 : 0);
