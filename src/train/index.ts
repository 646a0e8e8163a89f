// ingot.train: the language-model trainer (nanoGPT's train.py as a library), its data and checkpoints.
export * from "./lm-data.js";
export * from "./schedule.js";
export * from "./checkpoint.js";
export { LMTrainer, resolveLMOptions, trainLM, type LMTrainEvent, type LMTrainResult, type TrainLMOptions } from "./lm-trainer.js";
