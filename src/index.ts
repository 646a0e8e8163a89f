// Ingot's public API. This file only re-exports.
export * from "./tensor/index.js";
export * from "./backend/index.js";
export * from "./ops/index.js";
export * from "./autograd/index.js";
export { VERSION } from "./version.js";
