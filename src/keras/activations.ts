// Activations by Keras name. softmax and sigmoid remember their input (the logits), so that the
// cross-entropy losses can work from logits, stably, like Keras does with `_keras_logits`.
import { type Tensor, ValueError } from "../tensor/index.js";
import { abs, add, clamp, div, elu, exp, gelu, logSoftmax, mul, relu, sigmoid, silu, softmax, softplus, tanh } from "../ops/index.js";

export type ActivationName =
  | "linear"
  | "relu"
  | "relu6"
  | "elu"
  | "selu"
  | "gelu"
  | "swish"
  | "silu"
  | "sigmoid"
  | "tanh"
  | "softmax"
  | "logSoftmax"
  | "softplus"
  | "softsign"
  | "exponential";

/** A name, a function of a tensor, or null (linear). Functions work but cannot be saved. */
export type ActivationId = ActivationName | ((x: Tensor) => Tensor) | null | undefined;

/** What produced a probability tensor: softmax or sigmoid of these logits. */
export interface LogitsTag {
  kind: "softmax" | "sigmoid";
  logits: Tensor;
}

const tags = new WeakMap<Tensor, LogitsTag>();

/** The logits behind y when y came straight out of a softmax/sigmoid activation. */
export function logitsOf(y: Tensor): LogitsTag | undefined {
  return tags.get(y);
}

// NOTE: SELU's constants from Klambauer et al. (2017), as in Keras.
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

const FNS: Record<ActivationName, (x: Tensor) => Tensor> = {
  linear: (x) => x,
  relu: (x) => relu(x),
  relu6: (x) => clamp(x, 0, 6),
  elu: (x) => elu(x, 1),
  selu: (x) => mul(elu(x, SELU_ALPHA), SELU_SCALE),
  gelu: (x) => gelu(x, "none"),
  swish: (x) => silu(x),
  silu: (x) => silu(x),
  sigmoid: (x) => {
    const y = sigmoid(x);
    tags.set(y, { kind: "sigmoid", logits: x });
    return y;
  },
  tanh: (x) => tanh(x),
  softmax: (x) => {
    const y = softmax(x, -1);
    tags.set(y, { kind: "softmax", logits: x });
    return y;
  },
  logSoftmax: (x) => logSoftmax(x, -1),
  softplus: (x) => softplus(x),
  softsign: (x) => div(x, add(abs(x), 1)),
  exponential: (x) => exp(x),
};

const ALIASES: Record<string, ActivationName> = Object.fromEntries(
  (Object.keys(FNS) as ActivationName[]).map((k) => [k.toLowerCase(), k]),
);
ALIASES["log_softmax"] = "logSoftmax";
ALIASES["none"] = "linear";

/** A resolved activation: its name (null for a user function) and the function. */
export interface Activation {
  name: ActivationName | null;
  fn: (x: Tensor) => Tensor;
}

/** Resolves a name (Keras spelling, any case) or function. */
export function getActivation(id: ActivationId, where = "activation"): Activation {
  if (id === null || id === undefined) return { name: "linear", fn: FNS.linear };
  if (typeof id === "function") return { name: null, fn: id };
  const name = typeof id === "string" ? ALIASES[id.toLowerCase()] : undefined;
  if (!name) throw new ValueError(`${where}: unknown activation ${JSON.stringify(id)}; use one of ${Object.keys(FNS).join(", ")} or a function`);
  return { name, fn: FNS[name] };
}
