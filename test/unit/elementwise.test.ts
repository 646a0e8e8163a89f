// Values of the elementwise ops against independently known results (mpmath at 30 digits, PyTorch's
// documented semantics): the conformance suite compares backends with ref, these pin ref itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import { erf as erfScalar, erfc as erfcScalar } from "../../src/backend/ref/erf.js";
import type { Tensor } from "../../src/index.js";

const f64 = (data: number[] | number[][]) => ig.tensor(data, { dtype: "float64" });
const vals = (t: Tensor) => Array.from(t.dataSync() as ArrayLike<number>);

function close(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-14, atol = 0): void {
  assert.equal(got.length, want.length, "length");
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Object.is(g, w)) continue;
    assert.ok(Math.abs(g - w) <= atol + rtol * Math.abs(w), `element ${i}: got ${g}, expected ${w}`);
  }
}

/** d(sum(f(x)))/dx at the given float64 values. */
function gradOf(fn: (x: Tensor) => Tensor, xs: number[]): number[] {
  const x = f64(xs).requiresGrad_();
  fn(x).sum().backward();
  return vals(x.grad!);
}

test("erf/erfc scalar: Cody's approximation matches mpmath to ~1e-15 relative", () => {
  const erfTable: [number, number][] = [
    [1e-10, 1.1283791670955125739e-10],
    [0.1, 0.1124629160182848922],
    [0.3, 0.32862675945912742764],
    [0.46875, 0.49261347321793799159],
    [0.5, 0.52049987781304653768],
    [1, 0.84270079294971486934],
    [1.5, 0.96610514647531072707],
    [2, 0.99532226501895273416],
    [3, 0.99997790950300141456],
    [4, 0.99999998458274209972],
    [4.5, 0.99999999980338395585],
    [6, 0.99999999999999997848],
  ];
  for (const [x, want] of erfTable) {
    close([erfScalar(x)], [want], 1e-15);
    close([erfScalar(-x)], [-want], 1e-15); // odd function
  }
  const erfcTable: [number, number][] = [
    [0.2, 0.77729741078952154586],
    [1, 0.15729920705028513066],
    [2, 0.0046777349810472658379],
    [3.5, 7.4309837234141274552e-7],
    [5, 1.5374597944280348502e-12],
    [10, 2.088487583762544757e-45],
    [20, 5.3958656116079009289e-176],
    [-1, 1.8427007929497148693],
    [-3, 1.9999779095030014146],
  ];
  // erfc is computed directly in the tail: 1e-15 relative even where it is 1e-176.
  for (const [x, want] of erfcTable) close([erfcScalar(x)], [want], 2e-15);
  assert.equal(erfScalar(0), 0);
  assert.ok(Object.is(erfScalar(-0), -0));
  assert.equal(erfScalar(Infinity), 1);
  assert.equal(erfScalar(-Infinity), -1);
  assert.equal(erfcScalar(Infinity), 0);
  assert.equal(erfcScalar(-Infinity), 2);
  assert.ok(Number.isNaN(erfScalar(NaN)));
});

test("erf op: float64 values, float32 rounding, gradient 2/√π·e^(−x²)", () => {
  close(vals(ig.erf(f64([0.5, -1, 2]))), [0.52049987781304653768, -0.84270079294971486934, 0.99532226501895273416], 1e-15);
  // ref computes in float64 and rounds once; other backends must be within float32 tolerance.
  const y32 = ig.withBackend("ref", () => ig.erf(ig.tensor([1])));
  assert.equal(y32.dtype, "float32");
  assert.equal(y32.item(), Math.fround(0.84270079294971486934));
  close([ig.erf(ig.tensor([1])).item()], [0.84270079294971486934], 1e-6);
  close(gradOf(ig.erf, [0, 1]), [2 / Math.sqrt(Math.PI), (2 / Math.sqrt(Math.PI)) * Math.exp(-1)]);
});

test("gelu: exact (erf) and tanh forms match mpmath, including the far negative tail", () => {
  const xs = [-10, -3, -1, -0.5, 0, 0.5, 1, 3];
  const exact = [
    -7.619853024160526066e-23, -0.00404969409489028358, -0.15865525393145705141, -0.15426876936299344818, 0, 0.34573123063700655182,
    0.84134474606854294859, 2.9959503059051097164,
  ];
  // NOTE: x·Φ(x) at −10 is 7.6e-23; a 1 + erf form would return 0 or noise there.
  close(vals(ig.gelu(f64(xs))), exact, 1e-14);
  const tanhForm = [-0.0036373920817730188378, -0.15880800939172329522, -0.15428599017485607796, 0.34571400982514392204, 0.84119199060827670478, 2.9963626079182269812];
  close(vals(ig.gelu(f64([-3, -1, -0.5, 0.5, 1, 3]), "tanh")), tanhForm, 1e-14);
  close(gradOf((x) => ig.gelu(x), [1, -2]), [1.0833154705876863, -0.085231801078196897], 1e-13);
  close(gradOf((x) => x.gelu("tanh"), [1]), [1.0829640838457826], 1e-13);
  assert.throws(() => ig.gelu(f64([1]), "fast" as "tanh"), ig.ValueError);
});

test("round: halves go to the even neighbour; decimals; floor/ceil", () => {
  const x = f64([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49999999999999994, -3.7, 2.2]);
  assert.deepEqual(vals(ig.round(x)), [-2, -2, -0, 0, 2, 2, 4, 0, -4, 2]);
  assert.ok(Object.is(vals(ig.round(x))[2], -0), "round(-0.5) is -0 as in PyTorch");
  assert.deepEqual(vals(ig.round(f64([1.234, -0.125, 0.375]), 2)), [1.23, -0.12, 0.38]);
  assert.deepEqual(vals(ig.round(f64([1234, 1250, -1350]), -2)), [1200, 1200, -1400]);
  assert.deepEqual(vals(ig.floor(f64([-1.5, 1.5, 2]))), [-2, 1, 2]);
  assert.deepEqual(vals(ig.ceil(f64([-1.5, 1.5, 2]))), [-1, 2, 2]);
  assert.deepEqual(gradOf(ig.round, [0.3, 1.7]), [0, 0]);
});

test("floor, ceil, round and sign on int32 keep the dtype and values", () => {
  const i = ig.tensor([-3, 0, 4], { dtype: "int32" });
  for (const fn of [ig.floor, ig.ceil, ig.round]) {
    const y = fn(i);
    assert.equal(y.dtype, "int32");
    assert.deepEqual(vals(y), [-3, 0, 4]);
    assert.notEqual(y.storage, i.storage, "a copy, not the input");
  }
  assert.deepEqual(vals(ig.sign(i)), [-1, 0, 1]);
  assert.deepEqual(vals(ig.abs(i)), [3, 0, 4]);
  assert.deepEqual(vals(ig.square(i)), [9, 0, 16]);
  assert.deepEqual(vals(ig.relu(i)), [0, 0, 4]);
  assert.equal(ig.relu(i).dtype, "int32");
});

test("sign: −1/0/1, sign(NaN) = 0 like PyTorch; abs has gradient 0 at 0", () => {
  assert.deepEqual(vals(ig.sign(f64([-2, -0, 0, 3, NaN]))), [-1, 0, 0, 1, 0]);
  assert.deepEqual(gradOf(ig.abs, [-2, 0, 3]), [-1, 0, 1]);
});

test("unary math values and dtype preservation", () => {
  const x = f64([0.25, 1, 4]);
  close(vals(ig.log(x)), [Math.log(0.25), 0, Math.log(4)]);
  close(vals(ig.sqrt(x)), [0.5, 1, 2]);
  close(vals(ig.rsqrt(x)), [2, 1, 0.5]);
  close(vals(ig.reciprocal(x)), [4, 1, 0.25]);
  close(vals(ig.square(x)), [0.0625, 1, 16]);
  close(vals(ig.log1p(f64([1e-10]))), [9.9999999995e-11], 1e-15);
  close(vals(ig.sin(f64([Math.PI / 2]))), [1]);
  close(vals(ig.cos(f64([0]))), [1]);
  close(vals(ig.tanh(f64([-30, 0.5]))), [-1, Math.tanh(0.5)]);
  for (const fn of [ig.log, ig.sqrt, ig.sigmoid, ig.tanh, ig.relu, ig.gelu, ig.silu, ig.softplus]) assert.equal(fn(x).dtype, "float64");
  assert.throws(() => ig.log(ig.tensor([1], { dtype: "int32" })), (e: unknown) => e instanceof ig.DTypeError && /^log: input has dtype int32/.test((e as Error).message));
});

test("sigmoid is stable for huge |x|; gradients of sigmoid, tanh, sqrt use the saved output", () => {
  const y = vals(ig.sigmoid(f64([-800, 2, 800])));
  assert.equal(y[0], 0);
  close([y[1]], [0.88079707797788244]);
  assert.equal(y[2], 1);
  const s = 0.88079707797788244;
  close(gradOf(ig.sigmoid, [2]), [s * (1 - s)]);
  close(gradOf(ig.tanh, [0.5]), [1 - Math.tanh(0.5) ** 2]);
  close(gradOf(ig.sqrt, [4]), [0.25]);
  close(gradOf(ig.rsqrt, [4]), [-0.5 * 4 ** -1.5]);
  close(gradOf(ig.exp, [1]), [Math.E]);
});

test("activations: relu, leakyRelu, elu, silu, softplus values and kinks", () => {
  assert.deepEqual(vals(ig.relu(f64([-1, 0, 2]))), [0, 0, 2]);
  assert.deepEqual(gradOf(ig.relu, [-1, 0, 2]), [0, 0, 1]);
  assert.ok(Number.isNaN(vals(ig.relu(f64([NaN])))[0]), "relu propagates NaN");
  close(vals(ig.leakyRelu(f64([-2, 3]))), [-0.02, 3]);
  close(vals(f64([-2, 3]).leakyRelu(0.2)), [-0.4, 3]);
  close(gradOf((x) => ig.leakyRelu(x, 0.2), [-2, 0, 3]), [0.2, 0.2, 1]);
  close(vals(ig.elu(f64([-1, 2]))), [-0.63212055882855768, 2]);
  close(vals(ig.elu(f64([-2]), 0.5)), [-0.43233235838169365]);
  close(gradOf((x) => ig.elu(x, 0.5), [-2, 1]), [0.5 * Math.exp(-2), 1]);
  close(vals(ig.silu(f64([-2, 1]))), [-0.23840584404423511, 0.73105857863000488]);
  close(vals(ig.softplus(f64([-2, 0, 3]))), [0.1269280110429725, 0.69314718055994531, 3.0485873515737421]);
  close(vals(ig.softplus(f64([1]), 2)), [1.0634640055214862]);
  // Above the threshold (βx > 20) softplus is the identity, as PyTorch; 1000 must not overflow.
  assert.deepEqual(vals(ig.softplus(f64([21, 1000]))), [21, 1000]);
  assert.deepEqual(vals(ig.softplus(f64([2]), 1, 1)), [2]);
  close(gradOf((x) => ig.softplus(x, 1, 1), [2, 0]), [1, 0.5]);
});

test("clamp: scalar and tensor bounds, min > max, NaN, int32, gradient at the bounds", () => {
  const x = f64([-2, -0.5, 0, 0.5, 2, NaN]);
  const y = vals(ig.clamp(x, -1, 1));
  assert.deepEqual(y.slice(0, 5), [-1, -0.5, 0, 0.5, 1]);
  assert.ok(Number.isNaN(y[5]), "NaN propagates");
  assert.deepEqual(vals(ig.clamp(f64([-2, 3]), null, 1)), [-2, 1]);
  assert.deepEqual(vals(x.clip(0).slice(0, 0, 5)), [0, 0, 0, 0.5, 2]);
  assert.deepEqual(vals(ig.clamp(f64([-2, 0, 3]), 1, -1)), [-1, -1, -1], "min > max gives max");
  // The gradient passes where min ≤ x ≤ max, bounds included (PyTorch's clamp_backward).
  assert.deepEqual(gradOf((t) => ig.clamp(t, -1, 1), [-2, -1, 0, 1, 2]), [0, 1, 1, 1, 0]);
  const i = ig.tensor([-5, 0, 5], { dtype: "int32" });
  assert.equal(ig.clamp(i, -2, 2).dtype, "int32");
  assert.deepEqual(vals(ig.clamp(i, -2, 2)), [-2, 0, 2]);
  const fi = ig.clamp(i, 0.5);
  assert.equal(fi.dtype, "float32");
  assert.deepEqual(vals(fi), [0.5, 0.5, 5]);
  // Tensor bounds broadcast; gradients go to whichever of x, min, max was selected.
  const xt = f64([[-3, 0.5, 3]]).requiresGrad_();
  const lo = f64([-1, -1, -1]).requiresGrad_();
  const hi = f64([[1], [0]]).requiresGrad_();
  const yt = ig.clamp(xt, lo, hi);
  assert.deepEqual([...yt.shape], [2, 3]);
  assert.deepEqual(vals(yt), [-1, 0.5, 1, -1, 0, 0]);
  yt.sum().backward();
  assert.deepEqual(vals(xt.grad!), [0, 1, 0]);
  assert.deepEqual(vals(lo.grad!), [2, 0, 0]);
  assert.deepEqual(vals(hi.grad!), [1, 2]);
  assert.throws(() => ig.clamp(x), ig.ValueError);
});

test("pow: values, scalar sides, int32 semantics, C edge cases, gradients at 0", () => {
  close(vals(ig.pow(f64([2, 9, -3]), f64([3, 0.5, 2]))), [8, 3, 9]);
  close(vals(f64([1, 2, 3]).pow(2)), [1, 4, 9]);
  close(vals(ig.pow(2, f64([0, 1, -1]))), [1, 2, 0.5]);
  assert.deepEqual(vals(ig.pow(f64([0, 1, -1]), f64([0, NaN, Infinity]))), [1, 1, 1], "C pow: 0^0 = 1^NaN = (−1)^∞ = 1");
  const ib = ig.tensor([2, -3, 1, -1, 5], { dtype: "int32" });
  const ie = ig.tensor([10, 3, -4, -3, -1], { dtype: "int32" });
  const ip = ig.pow(ib, ie);
  assert.equal(ip.dtype, "int32");
  assert.deepEqual(vals(ip), [1024, -27, 1, -1, 0]);
  assert.equal(ig.pow(ib, 0.5).dtype, "float32");
  assert.throws(() => ig.pow(ib, -2), (e: unknown) => e instanceof ig.ValueError && /^pow: integers to negative integer powers/.test((e as Error).message));
  // d/da of a^0 is 0 even at a = 0 (not 0·∞); d/db of 0^b (b ≥ 0) is 0 (not 0·log 0).
  const a = f64([0, 2]).requiresGrad_();
  const b = f64([0, 3]).requiresGrad_();
  ig.pow(a, b).sum().backward();
  assert.deepEqual(vals(a.grad!), [0, 12]);
  close(vals(b.grad!), [0, 8 * Math.log(2)]);
  const b2 = f64([2, 0.5]).requiresGrad_();
  ig.pow(f64([0, 4]), b2).sum().backward();
  close(vals(b2.grad!), [0, 2 * Math.log(4)]);
});

test("maximum/minimum: NaN propagates, ties split the gradient half/half", () => {
  const a = f64([1, 5, NaN, 2]);
  const b = f64([3, 2, 0, 2]);
  const mx = vals(ig.maximum(a, b));
  assert.deepEqual([mx[0], mx[1], mx[3]], [3, 5, 2]);
  assert.ok(Number.isNaN(mx[2]));
  const mn = vals(ig.minimum(a, b));
  assert.deepEqual([mn[0], mn[1], mn[3]], [1, 2, 2]);
  assert.ok(Number.isNaN(mn[2]));
  for (const fn of [ig.maximum, ig.minimum]) {
    const x = f64([1, 2, 3]).requiresGrad_();
    const y = f64([2, 2, 1]).requiresGrad_();
    fn(x, y).sum().backward();
    const big = fn === ig.maximum;
    assert.deepEqual(vals(x.grad!), big ? [0, 0.5, 1] : [1, 0.5, 0]);
    assert.deepEqual(vals(y.grad!), big ? [1, 0.5, 0] : [0, 0.5, 1]);
  }
  assert.deepEqual(vals(ig.maximum(ig.tensor([1, 7], { dtype: "int32" }), 3)), [3, 7]);
});

test("comparisons: bool results, ties, NaN, promotion and broadcasting", () => {
  const a = f64([1, 2, NaN, -0]);
  const b = f64([1, 3, NaN, 0]);
  const table: [(x: Tensor, y: Tensor) => Tensor, number[]][] = [
    [ig.eq, [1, 0, 0, 1]],
    [ig.ne, [0, 1, 1, 0]],
    [ig.lt, [0, 1, 0, 0]],
    [ig.le, [1, 1, 0, 1]],
    [ig.gt, [0, 0, 0, 0]],
    [ig.ge, [1, 0, 0, 1]],
  ];
  for (const [fn, want] of table) {
    const r = fn(a, b);
    assert.equal(r.dtype, "bool");
    assert.deepEqual(vals(r), want, fn.name);
  }
  const i = ig.tensor([1, 2], { dtype: "int32" });
  assert.deepEqual(vals(i.eq(1.5)), [0, 0], "the int tensor is compared as float, not 1.5 truncated");
  assert.deepEqual(vals(i.lt(1.5)), [1, 0]);
  assert.deepEqual(ig.gt(f64([[1], [3]]), f64([0, 2])).toArray(), [[true, false], [true, true]]);
  assert.throws(() => ig.eq(f64([1, 2]), f64([1, 2, 3])), (e: unknown) => e instanceof ig.ShapeError && /^eq: shapes \[2\] and \[3\]/.test((e as Error).message));
});

test("logical ops: truth tables over any dtype; NaN counts as true", () => {
  const a = ig.tensor([true, true, false, false]);
  const b = ig.tensor([true, false, true, false]);
  assert.deepEqual(ig.logicalAnd(a, b).toArray(), [true, false, false, false]);
  assert.deepEqual(ig.logicalOr(a, b).toArray(), [true, true, true, false]);
  assert.deepEqual(ig.logicalXor(a, b).toArray(), [false, true, true, false]);
  assert.deepEqual(ig.logicalNot(a).toArray(), [false, false, true, true]);
  assert.deepEqual(ig.logicalNot(f64([0, NaN, -2])).toArray(), [true, false, false]);
  assert.deepEqual(ig.logicalAnd(f64([0.5, 0]), ig.tensor([3, 3], { dtype: "int32" })).toArray(), [true, false]);
});

test("where: broadcasting of all three, scalars, gradients to both branches", () => {
  const c = ig.tensor([[true], [false]]);
  const a = f64([1, 2, 3]).requiresGrad_();
  const b = f64([[10], [20]]).requiresGrad_();
  const y = ig.where(c, a, b);
  assert.deepEqual(y.toArray(), [[1, 2, 3], [20, 20, 20]]);
  y.sum().backward();
  assert.deepEqual(vals(a.grad!), [1, 1, 1]);
  assert.deepEqual(vals(b.grad!), [0, 3]);
  assert.deepEqual(vals(ig.where(ig.tensor([true, false]), f64([1, 2]), 0)), [1, 0]);
  assert.equal(ig.where(ig.tensor([true]), ig.tensor([1], { dtype: "int32" }), 0.5).dtype, "float32");
  assert.deepEqual(vals(f64([5, 6]).where(ig.tensor([false, true]), -1)), [-1, 6]);
  assert.throws(() => ig.where(f64([1]), 1, 2), ig.DTypeError);
});

test("maskedFill: broadcast mask, -Infinity, dtypes, 0-d tensor value with gradient", () => {
  const x = f64([[1, 2, 3], [4, 5, 6]]);
  const m = ig.tensor([true, false, true]);
  assert.deepEqual(x.maskedFill(m, -Infinity).toArray(), [[-Infinity, 2, -Infinity], [-Infinity, 5, -Infinity]]);
  const xi = ig.tensor([1, 2, 3], { dtype: "int32" });
  const yi = ig.maskedFill(xi, m, 7.9);
  assert.equal(yi.dtype, "int32");
  assert.deepEqual(vals(yi), [7, 2, 7]);
  assert.deepEqual(ig.maskedFill(ig.tensor([false, false, true]), m, 5).toArray(), [true, false, true]);
  const xg = f64([1, 2, 3]).requiresGrad_();
  const v = f64([0]).reshape([]).requiresGrad_();
  ig.maskedFill(xg, m, v).sum().backward();
  assert.deepEqual(vals(xg.grad!), [0, 1, 0]);
  assert.deepEqual(vals(v.grad!), [2]);
  assert.throws(() => ig.maskedFill(f64([1, 2]), ig.tensor([true, false, true]), 0), ig.ShapeError);
});

test("every op is a Tensor method and the op record is named like the function", () => {
  const names = [
    "abs", "log", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "sign", "sin", "cos", "tanh", "sigmoid", "erf", "relu",
    "leakyRelu", "elu", "gelu", "silu", "softplus", "floor", "ceil", "round", "clamp", "pow", "maximum", "minimum", "eq", "ne",
    "lt", "le", "gt", "ge", "where", "logicalAnd", "logicalOr", "logicalXor", "logicalNot", "maskedFill",
  ];
  for (const n of names) {
    assert.ok(ig.getOp(n), `op record '${n}'`);
    assert.equal(typeof (ig.tensor([1]) as unknown as Record<string, unknown>)[n], "function", `method ${n}`);
    assert.equal(typeof (ig as unknown as Record<string, unknown>)[n], "function", `export ${n}`);
  }
  assert.equal(ig.clip, ig.clamp);
});
