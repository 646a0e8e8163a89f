// Encrypted model folders and manifests over real saved models: the right key round-trips byte for
// byte, a wrong key and a single flipped byte are refused with errors that say which; the server
// loads an encrypted folder in memory and predicts exactly as from the plain one.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as sec from "../../src/security/index.js";
import { loadServedModel, type Predictor } from "../../src/serve/models.js";
import { saveClassifier, saveLM } from "./serve-fixtures.js";

const FAST = { scrypt: { N: 2 ** 12, r: 8, p: 1 } }; // a low cost for speed; the default is 2^17
let root: string;
let clf: string;
let lm: string;
const key = Buffer.alloc(32, 7);

before(() => {
  root = mkdtempSync(join(tmpdir(), "ingot-sec-"));
  clf = join(root, "clf");
  lm = join(root, "lm");
  saveClassifier(clf);
  saveLM(lm);
});
after(() => rmSync(root, { recursive: true, force: true }));

const flip = (path: string, at: number) => {
  const b = readFileSync(path);
  b[at] ^= 0x01;
  writeFileSync(path, b);
};

test("encrypt → decrypt round-trips every file byte for byte (key file and passphrase)", () => {
  for (const [name, src] of [
    ["raw", { key }],
    ["pass", { passphrase: "correct horse battery staple" }],
  ] as const) {
    const enc = join(root, `clf-${name}.enc`);
    const h = sec.encryptModelDir(clf, enc, src, FAST);
    assert.equal(h.cipher, "aes-256-gcm");
    assert.equal(h.kdf.name, name === "raw" ? "raw" : "scrypt");
    // Nothing readable is left in the encrypted folder: sealed blobs and the header only.
    assert.deepEqual(readdirSync(enc).sort(), ["card.json.enc", "config.json.enc", "ingot-encrypted.json", "manifest.json.enc", "model.safetensors.enc"]);
    assert.ok(!readFileSync(join(enc, "config.json.enc")).includes(Buffer.from("ingot.keras")));
    const out = join(root, `clf-${name}.dec`);
    const m = sec.decryptModelDir(enc, out, src);
    for (const f of readdirSync(clf)) assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(clf, f))), `${f} differs after the round trip`);
    assert.deepEqual(Object.keys(m.files).sort(), readdirSync(clf).sort());
    assert.equal(sec.verifyManifest(out), true); // the decrypted folder carries its manifest
  }
});

test("a wrong key or passphrase is named as such; the wrong kind of key too", () => {
  const enc = join(root, "wrong.enc");
  sec.encryptModelDir(clf, enc, { passphrase: "right" }, FAST);
  assert.throws(() => sec.decryptModelDirToMemory(enc, { passphrase: "wrong" }), /the key is wrong/);
  assert.throws(() => sec.decryptModelDirToMemory(enc, { key }), /encrypted with a passphrase, not a key file/);
  const enc2 = join(root, "wrong2.enc");
  sec.encryptModelDir(clf, enc2, { key }, FAST);
  assert.throws(() => sec.decryptModelDirToMemory(enc2, { key: Buffer.alloc(32, 8) }), /the key is wrong/);
  assert.throws(() => sec.decryptModelDirToMemory(enc2, { passphrase: "x" }), /encrypted with a key file, not a passphrase/);
  assert.equal(sec.decryptModelDirToMemory(enc2, { key }).size, 4);
});

test("one flipped byte anywhere is refused, naming the file", () => {
  const fresh = (n: string) => {
    const enc = join(root, `flip-${n}.enc`);
    sec.encryptModelDir(clf, enc, { key }, FAST);
    return enc;
  };
  const size = (p: string) => readFileSync(p).length;
  let enc = fresh("body");
  flip(join(enc, "model.safetensors.enc"), Math.floor(size(join(enc, "model.safetensors.enc")) / 2));
  assert.throws(() => sec.decryptModelDirToMemory(enc, { key }), /model\.safetensors\.enc \(model\.safetensors\) fails authentication/);
  enc = fresh("iv");
  flip(join(enc, "config.json.enc"), 0);
  assert.throws(() => sec.decryptModelDirToMemory(enc, { key }), /config\.json\.enc \(config\.json\) fails authentication/);
  enc = fresh("tag");
  flip(join(enc, "card.json.enc"), size(join(enc, "card.json.enc")) - 1);
  assert.throws(() => sec.decryptModelDirToMemory(enc, { key }), /card\.json\.enc \(card\.json\) fails authentication/);
  // Blobs swapped between names: the file name is authenticated data.
  enc = fresh("swap");
  const a = readFileSync(join(enc, "card.json.enc"));
  writeFileSync(join(enc, "card.json.enc"), readFileSync(join(enc, "config.json.enc")));
  writeFileSync(join(enc, "config.json.enc"), a);
  assert.throws(() => sec.decryptModelDirToMemory(enc, { key }), /has \d+ bytes, expected|fails authentication/);
  // The header: a changed size is caught by its MAC.
  enc = fresh("header");
  const hp = join(enc, sec.ENCRYPTED_HEADER);
  const h = JSON.parse(readFileSync(hp, "utf8"));
  h.files[0].size += 1;
  writeFileSync(hp, JSON.stringify(h));
  assert.throws(() => sec.decryptModelDirToMemory(enc, { key }), /ingot-encrypted\.json was altered/);
  // Nothing is written when decryption fails.
  enc = fresh("nowrite");
  flip(join(enc, "model.safetensors.enc"), 100);
  const out = join(root, "nowrite-out");
  assert.throws(() => sec.decryptModelDir(enc, out, { key }), /fails authentication/);
  assert.equal(existsSync(out), false);
});

test("manifest: a changed, added or missing file is an error naming it", () => {
  const dir = join(root, "man");
  saveClassifier(dir);
  const m = sec.writeManifest(dir);
  assert.deepEqual(Object.keys(m.files), ["card.json", "config.json", "model.safetensors"]);
  assert.equal(m.files["model.safetensors"].size, readFileSync(join(dir, "model.safetensors")).length);
  assert.equal(sec.verifyManifest(dir), true);
  flip(join(dir, "model.safetensors"), 200);
  assert.throws(() => sec.verifyManifest(dir), /model\.safetensors does not match manifest\.json/);
  flip(join(dir, "model.safetensors"), 200);
  writeFileSync(join(dir, "extra.bin"), "x");
  assert.throws(() => sec.verifyManifest(dir), /extra\.bin is not listed in manifest\.json/);
  rmSync(join(dir, "extra.bin"));
  rmSync(join(dir, "card.json"));
  assert.throws(() => sec.verifyManifest(dir), /card\.json is listed in manifest\.json but missing/);
});

test("key files: raw, hex and base64; anything else is refused", () => {
  assert.ok(sec.parseKey(key, "k").equals(key));
  assert.ok(sec.parseKey(key.toString("hex") + "\n", "k").equals(key));
  assert.ok(sec.parseKey(key.toString("base64"), "k").equals(key));
  assert.throws(() => sec.parseKey("abc", "the key file f"), /the key file f does not hold a 256-bit key/);
  assert.ok((sec.keyFromEnv({ INGOT_MODEL_KEY: key.toString("hex") }) as { key: Buffer }).key.equals(key));
  assert.deepEqual(sec.keyFromEnv({ INGOT_MODEL_PASSPHRASE: "p" }), { passphrase: "p" });
  assert.equal(sec.keyFromEnv({}), null);
});

test("serve loads encrypted folders in memory (key from the environment) and refuses tampered ones", () => {
  const encClf = join(root, "serve-clf.enc");
  const encLm = join(root, "serve-lm.enc");
  sec.encryptModelDir(clf, encClf, { key }, FAST);
  sec.encryptModelDir(lm, encLm, { passphrase: "pw" }, FAST);
  const before = readdirSync(encClf).sort();
  const saved = { key: process.env.INGOT_MODEL_KEY, pass: process.env.INGOT_MODEL_PASSPHRASE };
  try {
    delete process.env.INGOT_MODEL_KEY;
    delete process.env.INGOT_MODEL_PASSPHRASE;
    assert.throws(() => loadServedModel({ name: "c", dir: encClf }), /is encrypted; set INGOT_MODEL_KEY .* or INGOT_MODEL_PASSPHRASE/);
    process.env.INGOT_MODEL_KEY = key.toString("hex");
    const plain = loadServedModel({ name: "p", dir: clf }) as Predictor;
    const secret = loadServedModel({ name: "c", dir: encClf }) as Predictor;
    const x = Float32Array.from({ length: 8 }, (_, i) => i / 3);
    assert.deepEqual(Array.from(secret.forward(x, 2)), Array.from(plain.forward(x, 2)));
    assert.deepEqual(readdirSync(encClf).sort(), before); // no plaintext written beside it
    delete process.env.INGOT_MODEL_KEY;
    process.env.INGOT_MODEL_PASSPHRASE = "pw";
    const g = loadServedModel({ name: "g", dir: encLm });
    assert.equal(g.kind, "language-model");
    process.env.INGOT_MODEL_PASSPHRASE = "not it";
    assert.throws(() => loadServedModel({ name: "g", dir: encLm }), /model 'g' .*the key is wrong/);
    process.env.INGOT_MODEL_KEY = key.toString("hex");
    flip(join(encClf, "model.safetensors.enc"), 64);
    assert.throws(() => loadServedModel({ name: "c", dir: encClf }), /model 'c' .*model\.safetensors\.enc \(model\.safetensors\) fails authentication/);
  } finally {
    for (const [k, v] of [
      ["INGOT_MODEL_KEY", saved.key],
      ["INGOT_MODEL_PASSPHRASE", saved.pass],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
});

test("serve checks a plain folder's manifest.json when it has one", () => {
  const dir = join(root, "served-man");
  saveClassifier(dir);
  sec.writeManifest(dir);
  assert.equal(loadServedModel({ name: "m", dir }).kind, "predictor");
  flip(join(dir, "config.json"), 5);
  assert.throws(() => loadServedModel({ name: "m", dir }), /config\.json does not match manifest\.json/);
});

test("encrypt refuses a folder whose own manifest.json no longer matches", () => {
  const dir = join(root, "stale");
  saveClassifier(dir);
  sec.writeManifest(dir);
  flip(join(dir, "card.json"), 3);
  assert.throws(() => sec.encryptModelDir(dir, join(root, "stale.enc"), { key }, FAST), /card\.json does not match manifest\.json/);
  assert.equal(existsSync(join(root, "stale.enc")), false);
});
