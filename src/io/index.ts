// Files: safetensors and model folders.
export * from "./safetensors.js";
export * from "./model-dir.js";
export * from "./atomic.js";
