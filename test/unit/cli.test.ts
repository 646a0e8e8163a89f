// The `ingot` command line: --help, --version, unknown commands.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const bin = new URL("../../src/cli/main.js", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string; bin: { ingot: string } };
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });

test("ingot --version prints the package version", () => {
  const r = run("--version");
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test("ingot --help lists usage and commands", () => {
  const r = run("--help");
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Usage: ingot <command>/);
  assert.match(r.stdout, /INGOT_BACKEND/);
});

test("an unknown command exits 2 with a pointer to --help", () => {
  const r = run("frobnicate");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'.*--help/);
});

test("ingot info names the backend", () => {
  const r = run("info");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /backend: (ref|cpu)/);
});

test("package.json bin points at the compiled CLI", () => {
  assert.equal(pkg.bin.ingot, "./dist/src/cli/main.js");
});

test('the package exports make `import * as ingot from "ingot"` work', async () => {
  // Node resolves a package's own name through its "exports" map (self-reference).
  const ingot = (await import("ingot" as string)) as typeof import("../../src/index.js");
  assert.equal(typeof ingot.tensor, "function");
  assert.deepEqual(ingot.tensor([1, 2]).add(1).toFlatArray(), [2, 3]);
  assert.equal(ingot.VERSION, pkg.version);
});
