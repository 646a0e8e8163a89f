// The conformance suite on the native CPU backend; skipped, saying why, when the addon is not built.
import { test } from "node:test";
import * as ig from "../../src/index.js";
import { nativeInfo } from "../../src/backend/cpu/index.js";
import { runConformance } from "./suite.js";

let available = true;
try {
  ig.setBackend("cpu");
} catch {
  available = false;
}
if (available) runConformance("cpu");
else
  test("conformance on 'cpu'", { skip: `the native addon is not built (${nativeInfo().error}); build it with npm rebuild (needs a C++ compiler)` }, () => {});
