// Dataset readers.
export * from "./idx.js";
