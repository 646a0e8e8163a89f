// ingot.security: SHA-256 manifests of model folders, AES-256-GCM encrypted model folders, and the
// file access that loaders use to read a folder whether it is plain or encrypted.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { IngotError } from "../tensor/index.js";
import { parseSafetensors, type SavedModel } from "../io/index.js";
import type { SavedModelFiles } from "../keras/load.js";
import { decryptModelDirToMemory, isEncryptedDir, keyFromEnv, type KeySource } from "./encrypt.js";
import { MANIFEST_FILE, modelFolderFiles, parseManifest, verifyFiles } from "./manifest.js";

export * from "./manifest.js";
export * from "./encrypt.js";

/** A model folder's files, read from disk or decrypted in memory. */
export interface ModelFiles {
  dir: string;
  /** True when the folder was encrypted (the files live only in memory). */
  encrypted: boolean;
  /** True when a manifest.json was checked. */
  verified: boolean;
  has(name: string): boolean;
  /** The file's bytes; throws naming the folder when it is absent. */
  read(name: string): Buffer;
  text(name: string): string;
}

function memoryFiles(dir: string, files: Map<string, Buffer>, encrypted: boolean): ModelFiles {
  const read = (name: string) => {
    const b = files.get(name);
    if (!b) throw new IngotError(`${dir} has no ${name}`);
    return b;
  };
  return { dir, encrypted, verified: true, has: (n) => files.has(n), read, text: (n) => read(n).toString("utf8") };
}

/**
 * Opens a model folder for loading. An encrypted folder is decrypted in memory with `key` (default:
 * INGOT_MODEL_KEY or INGOT_MODEL_PASSPHRASE from `env`) and checked; a plain folder with a
 * manifest.json is read whole and checked against it (so what is checked is what is loaded); a plain
 * folder without one is read from disk as files are asked for.
 */
export function openModelFiles(dir: string, opts: { key?: KeySource | null; env?: NodeJS.ProcessEnv } = {}): ModelFiles {
  if (isEncryptedDir(dir)) {
    const key = opts.key ?? keyFromEnv(opts.env ?? process.env);
    if (!key) throw new IngotError(`${dir} is encrypted; set INGOT_MODEL_KEY (the 256-bit key, hex or base64) or INGOT_MODEL_PASSPHRASE to load it`);
    return memoryFiles(dir, decryptModelDirToMemory(dir, key), true);
  }
  const manifest = join(dir, MANIFEST_FILE);
  if (existsSync(manifest)) {
    const files = new Map(modelFolderFiles(dir, "loading").map((n) => [n, readFileSync(join(dir, n))] as const));
    verifyFiles(files, parseManifest(readFileSync(manifest, "utf8"), manifest), dir);
    return memoryFiles(dir, files, false);
  }
  const read = (name: string) => {
    const p = join(dir, name);
    if (!existsSync(p)) throw new IngotError(`${dir} has no ${name}`);
    return readFileSync(p);
  };
  return { dir, encrypted: false, verified: false, has: (n) => existsSync(join(dir, n)), read, text: (n) => read(n).toString("utf8") };
}

/** The two files a keras model loads from (keras.loadModelFrom), taken from a folder's files. */
export function kerasModelFiles(files: ModelFiles): SavedModelFiles {
  const maybe = (name: string) => (files.has(name) ? files.read(name) : null);
  return { dir: files.dir, readConfig: () => maybe("config.json")?.toString("utf8") ?? null, readWeights: () => maybe("model.safetensors") };
}

/** A model folder's config.json, model.safetensors and card.json (optional) from its files, as loadModelDir reads them from disk. */
export function readSavedModel(files: ModelFiles): SavedModel {
  const json = (name: string) => {
    try {
      return JSON.parse(files.text(name)) as Record<string, unknown>;
    } catch (e) {
      throw new IngotError(`${join(files.dir, name)} is not valid JSON (${(e as Error).message})`);
    }
  };
  const config = json("config.json");
  const { tensors } = parseSafetensors(files.read("model.safetensors"), join(files.dir, "model.safetensors"));
  return { config, weights: tensors, card: files.has("card.json") ? json("card.json") : {} };
}
