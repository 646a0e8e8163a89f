// The tensor layer: Tensor, dtypes, shapes, storage and the typed errors.
export * from "./errors.js";
export * from "./dtype.js";
export * from "./shape.js";
export * from "./storage.js";
export * from "./tensor.js";
export * from "./random.js";
