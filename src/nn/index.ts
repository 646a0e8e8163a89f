// ingot.nn: modules, parameters, initialization, layers, losses and the functional API (PyTorch's torch.nn).
export * from "./parameter.js";
export * from "./module.js";
export * from "./containers.js";
export * from "./linear.js";
export * from "./conv.js";
export * from "./pooling.js";
export * from "./normalization.js";
export * from "./dropout.js";
export * from "./embedding.js";
export * from "./activation.js";
export * as init from "./init.js";
export * from "./loss.js";
export * as functional from "./functional.js";
export * from "./rnn.js";
export * from "./attention.js";
export * from "./transformer.js";
export * from "./freeze.js";
export * from "./lora.js";
