// Ingot's public API. This file only re-exports.
export * from "./tensor/index.js";
export * from "./backend/index.js";
export * from "./ops/index.js";
export * from "./autograd/index.js";
export * as nn from "./nn/index.js";
export * as optim from "./optim/index.js";
export * as keras from "./keras/index.js";
export * from "./io/index.js";
// The IDX readers stay flat (ingot.loadMnist); everything of ingot.data is under the namespace.
export { parseIdx, readIdx, loadMnist, dataRoot, type MnistSplit } from "./data/idx.js";
export * as data from "./data/index.js";
export * as text from "./text/index.js";
export * as models from "./models/index.js";
export * as compress from "./compress/index.js";
export * as train from "./train/index.js";
export * as serve from "./serve/index.js";
export { VERSION } from "./version.js";
export * as tensorboard from "./tensorboard/index.js";
export * as finetune from "./finetune/index.js";
export * as tracking from "./tracking/index.js";
