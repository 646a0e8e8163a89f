// Dataset checksums for the run store: the SHA-256 of every file of a dataset (names, sizes and
// contents), so two runs can be told to have used the same data; per-file hashes can be cached.
import { createHash } from "node:crypto";
import { closeSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";

/** Remembers file hashes by (path, size, mtime), so a dataset is read once, not on every run. */
export interface HashCache {
  get(path: string, size: number, mtimeMs: number): string | undefined;
  set(path: string, size: number, mtimeMs: number, sha256: string): void;
}

/** The SHA-256 of a file (hex), read in 1 MiB pieces. */
export function sha256File(path: string): string {
  const h = createHash("sha256");
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

/** Regular files under a folder (recursively, skipping hidden ones), as [relative name, absolute path], sorted. */
function filesUnder(dir: string): [string, string][] {
  const out: [string, string][] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith(".")) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push([relative(dir, p).split("\\").join("/"), p]);
    }
  };
  walk(dir);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/**
 * `sha256:<hex>` over the files of a dataset (folders recursively): each file's relative name, size
 * and SHA-256, one line each, in name order. The same files give the same checksum on any machine.
 */
export function datasetChecksum(paths: string | string[], cache?: HashCache): string {
  const lines: string[] = [];
  for (const p of Array.isArray(paths) ? paths : [paths]) {
    const files: [string, string][] = statSync(p).isDirectory() ? filesUnder(p) : [[basename(p), p]];
    for (const [name, file] of files) {
      const st = statSync(file);
      let sha = cache?.get(file, st.size, st.mtimeMs);
      if (!sha) {
        sha = sha256File(file);
        cache?.set(file, st.size, st.mtimeMs, sha);
      }
      lines.push(`${name}\t${st.size}\t${sha}\n`);
    }
  }
  return `sha256:${createHash("sha256").update(lines.join("")).digest("hex")}`;
}

/** `sha256:<hex>` of a JSON value with its keys sorted (for generated data described by a spec). */
export function jsonChecksum(value: unknown): string {
  const canon = (v: unknown): unknown =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])])) : Array.isArray(v) ? v.map(canon) : v;
  return `sha256:${createHash("sha256").update(JSON.stringify(canon(value))).digest("hex")}`;
}
