// ingot.compress: pruning (magnitude, gradual, structured), low-rank factorization, distillation,
// quantization, and the measurements behind `ingot compress`.
export * from "./targets.js";
export * from "./prune.js";
export * from "./structured.js";
export * from "./heads.js";
export * from "./svd.js";
export * from "./low-rank.js";
export * from "./distill.js";
export * from "./report.js";
export * from "./quantize.js";
