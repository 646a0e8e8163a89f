// `ingot decrypt <encryptedDir>`: the plain model folder back from `ingot encrypt`'s output, every file
// authenticated (AES-256-GCM) and checked against the sealed manifest before anything is written.
import { decryptModelDir, decryptModelDirToMemory } from "../security/index.js";
import { keySourceOf } from "./encrypt.js";
import { parseCli, reportError, UsageError } from "./recipes/common.js";

export const DECRYPT_HELP = `Usage: ingot decrypt <encryptedDir> [--out DIR] (--passphrase-env VAR | --key-file F) [--verify]

Decrypts a folder written by 'ingot encrypt'. A wrong key, a changed header or a single changed byte
in any file is an error that names it, and nothing is written.

Options:
  --out DIR              the plain folder (default <encryptedDir> without .enc; must be new or empty)
  --passphrase-env VAR   the passphrase is in the environment variable VAR
  --key-file F           the 256-bit key file (32 raw bytes, 64 hex digits or base64)
  --verify               only check the key and every file (in memory); write nothing
  --json                 print the result as JSON
  -h, --help             show this help
`;

export async function run(args: string[]): Promise<number> {
  try {
    const { values: v, positionals } = parseCli("ingot decrypt", args, {
      out: { type: "string" },
      "passphrase-env": { type: "string" },
      "key-file": { type: "string" },
      verify: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    });
    if (v.help) {
      process.stdout.write(DECRYPT_HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError("ingot decrypt: name one encrypted folder, e.g. ingot decrypt runs/mnist-mlp.enc --passphrase-env INGOT_PASS (see --help)");
    const dir = positionals[0].replace(/[/\\]+$/, "");
    const key = keySourceOf("ingot decrypt", v);
    if (v.verify) {
      const files = decryptModelDirToMemory(dir, key);
      process.stdout.write(v.json ? JSON.stringify({ verified: true, files: [...files.keys()] }) + "\n" : `${dir}: the key is right and all ${files.size} files are intact\n`);
      return 0;
    }
    let out = v.out;
    if (!out) {
      if (!dir.endsWith(".enc")) throw new UsageError(`ingot decrypt: ${dir} does not end in .enc; pass --out DIR for the plain folder`);
      out = dir.slice(0, -4);
    }
    const m = decryptModelDir(dir, out, key);
    process.stdout.write(v.json ? JSON.stringify({ out, files: Object.keys(m.files) }) + "\n" : `decrypted ${Object.keys(m.files).length} files into ${out}; each matches manifest.json\n`);
    return 0;
  } catch (e) {
    return reportError("ingot decrypt", e);
  }
}
