// The reference backend: pure TypeScript, float64 arithmetic. It is the definition of every op.
import { registerBackend } from "../registry.js";
import "./core.js";
import "./elementwise.js";
import "./reduce.js";
import "./matmul.js";
import "./softmax.js";
import "./movement.js";
import "./conv.js";
import "./pool.js";
import "./norm.js";
import "./loss.js";
import "./attention.js";
import "./quant.js";

registerBackend({ name: "ref", device: "cpu" });
