// ingot.keras: the Keras-style API (TF.js names in camelCase): sequential and functional models,
// layers, compile/fit/evaluate/predict, callbacks, regularizers, initializers, save and loadModel.
export * from "./layers/index.js";
export { Model, type CompileArgs, type CompiledState, type SummaryRow } from "./model.js";
export { Sequential, sequential, type SequentialArgs } from "./sequential.js";
export { Functional, model, input, type FunctionalArgs, type InputArgs } from "./functional.js";
export { loadModel, loadModelFrom, layerFromConfig, type LoadModelOptions, type SavedModelFiles } from "./load.js";
export { modelConfig, type SaveOptions } from "./serialize.js";
export type { FitArgs, EvaluateArgs, PredictArgs } from "./training.js";
export type { BatchSource, TensorOrList } from "./data-adapter.js";
export { Regularizer, l1, l2, l1l2, getRegularizer, type RegularizerId } from "./regularizers.js";
export { getActivation, type ActivationId, type ActivationName } from "./activations.js";
export { getLoss, type LossFn, type LossId } from "./losses.js";
export { getMetric, Metric, type MetricFn, type MetricId } from "./metrics.js";
export { getOptimizer, type OptimizerId, type OptimizerSpec } from "./optimizers.js";
export { ProgressBar, type ProgressBarOptions } from "./progress.js";
export { CallbackList, type LogStream, type TrainParams } from "./history.js";
export * from "./callbacks.js";
export * as layers from "./layers/index.js";
export * as callbacks from "./callbacks.js";
export * as regularizers from "./regularizers.js";
export * as initializers from "./initializers.js";
export * as losses from "./losses.js";
export * as metrics from "./metrics.js";
export * as optimizers from "./optimizers.js";
export * as activations from "./activations.js";
export * as utils from "./utils.js";
