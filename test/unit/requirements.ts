// What some tests need beyond Node and Ingot's own code, with the reason they skip without it. A
// machine without a C++ compiler installs Ingot without the native backend (it runs on `ref`) and
// without better-sqlite3 (an optional dependency with a native addon): the tests that need either
// say so instead of failing.
import * as ingot from "../../src/index.js";
import { sqlite } from "../../src/tracking/sqlite.js";

/** Why the run store (better-sqlite3) cannot be used here, or false when it can. */
export const noRunStore: string | false = (() => {
  try {
    new (sqlite())(":memory:").close();
    return false;
  } catch (e) {
    return `the run store is unavailable here: ${(e as Error).message.split("\n")[0]}`;
  }
})();

/** Why tests that train a model for minutes at start cannot run here (no native backend), or false. */
export const noNativeBackend: string | false =
  ingot.getBackend() === "cpu" ? false : `runs on '${ingot.getBackend()}' (the native backend did not build or load): the model this test trains at start takes far longer than its time limit there`;

/**
 * Stderr without the lines Ingot prints on such a machine: that it falls back to the reference
 * backend, and that a run is not tracked because better-sqlite3 is missing (so `^ingot …` checks
 * of the message that follows still hold).
 */
export function withoutSetupNotices(stderr: string): string {
  return stderr.replace(/^ingot: the native CPU backend .*\n/gm, "").replace(/^ingot [a-z-]+: this run is not tracked: the run store needs the better-sqlite3 package.*\n/gm, "");
}
