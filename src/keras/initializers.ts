// Keras weight initializers (glorotUniform, heNormal, zeros, …) with Keras' fan rules: a kernel
// [..receptive, in, out] has fanIn = in·receptive and fanOut = out·receptive (channels-last).
import { defaultGenerator, Generator, type Tensor, ValueError } from "../tensor/index.js";
import { constant_, normal_, orthogonal_, truncNormal_, uniform_ } from "../nn/init.js";

/** Fills a weight in place; `toJSON` is its config.json form. */
export interface Initializer {
  readonly className: string;
  readonly config: Record<string, number | string | null>;
  init(t: Tensor): void;
}

/** (fanIn, fanOut) of a Keras-layout weight. */
export function kerasFans(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0], shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [shape[shape.length - 2] * receptive, shape[shape.length - 1] * receptive];
}

type Scaling = { scale: number; mode: "fanIn" | "fanOut" | "fanAvg"; distribution: "uniform" | "truncatedNormal" | "normal" };

function gen(seed: number | null | undefined): Generator {
  return seed === null || seed === undefined ? defaultGenerator : new Generator(seed);
}

/** Keras' VarianceScaling, the family behind glorot*, he* and lecun*. */
function varianceScaling(className: string, s: Scaling, seed?: number | null): Initializer {
  return {
    className,
    config: { seed: seed ?? null },
    init(t) {
      const [fanIn, fanOut] = kerasFans(t.shape);
      const fan = s.mode === "fanIn" ? fanIn : s.mode === "fanOut" ? fanOut : (fanIn + fanOut) / 2;
      const v = s.scale / Math.max(1, fan);
      const g = gen(seed);
      if (s.distribution === "uniform") {
        const lim = Math.sqrt(3 * v);
        uniform_(t, -lim, lim, g);
      } else if (s.distribution === "normal") normal_(t, 0, Math.sqrt(v), g);
      else {
        // NOTE: 0.8796… is the std of a unit normal truncated to ±2, so the result has variance v.
        const std = Math.sqrt(v) / 0.87962566103423978;
        truncNormal_(t, 0, std, -2 * std, 2 * std, g);
      }
    },
  };
}

export interface SeedArgs {
  seed?: number | null;
}

/** U(−a, a) with a = √(6/(fanIn + fanOut)): Keras' default for kernels. */
export const glorotUniform = (o: SeedArgs = {}) => varianceScaling("GlorotUniform", { scale: 1, mode: "fanAvg", distribution: "uniform" }, o.seed);
/** Truncated normal with variance 2/(fanIn + fanOut). */
export const glorotNormal = (o: SeedArgs = {}) => varianceScaling("GlorotNormal", { scale: 1, mode: "fanAvg", distribution: "truncatedNormal" }, o.seed);
/** U(−a, a) with a = √(6/fanIn). */
export const heUniform = (o: SeedArgs = {}) => varianceScaling("HeUniform", { scale: 2, mode: "fanIn", distribution: "uniform" }, o.seed);
/** Truncated normal with variance 2/fanIn. */
export const heNormal = (o: SeedArgs = {}) => varianceScaling("HeNormal", { scale: 2, mode: "fanIn", distribution: "truncatedNormal" }, o.seed);
/** U(−a, a) with a = √(3/fanIn). */
export const lecunUniform = (o: SeedArgs = {}) => varianceScaling("LecunUniform", { scale: 1, mode: "fanIn", distribution: "uniform" }, o.seed);
/** Truncated normal with variance 1/fanIn. */
export const lecunNormal = (o: SeedArgs = {}) => varianceScaling("LecunNormal", { scale: 1, mode: "fanIn", distribution: "truncatedNormal" }, o.seed);

/** Fills with `value`. */
export function constant(o: { value?: number } = {}): Initializer {
  const value = o.value ?? 0;
  return { className: "Constant", config: { value }, init: (t) => void constant_(t, value) };
}
export const zeros = (): Initializer => ({ ...constant({ value: 0 }), className: "Zeros", config: {} });
export const ones = (): Initializer => ({ ...constant({ value: 1 }), className: "Ones", config: {} });

/** N(mean, stddev²) (defaults 0, 0.05). */
export function randomNormal(o: SeedArgs & { mean?: number; stddev?: number } = {}): Initializer {
  const mean = o.mean ?? 0;
  const stddev = o.stddev ?? 0.05;
  return { className: "RandomNormal", config: { mean, stddev, seed: o.seed ?? null }, init: (t) => void normal_(t, mean, stddev, gen(o.seed)) };
}

/** U(minval, maxval) (defaults −0.05, 0.05): Keras' default for embeddings. */
export function randomUniform(o: SeedArgs & { minval?: number; maxval?: number } = {}): Initializer {
  const minval = o.minval ?? -0.05;
  const maxval = o.maxval ?? 0.05;
  return { className: "RandomUniform", config: { minval, maxval, seed: o.seed ?? null }, init: (t) => void uniform_(t, minval, maxval, gen(o.seed)) };
}

/** N(mean, stddev²) redrawn outside two stddev (defaults 0, 0.05). */
export function truncatedNormal(o: SeedArgs & { mean?: number; stddev?: number } = {}): Initializer {
  const mean = o.mean ?? 0;
  const stddev = o.stddev ?? 0.05;
  return {
    className: "TruncatedNormal",
    config: { mean, stddev, seed: o.seed ?? null },
    init: (t) => void truncNormal_(t, mean, stddev, mean - 2 * stddev, mean + 2 * stddev, gen(o.seed)),
  };
}

/** A (semi-)orthogonal matrix times gain: Keras' default for recurrent kernels. */
export function orthogonal(o: SeedArgs & { gain?: number } = {}): Initializer {
  const gain = o.gain ?? 1;
  return { className: "Orthogonal", config: { gain, seed: o.seed ?? null }, init: (t) => void orthogonal_(t, gain, gen(o.seed)) };
}

const BY_NAME: Record<string, (c: Record<string, any>) => Initializer> = {
  glorotuniform: glorotUniform,
  glorotnormal: glorotNormal,
  heuniform: heUniform,
  henormal: heNormal,
  lecununiform: lecunUniform,
  lecunnormal: lecunNormal,
  zeros: () => zeros(),
  ones: () => ones(),
  constant,
  randomnormal: randomNormal,
  randomuniform: randomUniform,
  truncatednormal: truncatedNormal,
  orthogonal,
};

export type InitializerId = string | Initializer | { className: string; config?: Record<string, any> };

/** An initializer from an instance, a name ('glorotUniform' or 'glorot_uniform') or its config.json form. */
export function getInitializer(id: InitializerId, where = "initializer"): Initializer {
  if (typeof id === "object" && id !== null && "init" in id && typeof id.init === "function") return id;
  const name = typeof id === "string" ? id : (id as { className?: string })?.className;
  const make = typeof name === "string" ? BY_NAME[name.toLowerCase().replace(/_/g, "")] : undefined;
  if (!make)
    throw new ValueError(`${where}: unknown initializer ${JSON.stringify(id)}; use one of ${Object.values(BY_NAME).map((f) => f({}).className).join(", ")}`);
  return make(typeof id === "object" ? ((id as { config?: Record<string, any> }).config ?? {}) : {});
}

/** The config.json form of an initializer: its name when it has no settings, else {className, config}. */
export function serializeInitializer(i: Initializer): string | { className: string; config: Record<string, unknown> } {
  const plain = Object.values(i.config).every((v) => v === null) || Object.keys(i.config).length === 0;
  return plain ? i.className : { className: i.className, config: i.config };
}
