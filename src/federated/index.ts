// ingot.federated: federated learning — strategies (FedAvg, FedProx, FedAdam), IID and Dirichlet
// client splits, in-process simulation, pairwise-masked secure aggregation, DP on updates, and the
// HTTP server and client behind `ingot fl`.
export { layoutOf, flattenState, unflattenState, encodeVector, decodeVector, l2Norm, type ParamLayout } from "./params.js";
export { iidPartition, dirichletPartition, partition, parsePartition, labelCounts, sampleDirichlet, sampleGamma, type DirichletOptions, type PartitionSpec } from "./partition.js";
export { Strategy, FedAvg, FedProx, FedAdam, makeStrategy, weightedMeanDelta, DEFAULT_FIT_CONFIG, type FitConfig, type FitRes, type StrategyOptions, type FedAdamOptions, type StrategyName } from "./strategy.js";
export { checkDp, clipToNorm, addGaussianNoise, privatizeUpdate, noiseMean, type DpOptions } from "./dp.js";
export { generateKeys, sharedSecret, maskStream, quantize, dequantize, maskUpdate, sumMasked, DEFAULT_SCALE, type SecAggKeys } from "./secagg.js";
export { roundWeights, clientMessage, meanOfPlain, meanOfMasked, type ClientMessage, type SecureContext } from "./aggregate.js";
export { fitLocal, evaluate, subset, getWeights, setWeights, buildModel, loadImageData, defaultLoss, FL_MODELS, MNIST_PREPROCESSING, type ClientData, type LossFn, type LocalFitResult } from "./client.js";
export { startSimulation, type SimulationOptions, type SimulationResult, type RoundRecord } from "./simulation.js";
export { FederatedServer, saveFederatedModel, type ServerOptions, type ServerRound } from "./server.js";
export { runClient, type ClientOptions, type ClientSummary } from "./http-client.js";
