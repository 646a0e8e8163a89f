// `ingot encrypt|decrypt` on a saved keras model folder with the default scrypt cost: the right
// passphrase or key file round-trips byte for byte, a wrong one and a flipped byte are refused with
// exit 1 and a message saying which; `ingot serve` predicts from the encrypted folder with the key
// in INGOT_MODEL_PASSPHRASE, and refuses it without.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { saveClassifier } from "../unit/serve-fixtures.js";

const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "ingot-enc-cli-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const model = join(tmp, "clf");
saveClassifier(model);

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 60_000 }); // a serve that starts by mistake is killed
}
const sameFiles = (a: string, b: string) => {
  for (const f of readdirSync(a)) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `${f} differs`);
};

test("passphrase: encrypt, decrypt byte for byte; wrong passphrase and a flipped byte refused", () => {
  const env = { MODEL_PASS: "tr0ub4dor&3" };
  const e = cli(["encrypt", model, "--passphrase-env", "MODEL_PASS"], env);
  assert.equal(e.status, 0, e.stderr);
  const enc = `${model}.enc`;
  const header = JSON.parse(readFileSync(join(enc, "ingot-encrypted.json"), "utf8"));
  assert.deepEqual([header.cipher, header.kdf.name, header.kdf.N, header.kdf.r, header.kdf.p], ["aes-256-gcm", "scrypt", 131072, 8, 1]);
  const out = join(tmp, "plain");
  const d = cli(["decrypt", enc, "--out", out, "--passphrase-env", "MODEL_PASS"], env);
  assert.equal(d.status, 0, d.stderr);
  sameFiles(model, out);
  assert.ok(existsSync(join(out, "manifest.json")));

  const wrong = cli(["decrypt", enc, "--out", join(tmp, "w"), "--passphrase-env", "MODEL_PASS"], { MODEL_PASS: "tr0ub4dor&4" });
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /the key is wrong/);
  assert.equal(existsSync(join(tmp, "w")), false);

  const blob = join(enc, "model.safetensors.enc");
  const b = readFileSync(blob);
  b[b.length >> 1] ^= 0x80;
  writeFileSync(blob, b);
  const tampered = cli(["decrypt", enc, "--verify", "--passphrase-env", "MODEL_PASS"], env);
  assert.equal(tampered.status, 1);
  assert.match(tampered.stderr, /model\.safetensors\.enc \(model\.safetensors\) fails authentication/);
  const unset = cli(["decrypt", enc, "--verify", "--passphrase-env", "NOT_SET_ANYWHERE"]);
  assert.equal(unset.status, 1);
  assert.match(unset.stderr, /NOT_SET_ANYWHERE is not set/);
});

test("key file: --new-key-file makes one (mode 600), --key-file decrypts; usage errors", () => {
  const keyFile = join(tmp, "model.key");
  const enc = join(tmp, "k.enc");
  const e = cli(["encrypt", model, "--out", enc, "--new-key-file", keyFile]);
  assert.equal(e.status, 0, e.stderr);
  assert.match(readFileSync(keyFile, "utf8"), /^[0-9a-f]{64}\n$/);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const out = join(tmp, "k-plain");
  assert.equal(cli(["decrypt", enc, "--out", out, "--key-file", keyFile]).status, 0);
  sameFiles(model, out);
  assert.equal(cli(["encrypt", model, "--out", join(tmp, "again"), "--new-key-file", keyFile]).status, 1); // never overwrites a key
  assert.equal(cli(["encrypt", model]).status, 2); // no key source
  assert.equal(cli(["encrypt", model, "--key-file", keyFile, "--passphrase-env", "X"]).status, 2);
  const m = cli(["encrypt", out, "--manifest-only"]);
  assert.equal(m.status, 0, m.stderr);
  assert.equal(cli(["encrypt", "--help"]).status, 0);
  assert.equal(cli(["decrypt", "--help"]).status, 0);
});

test("ingot serve predicts from an encrypted folder with INGOT_MODEL_PASSPHRASE, and refuses it without", async () => {
  const enc = join(tmp, "serve.enc");
  assert.equal(cli(["encrypt", model, "--out", enc, "--passphrase-env", "P"], { P: "serve-pass" }).status, 0);
  const refused = cli(["serve", `clf=${enc}`, "--port", "0"], { INGOT_MODEL_PASSPHRASE: "", INGOT_MODEL_KEY: "" });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /is encrypted; set INGOT_MODEL_KEY .* or INGOT_MODEL_PASSPHRASE/);

  const child = spawn(process.execPath, [bin, "serve", `clf=${enc}`, "--port", "0"], { env: { ...process.env, INGOT_MODEL_PASSPHRASE: "serve-pass", INGOT_MODEL_KEY: "" }, stdio: ["ignore", "pipe", "pipe"] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      let err = "";
      child.stdout!.on("data", (d) => {
        out += d;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.stderr!.on("data", (d) => (err += d));
      child.on("exit", (code) => reject(new Error(`ingot serve exited with ${code}: ${err}`)));
    });
    const res = await fetch(`${url}/v1/models/clf/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [[[1, 2], [3, 4]]] }) });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { outputs: number[][]; predictions: number[] };
    assert.equal(body.outputs[0].length, 3);
    assert.ok(Math.abs(body.outputs[0].reduce((a, b) => a + b, 0) - 1) < 1e-5); // softmax probabilities
  } finally {
    child.kill("SIGTERM");
  }
});
