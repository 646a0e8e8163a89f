// Encrypted model folders: every file sealed with AES-256-GCM (a random 96-bit IV per file, a 128-bit
// tag, the folder id and file name as associated data), the key from scrypt over a passphrase (a
// random salt in the header) or a 32-byte key file, and a header file naming the scheme. The plain
// folder's manifest.json (sizes and SHA-256) is sealed with the files and checked after opening.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { IngotError } from "../tensor/index.js";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomic.js";
import { buildManifest, IntegrityError, MANIFEST_FILE, type Manifest, modelFolderFiles, parseManifest, verifyFiles, verifyManifest } from "./manifest.js";

/** The header file of an encrypted folder. */
export const ENCRYPTED_HEADER = "ingot-encrypted.json";
const BLOB_SUFFIX = ".enc";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** scrypt's cost by default: N = 2^17, r = 8, p = 1 (OWASP's password storage guidance); 128 MiB and a fraction of a second per key. */
export const SCRYPT_DEFAULTS = { N: 2 ** 17, r: 8, p: 1 } as const;

/** A passphrase (stretched by scrypt) or a raw 32-byte key. */
export type KeySource = { passphrase: string } | { key: Uint8Array };

export interface EncryptedHeader {
  format: "ingot.encrypted";
  version: 1;
  cipher: "aes-256-gcm";
  /** Random, bound into every file's associated data: files cannot be moved between folders. */
  id: string;
  kdf: { name: "scrypt"; salt: string; N: number; r: number; p: number } | { name: "raw" };
  /** HMAC-SHA256(key, "ingot.encrypted key check"), first 16 bytes, base64: tells a wrong key from a damaged file. */
  key_check: string;
  /** The files sealed: plain name, sealed file name, plain size. */
  files: { name: string; blob: string; size: number }[];
  /** HMAC-SHA256(key, the header without this field), base64: the header was not altered. */
  mac: string;
}

/** True when the folder is an encrypted model folder (it holds ingot-encrypted.json). */
export function isEncryptedDir(dir: string): boolean {
  return existsSync(join(dir, ENCRYPTED_HEADER));
}

/** A 32-byte key from a key file: 32 raw bytes, 64 hex digits, or base64 of 32 bytes (surrounding whitespace ignored). */
export function parseKey(data: Uint8Array | string, where: string): Buffer {
  const raw = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
  if (typeof data !== "string" && raw.length === 32) return raw;
  const text = raw.toString("utf8").trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, "hex");
  if (/^[A-Za-z0-9+/]{43}=?$/.test(text)) {
    const b = Buffer.from(text, "base64");
    if (b.length === 32) return b;
  }
  throw new IngotError(`${where} does not hold a 256-bit key; it must be 32 raw bytes, 64 hex digits or 44 base64 characters (make one with 'openssl rand -hex 32 > key' or 'ingot encrypt DIR --new-key-file key')`);
}

/** Reads a key file (see parseKey). */
export function readKeyFile(path: string): Buffer {
  if (!existsSync(path)) throw new IngotError(`the key file ${path} does not exist`);
  return parseKey(readFileSync(path), `the key file ${path}`);
}

/** The key source in the environment: INGOT_MODEL_KEY (hex or base64 key) or INGOT_MODEL_PASSPHRASE; null when neither is set. */
export function keyFromEnv(env: NodeJS.ProcessEnv = process.env): KeySource | null {
  if (env.INGOT_MODEL_KEY) return { key: parseKey(env.INGOT_MODEL_KEY, "INGOT_MODEL_KEY") };
  if (env.INGOT_MODEL_PASSPHRASE) return { passphrase: env.INGOT_MODEL_PASSPHRASE };
  return null;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const aad = (id: string, name: string) => Buffer.from(`ingot.encrypted/v1/${id}/${name}`, "utf8");
const keyCheck = (key: Buffer) => b64(createHmac("sha256", key).update("ingot.encrypted key check").digest().subarray(0, 16));
const headerMac = (key: Buffer, h: Omit<EncryptedHeader, "mac">) => b64(createHmac("sha256", key).update(JSON.stringify({ ...h, mac: undefined })).digest());

function deriveKey(src: KeySource, kdf: EncryptedHeader["kdf"], where: string): Buffer {
  if (kdf.name === "raw") {
    if (!("key" in src)) throw new IngotError(`${where} was encrypted with a key file, not a passphrase; pass the key (--key-file F, or INGOT_MODEL_KEY for ingot serve)`);
    return Buffer.from(src.key);
  }
  if (!("passphrase" in src)) throw new IngotError(`${where} was encrypted with a passphrase, not a key file; pass it (--passphrase-env VAR, or INGOT_MODEL_PASSPHRASE for ingot serve)`);
  const { N, r, p } = kdf;
  return scryptSync(src.passphrase.normalize("NFC"), Buffer.from(kdf.salt, "base64"), 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
}

export interface EncryptOptions {
  /** scrypt cost for passphrases (default SCRYPT_DEFAULTS; lower only for tests). */
  scrypt?: { N: number; r: number; p: number };
}

/**
 * Encrypts a model folder into `out` (a new or empty folder): one `<file>.enc` per file (manifest.json
 * included, computed now over the plain files), then `ingot-encrypted.json`. Returns the header.
 * @example encryptModelDir("runs/mnist-mlp", "runs/mnist-mlp.enc", { passphrase: process.env.PASS! })
 */
export function encryptModelDir(dir: string, out: string, src: KeySource, opts: EncryptOptions = {}): EncryptedHeader {
  if (isEncryptedDir(dir)) throw new IngotError(`ingot encrypt: ${dir} is already encrypted (it holds ${ENCRYPTED_HEADER})`);
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length)) throw new IngotError(`ingot encrypt: ${out} exists and is not an empty folder; choose another --out or remove it`);
  if ("passphrase" in src && !src.passphrase) throw new IngotError("ingot encrypt: the passphrase is empty");
  // A folder that already has a manifest must still match it: sealing a damaged folder would hide the damage.
  verifyManifest(dir);
  const files = new Map(modelFolderFiles(dir, "ingot encrypt").map((n) => [n, readFileSync(join(dir, n))] as const));
  files.set(MANIFEST_FILE, Buffer.from(JSON.stringify(buildManifest(files), null, 2) + "\n"));
  let kdf: EncryptedHeader["kdf"];
  let key: Buffer;
  if ("passphrase" in src) {
    const { N, r, p } = opts.scrypt ?? SCRYPT_DEFAULTS;
    kdf = { name: "scrypt", salt: b64(randomBytes(16)), N, r, p };
    key = deriveKey(src, kdf, dir);
  } else {
    kdf = { name: "raw" };
    key = parseKey(src.key, "the key");
  }
  const id = randomBytes(16).toString("hex");
  const entries: EncryptedHeader["files"] = [];
  for (const [name, plain] of [...files.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    c.setAAD(aad(id, name));
    const body = Buffer.concat([iv, c.update(plain), c.final(), c.getAuthTag()]);
    const blob = name + BLOB_SUFFIX;
    writeFileAtomic(join(out, blob), body);
    entries.push({ name, blob, size: plain.length });
  }
  const header: Omit<EncryptedHeader, "mac"> = { format: "ingot.encrypted", version: 1, cipher: "aes-256-gcm", id, kdf, key_check: keyCheck(key), files: entries };
  const full: EncryptedHeader = { ...header, mac: headerMac(key, header) };
  // The header goes last: its presence marks a complete encrypted folder.
  writeJsonAtomic(join(out, ENCRYPTED_HEADER), full);
  return full;
}

function readHeader(dir: string): EncryptedHeader {
  const p = join(dir, ENCRYPTED_HEADER);
  if (!existsSync(p)) throw new IngotError(`${dir} is not an encrypted model folder (no ${ENCRYPTED_HEADER}); encrypt one with 'ingot encrypt'`);
  let h: EncryptedHeader;
  try {
    h = JSON.parse(readFileSync(p, "utf8")) as EncryptedHeader;
  } catch (e) {
    throw new IntegrityError(`${p} is not valid JSON (${(e as Error).message}); the header was damaged`);
  }
  if (h?.format !== "ingot.encrypted" || h.cipher !== "aes-256-gcm" || !Array.isArray(h.files)) throw new IntegrityError(`${p} does not describe an Ingot encrypted folder (format 'ingot.encrypted', cipher 'aes-256-gcm')`);
  for (const f of h.files)
    if (typeof f?.name !== "string" || typeof f.blob !== "string" || /[\\/]|^\.\.?$/.test(f.name) || /[\\/]|^\.\.?$/.test(f.blob)) throw new IntegrityError(`${p} lists a file name that is not a plain name (${JSON.stringify(f?.name)}); the header was altered`);
  if (h.version !== 1) throw new IngotError(`${p} has version ${JSON.stringify(h.version)}; this Ingot reads version 1; update Ingot`);
  return h;
}

/**
 * Decrypts an encrypted model folder in memory and checks it: the key (a wrong one is named as such),
 * the header's MAC, every file's GCM tag, then every file against the sealed manifest.json. Returns
 * the plain files by name (manifest.json included); nothing is written to disk.
 */
export function decryptModelDirToMemory(dir: string, src: KeySource): Map<string, Buffer> {
  const h = readHeader(dir);
  const key = deriveKey(src, h.kdf, dir);
  const check = Buffer.from(keyCheck(key));
  if (check.length !== Buffer.byteLength(h.key_check) || !timingSafeEqual(check, Buffer.from(h.key_check)))
    throw new IngotError(`${dir}: the key is wrong — it does not match the one this folder was encrypted with (check the passphrase or key file)`);
  const { mac, ...rest } = h;
  if (headerMac(key, rest) !== mac) throw new IntegrityError(`${join(dir, ENCRYPTED_HEADER)} was altered after encryption (its MAC does not match); refusing to load`);
  const files = new Map<string, Buffer>();
  for (const f of h.files) {
    const p = join(dir, f.blob);
    if (!existsSync(p)) throw new IntegrityError(`${dir}: ${f.blob} (${f.name}) is missing; the encrypted folder is incomplete`);
    const body = readFileSync(p);
    if (body.length !== IV_BYTES + f.size + TAG_BYTES) throw new IntegrityError(`${dir}: ${f.blob} (${f.name}) has ${body.length} bytes, expected ${IV_BYTES + f.size + TAG_BYTES}; the file was altered or truncated`);
    const d = createDecipheriv("aes-256-gcm", key, body.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    d.setAAD(aad(h.id, f.name));
    d.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      files.set(f.name, Buffer.concat([d.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)), d.final()]));
    } catch {
      throw new IntegrityError(`${dir}: ${f.blob} (${f.name}) fails authentication — it was altered after encryption; refusing to load it`);
    }
  }
  const m = files.get(MANIFEST_FILE);
  if (!m) throw new IntegrityError(`${dir}: the encrypted folder holds no ${MANIFEST_FILE}`);
  verifyFiles(files, parseManifest(m.toString("utf8"), `${dir} (${MANIFEST_FILE})`), dir);
  return files;
}

/** Decrypts an encrypted folder into `out` (a new or empty folder), each file written atomically. Returns the manifest. */
export function decryptModelDir(dir: string, out: string, src: KeySource): Manifest {
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length)) throw new IngotError(`ingot decrypt: ${out} exists and is not an empty folder; choose another --out or remove it`);
  const files = decryptModelDirToMemory(dir, src);
  for (const [name, b] of files) writeFileAtomic(join(out, basename(name)), b);
  return parseManifest(files.get(MANIFEST_FILE)!.toString("utf8"), MANIFEST_FILE);
}

/** A fresh random 256-bit key. */
export function generateKey(): Buffer {
  return randomBytes(32);
}
