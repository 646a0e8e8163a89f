// ingot.finetune: masked-LM pretraining on a text folder, the corpus-derived classification task, and
// fine-tuning BERT classifiers (full, frozen, or LoRA).
export * from "./mlm.js";
export * from "./corpus.js";
export * from "./loop.js";
export * from "./pretrain.js";
export * from "./classify.js";
