// ServeOptions.promptHook: it sees the endpoint, the model, the prompt as the server would build it and
// (chat) the messages; the text it returns is what the model continues (checked against the model's own
// greedy generation and the prompt token count), undefined keeps the prompt, and an ApiError it throws
// is the response.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import * as ig from "../../src/index.js";
import { greedyText, saveAll } from "./serve-fixtures.js";

let paths: ReturnType<typeof saveAll>;
let server: ig.serve.IngotServer;
let base: string;
const seen: ig.serve.PromptHookInput[] = [];

before(async () => {
  paths = saveAll();
  server = await ig.serve.createServer({
    models: [`lm=${paths.lm}`],
    port: 0,
    log: () => {},
    promptHook: (input) => {
      seen.push(input);
      const text = input.messages?.[input.messages.length - 1]?.content;
      if (text === "refuse") throw new ig.serve.ApiError(400, "the hook refused", "invalid_request_error", "refused");
      if (text === "keep" || input.endpoint === "completions") return undefined;
      return `System: the quick fox\nUser: ${String(text)}\nAssistant:`;
    },
  });
  base = await server.listen();
});
after(async () => {
  await server.close();
  rmSync(paths.root, { recursive: true, force: true });
});

const post = async (path: string, body: unknown) => {
  const r = await fetch(base + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
};

test("promptHook: the chat prompt it returns is the one the model continues", async () => {
  const rewritten = "System: the quick fox\nUser: hello\nAssistant:";
  const r = await post("/v1/chat/completions", { model: "lm", messages: [{ role: "user", content: "hello" }], max_tokens: 8, temperature: 0 });
  assert.equal(r.status, 200);
  const tok = server.models.get("lm")!.model as ig.serve.LanguageModel;
  assert.equal(r.json.usage.prompt_tokens, tok.tokenizer.encode(rewritten).length);
  assert.equal(r.json.choices[0].message.content, greedyText(paths.lm, rewritten, 8).split("\nUser:")[0]);
  const input = seen[seen.length - 1];
  assert.equal(input.endpoint, "chat");
  assert.equal(input.model.name, "lm");
  assert.equal(input.prompt, "User: hello\nAssistant:");
  assert.deepEqual(input.messages, [{ role: "user", content: "hello" }]);
});

test("promptHook: undefined keeps the prompt (chat and completions)", async () => {
  const chat = await post("/v1/chat/completions", { model: "lm", messages: [{ role: "user", content: "keep" }], max_tokens: 4, temperature: 0 });
  assert.equal(chat.json.usage.prompt_tokens, "User: keep\nAssistant:".length); // one token per character
  const comp = await post("/v1/completions", { model: "lm", prompt: "hello", max_tokens: 4, temperature: 0 });
  assert.equal(comp.status, 200);
  assert.equal(comp.json.choices[0].text, greedyText(paths.lm, "hello", 4));
  const input = seen[seen.length - 1];
  assert.equal(input.endpoint, "completions");
  assert.equal(input.prompt, "hello");
  assert.equal(input.messages, undefined);
});

test("promptHook: an ApiError it throws is the response, and the server keeps serving", async () => {
  const bad = await post("/v1/chat/completions", { model: "lm", messages: [{ role: "user", content: "refuse" }], max_tokens: 4 });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, "refused");
  const good = await post("/v1/chat/completions", { model: "lm", messages: [{ role: "user", content: "hello" }], max_tokens: 2, temperature: 0 });
  assert.equal(good.status, 200);
});
