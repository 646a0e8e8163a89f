// ingot.privacy: DP-SGD (per-sample gradients, clipping, Gaussian noise, Poisson sampling) and
// the RDP accountant, with Opacus's names (PrivacyEngine, makePrivate, getNoiseMultiplier).
export * from "./rdp.js";
export * from "./grad-sample.js";
export * from "./data-loader.js";
export * from "./optimizer.js";
export * from "./validate.js";
export * from "./engine.js";
export * from "./keras.js";
