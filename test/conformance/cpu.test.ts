// The conformance suite on the native CPU backend; skipped, saying why, when the addon is not built.
import { runConformance } from "./suite.js";

runConformance("cpu");
