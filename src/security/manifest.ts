// manifest.json: every file of a model folder with its size and SHA-256, so that a loader can tell a
// changed, truncated, missing or added file from the one that was saved, and name it.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { IngotError } from "../tensor/index.js";
import { writeJsonAtomic } from "../io/atomic.js";

export const MANIFEST_FILE = "manifest.json";

export interface Manifest {
  format: "ingot.manifest";
  version: 1;
  algorithm: "sha256";
  /** By file name: its size in bytes and its SHA-256 (hex). */
  files: Record<string, { size: number; sha256: string }>;
}

/** A file that is not what the manifest (or the encryption) says it should be. */
export class IntegrityError extends IngotError {}

export const sha256Hex = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

/** The files of a flat model folder (manifest.json and leftover temporary files excepted), sorted; a sub-folder is an error. */
export function modelFolderFiles(dir: string, op: string): string[] {
  if (!existsSync(dir)) throw new IngotError(`${op}: ${dir} does not exist`);
  const names: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) throw new IngotError(`${op}: ${join(dir, e.name)} is a folder; model folders are flat (config.json, model.safetensors, …); move it out first`);
    if (!e.isFile() || e.name === MANIFEST_FILE || /\.tmp-\d+$/.test(e.name)) continue;
    names.push(e.name);
  }
  if (!names.length) throw new IngotError(`${op}: ${dir} holds no files`);
  return names.sort();
}

/** The manifest of files given by name and content. */
export function buildManifest(files: ReadonlyMap<string, Uint8Array>): Manifest {
  const out: Manifest = { format: "ingot.manifest", version: 1, algorithm: "sha256", files: {} };
  for (const name of [...files.keys()].filter((n) => n !== MANIFEST_FILE).sort()) {
    const b = files.get(name)!;
    out.files[name] = { size: b.length, sha256: sha256Hex(b) };
  }
  return out;
}

/** Hashes every file of a model folder and writes its manifest.json (atomically). */
export function writeManifest(dir: string): Manifest {
  const files = new Map(modelFolderFiles(dir, "writeManifest").map((n) => [n, readFileSync(join(dir, n))] as const));
  const m = buildManifest(files);
  writeJsonAtomic(join(dir, MANIFEST_FILE), m);
  return m;
}

/** Parses manifest.json text; throws naming `where` when it is not one. */
export function parseManifest(text: string, where: string): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch (e) {
    throw new IntegrityError(`${where} is not valid JSON (${(e as Error).message}); the manifest was damaged`);
  }
  if (m?.format !== "ingot.manifest" || m.algorithm !== "sha256" || typeof m.files !== "object") throw new IntegrityError(`${where} is not an Ingot manifest (format 'ingot.manifest', algorithm 'sha256')`);
  return m;
}

/**
 * Checks files against a manifest: every listed file present with its size and SHA-256, and no file
 * that the manifest does not list. Throws an IntegrityError naming the first file that differs.
 */
export function verifyFiles(files: ReadonlyMap<string, Uint8Array>, m: Manifest, where: string): void {
  for (const [name, want] of Object.entries(m.files).sort()) {
    const b = files.get(name);
    if (!b) throw new IntegrityError(`${where}: ${name} is listed in ${MANIFEST_FILE} but missing; the folder is incomplete`);
    if (b.length !== want.size) throw new IntegrityError(`${where}: ${name} has ${b.length} bytes but ${MANIFEST_FILE} records ${want.size}; the file was changed or truncated after the manifest was written`);
    const got = sha256Hex(b);
    if (got !== want.sha256) throw new IntegrityError(`${where}: ${name} does not match ${MANIFEST_FILE} (sha256 ${got.slice(0, 12)}…, expected ${want.sha256.slice(0, 12)}…); the file was changed after the manifest was written`);
  }
  for (const name of [...files.keys()].sort())
    if (name !== MANIFEST_FILE && !(name in m.files)) throw new IntegrityError(`${where}: ${name} is not listed in ${MANIFEST_FILE}; it was added after the manifest was written (remove it, or write the manifest again)`);
}

/** Checks a model folder against its manifest.json; returns false when it has none. */
export function verifyManifest(dir: string): boolean {
  const p = join(dir, MANIFEST_FILE);
  if (!existsSync(p)) return false;
  const m = parseManifest(readFileSync(p, "utf8"), p);
  const files = new Map(modelFolderFiles(dir, "verifyManifest").map((n) => [n, readFileSync(join(dir, n))] as const));
  verifyFiles(files, m, dir);
  return true;
}
