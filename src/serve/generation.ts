// Text generation for the OpenAI routes: n choices of one prompt run as one batch through the model's
// KV-cached stream; text is decoded incrementally, stop strings are cut off (and never half-sent), and
// the end-of-text token ends a choice.
import type { LanguageModel } from "./models.js";

export interface GenerationParams {
  maxTokens: number;
  temperature: number;
  topP: number | null;
  topK: number | null;
  repetitionPenalty: number;
  /** Strings that end a choice; they are not part of its text. */
  stop: string[];
  seed: number | null;
  n: number;
}

/** A piece of one choice's text; the last piece of a choice carries its finish reason. */
export interface TextDelta {
  index: number;
  text: string;
  finishReason: "stop" | "length" | null;
}

/** Totals after generation (OpenAI's usage). */
export interface GenerationTotals {
  completionTokens: number;
}

/** How many characters at the end of text might start a stop string (they wait until it is known). */
function heldBack(text: string, stops: string[]): number {
  let hold = 0;
  for (const s of stops)
    for (let k = Math.min(s.length - 1, text.length); k > hold; k--)
      if (text.endsWith(s.slice(0, k))) {
        hold = k;
        break;
      }
  return hold;
}

/**
 * Generates n continuations of the prompt, yielding text deltas as tokens arrive. Breaking out of
 * the loop (or `signal` aborting) stops the model. `totals` is filled in as tokens are produced.
 */
export async function* generateText(lm: LanguageModel, prompt: number[], p: GenerationParams, totals: GenerationTotals, signal?: AbortSignal): AsyncGenerator<TextDelta, void, undefined> {
  const tok = lm.tokenizer;
  const eos = tok.eosTokenId;
  const rows = Array.from({ length: p.n }, () => ({ ids: [] as number[], sent: 0, finished: false }));
  const stream = lm.gpt.stream(
    rows.map(() => prompt),
    p.maxTokens,
    {
      temperature: p.temperature,
      topK: p.topK,
      topP: p.topP,
      repetitionPenalty: p.repetitionPenalty,
      seed: p.seed,
      // The model stops a row on the same conditions as below, so finished rows cost nothing more.
      stop: [...p.stop, ...(eos === undefined ? [] : [[eos]])],
      tokenizer: tok,
    },
  );
  for await (const t of stream) {
    if (signal?.aborted) break;
    totals.completionTokens++;
    const row = rows[t.row];
    if (row.finished) continue;
    const isEos = t.token === eos;
    if (!isEos) row.ids.push(t.token);
    const text = tok.decode(row.ids, { skipSpecialTokens: true });
    let end = text.length;
    let finish: TextDelta["finishReason"] = null;
    for (const s of p.stop) {
      const at = text.indexOf(s, Math.max(0, row.sent - s.length));
      if (at >= 0 && at < end) {
        end = at;
        finish = "stop";
      }
    }
    if (!finish && (isEos || t.done)) finish = isEos || t.step + 1 < p.maxTokens ? "stop" : "length";
    if (!finish) {
      end -= heldBack(text, p.stop);
      // NOTE: a byte-level token may end inside a UTF-8 character, which decodes to U+FFFD until the
      // next token completes it; hold it back rather than send a replacement character.
      while (end > row.sent && text.charCodeAt(end - 1) === 0xfffd) end--;
    }
    const piece = end > row.sent ? text.slice(row.sent, end) : "";
    row.sent = Math.max(row.sent, end);
    if (finish) row.finished = true;
    if (piece || finish) yield { index: t.row, text: piece, finishReason: finish };
  }
}
