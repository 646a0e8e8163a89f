// The reference backend: pure TypeScript, float64 arithmetic. It is the definition of every op.
import { registerBackend } from "../registry.js";
import "./core.js";
import "./elementwise.js";
import "./reduce.js";

registerBackend({ name: "ref", device: "cpu" });
