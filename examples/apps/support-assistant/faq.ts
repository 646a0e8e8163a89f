// The FAQ of the fictional product "Ingot Cloud" (faq.jsonl beside this file's source) and the held-out
// paraphrased questions (eval.jsonl) that measure retrieval and answers on wording the model never saw.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** One question/answer pair; `key` is a phrase of the answer that a correct reply must contain. */
export interface FaqEntry {
  id: string;
  question: string;
  answer: string;
  key: string;
  /** Other wordings of the question, used in fine-tuning and as extra retrieval keys. */
  paraphrases: string[];
}

/** A held-out question and the id of the entry that answers it. */
export interface EvalQuestion {
  id: string;
  question: string;
}

/** The app's source folder: compiled code runs from dist/examples/apps/support-assistant/, the data stays in examples/. */
export const SOURCE_DIR = fileURLToPath(new URL("../../../../examples/apps/support-assistant/", import.meta.url));

function readJsonl(file: string, check: (row: Record<string, unknown>, where: string) => void): Record<string, unknown>[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`support-assistant: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); pass --faq FILE or run from the repository`);
  }
  return text
    .split("\n")
    .map((line, i) => [line.trim(), i + 1] as const)
    .filter(([line]) => line)
    .map(([line, n]) => {
      let row: Record<string, unknown>;
      try {
        row = JSON.parse(line) as Record<string, unknown>;
      } catch (e) {
        throw new Error(`support-assistant: ${file} line ${n} is not JSON (${(e as Error).message})`);
      }
      check(row, `${file} line ${n}`);
      return row;
    });
}

const str = (row: Record<string, unknown>, k: string, where: string) => {
  if (typeof row[k] !== "string" || !(row[k] as string).trim()) throw new Error(`support-assistant: ${where} needs a non-empty string '${k}'`);
};

/** Reads a FAQ JSONL file: one {id, question, answer, key, paraphrases?} per line. */
export function readFaq(file = SOURCE_DIR + "faq.jsonl"): FaqEntry[] {
  const rows = readJsonl(file, (row, where) => {
    for (const k of ["id", "question", "answer", "key"]) str(row, k, where);
    if (!(row.answer as string).includes(row.key as string)) throw new Error(`support-assistant: ${where}: the key phrase '${String(row.key)}' is not part of the answer`);
    if (row.paraphrases !== undefined && !(Array.isArray(row.paraphrases) && row.paraphrases.every((p) => typeof p === "string")))
      throw new Error(`support-assistant: ${where}: 'paraphrases' must be a list of strings`);
  });
  if (!rows.length) throw new Error(`support-assistant: ${file} holds no FAQ entries`);
  const faq = rows.map((r) => ({ id: r.id, question: r.question, answer: r.answer, key: r.key, paraphrases: (r.paraphrases as string[] | undefined) ?? [] }) as FaqEntry);
  const ids = new Set(faq.map((e) => e.id));
  if (ids.size !== faq.length) throw new Error(`support-assistant: ${file} repeats an id; each entry needs its own`);
  return faq;
}

/** Reads the held-out questions ({id, question} per line). */
export function readEvalQuestions(file = SOURCE_DIR + "eval.jsonl"): EvalQuestion[] {
  return readJsonl(file, (row, where) => {
    for (const k of ["id", "question"]) str(row, k, where);
  }) as unknown as EvalQuestion[];
}
