// ingot.data: datasets and loaders, dataset readers (IDX/MNIST, CIFAR-10, CSV, JSONL), preprocessing,
// cleaning and quality reports, and image augmentation.
export * from "./idx.js";
export * from "./mnist.js";
export * from "./cifar.js";
export * from "./download.js";
export * from "./dataset.js";
export * from "./loader.js";
export * from "./table.js";
export * from "./csv.js";
export * from "./scale.js";
export * from "./labels.js";
export * from "./split.js";
export * from "./clean.js";
export * from "./report.js";
export * from "./transforms.js";
export * from "./augment.js";
export { pickGenerator, takeRows, type Rows } from "./util.js";
export * from "./date-task.js";
export * from "./check.js";
export * from "./check-raw.js";
export * from "./check-stats.js";
export * from "./clean-pipeline.js";
export * from "./pii.js";
