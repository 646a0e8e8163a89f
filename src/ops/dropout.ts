// Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1 − p), so the
// expected value is unchanged and eval needs no rescaling. Random draws come from the seeded generator.
import { defaultGenerator, DTypeError, type Generator, type Tensor, ValueError } from "../tensor/index.js";
import { defineOp, runOp } from "./op.js";
import { checkDType, FLOATS } from "./util.js";
import { mul } from "./binary.js";

interface DropoutAttrs {
  p: number;
  /** The generator the kernel draws one uniform number per element from, in row-major order. */
  generator: Generator;
}

// Outputs: y and the keep mask (bool), saved for the gradient g·mask/(1 − p).
const dropoutOp = defineOp<DropoutAttrs>({
  name: "dropout",
  meta([x]) {
    checkDType("dropout", "input", x.dtype, FLOATS);
    return [
      { shape: [...x.shape], dtype: x.dtype },
      { shape: [...x.shape], dtype: "bool" },
    ];
  },
  grad: (g, { outputs: [, mask], attrs: { p } }) => [mul(mul(g, mask), 1 / (1 - p))],
  cases: [
    { name: "2-d, p = 0.5", inputs: [{ shape: [4, 5] }], random: true, call: (x) => dropout(x) },
    { name: "3-d permuted view, p = 0.2", inputs: [{ shape: [2, 3, 4] }], random: true, call: (x) => dropout(x.permute(2, 0, 1), 0.2) },
    { name: "0-d, p = 0.9", inputs: [{ shape: [] }], random: true, call: (x) => dropout(x, 0.9) },
    { name: "empty", inputs: [{ shape: [0, 3] }], random: true, call: (x) => dropout(x, 0.3) },
    // Deterministic paths: the identity, compared (and differentiated) like any op.
    { name: "p = 0 is the identity", inputs: [{ shape: [3, 4] }], call: (x) => dropout(x, 0) },
    { name: "eval is the identity", inputs: [{ shape: [3, 4] }], call: (x) => dropout(x, 0.5, false) },
    { name: "p = 1 rejected", inputs: [{ shape: [3] }], call: (x) => dropout(x, 1), throws: { error: ValueError, message: /dropout: p must be in \[0, 1\), got 1/ } },
    { name: "negative p rejected", inputs: [{ shape: [3] }], call: (x) => dropout(x, -0.1, false), throws: { error: ValueError, message: /dropout: p must be in \[0, 1\), got -0.1/ } },
    { name: "int input", inputs: [{ shape: [3], dtype: "int32" }], call: (x) => dropout(x, 0.5), throws: { error: DTypeError, message: /dropout: input has dtype int32/ } },
  ],
});

/**
 * Inverted dropout like F.dropout: in training each element is zeroed with probability p and the
 * others are scaled by 1/(1 − p); with training = false or p = 0 it returns x itself.
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (!(p >= 0 && p < 1)) throw new ValueError(`dropout: p must be in [0, 1), got ${p}; p is the probability of zeroing an element`);
  if (!training || p === 0) return x;
  return runOp(dropoutOp, [x], { p, generator: defaultGenerator });
}
