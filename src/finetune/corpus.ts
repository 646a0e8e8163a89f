// Text corpora for pretraining and the classification task derived from one: documents read from a
// folder, split into paragraph-sized passages, a document-level train/val/test split (so held-out
// passages come from unseen documents), and the State of the Union half-century task.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Generator, IngotError, ValueError } from "../tensor/index.js";

export type Split = "train" | "val" | "test";

export interface CorpusDoc {
  /** File name, e.g. 1861_abraham_lincoln_r.txt. */
  name: string;
  /** The year the name starts with (YEAR_…), or null. */
  year: number | null;
  text: string;
}

/** Every .txt file of a folder (sorted by name), with the year its name starts with. */
export function readCorpus(dir: string): CorpusDoc[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".txt")).sort();
  } catch {
    throw new IngotError(`readCorpus: cannot read the folder ${dir}; pass a folder of .txt files (e.g. ../shared/data/text-corpora/sotu)`);
  }
  if (!names.length) throw new IngotError(`readCorpus: ${dir} holds no .txt files`);
  return names.map((name) => {
    const m = /^(\d{4})[_-]/.exec(name);
    return { name, year: m ? Number(m[1]) : null, text: readFileSync(join(dir, name), "utf8") };
  });
}

/**
 * Splits a text into passages of at most maxWords words: at blank lines / line breaks first, then
 * (the SOTU files are mostly one paragraph each) at sentence ends, packing whole sentences; a
 * sentence longer than maxWords is cut at word boundaries.
 */
export function splitPassages(text: string, maxWords = 48): string[] {
  const out: string[] = [];
  for (const para of text.split(/\n\s*\n|\r?\n/)) {
    const sentences = para.trim().split(/(?<=[.!?]["')\]]?)\s+(?=["'(\[]?[A-Z0-9])/).filter((s) => s.trim());
    let cur: string[] = [];
    const flush = () => {
      if (cur.length) out.push(cur.join(" "));
      cur = [];
    };
    for (const s of sentences) {
      const words = s.trim().split(/\s+/);
      if (cur.length + words.length > maxWords) flush();
      for (let i = 0; i < words.length; i += maxWords) {
        const piece = words.slice(i, i + maxWords);
        if (piece.length === maxWords) {
          flush();
          out.push(piece.join(" "));
        } else cur.push(...piece);
      }
    }
    flush();
  }
  return out;
}

/** Shuffles in place with the seeded generator (Fisher–Yates). */
export function shuffle<T>(xs: T[], g: Generator): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = g.int(0, i + 1);
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/**
 * A document-level split, stratified by `group` (e.g. the half-century): within each group the
 * documents are shuffled with `seed` and the first ⌈test·n⌉ go to test, the next ⌈val·n⌉ to val.
 * The same seed always gives the same split, so pretraining and fine-tuning can share it.
 */
export function splitDocuments<D>(docs: readonly D[], group: (d: D) => string | number, opts: { seed?: number; test?: number; val?: number } = {}): Map<D, Split> {
  const { seed = 0, test = 0.2, val = 0.1 } = opts;
  const g = new Generator(seed);
  const groups = new Map<string | number, D[]>();
  for (const d of docs) {
    const k = group(d);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(d);
  }
  const out = new Map<D, Split>();
  for (const k of [...groups.keys()].sort()) {
    const ds = shuffle([...groups.get(k)!], g);
    const nTest = ds.length > 2 ? Math.ceil(test * ds.length) : 0;
    const nVal = ds.length > 2 ? Math.ceil(val * ds.length) : 0;
    ds.forEach((d, i) => out.set(d, i < nTest ? "test" : i < nTest + nVal ? "val" : "train"));
  }
  return out;
}

/** The half-centuries of the SOTU task (class ids 0..4). */
export const HALF_CENTURIES = ["1790-1849", "1850-1899", "1900-1949", "1950-1999", "2000-2021"] as const;

/** The class id of a year: 1790–1849 → 0, 1850–1899 → 1, 1900–1949 → 2, 1950–1999 → 3, 2000 on → 4. */
export function halfCentury(year: number): number {
  return year < 1850 ? 0 : Math.min(4, Math.floor((year - 1800) / 50));
}

/** How corpus documents are split for pretraining and the derived task (the year's class, else one group). */
export function corpusSplit(docs: readonly CorpusDoc[], seed = 0): Map<CorpusDoc, Split> {
  return splitDocuments(docs, (d) => (d.year === null ? -1 : halfCentury(d.year)), { seed });
}

/** One labelled text. */
export interface TextExample {
  text: string;
  label: number;
  split?: Split;
  /** The document it comes from. */
  doc?: string;
}

export interface ClassificationTask {
  examples: TextExample[];
  /** Class names by id. */
  labels: string[];
}

/**
 * The SOTU half-century task: passages of each address labelled with the half-century of its year,
 * at most `perDoc` passages per address (evenly spaced through it), split by document with
 * corpusSplit, so test passages come from addresses never seen in training (nor in pretraining,
 * which uses the same split).
 */
export function sotuHalfCenturyTask(dir: string, opts: { perDoc?: number; maxWords?: number; splitSeed?: number } = {}): ClassificationTask {
  const { perDoc = 12, maxWords = 40, splitSeed = 0 } = opts;
  const docs = readCorpus(dir).filter((d) => d.year !== null);
  if (!docs.length) throw new IngotError(`sotuHalfCenturyTask: no file of ${dir} is named YEAR_….txt; the task needs the year of each document`);
  const split = corpusSplit(docs, splitSeed);
  const examples: TextExample[] = [];
  for (const d of docs) {
    const ps = splitPassages(d.text, maxWords).filter((p) => p.split(/\s+/).length >= 8);
    const n = Math.min(perDoc, ps.length);
    for (let i = 0; i < n; i++) examples.push({ text: ps[Math.floor(((i + 0.5) * ps.length) / n)], label: halfCentury(d.year!), split: split.get(d)!, doc: d.name });
  }
  return { examples, labels: [...HALF_CENTURIES] };
}

/** Writes examples as JSON lines ({text, label, label_name, split, doc}), atomically. */
export function writeJsonl(file: string, task: ClassificationTask): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  writeFileSync(tmp, task.examples.map((e) => JSON.stringify({ text: e.text, label: e.label, label_name: task.labels[e.label], split: e.split, doc: e.doc })).join("\n") + "\n");
  renameSync(tmp, file);
}

/**
 * Reads a JSONL classification file: `textField` and `labelField` of each line (labels may be strings
 * or integers; the class ids are the sorted distinct labels, or the integers themselves), and an
 * optional `split` field (train/val/test). Lines without a split get one at random (80/10/10, seeded).
 */
export function readClassificationJsonl(file: string, opts: { textField?: string; labelField?: string; seed?: number } = {}): ClassificationTask {
  const { textField = "text", labelField = "label", seed = 0 } = opts;
  const rows = readFileSync(file, "utf8")
    .split("\n")
    .map((l, i) => [l.trim(), i + 1] as const)
    .filter(([l]) => l)
    .map(([l, n]) => {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new ValueError(`${file}:${n}: not valid JSON`);
      }
      if (typeof o[textField] !== "string") throw new ValueError(`${file}:${n}: no string field '${textField}'; pass --text-field NAME`);
      if (typeof o[labelField] !== "string" && typeof o[labelField] !== "number") throw new ValueError(`${file}:${n}: no string or number field '${labelField}'; pass --label-field NAME`);
      return o;
    });
  if (!rows.length) throw new ValueError(`${file} has no examples`);
  const raw = rows.map((o) => o[labelField] as string | number);
  const allInts = raw.every((v) => typeof v === "number" && Number.isInteger(v) && v >= 0);
  let labels: string[];
  let idOf: (v: string | number) => number;
  if (allInts) {
    const max = Math.max(...(raw as number[]));
    const names = new Map<number, string>();
    rows.forEach((o) => typeof o.label_name === "string" && names.set(o[labelField] as number, o.label_name));
    labels = Array.from({ length: max + 1 }, (_, i) => names.get(i) ?? String(i));
    idOf = (v) => v as number;
  } else {
    labels = [...new Set(raw.map(String))].sort();
    const ids = new Map(labels.map((l, i) => [l, i]));
    idOf = (v) => ids.get(String(v))!;
  }
  const g = new Generator(seed);
  const examples = rows.map((o): TextExample => {
    const s = o.split;
    const split: Split = s === "train" || s === "val" || s === "test" ? s : ((u) => (u < 0.8 ? "train" : u < 0.9 ? "val" : "test"))(g.random());
    return { text: o[textField] as string, label: idOf(o[labelField] as string | number), split, doc: typeof o.doc === "string" ? o.doc : undefined };
  });
  return { examples, labels };
}
