// ingot.distributed: data-parallel training over Gloo (torch.distributed's shape). See docs/distributed.md.
export * from "./process-group.js";
export { TCPStore, type TCPStoreOptions } from "./store.js";
export { isGlooAvailable, type CollectiveTiming } from "./native.js";
export { DistributedDataParallel, type DistributedDataParallelOptions } from "./ddp.js";
export { DistributedSampler, type DistributedSamplerOptions } from "./sampler.js";
export { ChromeTrace } from "./trace.js";
export { freePort, launch, type LaunchOptions, type LaunchResult, type WorkerFailure } from "./launcher.js";
export { AllReduceMetrics, ddpOptionsFromEnv, shardRows, initFromEnvIfLaunched } from "./keras.js";
