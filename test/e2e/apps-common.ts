// What the case-study app browser tests share: starting an app (examples/apps/<app>/main.js) as a child
// process on a free port with a fresh model folder, waiting for its "listening on" line, stopping it
// with SIGTERM, and launching Debian's Chromium through playwright-core.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** false, or why the browser tests cannot run here. */
export const chromiumSkip: string | false = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests`;

export interface RunningApp {
  child: ChildProcess;
  url: string;
  /** Everything the app wrote to stderr so far (its training log). */
  log: () => string;
  /** SIGTERM, then the exit code. */
  stop: () => Promise<number | null>;
}

/** Starts `node dist/examples/apps/<app>/main.js --port 0 ...args` and resolves once it listens (or rejects with its log). */
export function startApp(app: string, args: string[], timeoutMs: number): Promise<RunningApp> {
  const main = new URL(`../../examples/apps/${app}/main.js`, import.meta.url).pathname;
  const child = spawn(process.execPath, [main, "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const stop = () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    return exited;
  };
  return new Promise((resolve, reject) => {
    const fail = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${app} did not start within ${timeoutMs} ms:\n${out}${err}`));
    }, timeoutMs);
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(fail);
        resolve({ child, url: m[1], log: () => err, stop });
      }
    });
    void exited.then((code) => {
      clearTimeout(fail);
      reject(new Error(`${app} exited with ${code} before listening:\n${out}${err}`));
    });
  });
}

/** Headless Chromium (playwright-core), with the flags these tests use. */
export async function launchChromium() {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** Closes the browser, stops the app (it must exit 0 on SIGTERM) and removes the temporary folder. */
export async function shutDown(app: RunningApp, browser: { close(): Promise<void> } | null, tmp: string): Promise<void> {
  await browser?.close();
  const code = await app.stop();
  rmSync(tmp, { recursive: true, force: true });
  assert.equal(code, 0, `the app exits 0 on SIGTERM:\n${app.log()}`);
}
