// Unary elementwise math: neg, abs, exp, log, … Each gradient is written with other ops.
import type { Tensor } from "../tensor/index.js";
import { unaryOp } from "./elementwise.js";
import { runOp } from "./op.js";
import { mul } from "./binary.js";
import { method, NUMERIC, FLOATS } from "./util.js";

declare module "../tensor/tensor.js" {
  interface Tensor {
    neg(): Tensor;
    exp(): Tensor;
  }
}

const x1 = (shape: number[], range?: [number, number]) => [{ shape, range }];

const negOp = unaryOp({
  name: "neg",
  dtypes: NUMERIC,
  grad: (g) => [neg(g)],
  cases: [
    { name: "2-d", inputs: x1([3, 4]), call: (x) => neg(x) },
    { name: "int32", inputs: [{ shape: [4], dtype: "int32", range: [-5, 5] }], call: (x) => neg(x) },
    { name: "permuted view", inputs: x1([2, 3, 4]), call: (x) => neg(x.permute(2, 0, 1)) },
  ],
});

/** −x. */
export function neg(x: Tensor): Tensor {
  return runOp(negOp, [x], {});
}

const expOp = unaryOp({
  name: "exp",
  dtypes: FLOATS,
  grad: (g, { outputs: [y] }) => [mul(g, y)],
  cases: [
    { name: "2-d", inputs: x1([3, 4]), call: (x) => exp(x) },
    { name: "sliced view", inputs: x1([4, 6]), call: (x) => exp(x.slice(1, 1, 6, 2)) },
    { name: "int rejected", inputs: [{ shape: [2], dtype: "int32" }], call: (x) => exp(x), throws: { error: Error, message: /exp: input has dtype int32; expected float32 or float64/ } },
  ],
});

/** eˣ. */
export function exp(x: Tensor): Tensor {
  return runOp(expOp, [x], {});
}

method("neg", neg);
method("exp", exp);
