#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) in one `node --test` invocation, so the
// runner prints one summary. `node scripts/run-tests.mjs conformance` runs only that folder.
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const root = new URL("../dist/test/", import.meta.url).pathname;
const filter = process.argv[2];
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith(".test.js") && (!filter || p.includes(filter))) files.push(p);
  }
};
walk(root);
if (files.length === 0) {
  console.error(`run-tests: no test files under ${root}${filter ? ` matching '${filter}'` : ""}; run npm run build first`);
  process.exit(1);
}
// Runs tracked by the tests (every `ingot train` records one) go to a throw-away INGOT_HOME, not ~/.ingot.
const home = process.env.INGOT_HOME ?? mkdtempSync(join(tmpdir(), "ingot-test-home-"));
const r = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...files], { stdio: "inherit", env: { ...process.env, INGOT_HOME: home } });
if (!process.env.INGOT_HOME) rmSync(home, { recursive: true, force: true });
process.exit(r.status ?? 1);
