// ingot.optim: each optimizer's steps against PyTorch's update formula written out in plain JS and
// against PyTorch's own numbers (test/golden/nn-optim.json, from test/golden/nn_optim_golden.py),
// parameter groups, state dicts, schedules, gradient clipping, and training that lowers a loss.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";

const { optim, nn } = ig;

interface Arr {
  shape: number[];
  data: number[];
}
interface Golden {
  optim: { params: Arr[]; grads: Arr[][]; cases: Record<string, Arr[][]> };
  schedules: Record<string, { lr: number[]; momentum?: number[]; metrics?: number[] }>;
  clip: Record<string, { normType: number | "inf"; total: number; grads: Arr[] }>;
}
const golden = JSON.parse(readFileSync(new URL("../../../test/golden/nn-optim.json", import.meta.url), "utf8")) as Golden;

const vals = (t: Tensor) => Array.from(t.dataSync() as ArrayLike<number>);
const f64 = (a: Arr) => ig.tensor(Float64Array.from(a.data), { dtype: "float64", shape: a.shape });

function close(what: string, got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-10, atol = 1e-12): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i]), `${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
}

// ---------------------------------------------------------------- PyTorch's formulas in plain JS

type Vec = number[];
const G = [
  [0.5, -1.0, 0.25],
  [-0.3, -0.8, 1.2],
  [0.1, 0.4, -2.0],
];
const P0 = [1.0, -0.5, 0.3];

/** Runs `update` (one step of a hand-written optimizer on plain arrays) over the fixed gradients. */
function reference(update: (p: Vec, g: Vec, t: number) => void): Vec[] {
  const p = [...P0];
  return G.map((g, i) => {
    update(p, g, i + 1);
    return [...p];
  });
}

function ours(make: (ps: Tensor[]) => ig.optim.Optimizer<any>): Vec[] {
  const p = ig.tensor(P0, { dtype: "float64" }).requiresGrad_();
  const opt = make([p]);
  return G.map((g) => {
    p.grad = ig.tensor(g, { dtype: "float64" });
    opt.step();
    return vals(p);
  });
}

function sameSteps(name: string, got: Vec[], want: Vec[]): void {
  got.forEach((g, i) => close(`${name} step ${i + 1}`, g, want[i]));
}

test("SGD with momentum, dampening and weight decay follows PyTorch's formula", () => {
  const [lr, mu, tau, wd] = [0.1, 0.9, 0.2, 0.05];
  let buf: Vec | null = null;
  const want = reference((p, g) => {
    const d = g.map((gi, i) => gi + wd * p[i]);
    buf = buf ? buf.map((b, i) => mu * b + (1 - tau) * d[i]) : [...d];
    p.forEach((_, i) => (p[i] -= lr * buf![i]));
  });
  sameSteps("SGD", ours((ps) => new optim.SGD(ps, { lr, momentum: mu, dampening: tau, weightDecay: wd })), want);
});

test("SGD Nesterov adds μ·buf to the gradient", () => {
  const [lr, mu] = [0.05, 0.8];
  let buf: Vec | null = null;
  const want = reference((p, g) => {
    buf = buf ? buf.map((b, i) => mu * b + g[i]) : [...g];
    p.forEach((_, i) => (p[i] -= lr * (g[i] + mu * buf![i])));
  });
  sameSteps("Nesterov", ours((ps) => new optim.SGD(ps, { lr, momentum: mu, nesterov: true })), want);
  assert.throws(() => new optim.SGD([ig.zeros([1], { requiresGrad: true })], { nesterov: true }), /SGD: Nesterov momentum needs momentum > 0 and dampening 0/);
});

function adamRef(o: { lr: number; b1: number; b2: number; eps: number; wd: number; decoupled: boolean; amsgrad?: boolean }): Vec[] {
  let m = [0, 0, 0];
  let v = [0, 0, 0];
  let vmax = [0, 0, 0];
  return reference((p, g0, t) => {
    let g = g0;
    if (o.decoupled) p.forEach((_, i) => (p[i] *= 1 - o.lr * o.wd));
    else g = g0.map((gi, i) => gi + o.wd * p[i]);
    m = m.map((mi, i) => o.b1 * mi + (1 - o.b1) * g[i]);
    v = v.map((vi, i) => o.b2 * vi + (1 - o.b2) * g[i] * g[i]);
    vmax = vmax.map((x, i) => Math.max(x, v[i]));
    const bc1 = 1 - o.b1 ** t;
    const bc2 = 1 - o.b2 ** t;
    const vv = o.amsgrad ? vmax : v;
    p.forEach((_, i) => (p[i] -= (o.lr / bc1) * (m[i] / (Math.sqrt(vv[i]) / Math.sqrt(bc2) + o.eps))));
  });
}

test("Adam: bias-corrected moments, eps after the square root, L2 decay in the gradient", () => {
  const o = { lr: 0.01, b1: 0.8, b2: 0.95, eps: 1e-3, wd: 0.1, decoupled: false };
  sameSteps("Adam", ours((ps) => new optim.Adam(ps, { lr: o.lr, betas: [o.b1, o.b2], eps: o.eps, weightDecay: o.wd })), adamRef(o));
  const a = { ...o, amsgrad: true, wd: 0 };
  sameSteps("AMSGrad", ours((ps) => new optim.Adam(ps, { lr: a.lr, betas: [a.b1, a.b2], eps: a.eps, amsgrad: true })), adamRef(a));
  // The first Adam step moves every coordinate by about lr, whatever the gradient's scale.
  const first = ours((ps) => new optim.Adam(ps, { lr: 0.01 }))[0];
  close("first step ≈ lr·sign(g)", first.map((v, i) => P0[i] - v), G[0].map((g) => 0.01 * Math.sign(g)), 1e-5);
});

test("AdamW decays the parameter itself (p ← p·(1 − lr·wd)) before the Adam step", () => {
  const o = { lr: 0.05, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.5, decoupled: true };
  sameSteps("AdamW", ours((ps) => new optim.AdamW(ps, { lr: o.lr, weightDecay: o.wd })), adamRef(o));
  assert.equal(new optim.AdamW([ig.zeros([1], { requiresGrad: true })]).defaults.weightDecay, 0.01);
});

test("RMSprop plain, centered and with momentum follow PyTorch's formula", () => {
  for (const o of [
    { lr: 0.01, alpha: 0.99, eps: 1e-8, mu: 0, centered: false, wd: 0 },
    { lr: 0.02, alpha: 0.9, eps: 1e-6, mu: 0.5, centered: true, wd: 0.1 },
  ]) {
    let sq = [0, 0, 0];
    let ga = [0, 0, 0];
    let buf = [0, 0, 0];
    const want = reference((p, g0) => {
      const g = g0.map((gi, i) => gi + o.wd * p[i]);
      sq = sq.map((s, i) => o.alpha * s + (1 - o.alpha) * g[i] * g[i]);
      let avg: Vec;
      if (o.centered) {
        ga = ga.map((a, i) => o.alpha * a + (1 - o.alpha) * g[i]);
        avg = sq.map((s, i) => Math.sqrt(s - ga[i] * ga[i]) + o.eps);
      } else avg = sq.map((s) => Math.sqrt(s) + o.eps);
      if (o.mu > 0) {
        buf = buf.map((b, i) => o.mu * b + g[i] / avg[i]);
        p.forEach((_, i) => (p[i] -= o.lr * buf[i]));
      } else p.forEach((_, i) => (p[i] -= (o.lr * g[i]) / avg[i]));
    });
    const got = ours((ps) => new optim.RMSprop(ps, { lr: o.lr, alpha: o.alpha, eps: o.eps, momentum: o.mu, centered: o.centered, weightDecay: o.wd }));
    sameSteps(`RMSprop ${JSON.stringify(o)}`, got, want);
  }
});

test("Adagrad with lr decay, weight decay and an initial accumulator follows PyTorch's formula", () => {
  const [lr, decay, wd, init0, eps] = [0.1, 0.5, 0.1, 0.3, 1e-10];
  let sum = [init0, init0, init0];
  const want = reference((p, g0, t) => {
    const g = g0.map((gi, i) => gi + wd * p[i]);
    const clr = lr / (1 + (t - 1) * decay);
    sum = sum.map((s, i) => s + g[i] * g[i]);
    p.forEach((_, i) => (p[i] -= (clr * g[i]) / (Math.sqrt(sum[i]) + eps)));
  });
  sameSteps("Adagrad", ours((ps) => new optim.Adagrad(ps, { lr, lrDecay: decay, weightDecay: wd, initialAccumulatorValue: init0, eps })), want);
});

// ---------------------------------------------------------------- PyTorch's own numbers

const makers: Record<string, (ps: any) => ig.optim.Optimizer<any>> = {
  sgd: (ps) => new optim.SGD(ps, { lr: 0.1 }),
  sgdMomentum: (ps) => new optim.SGD(ps, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }),
  sgdNesterov: (ps) => new optim.SGD(ps, { lr: 0.05, momentum: 0.8, nesterov: true }),
  sgdMaximize: (ps) => new optim.SGD(ps, { lr: 0.1, momentum: 0.5, maximize: true }),
  adam: (ps) => new optim.Adam(ps, { lr: 0.01 }),
  adamTuned: (ps) => new optim.Adam(ps, { lr: 0.02, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1 }),
  adamAmsgrad: (ps) => new optim.Adam(ps, { lr: 0.01, amsgrad: true }),
  adamMaximize: (ps) => new optim.Adam(ps, { lr: 0.01, maximize: true }),
  adamw: (ps) => new optim.AdamW(ps, { lr: 0.01 }),
  adamwDecay: (ps) => new optim.AdamW(ps, { lr: 0.05, weightDecay: 0.5, betas: [0.85, 0.95] }),
  adamwAmsgrad: (ps) => new optim.AdamW(ps, { lr: 0.01, amsgrad: true }),
  rmsprop: (ps) => new optim.RMSprop(ps, { lr: 0.01 }),
  rmspropCentered: (ps) => new optim.RMSprop(ps, { lr: 0.01, alpha: 0.9, centered: true, weightDecay: 0.05 }),
  rmspropMomentum: (ps) => new optim.RMSprop(ps, { lr: 0.01, momentum: 0.7, eps: 1e-4 }),
  adagrad: (ps) => new optim.Adagrad(ps, { lr: 0.1 }),
  adagradDecay: (ps) => new optim.Adagrad(ps, { lr: 0.1, lrDecay: 0.5, weightDecay: 0.1, initialAccumulatorValue: 0.3, eps: 1e-6 }),
  sgdGroups: ([a, b]) => new optim.SGD([{ params: [a] }, { params: [b], lr: 0.01, momentum: 0 }], { lr: 0.1, momentum: 0.9 }),
  adamGroups: ([a, b]) => new optim.Adam([{ params: [a], betas: [0.5, 0.9] }, { params: [b], lr: 0.1, weightDecay: 0.2 }], { lr: 0.01 }),
};

test("the golden file covers every optimizer configuration", () => {
  assert.deepEqual(Object.keys(golden.optim.cases).sort(), Object.keys(makers).sort());
});

for (const [name, steps] of Object.entries(golden.optim.cases)) {
  test(`${name}: four steps match PyTorch (float64)`, () => {
    const ps = golden.optim.params.map((a) => f64(a).requiresGrad_());
    const opt = makers[name](ps);
    steps.forEach((want, s) => {
      ps.forEach((p, i) => (p.grad = f64(golden.optim.grads[s][i])));
      opt.step();
      ps.forEach((p, i) => close(`step ${s + 1}, param ${i}`, vals(p), want[i].data));
    });
  });
}

test("float32 parameters follow the float64 trajectory closely (Adam through the fused kernel)", () => {
  const want = golden.optim.cases.adamTuned;
  const ps = golden.optim.params.map((a) => f64(a).float().requiresGrad_());
  const opt = makers.adamTuned(ps);
  want.forEach((w, s) => {
    ps.forEach((p, i) => (p.grad = f64(golden.optim.grads[s][i]).float()));
    opt.step();
    ps.forEach((p, i) => close(`float32 step ${s + 1}`, vals(p), w[i].data, 1e-5, 1e-6));
  });
});

// ---------------------------------------------------------------- groups, zeroGrad, state dicts

test("parameter groups take the defaults they omit; bad parameter lists are refused", () => {
  const a = ig.zeros([2], { requiresGrad: true });
  const b = ig.zeros([3], { requiresGrad: true });
  const opt = new optim.Adam([{ params: [a] }, { params: [b], lr: 0.5, betas: [0.1, 0.2] }], { lr: 0.01 });
  assert.equal(opt.paramGroups[0].lr, 0.01);
  assert.deepEqual(opt.paramGroups[0].betas, [0.9, 0.999]);
  assert.equal(opt.paramGroups[1].lr, 0.5);
  assert.deepEqual(opt.paramGroups[1].betas, [0.1, 0.2]);
  opt.addParamGroup({ params: [ig.zeros([1], { requiresGrad: true })], weightDecay: 0.3 });
  assert.equal(opt.paramGroups[2].weightDecay, 0.3);
  assert.throws(() => new optim.SGD([]), /SGD: got an empty parameter list; pass model\.parameters\(\)/);
  assert.throws(() => new optim.SGD([a, a]), /SGD: a parameter of shape \[2\] appears in more than one group/);
  assert.throws(() => new optim.SGD([a.mul(2)]), /SGD: can't optimize a tensor computed by an op \(a non-leaf\)/);
  assert.throws(() => new optim.SGD([ig.zeros([2], { dtype: "int32" })]), /SGD: can only optimize floating-point tensors/);
  assert.throws(() => new optim.SGD([a], { lr: -1 }), /SGD: lr must be a number ≥ 0, got -1/);
  assert.throws(() => new optim.Adam([a], { betas: [1, 0.9] }), /Adam: betas\[0\] must be in \[0, 1\), got 1/);
  assert.throws(() => new optim.RMSprop([a], { alpha: -0.1 }), /RMSprop: alpha must be in \[0, Infinity\], got -0\.1/);
});

test("zeroGrad sets gradients to null, or to zeros in place; parameters without a gradient are skipped", () => {
  const a = ig.tensor([1, 2]).requiresGrad_();
  const b = ig.tensor([3]).requiresGrad_();
  const opt = new optim.SGD([a, b], { lr: 1 });
  a.grad = ig.tensor([0.5, 0.5]);
  opt.step();
  assert.deepEqual(vals(a), [0.5, 1.5]);
  assert.deepEqual(vals(b), [3], "b has no gradient and is left alone");
  const g = a.grad;
  opt.zeroGrad(false);
  assert.equal(a.grad, g);
  assert.deepEqual(vals(a.grad!), [0, 0]);
  opt.zeroGrad();
  assert.equal(a.grad, null);
});

test("step(closure) evaluates the loss with gradients on and returns it", () => {
  const w = ig.tensor([2]).requiresGrad_();
  const opt = new optim.SGD([w], { lr: 0.25 });
  const loss = ig.noGrad(() =>
    opt.step(() => {
      opt.zeroGrad();
      const l = w.mul(w).sum();
      l.backward();
      return l;
    }),
  );
  assert.equal(loss, 4);
  assert.deepEqual(vals(w), [1], "w − 0.25·2w");
});

test("stateDict/loadStateDict: a restored optimizer continues exactly like the original", () => {
  const ps = golden.optim.params.map((a) => f64(a).requiresGrad_());
  const opt = new optim.Adam(ps, { lr: 0.05, amsgrad: true });
  const setGrads = (s: number, qs: Tensor[]) => qs.forEach((p, i) => (p.grad = f64(golden.optim.grads[s][i])));
  for (let s = 0; s < 2; s++) {
    setGrads(s, ps);
    opt.step();
  }
  const sd = opt.stateDict();
  assert.deepEqual(Object.keys(sd.state), ["0", "1"]);
  assert.equal(sd.state[0].step, 2);
  assert.deepEqual(sd.paramGroups[0].params, [0, 1]);
  const qs = ps.map((p) => p.detach().clone().requiresGrad_());
  const opt2 = new optim.Adam(qs, { lr: 0.9 });
  opt2.loadStateDict(sd);
  assert.equal(opt2.paramGroups[0].lr, 0.05);
  assert.equal(opt2.paramGroups[0].amsgrad, true);
  for (let s = 2; s < 4; s++) {
    setGrads(s, ps);
    setGrads(s, qs);
    opt.step();
    opt2.step();
  }
  ps.forEach((p, i) => assert.deepEqual(vals(qs[i]), vals(p)));
  // The saved state is a snapshot: later steps of the original do not change it.
  assert.equal(sd.state[0].step, 2);
  assert.throws(() => new optim.Adam([ps[0]]).loadStateDict(sd), /Adam\.loadStateDict: group 0 of the state dict has 2 parameter\(s\), this optimizer's has 1/);
});

// ---------------------------------------------------------------- schedules

function schedRun(make: (o: ig.optim.SGD | ig.optim.Adam) => { step(m?: number): void }, n: number, adam = false, metrics?: number[]) {
  const opt = adam ? new optim.Adam([ig.zeros([1], { requiresGrad: true })], { lr: 0.1 }) : new optim.SGD([ig.zeros([1], { requiresGrad: true })], { lr: 0.1, momentum: 0.9 });
  const s = make(opt);
  const mom = () => (adam ? (opt.paramGroups[0].betas as number[])[0] : (opt.paramGroups[0].momentum as number));
  const lr = [opt.paramGroups[0].lr];
  const momentum = [mom()];
  for (let i = 0; i < n; i++) {
    opt.step();
    s.step(metrics?.[i]);
    lr.push(opt.paramGroups[0].lr);
    momentum.push(mom());
  }
  return { lr, momentum };
}

const schedules: Record<string, [(o: any) => { step(m?: number): void }, number, boolean?]> = {
  stepLR: [(o) => new optim.StepLR(o, 3, 0.5), 10],
  multiStepLR: [(o) => new optim.MultiStepLR(o, [2, 5, 6], 0.1), 8],
  exponentialLR: [(o) => new optim.ExponentialLR(o, 0.9), 6],
  cosineAnnealingLR: [(o) => new optim.CosineAnnealingLR(o, 5, 0.01), 12],
  linearLR: [(o) => new optim.LinearLR(o, 0.25, 1, 4), 7],
  constantLR: [(o) => new optim.ConstantLR(o, 0.5, 3), 5],
  lambdaLR: [(o) => new optim.LambdaLR(o, (e) => 1 / (1 + e)), 5],
  oneCycleCos: [(o) => new optim.OneCycleLR(o, 1, { totalSteps: 10 }), 10],
  oneCycleLinear3: [(o) => new optim.OneCycleLR(o, 0.5, { epochs: 2, stepsPerEpoch: 6, annealStrategy: "linear", threePhase: true, pctStart: 0.25 }), 12, true],
  plateau: [(o) => new optim.ReduceLROnPlateau(o, { patience: 2, factor: 0.5, cooldown: 1, minLr: 0.02 }), 14],
  plateauMaxAbs: [(o) => new optim.ReduceLROnPlateau(o, { mode: "max", thresholdMode: "abs", threshold: 0.1, patience: 1 }), 8],
};

for (const [name, want] of Object.entries(golden.schedules)) {
  test(`${name}: the lr sequence matches PyTorch`, () => {
    const [make, n, adam] = schedules[name];
    const got = schedRun(make, n, adam, want.metrics);
    close("lr", got.lr, want.lr, 1e-12, 1e-15);
    if (want.momentum) close("momentum", got.momentum, want.momentum, 1e-12, 1e-15);
  });
}

test("schedules written out by hand: StepLR, cosine and warm-up", () => {
  const o = new optim.SGD([ig.zeros([1], { requiresGrad: true })], { lr: 1 });
  const s = new optim.CosineAnnealingLR(o, 4);
  const lrs = [o.paramGroups[0].lr];
  for (let i = 0; i < 4; i++) {
    s.step();
    lrs.push(s.getLastLr()[0]);
  }
  close("cosine", lrs, [1, (1 + Math.SQRT1_2) / 2, 0.5, (1 - Math.SQRT1_2) / 2, 0], 1e-12, 1e-15);
  assert.equal(o.paramGroups[0].initialLr, 1);
  const o2 = new optim.SGD([{ params: [ig.zeros([1], { requiresGrad: true })] }, { params: [ig.zeros([1], { requiresGrad: true })], lr: 0.4 }], { lr: 0.2 });
  const w = new optim.LinearLR(o2, 0.5, 1, 2);
  assert.deepEqual(w.getLastLr(), [0.1, 0.2]);
  w.step();
  w.step();
  w.step();
  assert.deepEqual(w.getLastLr(), [0.2, 0.4]);
  assert.equal(w.stateDict().lastEpoch, 3);
  assert.throws(() => new optim.OneCycleLR(o, 1, {}), /OneCycleLR: give totalSteps, or epochs and stepsPerEpoch/);
  const oc = new optim.OneCycleLR(new optim.SGD([ig.zeros([1], { requiresGrad: true })]), 1, { totalSteps: 2 });
  oc.step();
  oc.step();
  assert.throws(() => oc.step(), /OneCycleLR: stepped 3 times but totalSteps is 2/);
});

// ---------------------------------------------------------------- clipping

test("clipGradNorm matches PyTorch for the 1-, 2-, 3- and ∞-norms", () => {
  for (const [name, c] of Object.entries(golden.clip)) {
    const ps = golden.optim.params.map((a) => f64(a).requiresGrad_());
    ps.forEach((p, i) => (p.grad = f64(golden.optim.grads[0][i])));
    const total = optim.clipGradNorm(ps, 0.7, c.normType === "inf" ? Infinity : c.normType);
    close(`${name} total`, [total.item()], [c.total]);
    ps.forEach((p, i) => close(`${name} grad ${i}`, vals(p.grad!), c.grads[i].data));
  }
});

test("clipGradNorm by hand: scales to maxNorm, leaves small gradients alone, reports non-finite norms", () => {
  const a = ig.tensor([3, 0]).requiresGrad_();
  const b = ig.tensor([0]).requiresGrad_();
  a.grad = ig.tensor([3, 0]);
  b.grad = ig.tensor([4]);
  assert.equal(optim.clipGradNorm([a, b], 1).item(), 5);
  close("clipped", [...vals(a.grad), ...vals(b.grad)], [0.6, 0, 0.8], 1e-6);
  assert.ok(Math.abs(optim.clipGradNorm([a, b], 10).item() - 1) < 1e-5);
  close("unchanged", [...vals(a.grad), ...vals(b.grad)], [0.6, 0, 0.8], 1e-6);
  assert.equal(optim.clipGradNorm([ig.zeros([1], { requiresGrad: true })], 1).item(), 0, "no gradients: norm 0");
  a.grad = ig.tensor([Infinity, 1]);
  assert.throws(() => optim.clipGradNorm(a, 1, 2, { errorIfNonfinite: true }), /clipGradNorm: the total norm of order 2 of the gradients is Infinity/);
  a.grad = ig.tensor([-3, 0.5]);
  b.grad = ig.tensor([2]);
  optim.clipGradValue([a, b], 1);
  assert.deepEqual([...vals(a.grad), ...vals(b.grad)], [-1, 0.5, 1]);
});

// ---------------------------------------------------------------- the fused op, and training

test("adamUpdate_ refuses to run on a parameter while gradients are recorded", () => {
  const p = ig.zeros([2], { requiresGrad: true });
  const [g, m, v] = [ig.ones([2]), ig.zeros([2]), ig.zeros([2])];
  const attrs = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, decoupled: false };
  assert.throws(() => optim.adamUpdate_(p, g, m, v, attrs), /adamUpdate_: a tensor that requires grad cannot be modified in place while gradients are recorded/);
  ig.noGrad(() => optim.adamUpdate_(p, g, m, v, attrs));
  close("p", vals(p), [-0.1, -0.1], 1e-6);
  close("m", vals(m), [0.1, 0.1], 1e-6);
  close("v", vals(v), [0.001, 0.001], 1e-6);
  assert.throws(() => ig.noGrad(() => optim.adamUpdate_(p, g, m, v.t().expand(3, 2), attrs)), /adamUpdate_: expAvgSq has shape \[3,2\] but param has \[2\]/);
});

test("each optimizer trains a small classifier: the loss goes down", () => {
  const make: Record<string, (ps: ig.nn.Parameter[]) => ig.optim.Optimizer<any>> = {
    SGD: (ps) => new optim.SGD(ps, { lr: 0.2, momentum: 0.9 }),
    Adam: (ps) => new optim.Adam(ps, { lr: 0.02 }),
    AdamW: (ps) => new optim.AdamW(ps, { lr: 0.02 }),
    RMSprop: (ps) => new optim.RMSprop(ps, { lr: 0.01 }),
    Adagrad: (ps) => new optim.Adagrad(ps, { lr: 0.2 }),
  };
  ig.manualSeed(11);
  const x = ig.randn([48, 2]);
  // Two classes split by the sign of x0·x1 (not linearly separable).
  const y = ig.tensor(Int32Array.from(vals(x.select(1, 0).mul(x.select(1, 1))).map((v) => (v > 0 ? 1 : 0))));
  for (const [name, mk] of Object.entries(make)) {
    ig.manualSeed(12);
    const model = new nn.Sequential(new nn.Linear(2, 16), new nn.ReLU(), new nn.Linear(16, 2));
    const opt = mk(model.parameters());
    const lossFn = new nn.CrossEntropyLoss();
    const losses: number[] = [];
    for (let i = 0; i < 60; i++) {
      opt.zeroGrad();
      const loss = lossFn.call(model.call(x), y);
      loss.backward();
      opt.step();
      losses.push(loss.item());
    }
    assert.ok(losses[59] < 0.6 * losses[0], `${name}: loss ${losses[0].toFixed(3)} → ${losses[59].toFixed(3)}`);
  }
});
