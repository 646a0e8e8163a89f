// The conformance suite on the reference backend (or on INGOT_BACKEND when set).
import { runConformance } from "./suite.js";

runConformance(process.env.INGOT_BACKEND?.trim() || "ref");
