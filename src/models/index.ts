// ingot.models: reference architectures, each one readable file (GPT so far), and text generation.
export * from "./gpt.js";
export * from "./kv-cache.js";
export * from "./generate.js";
export * from "./gpt-io.js";
export * from "./bert.js";
export * from "./bert-io.js";
export * from "./seq2seq.js";
export * from "./gpt2-import.js";
