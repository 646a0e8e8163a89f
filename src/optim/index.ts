// ingot.optim: optimizers, learning-rate schedules and gradient clipping (PyTorch's torch.optim).
export * from "./optimizer.js";
export * from "./adam-kernel.js";
export * from "./sgd.js";
export * from "./adam.js";
export * from "./rmsprop.js";
export * from "./adagrad.js";
export * from "./lr-scheduler.js";
export * from "./one-cycle-lr.js";
export * from "./reduce-lr-on-plateau.js";
export * from "./clip.js";
