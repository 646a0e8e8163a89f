// Image recognition service, one command: trains the seed CNN on Fashion-MNIST and quantizes it to int8
// on first start (kept in --model-dir), then serves it with `ingot serve`'s predict route and a page to
// draw or upload a picture.
//   INGOT_DATA=../shared/data node dist/examples/apps/image-service/main.js [--port 8080] [--size ci|full]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { COMMON_OPTIONS_HELP, hasModel, parseAppArgs, runMain, serveApp } from "../shared.js";
import { imagePage } from "./page.js";
import { INT8_DIR, SIZES, sizeSummary, trainImageModel } from "./model.js";

const APP = "image-service";
const MODEL_NAME = "fashion";

const HELP = `Usage: node dist/examples/apps/image-service/main.js [options]

Trains the seed CNN on Fashion-MNIST (INGOT_DATA/fashion-mnist) and quantizes it to int8 on first
start, then serves it: the page at /, POST /v1/models/${MODEL_NAME}/predict, /healthz, /metrics.

Options:
${COMMON_OPTIONS_HELP}

Sizes: ci = ${sizeSummary(SIZES.ci)}; full = ${sizeSummary(SIZES.full)}.
`;

runMain(APP, async () => {
  const parsed = parseAppArgs(APP, process.argv.slice(2));
  if (parsed === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  const o = parsed.opts;
  const served = join(o.modelDir, INT8_DIR);
  if (o.retrain || !hasModel(served)) {
    const r = await trainImageModel(o.modelDir, o.size, { seed: o.seed, data: o.data, log: (l) => process.stderr.write(l + "\n") });
    process.stderr.write(`${APP}: trained in ${r.seconds.toFixed(1)} s; int8 model in ${served}\n`);
  } else process.stderr.write(`${APP}: serving the model trained earlier in ${served} (--retrain trains again)\n`);
  const card = JSON.parse(readFileSync(join(served, "card.json"), "utf8")) as { classes?: string[]; metrics?: { test_accuracy?: number } };
  if (!Array.isArray(card.classes) || card.classes.length !== 10) throw new Error(`${join(served, "card.json")} does not list the 10 class names; start with --retrain`);
  const acc = card.metrics?.test_accuracy;
  const html = imagePage(MODEL_NAME, card.classes, typeof acc === "number" ? `${(acc * 100).toFixed(1)} %` : "unknown");
  return serveApp(APP, o, { models: [{ name: MODEL_NAME, dir: served }] }, html);
});
