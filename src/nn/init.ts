// Weight initialization (PyTorch's nn.init): fills a tensor in place, under noGrad, drawing from the
// default generator (`manualSeed` makes it repeat). Fan and gain rules follow PyTorch exactly.
import { defaultGenerator, type Generator, shapeStr, type Tensor, ValueError } from "../tensor/index.js";
import { copy_, tensor } from "../ops/index.js";
import { noGrad } from "../autograd/index.js";

export type Nonlinearity =
  | "linear"
  | "identity"
  | "conv1d"
  | "conv2d"
  | "conv3d"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "leakyRelu"
  | "selu";

export type FanMode = "fanIn" | "fanOut";

let skipping = 0;

/**
 * Runs fn with every init function a no-op (tensors keep their zeros, the generator is not
 * advanced), like torch.nn.utils.skip_init or transformers' no_init_weights: for modules built only
 * to receive loaded weights (loadGPT, importGPT2), whose random init would be thrown away — for
 * GPT-2's 124 M parameters that init takes tens of seconds.
 */
export function skipInit<T>(fn: () => T): T {
  skipping++;
  try {
    return fn();
  } finally {
    skipping--;
  }
}

/** Writes `values` (row-major, float64) into t in place. */
function fill(t: Tensor, values: Float64Array): Tensor {
  if (skipping) return t;
  noGrad(() => copy_(t, tensor(values, { dtype: t.dtype, shape: [...t.shape] })));
  return t;
}

function draw(t: Tensor, f: (g: Generator) => number, g: Generator): Tensor {
  if (skipping) return t;
  const v = new Float64Array(t.size);
  for (let i = 0; i < v.length; i++) v[i] = f(g);
  return fill(t, v);
}

/**
 * The recommended gain for a nonlinearity (PyTorch's calculate_gain): 1 for linear/conv/sigmoid,
 * 5/3 for tanh, √2 for relu, √(2/(1+slope²)) for leakyRelu (slope `param`, default 0.01), 3/4 for selu.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case "linear":
    case "identity":
    case "conv1d":
    case "conv2d":
    case "conv3d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leakyRelu": {
      const slope = param ?? 0.01;
      if (!Number.isFinite(slope)) throw new ValueError(`calculateGain: negative slope ${param} is not a number`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
    default:
      throw new ValueError(
        `calculateGain: unknown nonlinearity '${String(nonlinearity)}'; expected linear, conv1d, conv2d, conv3d, sigmoid, tanh, relu, leakyRelu or selu`,
      );
  }
}

/**
 * (fanIn, fanOut) of a weight: for [out, in, ...kernel], fanIn = in·k and fanOut = out·k where k is
 * the product of the kernel dims (PyTorch's _calculate_fan_in_and_fan_out).
 */
export function calculateFanInAndFanOut(t: Tensor | readonly number[]): [number, number] {
  const shape = Array.isArray(t) ? (t as readonly number[]) : (t as Tensor).shape;
  if (shape.length < 2)
    throw new ValueError(`init: fan in and fan out need a tensor with at least 2 dimensions, got shape ${shapeStr(shape)}`);
  let receptive = 1;
  for (const d of shape.slice(2)) receptive *= d;
  return [shape[1] * receptive, shape[0] * receptive];
}

function fanOf(t: Tensor, mode: FanMode): number {
  if (mode !== "fanIn" && mode !== "fanOut") throw new ValueError(`init: mode must be 'fanIn' or 'fanOut', got '${String(mode)}'`);
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return mode === "fanIn" ? fanIn : fanOut;
}

/** Fills t with U(a, b). */
export function uniform_(t: Tensor, a = 0, b = 1, generator: Generator = defaultGenerator): Tensor {
  if (!(b >= a)) throw new ValueError(`uniform_: the upper bound ${b} must not be below the lower bound ${a}`);
  return draw(t, (g) => a + (b - a) * g.random(), generator);
}

/** Fills t with N(mean, std²). */
export function normal_(t: Tensor, mean = 0, std = 1, generator: Generator = defaultGenerator): Tensor {
  if (!(std >= 0)) throw new ValueError(`normal_: std must be non-negative, got ${std}`);
  return draw(t, (g) => mean + std * g.normal(), generator);
}

/** Fills t with N(mean, std²) redrawn until inside [a, b] (PyTorch's trunc_normal_ distribution). */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, generator: Generator = defaultGenerator): Tensor {
  if (!(b > a)) throw new ValueError(`truncNormal_: b (${b}) must be greater than a (${a})`);
  if (!(std > 0)) throw new ValueError(`truncNormal_: std must be positive, got ${std}`);
  if (Math.max((a - mean) / std, -(b - mean) / std) > 5)
    throw new ValueError(`truncNormal_: [${a}, ${b}] lies more than 5 std from the mean ${mean}; sampling by rejection would not end`);
  return draw(
    t,
    (g) => {
      for (;;) {
        const v = mean + std * g.normal();
        if (v >= a && v <= b) return v;
      }
    },
    generator,
  );
}

/** Fills t with `value`. */
export function constant_(t: Tensor, value: number): Tensor {
  if (skipping) return t;
  noGrad(() => copy_(t, value));
  return t;
}

/** Fills t with ones. */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Fills t with zeros. */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/** Fills a 2-d t with the identity (ones on the diagonal). */
export function eye_(t: Tensor): Tensor {
  if (t.ndim !== 2) throw new ValueError(`eye_: only 2-d tensors can be filled with the identity, got shape ${shapeStr(t.shape)}`);
  const [n, m] = t.shape;
  const v = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) v[i * m + i] = 1;
  return fill(t, v);
}

/** Glorot/Xavier uniform: U(−a, a) with a = gain·√(6/(fanIn + fanOut)). */
export function xavierUniform_(t: Tensor, gain = 1, generator: Generator = defaultGenerator): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a, generator);
}

/** Glorot/Xavier normal: N(0, std²) with std = gain·√(2/(fanIn + fanOut)). */
export function xavierNormal_(t: Tensor, gain = 1, generator: Generator = defaultGenerator): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), generator);
}

export interface KaimingOptions {
  /** Negative slope of the leaky ReLU that follows (only used with 'leakyRelu'); default 0. */
  a?: number;
  /** 'fanIn' (default) keeps the forward variance, 'fanOut' the backward one. */
  mode?: FanMode;
  /** Default 'leakyRelu' (with a = 0 this is ReLU's gain √2), as in PyTorch. */
  nonlinearity?: Nonlinearity;
  generator?: Generator;
}

/** He/Kaiming uniform: U(−b, b) with b = gain·√(3/fan), gain from the nonlinearity. */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const gain = calculateGain(opts.nonlinearity ?? "leakyRelu", opts.a ?? 0);
  const bound = gain * Math.sqrt(3 / fanOf(t, opts.mode ?? "fanIn"));
  return uniform_(t, -bound, bound, opts.generator);
}

/** He/Kaiming normal: N(0, std²) with std = gain/√fan. */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const gain = calculateGain(opts.nonlinearity ?? "leakyRelu", opts.a ?? 0);
  return normal_(t, 0, gain / Math.sqrt(fanOf(t, opts.mode ?? "fanIn")), opts.generator);
}

/**
 * A (semi-)orthogonal matrix scaled by gain: t viewed as [rows, cols] (cols = the other dims)
 * gets orthonormal rows or columns, from the QR decomposition of a normal draw with R's diagonal
 * made positive (as PyTorch does, so the result is uniformly distributed).
 */
export function orthogonal_(t: Tensor, gain = 1, generator: Generator = defaultGenerator): Tensor {
  if (t.ndim < 2) throw new ValueError(`orthogonal_: only tensors with 2 or more dimensions are supported, got shape ${shapeStr(t.shape)}`);
  if (t.size === 0 || skipping) return t;
  const rows = t.shape[0];
  const cols = t.size / rows;
  const a = new Float64Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = generator.normal();
  // Work on the tall matrix m×n (m ≥ n): the draw itself, or its transpose when rows < cols.
  const tall = rows >= cols;
  const m = tall ? rows : cols;
  const n = tall ? cols : rows;
  const col = (j: number) => {
    const c = new Float64Array(m);
    for (let i = 0; i < m; i++) c[i] = tall ? a[i * cols + j] : a[j * cols + i];
    return c;
  };
  // Modified Gram–Schmidt, applied twice for orthogonality to rounding (R's diagonal comes out positive).
  const q: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const v = col(j);
    for (let pass = 0; pass < 2; pass++)
      for (const u of q) {
        let d = 0;
        for (let i = 0; i < m; i++) d += u[i] * v[i];
        for (let i = 0; i < m; i++) v[i] -= d * u[i];
      }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) v[i] /= norm;
    q.push(v);
  }
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[r * cols + c] = gain * (tall ? q[c][r] : q[r][c]);
  return fill(t, out);
}

// Keras-style names for the same initializers.
export { xavierUniform_ as glorotUniform_, xavierNormal_ as glorotNormal_, kaimingUniform_ as heUniform_, kaimingNormal_ as heNormal_ };
