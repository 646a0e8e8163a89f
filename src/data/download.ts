// Checksum-verified downloads into the cache (~/.cache/ingot, or INGOT_CACHE). Nothing is fetched
// unless a reader was called with {download: true} and the file is absent locally.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { IngotError } from "../tensor/index.js";

/** The download cache: INGOT_CACHE if set, else ~/.cache/ingot. */
export function cacheDir(): string {
  return process.env.INGOT_CACHE || join(homedir(), ".cache", "ingot");
}

/** The sha256 of some bytes, as lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Fetches `url` and writes it to `dest` only if its sha256 matches; the bytes are checked before
 * anything is written, so a failed or corrupted download leaves nothing behind.
 */
export async function downloadFile(url: string, dest: string, sha256: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new IngotError(`download: could not fetch ${url} (${cause ?? (e as Error).message}); check the network or place the file in ${dirname(dest)} yourself`);
  }
  if (!res.ok) throw new IngotError(`download: ${url} answered HTTP ${res.status} ${res.statusText}`.trimEnd());
  const bytes = new Uint8Array(await res.arrayBuffer());
  const got = sha256Hex(bytes);
  if (got !== sha256.toLowerCase())
    throw new IngotError(
      `download: checksum mismatch for ${url}: sha256 is ${got} but ${sha256} was expected (${bytes.length} bytes received); nothing was saved. ` +
        `The download is corrupted or the file changed upstream: try again, or place a verified copy in ${dirname(dest)}`,
    );
  mkdirSync(dirname(dest), { recursive: true });
  // NOTE: write to a temporary name and rename, so a crash never leaves a partial file under the real name.
  const part = `${dest}.part-${process.pid}`;
  try {
    writeFileSync(part, bytes);
    renameSync(part, dest);
  } finally {
    if (existsSync(part)) rmSync(part);
  }
  return dest;
}

/** Tries the mirrors in order (base URL + name); throws one error listing every failure. */
export async function downloadFromMirrors(mirrors: readonly string[], name: string, dest: string, sha256: string): Promise<string> {
  const errors: string[] = [];
  for (const base of mirrors) {
    const url = base.endsWith("/") ? base + name : `${base}/${name}`;
    try {
      return await downloadFile(url, dest, sha256);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  throw new IngotError(`download: ${name} could not be downloaded from any mirror:\n  ${errors.join("\n  ")}`);
}
