// Data governance and model security costs: `ingot data check` on a 100 000-row CSV (with and
// without the PII scan), the PII scanner's throughput on text, scrypt at the default cost, and
// AES-256-GCM encryption / in-memory decryption of a GPT model folder, with the server's load time
// from the plain and from the encrypted folder.
// Run: node dist/bench/data-governance.js   → bench/results/data-governance.json
import { scryptSync } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ig from "../src/index.js";
import { checkData } from "../src/data/check.js";
import { findPii } from "../src/data/pii.js";
import { decryptModelDirToMemory, encryptModelDir, SCRYPT_DEFAULTS } from "../src/security/index.js";
import { loadServedModel } from "../src/serve/models.js";
import { printTable, writeResult } from "./common.js";

const best = (n: number, fn: () => void) => {
  let b = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    b = Math.min(b, performance.now() - t0);
  }
  return b / 1000;
};

const tmp = mkdtempSync(join(tmpdir(), "ingot-bench-gov-"));
try {
  // A 100 000-row table: numbers, a category, a date, and a note with an e-mail every 100 rows.
  const rows = ["id,x,y,cat,when,note"];
  for (let i = 0; i < 100_000; i++)
    rows.push(`${i},${((i * 7919) % 1000) / 10},${Math.sin(i).toFixed(6)},${"abcde"[i % 5]},2024-01-${String((i % 28) + 1).padStart(2, "0")},"order ${i} shipped${i % 100 === 0 ? ` to u${i}@example.com` : ""}"`);
  const csv = join(tmp, "big.csv");
  writeFileSync(csv, rows.join("\n") + "\n");
  const mb = statSync(csv).size / 1e6;
  const checkS = best(3, () => checkData(csv));
  const checkNoPiiS = best(3, () => checkData(csv, { pii: false }));

  const text = Array.from({ length: 20_000 }, (_, i) => `Line ${i}: contact ann${i}@example.org or +44 20 7946 ${String(i % 10000).padStart(4, "0")}, card 4111 1111 1111 1111, from 10.0.${i % 256}.1.`).join("\n");
  const piiS = best(3, () => findPii(text));

  const scryptS = best(3, () => scryptSync("passphrase", "0123456789abcdef", 32, { ...SCRYPT_DEFAULTS, maxmem: 256 * SCRYPT_DEFAULTS.N * SCRYPT_DEFAULTS.r + 2 ** 20 }));

  // A GPT folder of about 3.4M parameters (13 MB of float32 weights) with a character tokenizer.
  ig.manualSeed(0);
  const tok = ig.text.trainChar("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ.,!?\n0123456789");
  const gpt = new ig.models.GPT({ vocabSize: tok.vocabSize, blockSize: 128, nLayer: 4, nHead: 4, nEmbd: 256 });
  const dir = join(tmp, "gpt");
  ig.models.saveGPT(dir, gpt, { tokenizer: tok });
  const modelMb = statSync(join(dir, "model.safetensors")).size / 1e6;
  const key = { key: Buffer.alloc(32, 1) };
  let k = 0;
  const encS = best(3, () => encryptModelDir(dir, join(tmp, `gpt-${k++}.enc`), key));
  const decS = best(3, () => decryptModelDirToMemory(join(tmp, "gpt-0.enc"), key));
  process.env.INGOT_MODEL_KEY = Buffer.alloc(32, 1).toString("hex");
  const loadPlainS = best(3, () => loadServedModel({ name: "g", dir }));
  const loadEncS = best(3, () => loadServedModel({ name: "g", dir: join(tmp, "gpt-0.enc") }));

  const table: (string | number)[][] = [
    ["data check, 100k rows × 6 columns", `${(checkS * 1000).toFixed(0)} ms`, `${(100_000 / checkS / 1000).toFixed(0)}k rows/s, ${(mb / checkS).toFixed(1)} MB/s`],
    ["  without the PII scan", `${(checkNoPiiS * 1000).toFixed(0)} ms`, `${(100_000 / checkNoPiiS / 1000).toFixed(0)}k rows/s`],
    ["PII scan of text (findPii)", `${(piiS * 1000).toFixed(0)} ms`, `${(text.length / 1e6 / piiS).toFixed(1)} MB/s`],
    [`scrypt N=2^17 r=8 p=1`, `${(scryptS * 1000).toFixed(0)} ms`, "per key derivation"],
    [`encrypt GPT folder (${modelMb.toFixed(1)} MB weights)`, `${(encS * 1000).toFixed(0)} ms`, `${(modelMb / encS).toFixed(0)} MB/s`],
    ["decrypt + verify in memory", `${(decS * 1000).toFixed(0)} ms`, `${(modelMb / decS).toFixed(0)} MB/s`],
    ["serve load, plain folder", `${(loadPlainS * 1000).toFixed(0)} ms`, ""],
    ["serve load, encrypted folder (key file)", `${(loadEncS * 1000).toFixed(0)} ms`, `+${((loadEncS - loadPlainS) * 1000).toFixed(0)} ms`],
  ];
  printTable("data governance and model security (best of 3)", ["what", "time", "rate"], table);
  writeResult("data-governance", {
    check_100k_rows_s: checkS,
    check_100k_rows_no_pii_s: checkNoPiiS,
    csv_mb: mb,
    pii_scan_mb_per_s: text.length / 1e6 / piiS,
    scrypt_default_s: scryptS,
    model_weights_mb: modelMb,
    encrypt_s: encS,
    decrypt_verify_s: decS,
    serve_load_plain_s: loadPlainS,
    serve_load_encrypted_s: loadEncS,
    backend: ig.getBackend(),
  });
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
