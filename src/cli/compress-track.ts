// Records an `ingot compress` in the run store: a run of kind "compress" whose parent is the run that
// trained the source folder (card.json's run_id), relation "compressed-from", with the before/after
// figures as its metrics, report.md as a "compression-report" artefact and the new folder as its
// model (whose card.json then names this run, so compressing it again continues the lineage).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as ingot from "../index.js";

/** `id` when the run store (default file) holds that run; null otherwise (deleted, or no store). */
export function recordedRun(id: string | null | undefined): string | null {
  if (!id) return null;
  try {
    const store = ingot.tracking.RunStore.openReadonly();
    try {
      return store.resolveId(id);
    } finally {
      store.close();
    }
  } catch {
    return null;
  }
}

/** The run id recorded in a model folder's card.json, if any. */
export function cardRunId(dir: string): string | null {
  const card = join(dir, "card.json");
  if (!existsSync(card)) return null;
  try {
    const id = (JSON.parse(readFileSync(card, "utf8")) as { run_id?: unknown }).run_id;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

/** Records the compression; returns the run id (null when the store is unavailable: a warning, never an error). */
export function recordCompression(o: { dir: string; out: string; command: string }, summary: ingot.compress.CompressionSummary): string | null {
  const parent = recordedRun(cardRunId(o.dir));
  const config = { method: summary.method, parameters: summary.parameters, source: summary.source, out: summary.out, finetune_epochs: summary.finetune_epochs, backend: ingot.getBackend() };
  const observer = new ingot.tracking.TrainingObserver(
    { name: `compress-${summary.method}`, kind: "compress", command: o.command, config, parent, relation: parent ? "compressed-from" : null },
    { batchFreq: 0, warn: (m) => process.stderr.write(`ingot compress: ${m}\n`) },
  );
  const report = join(o.out, "report.md");
  if (existsSync(report)) observer.run?.logArtifact("report", report, { kind: "compression-report" });
  const metrics = Object.fromEntries(Object.entries(summary).filter((e): e is [string, number] => typeof e[1] === "number"));
  const id = observer.run?.id ?? null;
  observer.end({ modelDir: o.out, metrics });
  return id;
}
