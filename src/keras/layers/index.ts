// keras.layers: the layer factories (TF.js names: dense({...}), conv2d({...}), …), the classes, and
// the registry by className that loadModel uses to rebuild layers from config.json.
import { type Layer, type LayerArgs } from "./base.js";
import { Activation, Dense, type DenseArgs, Dropout, Flatten, InputLayer, Rescaling, Reshape } from "./core.js";
import { AveragePooling2D, Conv2D, type Conv2DArgs, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D, type Pooling2DArgs } from "./conv.js";
import { BatchNormalization, type BatchNormalizationArgs, LayerNormalization } from "./normalization.js";
import { Embedding, type EmbeddingArgs } from "./embedding.js";
import { GRU, LSTM, type RecurrentArgs } from "./recurrent.js";
import { RandomCrop, RandomFlip, RandomRotation, RandomTranslation, RandomZoom } from "./augmentation.js";
import { Add, Concatenate } from "./merge.js";

export * from "./base.js";
export * from "./core.js";
export * from "./conv.js";
export * from "./normalization.js";
export * from "./embedding.js";
export * from "./recurrent.js";
export * from "./augmentation.js";
export * from "./merge.js";

type Args<C extends abstract new (...a: any) => any> = ConstructorParameters<C>[0];

/** Fully connected layer. @example dense({units: 128, activation: 'relu', inputShape: [784]}) */
export const dense = (args: DenseArgs) => new Dense(args);
/** 2-D convolution of channels-last images. @example conv2d({filters: 32, kernelSize: 3, activation: 'relu', inputShape: [32, 32, 3]}) */
export const conv2d = (args: Conv2DArgs) => new Conv2D(args);
export const maxPooling2d = (args: Pooling2DArgs = {}) => new MaxPooling2D(args);
export const averagePooling2d = (args: Pooling2DArgs = {}) => new AveragePooling2D(args);
export const globalAveragePooling2d = (args: Args<typeof GlobalAveragePooling2D> = {}) => new GlobalAveragePooling2D(args);
export const globalMaxPooling2d = (args: Args<typeof GlobalMaxPooling2D> = {}) => new GlobalMaxPooling2D(args);
export const flatten = (args: LayerArgs = {}) => new Flatten(args);
export const reshape = (args: Args<typeof Reshape>) => new Reshape(args);
export const dropout = (args: Args<typeof Dropout>) => new Dropout(args);
export const activation = (args: Args<typeof Activation>) => new Activation(args);
export const rescaling = (args: Args<typeof Rescaling>) => new Rescaling(args);
export const inputLayer = (args: LayerArgs) => new InputLayer(args);
export const batchNormalization = (args: BatchNormalizationArgs = {}) => new BatchNormalization(args);
export const layerNormalization = (args: Args<typeof LayerNormalization> = {}) => new LayerNormalization(args);
export const embedding = (args: EmbeddingArgs) => new Embedding(args);
export const lstm = (args: RecurrentArgs & { unitForgetBias?: boolean }) => new LSTM(args);
export const gru = (args: RecurrentArgs) => new GRU(args);
export const randomFlip = (args: Args<typeof RandomFlip> = {}) => new RandomFlip(args);
export const randomRotation = (args: Args<typeof RandomRotation>) => new RandomRotation(args);
export const randomTranslation = (args: Args<typeof RandomTranslation>) => new RandomTranslation(args);
export const randomZoom = (args: Args<typeof RandomZoom>) => new RandomZoom(args);
export const randomCrop = (args: Args<typeof RandomCrop>) => new RandomCrop(args);
export const add = (args: LayerArgs = {}) => new Add(args);
export const concatenate = (args: Args<typeof Concatenate> = {}) => new Concatenate(args);

/** A layer class that config.json can name. */
export type LayerClass = (new (config: any) => Layer) & { className: string };

const REGISTRY = new Map<string, LayerClass>();

/** Makes a layer class (or a custom one) loadable by its className. */
export function registerLayerClass(cls: LayerClass): void {
  REGISTRY.set(cls.className, cls);
}

/** The class registered under className, if any. */
export function layerClass(className: string): LayerClass | undefined {
  return REGISTRY.get(className);
}

/** Registered class names, for error messages. */
export function layerClassNames(): string[] {
  return [...REGISTRY.keys()].sort();
}

for (const cls of [
  InputLayer,
  Dense,
  Activation,
  Flatten,
  Reshape,
  Dropout,
  Rescaling,
  Conv2D,
  MaxPooling2D,
  AveragePooling2D,
  GlobalAveragePooling2D,
  GlobalMaxPooling2D,
  BatchNormalization,
  LayerNormalization,
  Embedding,
  LSTM,
  GRU,
  RandomFlip,
  RandomRotation,
  RandomTranslation,
  RandomZoom,
  RandomCrop,
  Add,
  Concatenate,
] as LayerClass[])
  registerLayerClass(cls);
