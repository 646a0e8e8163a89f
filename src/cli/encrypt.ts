// `ingot encrypt <modelDir>`: an AES-256-GCM copy of a model folder (key from a passphrase in an
// environment variable, stretched by scrypt, or from a 32-byte key file), sealed with its SHA-256
// manifest; `--manifest-only` writes manifest.json into the plain folder instead.
import { chmodSync, existsSync } from "node:fs";
import { resolve } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";
import { encryptModelDir, generateKey, type KeySource, readKeyFile, writeManifest } from "../security/index.js";
import { CliError, parseCli, reportError, UsageError } from "./recipes/common.js";

export const ENCRYPT_HELP = `Usage: ingot encrypt <modelDir> [--out DIR] (--passphrase-env VAR | --key-file F | --new-key-file F)
       ingot encrypt <modelDir> --manifest-only

Writes an encrypted copy of a model folder: every file sealed with AES-256-GCM (random 96-bit IV,
128-bit tag) as FILE.enc, manifest.json (each file's size and SHA-256) sealed with them, and
ingot-encrypted.json naming the scheme. 'ingot serve' loads the copy with INGOT_MODEL_KEY or
INGOT_MODEL_PASSPHRASE set, decrypting in memory; 'ingot decrypt' turns it back into plain files.

Options:
  --out DIR              the encrypted folder (default <modelDir>.enc; must be new or empty)
  --passphrase-env VAR   read the passphrase from the environment variable VAR (key by scrypt, N=2^17, r=8, p=1)
  --key-file F           a 256-bit key: 32 raw bytes, 64 hex digits or base64
  --new-key-file F       make a fresh random key, save it to F (hex, mode 600) and encrypt with it
  --manifest-only        only write manifest.json into <modelDir> (checked whenever the folder is served)
  --json                 print the result as JSON
  -h, --help             show this help

Example: INGOT_PASS=… ingot encrypt runs/mnist-mlp --passphrase-env INGOT_PASS
`;

/** The key from --passphrase-env / --key-file (exactly one). */
export function keySourceOf(cmd: string, v: { "passphrase-env"?: string; "key-file"?: string; "new-key-file"?: string }): KeySource {
  const given = (["passphrase-env", "key-file", "new-key-file"] as const).filter((k) => v[k] !== undefined);
  if (given.length !== 1) throw new UsageError(`${cmd}: pass exactly one of --passphrase-env VAR or --key-file F${cmd === "ingot encrypt" ? " (or --new-key-file F)" : ""}`);
  if (v["passphrase-env"] !== undefined) {
    const name = v["passphrase-env"];
    const pass = process.env[name];
    if (!pass) throw new CliError(`${cmd}: the environment variable ${name} is not set or empty; export the passphrase in it (it is read from the environment so that it stays out of the shell history)`);
    return { passphrase: pass };
  }
  if (v["new-key-file"] !== undefined) {
    const f = v["new-key-file"];
    if (existsSync(f)) throw new CliError(`${cmd}: ${f} exists; --new-key-file writes a new key and never overwrites one (use --key-file ${f} to use it)`);
    const key = generateKey();
    writeFileAtomic(f, key.toString("hex") + "\n");
    chmodSync(f, 0o600); // the key is a secret: owner-only
    return { key };
  }
  return { key: readKeyFile(v["key-file"]!) };
}

export async function run(args: string[]): Promise<number> {
  try {
    const { values: v, positionals } = parseCli("ingot encrypt", args, {
      out: { type: "string" },
      "passphrase-env": { type: "string" },
      "key-file": { type: "string" },
      "new-key-file": { type: "string" },
      "manifest-only": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (v.help) {
      process.stdout.write(ENCRYPT_HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError("ingot encrypt: name one model folder, e.g. ingot encrypt runs/mnist-mlp --passphrase-env INGOT_PASS (see --help)");
    const dir = positionals[0];
    if (v["manifest-only"]) {
      if (v.out || v["passphrase-env"] || v["key-file"] || v["new-key-file"]) throw new UsageError("ingot encrypt: --manifest-only takes no key and no --out; it writes <modelDir>/manifest.json");
      const m = writeManifest(dir);
      process.stdout.write(v.json ? JSON.stringify(m) + "\n" : `wrote ${resolve(dir, "manifest.json")} (${Object.keys(m.files).length} files)\n`);
      return 0;
    }
    const key = keySourceOf("ingot encrypt", v);
    const out = v.out ?? `${dir.replace(/[/\\]+$/, "")}.enc`;
    const h = encryptModelDir(dir, out, key);
    if (v.json) process.stdout.write(JSON.stringify({ out, cipher: h.cipher, kdf: h.kdf.name, files: h.files.map((f) => f.name) }) + "\n");
    else process.stdout.write(`encrypted ${h.files.length} files (${h.files.map((f) => f.name).join(", ")}) into ${out} with AES-256-GCM, key by ${h.kdf.name === "scrypt" ? "scrypt from the passphrase" : "key file"}\n`);
    return 0;
  } catch (e) {
    return reportError("ingot encrypt", e);
  }
}
