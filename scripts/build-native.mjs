#!/usr/bin/env node
// The install step: compiles the native CPU backend (native/cpu → build/Release/ingot_cpu.node) with
// node-gyp, the machine's C++ compiler and Node's own headers. It never fails the install: when the
// build fails, Ingot runs on the reference backend, and this prints one line saying how to retry.
//
//   node scripts/build-native.mjs            build (output in build/native-build.log)
//   node scripts/build-native.mjs --verbose  build and show the compiler output
//   INGOT_SKIP_NATIVE=1                      skip the build (Ingot runs on `ref`)
//   INGOT_MARCH=x86-64-v3                    target another instruction set than the build machine's
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const verbose = process.argv.includes("--verbose") || process.env.INGOT_NATIVE_VERBOSE === "1";
const logFile = join(root, "build", "native-build.log");
const retry = "Ingot will run on the slower reference backend; fix the cause and run `npm rebuild ingot`";

function giveUp(why) {
  console.log(`ingot: the native CPU backend was not built (${why}). ${retry}.`);
  if (process.env.INGOT_SKIP_NATIVE !== "1") buildGloo();
  process.exit(0);
}

if (process.env.INGOT_SKIP_NATIVE === "1") giveUp("INGOT_SKIP_NATIVE=1");

/**
 * ingot.distributed's Gloo addon (native/gloo → native/gloo/build/Release/ingot_gloo.node), built only
 * where Gloo's headers are (Debian/Ubuntu: libgloo-dev; INGOT_GLOO_INCLUDE / INGOT_GLOO_LIB point
 * elsewhere). Like the CPU backend it never fails the install: one line says distributed is unavailable.
 */
function buildGloo() {
  const include = process.env.INGOT_GLOO_INCLUDE || "/usr/include";
  const unavailable = (why) => console.log(`ingot: distributed training (ingot.distributed, Gloo) is unavailable: ${why}.`);
  if (!existsSync(join(include, "gloo", "rendezvous", "store.h"))) return unavailable(`no Gloo headers in ${include}/gloo (install libgloo-dev, then npm rebuild ingot)`);
  const gyp = findNodeGyp();
  if (!gyp) return unavailable("node-gyp was not found");
  const dir = join(root, "native", "gloo");
  const gargs = [gyp, "rebuild", "--release", "--jobs=max"];
  const pre = join(dirname(process.execPath), "..");
  if (!process.env.npm_config_nodedir && existsSync(join(pre, "include", "node", "node_api.h"))) gargs.push(`--nodedir=${pre}`);
  const log = join(root, "build", "gloo-build.log");
  const t0 = Date.now();
  const g = spawnSync(process.execPath, gargs, { cwd: dir, encoding: "utf8", stdio: verbose ? "inherit" : "pipe", env: { ...process.env, npm_config_build_from_source: "true" } });
  if (!verbose) {
    mkdirSync(dirname(log), { recursive: true });
    writeFileSync(log, `$ (cd ${dir}) ${process.execPath} ${gargs.join(" ")}\n${g.stdout ?? ""}${g.stderr ?? ""}`);
  }
  if (g.status !== 0 || !existsSync(join(dir, "build", "Release", "ingot_gloo.node"))) return unavailable(`the Gloo addon did not build, see ${verbose ? "above" : log}`);
  console.log(`ingot: built the Gloo addon for ingot.distributed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** node-gyp: the copy npm runs us with, else npm's bundled one next to this Node, else a local one. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ];
  try {
    candidates.push(createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js"));
  } catch {
    // not installed locally: fine, the others may exist
  }
  return candidates.find((p) => p && existsSync(p));
}

const gyp = findNodeGyp();
if (!gyp) giveUp("node-gyp was not found; it ships with npm");

const args = [gyp, "rebuild", "--release", "--jobs=max"];
// Node's own headers, so that nothing is downloaded: npm's nodedir setting, else the ones installed
// beside this Node binary (Linux distributions and the official tarballs ship include/node).
const prefix = join(dirname(process.execPath), "..");
if (!process.env.npm_config_nodedir && existsSync(join(prefix, "include", "node", "node_api.h"))) args.push(`--nodedir=${prefix}`);

const started = Date.now();
const r = spawnSync(process.execPath, args, {
  cwd: root,
  encoding: "utf8",
  stdio: verbose ? "inherit" : "pipe",
  env: { ...process.env, npm_config_build_from_source: "true" },
});
if (!verbose) {
  mkdirSync(dirname(logFile), { recursive: true });
  writeFileSync(logFile, `$ ${process.execPath} ${args.join(" ")}\n${r.stdout ?? ""}${r.stderr ?? ""}`);
}
if (r.error) giveUp(`node-gyp could not start: ${r.error.message}`);
if (r.status !== 0) giveUp(verbose ? "node-gyp failed, see above" : `node-gyp failed, see ${logFile}`);
if (!existsSync(join(root, "build", "Release", "ingot_cpu.node"))) giveUp("node-gyp produced no build/Release/ingot_cpu.node");
console.log(`ingot: built the native CPU backend in ${((Date.now() - started) / 1000).toFixed(1)} s`);
buildGloo();
