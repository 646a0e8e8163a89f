// The case-study apps' figures: trains each app's model (as its first start does) in a temporary folder
// and measures it. Support assistant: retrieval top-1 accuracy on the held-out paraphrases
// (examples/apps/support-assistant/eval.jsonl) for BM25 alone, the model's embeddings alone and the
// hybrid the app uses, and how many greedy replies (with the retrieved entry in the prompt, as served)
// hold the answer's key phrase. Image service: float32 and int8 test accuracy and folder sizes.
//   INGOT_DATA=../shared/data node dist/bench/apps.js [--size ci|full] [--only support|image]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as ingot from "../src/index.js";
import { readEvalQuestions, readFaq } from "../examples/apps/support-assistant/faq.js";
import { promptFor, trainAssistant } from "../examples/apps/support-assistant/model.js";
import { FaqIndex } from "../examples/apps/support-assistant/retrieval.js";
import { trainImageModel } from "../examples/apps/image-service/model.js";
import { ingotVersions, writeResult } from "./common.js";

const { values: args } = parseArgs({ options: { size: { type: "string", default: "ci" }, only: { type: "string" }, seed: { type: "string", default: "0" } } });
const size = args.size as "ci" | "full";
if (size !== "ci" && size !== "full") throw new Error(`bench apps: --size must be ci or full, got ${args.size}`);
const seed = Number(args.seed);
const log = (l: string) => process.stderr.write(l + "\n");
const tmp = mkdtempSync(join(tmpdir(), "ingot-bench-apps-"));
const body: Record<string, unknown> = { size, seed, versions: ingotVersions() };

try {
  if (args.only !== "image") {
    const faq = readFaq();
    const held = readEvalQuestions();
    const dir = join(tmp, "support");
    const train = trainAssistant(dir, faq, size, { seed, log });
    const loaded = ingot.models.loadGPT(dir);
    const model = loaded.model;
    const tokenizer = loaded.tokenizer!;
    const index = new FaqIndex(model, tokenizer, faq);
    const top = { bm25: 0, dense: 0, hybrid: 0 };
    let answered = 0;
    const replies: { question: string; retrieved: string; reply: string; key_phrase: boolean }[] = [];
    for (const q of held) {
      const all = index.search(q.question, faq.length);
      top.hybrid += Number(all[0].entry.id === q.id);
      top.bm25 += Number([...all].sort((a, b) => b.bm25 - a.bm25)[0].entry.id === q.id);
      top.dense += Number([...all].sort((a, b) => b.cosine - a.cosine)[0].entry.id === q.id);
      const ids = tokenizer.encode(promptFor(q.question, all[0].entry));
      const out = model.generate([ids], 96, { temperature: 0, stop: [[tokenizer.eosTokenId!]] })[0];
      const reply = tokenizer.decode(out.slice(ids.length), { skipSpecialTokens: true }).trim();
      const ok = reply.includes(faq.find((e) => e.id === q.id)!.key);
      answered += Number(ok);
      replies.push({ question: q.question, retrieved: all[0].entry.id, reply, key_phrase: ok });
    }
    body.support_assistant = { training: train, held_out_questions: held.length, retrieval_top1: top, replies_with_key_phrase: answered, replies };
    log(`support-assistant: retrieval top-1 bm25 ${top.bm25}, dense ${top.dense}, hybrid ${top.hybrid} of ${held.length}; replies with the key phrase ${answered}/${held.length}; trained in ${train.seconds.toFixed(1)} s`);
  }
  if (args.only !== "support") {
    const r = await trainImageModel(join(tmp, "image"), size, { seed, log });
    body.image_service = r;
    log(`image-service: int8 test accuracy ${(r.int8.test_accuracy * 100).toFixed(2)} % (float32 ${(r.float32.test_accuracy * 100).toFixed(2)} %), ${r.seconds.toFixed(1)} s`);
  }
  process.stdout.write(writeResult(args.only ? `apps-${args.only}-${size}` : `apps-${size}`, body) + "\n");
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
