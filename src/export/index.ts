// ingot.export: ONNX export of keras models and GPTs (exportOnnx, exportOnnxDir).
export * from "./onnx.js";
