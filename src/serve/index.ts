// ingot.serve: the inference server behind `ingot serve` — predict routes for classifiers and
// regressors, OpenAI-compatible routes for language models, dynamic batching and metrics.
export { createServer, type IngotServer, type ServeOptions, type ReloadResult } from "./server.js";
export { loadServedModel, parseModelArg, ModelRegistry, type ModelSource, type ServedModel, type Predictor, type LanguageModel } from "./models.js";
export { DynamicBatcher, Gate, QueueFullError, type BatcherOptions } from "./batcher.js";
export { ApiError, type OpenAIErrorBody } from "./errors.js";
export { AccessControl, TokenBucket, parseKeyLine, readKeysFile, type ApiKeySpec, type KeyPolicy, type KeyEntry } from "./access.js";
export { Counter, Gauge, Histogram, Registry, RateWindow, PROMETHEUS_CONTENT_TYPE } from "./metrics.js";
export { chatPrompt, CHAT_STOP, type Message as ChatMessage, type PromptHook, type PromptHookInput } from "./openai.js";
export { generateText, type GenerationParams, type TextDelta } from "./generation.js";
export { parseInputs, type PredictResponse } from "./predict.js";
export type { ServeConfig } from "./context.js";
