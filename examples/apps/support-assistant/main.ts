// Customer-support assistant, one command: trains a small GPT on the Ingot Cloud FAQ on first start
// (BPE tokenizer, brief pretraining, LoRA fine-tuning; kept in --model-dir), then serves it with
// `ingot serve`'s OpenAI-compatible chat endpoint, retrieval of the best FAQ entry into each prompt
// (ServeOptions.promptHook), and a chat page.
//   INGOT_DATA=../shared/data node dist/examples/apps/support-assistant/main.js [--port 8080] [--size ci|full]
import * as ingot from "../../../src/index.js";
import { COMMON_OPTIONS_HELP, hasModel, parseAppArgs, runMain, serveApp } from "../shared.js";
import { readFaq } from "./faq.js";
import { promptFor, SIZES, sizeSummary, trainAssistant } from "./model.js";
import { chatPage } from "./page.js";
import { FaqIndex } from "./retrieval.js";

const APP = "support-assistant";
const MODEL_NAME = "assistant";

const HELP = `Usage: node dist/examples/apps/support-assistant/main.js [options]

Trains a small GPT on the Ingot Cloud FAQ on first start, then serves it: the chat page at /,
POST /v1/chat/completions (model "${MODEL_NAME}"; the best FAQ entry is retrieved into the prompt),
POST /app/retrieve {"question"} (the entries retrieval ranks first), /healthz, /metrics.

Options:
${COMMON_OPTIONS_HELP}
  --faq FILE        the FAQ, JSONL {id, question, answer, key, paraphrases} (default: the app's faq.jsonl)

Sizes: ci = ${sizeSummary(SIZES.ci)} (well under a minute on 2 cores); full = ${sizeSummary(SIZES.full)} (minutes).
`;

/** The text of the last user message (text parts joined), or null. */
function lastUserText(messages: readonly ingot.serve.ChatMessage[]): string | null {
  const m = [...messages].reverse().find((x) => x.role === "user");
  if (!m || m.content == null) return null;
  return typeof m.content === "string" ? m.content : m.content.map((p) => p.text ?? "").join("");
}

runMain(APP, async () => {
  const parsed = parseAppArgs(APP, process.argv.slice(2), { faq: { type: "string" } });
  if (parsed === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  const { opts: o, values } = parsed;
  const faq = readFaq(values.faq as string | undefined);
  if (o.retrain || !hasModel(o.modelDir)) {
    const r = trainAssistant(o.modelDir, faq, o.size, { seed: o.seed, dataRoot: o.data, log: (l) => process.stderr.write(l + "\n") });
    process.stderr.write(`${APP}: trained in ${r.seconds.toFixed(1)} s (pretraining ${r.pretrain.seconds.toFixed(1)} s, LoRA ${r.sft.seconds.toFixed(1)} s); model in ${o.modelDir}\n`);
  } else process.stderr.write(`${APP}: serving the model trained earlier in ${o.modelDir} (--retrain trains again)\n`);

  // One index per loaded model (a reload of the folder builds a new one), made from that model's embeddings.
  const indexes = new WeakMap<ingot.models.GPT, FaqIndex>();
  const indexFor = (lm: ingot.serve.LanguageModel) => {
    let ix = indexes.get(lm.gpt);
    if (!ix) indexes.set(lm.gpt, (ix = new FaqIndex(lm.gpt, lm.tokenizer, faq)));
    return ix;
  };
  // Chat requests: the last user question, with the best-matching FAQ entry as a system message.
  const promptHook: ingot.serve.PromptHook = ({ endpoint, model, messages }) => {
    if (endpoint !== "chat" || !messages) return undefined;
    const q = lastUserText(messages);
    if (!q?.trim()) return undefined;
    return promptFor(q, indexFor(model).search(q, 1)[0].entry);
  };

  let served: ingot.serve.IngotServer | null = null;
  const html = chatPage(MODEL_NAME, [faq[0].paraphrases[0] ?? faq[0].question, faq[5]?.question ?? faq[0].question]);
  return serveApp(APP, o, { models: [{ name: MODEL_NAME, dir: o.modelDir }], promptHook, maxTokensLimit: 512 }, html, (server) => {
    served = server;
    server.app.post<{ Body: { question: string; k?: number } }>(
      "/app/retrieve",
      { schema: { body: { type: "object", required: ["question"], properties: { question: { type: "string", minLength: 1 }, k: { type: "integer", minimum: 1, maximum: 10 } } } } },
      async (req) => {
        const lm = served!.models.get(MODEL_NAME)!.model as ingot.serve.LanguageModel;
        const hits = indexFor(lm).search(req.body.question, req.body.k ?? 3);
        return { hits: hits.map((h) => ({ id: h.entry.id, question: h.entry.question, score: h.score })) };
      },
    );
  });
});
