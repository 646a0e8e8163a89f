// The support assistant's chat page: questions go to `ingot serve`'s OpenAI-compatible
// /v1/chat/completions (streamed, greedy); the reply is the model's generated text as it arrives. The
// FAQ entry retrieval picked for the question is shown under the reply (from /app/retrieve).
import { page } from "../shared.js";

const CSS = `
  #log { min-height: 14rem; max-height: 60vh; overflow-y: auto; display: flex; flex-direction: column; gap: .6rem; }
  .msg { padding: .55rem .8rem; border-radius: 10px; max-width: 85%; white-space: pre-wrap; line-height: 1.4; }
  .user { align-self: flex-end; background: #2f5bea; color: #fff; }
  .assistant { align-self: flex-start; background: #eef1f7; }
  .source { align-self: flex-start; font-size: .8rem; color: #6b7385; margin-top: -.4rem; }
  form { display: flex; gap: .5rem; }
  form input { flex: 1; }
`;

const BODY = (model: string, examples: string[]) => `
<h1>Ingot Cloud support</h1>
<p class="sub">A small GPT, LoRA-fine-tuned on the Ingot Cloud FAQ, answering through <code>ingot serve</code>'s
chat endpoint with the best-matching FAQ entry retrieved into its prompt. Try: ${examples.map((e) => `<em>${e}</em>`).join(", ")}.</p>
<div class="card"><div id="log" aria-live="polite"></div></div>
<form id="ask" class="card">
  <input id="question" type="text" autocomplete="off" placeholder="Ask a question about Ingot Cloud" aria-label="question" required>
  <button id="send" type="submit">Send</button>
</form>
<div id="error" class="err" role="alert"></div>
<footer>POST /v1/chat/completions {"model": "${model}", "messages": [...], "stream": true, "temperature": 0}</footer>
<script type="application/json" id="meta">${JSON.stringify({ model }).replace(/</g, "\\u003c")}</script>
`;

const SCRIPT = `
const { model } = JSON.parse(document.getElementById("meta").textContent);
const $ = (id) => document.getElementById(id);
const history = [];
function bubble(cls, text) {
  const d = document.createElement("div"); d.className = "msg " + cls; d.textContent = text;
  $("log").append(d); $("log").scrollTop = $("log").scrollHeight; return d;
}
// Reads an OpenAI chat stream (server-sent events) and appends each delta to the bubble.
async function streamReply(res, out) {
  const reader = res.body.getReader(), dec = new TextDecoder();
  let buf = "", text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let at;
    while ((at = buf.indexOf("\\n\\n")) >= 0) {
      const event = buf.slice(0, at); buf = buf.slice(at + 2);
      if (!event.startsWith("data: ")) continue;
      const data = event.slice(6);
      if (data === "[DONE]") return text;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(chunk.error.message);
      const delta = chunk.choices[0] && chunk.choices[0].delta.content;
      if (delta) { text += delta; out.textContent = text.trim(); }
    }
  }
  return text;
}
$("ask").addEventListener("submit", async (e) => {
  e.preventDefault();
  const q = $("question").value.trim();
  if (!q) return;
  $("question").value = ""; $("error").textContent = ""; $("send").disabled = true;
  bubble("user", q);
  history.push({ role: "user", content: q });
  const out = bubble("assistant", "…");
  out.dataset.state = "streaming";
  try {
    const res = await fetch("/v1/chat/completions", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, messages: history, stream: true, temperature: 0, max_tokens: 96 }),
    });
    if (!res.ok) { const b = await res.json().catch(() => ({})); throw new Error(b.error ? b.error.message : res.statusText); }
    const text = (await streamReply(res, out)).trim();
    out.textContent = text || "(no answer)";
    history.push({ role: "assistant", content: text });
    fetch("/app/retrieve", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ question: q }) })
      .then((r) => r.json()).then((r) => { if (r.hits && r.hits[0]) { const s = bubble("source", "FAQ used: " + r.hits[0].question + " (retrieval score " + r.hits[0].score.toFixed(2) + ")"); s.className = "source"; } })
      .catch(() => {});
  } catch (err) {
    out.textContent = "(failed)"; $("error").textContent = "The assistant failed: " + err.message;
  } finally { out.dataset.state = "done"; $("send").disabled = false; $("question").focus(); }
});
`;

/** The chat page for the served model's name, with a few example questions. */
export function chatPage(model: string, examples: string[]): string {
  return page("Ingot Cloud support assistant", CSS, BODY(model, examples), SCRIPT);
}
