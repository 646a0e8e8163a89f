// The support assistant end to end in Chromium: the app trains its GPT (pretraining + LoRA) in a fresh
// model folder and serves it. On the chat page a held-out paraphrase of an FAQ question (one that is
// in neither the FAQ nor its training paraphrases) is typed and sent; the reply streamed by
// /v1/chat/completions — the model's generated text — holds the FAQ answer's key phrase, and the
// page shows exactly that text. Retrieval (hybrid BM25 + model embeddings) picks the right entry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromiumSkip, launchChromium, shutDown, startApp } from "./apps-common.js";
import { noNativeBackend } from "../unit/requirements.js";

// The app pretrains on the FAQ plus recent State of the Union addresses; the reply checked here is the
// one the model trained on both gives (without the corpus it trains on the FAQ alone, another model).
const DATA = process.env.INGOT_DATA ? resolve(process.env.INGOT_DATA) : null;
const hasSotu = !!DATA && existsSync(join(DATA, "text-corpora", "sotu"));
const skip = chromiumSkip || (hasSotu ? false : `no text-corpora/sotu in ${DATA ?? "INGOT_DATA (unset)"}: set INGOT_DATA=../shared/data`);

const SOURCE = new URL("../../../examples/apps/support-assistant/", import.meta.url).pathname;
const jsonl = (file: string) =>
  readFileSync(join(SOURCE, file), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, any>);

/** The text of an OpenAI chat stream (server-sent events). */
function streamedText(body: string): string {
  let text = "";
  for (const event of body.split("\n\n")) {
    if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
    const chunk = JSON.parse(event.slice(6)) as { choices: { delta: { content?: string } }[] };
    text += chunk.choices[0]?.delta.content ?? "";
  }
  return text;
}

test("support assistant in Chromium: a held-out paraphrase gets the FAQ answer's key phrase from the chat endpoint", { skip: noNativeBackend || skip, timeout: 600_000 }, async () => {
  const faq = jsonl("faq.jsonl");
  const held = jsonl("eval.jsonl");
  const q = held.find((e) => e.id === "team")!;
  const entry = faq.find((e) => e.id === q.id)!;
  assert.ok(![entry.question, ...entry.paraphrases].includes(q.question), "the question is not one the model was fine-tuned on");

  const tmp = mkdtempSync(join(tmpdir(), "ingot-app-support-"));
  const app = await startApp("support-assistant", ["--model-dir", join(tmp, "model"), "--data", DATA!], 480_000);
  let browser: Awaited<ReturnType<typeof launchChromium>> | null = null;
  try {
    assert.match(app.log(), /LoRA epoch/, "the app fine-tuned with LoRA");
    const retrieved = (await (await fetch(`${app.url}/app/retrieve`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ question: q.question }) })).json()) as { hits: { id: string }[] };
    assert.equal(retrieved.hits[0].id, entry.id, "retrieval ranks the right FAQ entry first");

    browser = await launchChromium();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(app.url + "/");
    assert.match(await page.title(), /support/i);
    await page.fill("#question", q.question);
    const response = page.waitForResponse((r) => r.url().endsWith("/v1/chat/completions"));
    await page.click("#send");
    const res = await response;
    assert.equal(res.status(), 200);
    assert.match(res.headers()["content-type"], /text\/event-stream/);
    const generated = streamedText(await res.text()).trim();
    assert.ok(generated.includes(entry.key), `the generated reply '${generated}' holds '${entry.key}'`);
    await page.waitForSelector(".assistant[data-state=done]", { timeout: 30_000 });
    assert.equal(await page.textContent(".assistant"), generated, "the page shows the generated text, as streamed");
    assert.equal(await page.textContent(".user"), q.question);
    assert.deepEqual(errors, []);
  } finally {
    await shutDown(app, browser, tmp);
  }
});
