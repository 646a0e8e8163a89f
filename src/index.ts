// Ingot's public API. This file only re-exports.
export * from "./tensor/index.js";
export * from "./backend/index.js";
export * from "./ops/index.js";
export * from "./autograd/index.js";
export * as nn from "./nn/index.js";
export * as optim from "./optim/index.js";
export * from "./io/index.js";
export * from "./data/index.js";
export { VERSION } from "./version.js";
