// Backends: the registry, the current-backend choice, and the backends themselves.
import "./ref/index.js";
import "./cpu/index.js";
export * from "./registry.js";
export * from "./current.js";
export { setNumThreads, getNumThreads, nativeInfo } from "./cpu/index.js";
