// `ingot data check|clean`: a data-quality report (exit 1 when it finds issues, as linters do) and a
// declared cleaning pipeline with its lineage record.
import { type CheckReport, checkData, type Issue } from "../data/check.js";
import { cleanFile } from "../data/clean-pipeline.js";
import { parseCli, reportError, UsageError } from "./recipes/common.js";
import { formatNumber, formatTable } from "./progress-table.js";

export const DATA_HELP = `Usage: ingot data <command> [options]

Commands:
  check FILE|DIR   report missing values, mixed types and date formats, duplicate rows, outliers
                   (IQR and z-score), label imbalance, drift, and PII; FILE is .csv/.tsv or .jsonl,
                   DIR an IDX dataset folder (MNIST layout) or a folder of text files (PII only)
  clean FILE --pipeline PIPE.json --out OUT
                   apply a declared cleaning pipeline; writes OUT and OUT.lineage.json

Options (check):
  --target COL             the label column: class counts and imbalance; left out of outlier checks
  --against FILE           the reference file to measure drift against (PSI, Kolmogorov–Smirnov)
  --imbalance-ratio R      flag imbalance when the largest class has more than R × the smallest's rows (default 3)
  --pii                    scan for PII (the default for text columns; a folder of text files is always scanned)
  --no-pii                 skip the PII scan
  --json                   print one JSON object {source, rows, columns, issues: [{kind, column, count, …}], …}

Options (clean):
  --pipeline FILE          the pipeline: {"steps": [{"op": "drop_missing" | "fill_missing" | "convert_units" |
                           "coerce_type" | "drop_duplicates" | "cap_outliers" | "pii", …}]} (docs/data-governance.md)
  --out FILE               the cleaned file (.csv or .jsonl); its lineage goes to FILE.lineage.json
  --json                   print the lineage as JSON

  -h, --help               show this help

Exit codes: check: 0 when no issue is found, 1 when issues are found, 2 for a usage error.
            clean: 0 on success, 1 on an error in the data or pipeline, 2 for a usage error.
Environment: INGOT_PII_KEY — the secret of "pii" steps with "mode": "pseudonymize" (or the step's key_env).

Example: ingot data check train.csv --target label --against prod.csv
`;

/** One issue's details beyond kind/column/count, as a short text. */
function detail(i: Issue): string {
  const parts: string[] = [];
  if (i.type) parts.push(String(i.type));
  if (i.file) parts.push(String(i.file));
  if (i.expected) parts.push(`expected ${i.expected}; e.g. ${(i.examples as string[]).map((e) => JSON.stringify(e)).join(", ")}`);
  if (i.formats) parts.push(Object.entries(i.formats as Record<string, number>).map(([f, n]) => `${f} ×${n}`).join(", "));
  if (i.bounds) parts.push(`outside [${(i.bounds as number[]).map(formatNumber).join(", ")}]`);
  if (i.kind === "outliers_zscore") parts.push(`|z| > 3 (mean ${formatNumber(i.mean as number)}, std ${formatNumber(i.std as number)})`);
  if (i.ratio !== undefined) parts.push(`${formatNumber(i.ratio as number)}:1 (> ${i.threshold}:1), '${i.majority}' vs '${i.minority}'`);
  if (i.psi !== undefined) parts.push(`PSI ${formatNumber(i.psi as number)} (${i.severity})${i.ks !== undefined ? `, KS ${formatNumber(i.ks as number)} p=${formatNumber(i.pValue as number)}` : ""}`);
  if (i.detail) parts.push(String(i.detail));
  if (i.rows && (i.rows as number[]).length) parts.push(`rows ${(i.rows as number[]).slice(0, 8).join(", ")}${i.count > 8 ? ", …" : ""}`);
  return parts.join("; ");
}

export function formatCheckReport(r: CheckReport): string {
  const num = (v: number | undefined) => (v === undefined ? "" : formatNumber(v));
  let out = `${r.source}: ${r.rows} ${r.format === "corpus" ? "files" : r.format === "idx" ? "images" : "rows"}, ${r.columns.length} ${r.format === "idx" ? "splits" : "columns"}\n`;
  out += formatTable(
    ["column", "kind", "count", "missing", "unique", "min", "max", "mean"],
    r.columns.map((c) => [c.name, c.kind, c.count, c.missing, c.unique, num(c.min), num(c.max), num(c.mean)]),
  );
  if (r.classes) out += `\nclasses: ${r.classes.map((c) => `${c.value} ${c.count}`).join(", ")}\n`;
  if (r.drift?.length)
    out += `\ndrift against ${r.against}\n${formatTable(
      ["column", "PSI", "KS", "p-value", "drift"],
      r.drift.map((d) => [d.column, formatNumber(d.psi), d.ks === undefined ? "" : formatNumber(d.ks), d.pValue === undefined ? "" : formatNumber(d.pValue), d.severity]),
    )}`;
  if (!r.issues.length) return `${out}\nno issues found\n`;
  out += `\n${formatTable(["issue", "column", "count", "detail"], r.issues.map((i) => [i.kind, i.column ?? "—", i.count, detail(i)]))}`;
  return `${out}${r.issues.length} issue${r.issues.length > 1 ? "s" : ""} found\n`;
}

export async function run(args: string[]): Promise<number> {
  try {
    const { values: v, positionals } = parseCli("ingot data", args, {
      target: { type: "string" },
      against: { type: "string" },
      "imbalance-ratio": { type: "string" },
      pii: { type: "boolean" },
      "no-pii": { type: "boolean", default: false },
      pipeline: { type: "string" },
      out: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    const [sub, file, ...extra] = positionals;
    if (v.help || sub === undefined || sub === "help") {
      process.stdout.write(DATA_HELP);
      return v.help || sub === "help" ? 0 : 2;
    }
    if (sub !== "check" && sub !== "clean") throw new UsageError(`ingot data: unknown command '${sub}'; the commands are check and clean`);
    if (!file) throw new UsageError(`ingot data ${sub}: name the file, e.g. ingot data ${sub} train.csv${sub === "clean" ? " --pipeline pipe.json --out clean.csv" : ""}`);
    if (extra.length) throw new UsageError(`ingot data ${sub}: one file at a time; got also ${extra.join(" ")}`);
    if (sub === "clean") {
      if (!v.pipeline || !v.out) throw new UsageError("ingot data clean: pass --pipeline PIPE.json and --out OUT (see ingot data --help)");
      const lineage = cleanFile(file, v.pipeline, v.out);
      if (v.json) process.stdout.write(JSON.stringify(lineage) + "\n");
      else {
        process.stdout.write(formatTable(["step", "op", "rows in", "rows out", "cells changed", "columns removed"], lineage.steps.map((s, k) => [k + 1, s.op, s.rows_in, s.rows_out, s.cells_changed, s.columns_removed.join(", ") || "—"])));
        process.stdout.write(`wrote ${v.out} (${lineage.output.rows} rows, sha256 ${lineage.output.sha256.slice(0, 12)}…) and ${v.out}.lineage.json\n`);
      }
      return 0;
    }
    if (v.pipeline || v.out) throw new UsageError("ingot data check: --pipeline and --out belong to 'ingot data clean'");
    const ratio = v["imbalance-ratio"] === undefined ? undefined : Number(v["imbalance-ratio"]);
    if (ratio !== undefined && !(ratio >= 1)) throw new UsageError(`ingot data check: --imbalance-ratio must be a number ≥ 1, got '${v["imbalance-ratio"]}'`);
    const report = checkData(file, { target: v.target, against: v.against, imbalanceRatio: ratio, pii: !v["no-pii"] });
    process.stdout.write(v.json ? JSON.stringify(report) + "\n" : formatCheckReport(report));
    return report.issues.length ? 1 : 0;
  } catch (e) {
    return reportError("ingot data", e);
  }
}
