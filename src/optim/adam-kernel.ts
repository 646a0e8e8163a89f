// The fused in-place Adam/AdamW step "adamUpdate_" (op record + reference kernel). Adam and AdamW
// call it once per parameter; the native backend registers a fused kernel under the same name.
import { DTypeError, shapeStr, ShapeError, shapesEqual, type Tensor, ValueError } from "../tensor/index.js";
import { defineOp, runInplace } from "../ops/index.js";
import { registerKernel } from "../backend/registry.js";
import type { AdamUpdateAttrs } from "../backend/contracts.js";

export type { AdamUpdateAttrs };

const NAMES = ["param", "grad", "expAvg", "expAvgSq", "maxExpAvgSq"];

const adamUpdateOp = defineOp<AdamUpdateAttrs>({
  name: "adamUpdate_",
  meta(inputs, a) {
    const want = a.amsgrad ? 5 : 4;
    if (inputs.length !== want)
      throw new ValueError(`adamUpdate_: expected ${want} tensors (param, grad, expAvg, expAvgSq${a.amsgrad ? ", maxExpAvgSq" : ""}), got ${inputs.length}`);
    const [p] = inputs;
    if (p.dtype !== "float32" && p.dtype !== "float64") throw new DTypeError(`adamUpdate_: param has dtype ${p.dtype}; expected float32 or float64`);
    inputs.forEach((t, i) => {
      if (!shapesEqual(t.shape, p.shape))
        throw new ShapeError(`adamUpdate_: ${NAMES[i]} has shape ${shapeStr(t.shape)} but param has ${shapeStr(p.shape)}; every tensor must have the param's shape`);
      if (t.dtype !== p.dtype) throw new DTypeError(`adamUpdate_: ${NAMES[i]} has dtype ${t.dtype} but param has ${p.dtype}`);
      // The state tensors are written in place too, so they may not be strided copies.
      if (i >= 2 && !t.isContiguous()) throw new ShapeError(`adamUpdate_: ${NAMES[i]} must be contiguous (it is updated in place)`);
    });
    if (!(a.step >= 1) || !Number.isInteger(a.step)) throw new ValueError(`adamUpdate_: step must be an integer ≥ 1, got ${a.step}`);
    for (const k of ["beta1", "beta2"] as const)
      if (!(a[k] >= 0 && a[k] < 1)) throw new ValueError(`adamUpdate_: ${k} must be in [0, 1), got ${a[k]}`);
    return [];
  },
  cases: [
    { name: "first step", inputs: state([3, 4]), grad: false, call: (p, g, m, v) => run(p, g, m, v, { step: 1 }, 0) },
    { name: "expAvg after step 1", inputs: state([3, 4]), grad: false, call: (p, g, m, v) => run(p, g, m, v, { step: 1 }, 2) },
    { name: "expAvgSq after step 1", inputs: state([3, 4]), grad: false, call: (p, g, m, v) => run(p, g, m, v, { step: 1 }, 3) },
    { name: "three steps, bias correction", inputs: state([5]), grad: false, call: (p, g, m, v) => run(p, g, m, v, { step: 1, steps: 3 }, 0) },
    { name: "L2 weight decay (Adam)", inputs: state([2, 3]), grad: false, call: (p, g, m, v) => run(p, g, m, v, { step: 4, weightDecay: 0.1 }, 0) },
    {
      name: "decoupled weight decay (AdamW)",
      inputs: state([2, 3]),
      grad: false,
      call: (p, g, m, v) => run(p, g, m, v, { step: 2, weightDecay: 0.1, decoupled: true }, 0),
    },
    { name: "maximize", inputs: state([4]), grad: false, call: (p, g, m, v) => run(p, g, m, v, { step: 1, maximize: true }, 0) },
    {
      name: "amsgrad keeps the max",
      inputs: [...state([4]), { shape: [4], range: [0.1, 1] }],
      grad: false,
      call: (p, g, m, v, vmax) => run(p, g, m, v, { step: 3, amsgrad: true }, 0, vmax),
    },
    { name: "non-contiguous grad", inputs: state([4, 3]), grad: false, call: (p, g, m, v) => run(p.t().contiguous(), g.t(), m.t().contiguous(), v.t().contiguous(), { step: 2 }, 0) },
    { name: "size 0", inputs: state([0, 3]), grad: false, call: (p, g, m, v) => run(p, g, m, v, { step: 1 }, 0) },
    {
      name: "shape mismatch",
      inputs: [{ shape: [3] }, { shape: [4] }, { shape: [3] }, { shape: [3] }],
      call: (p, g, m, v) => run(p, g, m, v, { step: 1 }, 0),
      throws: { error: ShapeError, message: /adamUpdate_: grad has shape \[4\] but param has \[3\]/ },
    },
    {
      name: "step 0",
      inputs: state([3]),
      call: (p, g, m, v) => run(p, g, m, v, { step: 0 }, 0),
      throws: { error: ValueError, message: /adamUpdate_: step must be an integer ≥ 1, got 0/ },
    },
  ],
});

function state(shape: number[]) {
  return [{ shape }, { shape }, { shape, range: [-0.5, 0.5] as [number, number] }, { shape, range: [0.1, 1] as [number, number] }];
}

/** Runs `steps` updates (step numbers from `step`) on the case's tensors and returns input `which`. */
function run(p: Tensor, g: Tensor, m: Tensor, v: Tensor, o: Partial<AdamUpdateAttrs> & { steps?: number }, which: number, vmax?: Tensor): Tensor {
  const ts = vmax ? [p, g, m, v, vmax] : [p, g, m, v];
  for (let s = 0; s < (o.steps ?? 1); s++)
    adamUpdate_(p, g, m, v, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, ...o, step: o.step! + s }, vmax);
  return ts[which];
}

/**
 * One Adam(W) step in place, PyTorch's formula: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
 * p ← p − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + eps). Updates param, expAvg, expAvgSq (and maxExpAvgSq).
 */
export function adamUpdate_(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, attrs: AdamUpdateAttrs, maxExpAvgSq?: Tensor): Tensor {
  const inputs = [param, grad, expAvg, expAvgSq];
  if (attrs.amsgrad || maxExpAvgSq) {
    if (!maxExpAvgSq) throw new ValueError("adamUpdate_: amsgrad needs the maxExpAvgSq tensor");
    inputs.push(maxExpAvgSq);
  }
  return runInplace(adamUpdateOp, inputs, { ...attrs, amsgrad: !!maxExpAvgSq });
}

// Reference kernel: float64 arithmetic, each state rounded once when stored.
registerKernel(
  "adamUpdate_",
  "ref",
  ["float32", "float64"],
  (inputs, _outputs, a: AdamUpdateAttrs) => {
    const [p, g, m, v, vmax] = inputs.map((t) => (t.offset === 0 ? t.storage.data : t.storage.data.subarray(t.offset)));
    const n = inputs[0].size;
    const bc1 = 1 - Math.pow(a.beta1, a.step);
    const bc2Sqrt = Math.sqrt(1 - Math.pow(a.beta2, a.step));
    const stepSize = a.lr / bc1;
    const wd = a.weightDecay;
    for (let i = 0; i < n; i++) {
      let gi = a.maximize ? -g[i] : g[i];
      let pi = p[i];
      if (wd !== 0) {
        if (a.decoupled) pi *= 1 - a.lr * wd;
        else gi += wd * pi;
      }
      const mi = m[i] + (1 - a.beta1) * (gi - m[i]);
      const vi = a.beta2 * v[i] + (1 - a.beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      let vUse = v[i];
      if (vmax) {
        vmax[i] = Math.max(vmax[i], vUse);
        vUse = vmax[i];
      }
      // NOTE: eps is added after dividing √v by √(1−β₂ᵗ), as PyTorch does (not to v).
      p[i] = pi - (stepSize * m[i]) / (Math.sqrt(vUse) / bc2Sqrt + a.eps);
    }
  },
  { contiguous: true },
);
