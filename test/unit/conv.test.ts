// Convolution and pooling semantics checked against naive loops written here and hand-computed
// values (the conformance cases only compare ref with itself and with finite differences).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";

const gen = new ig.Generator(1234);
const rnd = (shape: number[], dtype: "float32" | "float64" = "float64"): Tensor => ig.randn(shape, { dtype, generator: gen });
const arange = (shape: number[]): Tensor =>
  ig.tensor(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i), { dtype: "float64", shape });

function close(got: Tensor, want: ArrayLike<number>, tol = 1e-10): void {
  const g = got.toFlatArray();
  assert.equal(g.length, want.length, "length");
  g.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= tol * (1 + Math.abs(want[i])), `element ${i}: ${v} vs ${want[i]}`));
}

interface Geo {
  stride?: [number, number];
  pad?: [number, number, number, number]; // top, bottom, left, right
  dil?: [number, number];
  groups?: number;
}

/** The textbook definition: y[n,o,i,j] = b[o] + Σ x[n, g·Cg+c, i·s − p + k·d, …] · w[o, c, k, …]. */
function naiveConv2d(x: Tensor, w: Tensor, b: Tensor | null, geo: Geo): { shape: number[]; data: number[] } {
  const [sh, sw] = geo.stride ?? [1, 1];
  const [pt, pb, pl, pr] = geo.pad ?? [0, 0, 0, 0];
  const [dh, dw] = geo.dil ?? [1, 1];
  const G = geo.groups ?? 1;
  const [N, C, H, W] = x.shape;
  const [O, Cg, kH, kW] = w.shape;
  const Ho = Math.floor((H + pt + pb - dh * (kH - 1) - 1) / sh) + 1;
  const Wo = Math.floor((W + pl + pr - dw * (kW - 1) - 1) / sw) + 1;
  const xv = x.toFlatArray();
  const wv = w.toFlatArray();
  const bv = b?.toFlatArray();
  const data: number[] = [];
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          let s = bv ? bv[o] : 0;
          const g = Math.floor(o / (O / G));
          for (let c = 0; c < Cg; c++)
            for (let ki = 0; ki < kH; ki++)
              for (let kj = 0; kj < kW; kj++) {
                const ih = i * sh - pt + ki * dh;
                const iw = j * sw - pl + kj * dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += xv[((n * C + g * Cg + c) * H + ih) * W + iw] * wv[((o * Cg + c) * kH + ki) * kW + kj];
              }
          data.push(s);
        }
  return { shape: [N, O, Ho, Wo], data };
}

test("conv2d of a 4x4 ramp with a 2x2 box filter", () => {
  const y = ig.conv2d(arange([1, 1, 4, 4]), ig.ones([1, 1, 2, 2], { dtype: "float64" }));
  assert.deepEqual(y.toArray(), [[[[10, 14, 18], [26, 30, 34], [42, 46, 50]]]]);
});

test("conv2d matches the naive definition for stride, padding, dilation, groups and bias", () => {
  const configs: { x: number[]; w: number[]; bias: boolean; opts: ig.Conv2dOptions; geo: Geo }[] = [
    { x: [2, 3, 6, 7], w: [4, 3, 3, 3], bias: true, opts: {}, geo: {} },
    { x: [2, 2, 7, 8], w: [3, 2, 3, 2], bias: false, opts: { stride: [2, 3], padding: [1, 2] }, geo: { stride: [2, 3], pad: [1, 1, 2, 2] } },
    { x: [1, 2, 9, 9], w: [2, 2, 3, 3], bias: true, opts: { dilation: [2, 3], padding: 2 }, geo: { dil: [2, 3], pad: [2, 2, 2, 2] } },
    { x: [2, 4, 5, 6], w: [6, 2, 3, 3], bias: true, opts: { groups: 2, padding: 1 }, geo: { groups: 2, pad: [1, 1, 1, 1] } },
    { x: [1, 3, 5, 5], w: [3, 1, 3, 3], bias: false, opts: { groups: 3, stride: 2 }, geo: { groups: 3, stride: [2, 2] } },
    // "same" with even kernels: the odd padding element goes to the bottom/right, like PyTorch.
    { x: [1, 2, 5, 6], w: [3, 2, 2, 4], bias: true, opts: { padding: "same" }, geo: { pad: [0, 1, 1, 2] } },
    { x: [1, 2, 6, 6], w: [2, 2, 4, 3], bias: false, opts: { padding: "same", dilation: [1, 2] }, geo: { dil: [1, 2], pad: [1, 2, 2, 2] } },
  ];
  for (const c of configs) {
    const x = rnd(c.x);
    const w = rnd(c.w);
    const b = c.bias ? rnd([c.w[0]]) : null;
    const y = ig.conv2d(x, w, b, c.opts);
    const want = naiveConv2d(x, w, b, c.geo);
    assert.deepEqual([...y.shape], want.shape, JSON.stringify(c.opts));
    close(y, want.data);
  }
});

test("padding 'same' keeps the spatial size", () => {
  const y = ig.conv2d(rnd([1, 2, 5, 6]), rnd([3, 2, 4, 2]), null, { padding: "same", dilation: 2 });
  assert.deepEqual([...y.shape], [1, 3, 5, 6]);
  const z = ig.conv1d(rnd([2, 2, 7]), rnd([3, 2, 4]), null, { padding: "same" });
  assert.deepEqual([...z.shape], [2, 3, 7]);
});

test("conv1d matches conv2d on an H = 1 input, unbatched too", () => {
  const x = rnd([2, 4, 9]);
  const w = rnd([6, 2, 3]);
  const b = rnd([6]);
  const y = ig.conv1d(x, w, b, { stride: 2, padding: 2, dilation: 2, groups: 2 });
  const want = naiveConv2d(x.unsqueeze(2), w.unsqueeze(2), b, { stride: [1, 2], pad: [0, 0, 2, 2], dil: [1, 2], groups: 2 });
  assert.deepEqual([...y.shape], [2, 6, 5]);
  close(y, want.data);
  const u = ig.conv1d(x.select(0, 1), w, b, { stride: 2, padding: 2, dilation: 2, groups: 2 });
  assert.deepEqual([...u.shape], [6, 5]);
  close(u, want.data.slice(30));
});

test("unbatched conv2d gives [O, Ho, Wo]", () => {
  const x = rnd([2, 5, 5]);
  const w = rnd([3, 2, 3, 3]);
  const y = ig.conv2d(x, w, null, { padding: 1 });
  assert.deepEqual([...y.shape], [3, 5, 5]);
  close(y, naiveConv2d(x.unsqueeze(0), w, null, { pad: [1, 1, 1, 1] }).data);
});

test("conv2d reads non-contiguous inputs correctly", () => {
  const xNHWC = rnd([2, 6, 5, 3]);
  const wBig = rnd([4, 3, 3, 6]);
  const b = rnd([8]);
  const x = xNHWC.permute(0, 3, 1, 2);
  const w = wBig.slice(3, 1, 6, 2);
  const bs = b.slice(0, 0, 8, 2);
  close(ig.conv2d(x, w, bs, { padding: 1 }), ig.conv2d(x.contiguous(), w.contiguous(), bs.contiguous(), { padding: 1 }).toFlatArray(), 0);
  const g = rnd([2, 4, 6, 5]).transpose(2, 3); // [2,4,5,6]
  const xi = rnd([2, 3, 5, 6]);
  close(
    ig.conv2dGradInput(g, w, [2, 3, 5, 6], { padding: 1 }),
    ig.conv2dGradInput(g.contiguous(), w.contiguous(), [2, 3, 5, 6], { padding: 1 }).toFlatArray(),
    0,
  );
  close(ig.conv2dGradWeight(xi, g, [4, 3, 3, 3], { padding: 1 }), ig.conv2dGradWeight(xi, g.contiguous(), [4, 3, 3, 3], { padding: 1 }).toFlatArray(), 0);
});

test("conv2d sums in float64 and rounds once, also in float32 (the ref backend's definition)", () => {
  ig.withBackend("ref", () => {
    const x = ig.tensor([1e8, 1, -1e8], { shape: [1, 3, 1, 1] });
    const w = ig.ones([1, 3, 1, 1]);
    assert.equal(ig.conv2d(x, w).item(), 1);
    // The weight gradient sums over the batch: 1e8 + 1 − 1e8.
    const xb = ig.tensor([1e8, 1, -1e8], { shape: [3, 1, 1, 1] });
    assert.equal(ig.conv2dGradWeight(xb, ig.ones([3, 1, 1, 1]), [1, 1, 1, 1]).item(), 1);
  });
});

test("conv2d backward gives the input, weight and bias gradients", () => {
  const x = rnd([2, 2, 5, 5]).requiresGrad_();
  const w = rnd([3, 2, 3, 3]).requiresGrad_();
  const b = rnd([3]).requiresGrad_();
  ig.conv2d(x, w, b, { stride: 2, padding: 1 }).sum().backward();
  assert.deepEqual([...x.grad!.shape], [2, 2, 5, 5]);
  assert.deepEqual([...w.grad!.shape], [3, 2, 3, 3]);
  // d/db of a sum is the number of output positions per channel: N·Ho·Wo = 2·3·3.
  close(b.grad!, [18, 18, 18]);
  // d/dx of a sum is, per input pixel, the sum of the weights that touch it; check one interior pixel.
  const wv = w.toFlatArray();
  let want = 0;
  for (let o = 0; o < 3; o++) want += wv[(o * 2 + 0) * 9 + 1 * 3 + 1]; // x[0,0,2,2] is hit by the centre tap of output (1,1) only
  assert.ok(Math.abs(x.grad!.toFlatArray()[2 * 5 + 2] - want) < 1e-10);
  // Only the weight requires grad: the input gradient is not computed (and nothing fails).
  const w2 = rnd([3, 2, 3, 3]).requiresGrad_();
  ig.conv2d(rnd([1, 2, 5, 5]), w2).sum().backward();
  assert.deepEqual([...w2.grad!.shape], [3, 2, 3, 3]);
});

test("a tiny conv net learns: loss goes down with plain gradient descent", () => {
  const x = rnd([4, 1, 6, 6]);
  const target = ig.conv2d(x, rnd([2, 1, 3, 3]), null, { padding: 1 });
  let w = rnd([2, 1, 3, 3]).mul(0.1).detach().requiresGrad_();
  const losses: number[] = [];
  for (let step = 0; step < 5; step++) {
    const y = ig.maxPool2d(ig.conv2d(x, w, null, { padding: 1 }), 2);
    const t = ig.maxPool2d(target, 2);
    const d = y.sub(t);
    const loss = d.mul(d).sum();
    losses.push(loss.item());
    loss.backward();
    w = ig.noGrad(() => w.sub(w.grad!.mul(0.01))).requiresGrad_();
  }
  assert.ok(losses[4] < losses[0] * 0.8, `losses ${losses.join(", ")}`);
});

test("maxPool2d values and indices on a ramp", () => {
  const [y, i] = ig.maxPool2dWithIndices(arange([1, 1, 4, 4]), 2);
  assert.deepEqual(y.toArray(), [[[[5, 7], [13, 15]]]]);
  assert.deepEqual(i.toArray(), [[[[5, 7], [13, 15]]]]);
  assert.equal(i.dtype, "int32");
});

test("maxPool2d pads with −∞, takes the first of ties and propagates NaN", () => {
  const neg = ig.tensor([-5, -4, -3, -2], { dtype: "float64", shape: [1, 1, 2, 2] });
  assert.deepEqual(ig.maxPool2d(neg, 2, { stride: 1, padding: 1 }).toArray(), [[[[-5, -4, -4], [-3, -2, -2], [-3, -2, -2]]]]);
  const ties = ig.tensor([1, 3, 3, 0], { shape: [1, 1, 2, 2] });
  assert.deepEqual(ig.maxPool2dWithIndices(ties, 2)[1].toArray(), [[[[1]]]]);
  const nan = ig.tensor([1, NaN, 3, 0], { shape: [1, 1, 2, 2] });
  assert.ok(Number.isNaN(ig.maxPool2d(nan, 2).item()));
});

test("pooling output sizes follow PyTorch, ceilMode included", () => {
  const size = (h: number, k: number, o: ig.MaxPool2dOptions) => ig.maxPool2d(ig.zeros([1, 1, h, h]), k, o).shape[2];
  assert.equal(size(5, 2, {}), 2);
  assert.equal(size(5, 2, { ceilMode: true }), 3);
  assert.equal(size(5, 2, { padding: 1, ceilMode: true }), 3); // the 4th window would start in the padding
  assert.equal(size(6, 3, { stride: 2, padding: 1, ceilMode: true }), 4);
  assert.equal(size(6, 3, { stride: 2, padding: 1 }), 3);
  assert.equal(size(7, 2, { dilation: 2, stride: 1 }), 5);
  assert.equal(ig.avgPool2d(ig.zeros([1, 1, 5, 5]), 3, { stride: 2, ceilMode: true }).shape[2], 2);
  assert.equal(ig.avgPool2d(ig.zeros([1, 1, 6, 6]), 3, { stride: 2, ceilMode: true }).shape[2], 3);
});

test("maxPool2d backward routes the gradient to the argmax and sums overlaps", () => {
  const x = ig.tensor([0, 1, 0, 0, 9, 0, 0, 2, 0], { dtype: "float64", shape: [1, 1, 3, 3] }).requiresGrad_();
  ig.maxPool2d(x, 2, { stride: 1 }).sum().backward(); // all four windows pick the 9
  assert.deepEqual(x.grad!.toArray(), [[[[0, 0, 0], [0, 4, 0], [0, 0, 0]]]]);
});

test("avgPool2d counts padding or not, and honours divisorOverride", () => {
  const x = ig.ones([1, 1, 3, 3], { dtype: "float64" });
  close(ig.avgPool2d(x, 3, { stride: 1, padding: 1 }), [4, 6, 4, 6, 9, 6, 4, 6, 4].map((v) => v / 9));
  close(ig.avgPool2d(x, 3, { stride: 1, padding: 1, countIncludePad: false }), new Array(9).fill(1));
  close(ig.avgPool2d(x, 2, { stride: 1, divisorOverride: 3 }), new Array(4).fill(4 / 3));
  // ceilMode: the partial last window is divided by its clipped size (PyTorch clips at input + padding).
  const r = arange([1, 1, 1, 5]);
  close(ig.avgPool2d(r, [1, 2], { ceilMode: true }), [0.5, 2.5, 4]);
  close(ig.avgPool2d(r, [1, 3], { stride: [1, 2], padding: [0, 1], ceilMode: true }), [1 / 3, 6 / 3, 7 / 3]);
  close(ig.avgPool2d(r, [1, 3], { stride: [1, 2], padding: [0, 1], ceilMode: true, countIncludePad: false }), [0.5, 2, 3.5]);
});

test("avgPool2d backward spreads the gradient over each window", () => {
  const x = rnd([1, 1, 3, 4]).requiresGrad_();
  ig.avgPool2d(x, 2, { stride: 1 }).sum().backward();
  close(x.grad!, [1, 2, 2, 1, 2, 4, 4, 2, 1, 2, 2, 1].map((v) => v / 4));
});

test("adaptiveAvgPool2d uses floor/ceil windows, shrinking and growing", () => {
  const r = arange([1, 1, 1, 5]);
  close(ig.adaptiveAvgPool2d(r, [1, 3]), [0.5, 2, 3.5]); // windows [0,2), [1,4), [3,5)
  const two = ig.tensor([2, 4], { dtype: "float64", shape: [1, 1, 1, 2] });
  close(ig.adaptiveAvgPool2d(two, [1, 3]), [2, 3, 4]); // windows [0,1), [0,2), [1,2)
  const x = rnd([2, 3, 4, 6]);
  close(ig.adaptiveAvgPool2d(x, 1), x.mean([2, 3]).toFlatArray());
  close(ig.adaptiveAvgPool2d(x, [2, 3]), ig.avgPool2d(x, 2).toFlatArray());
  assert.deepEqual([...ig.adaptiveAvgPool2d(x.select(0, 0), [null, 2]).shape], [3, 4, 2]);
});

test("pooling reads non-contiguous inputs correctly", () => {
  const x = rnd([2, 5, 6, 3]).permute(0, 3, 1, 2);
  const c = x.contiguous();
  close(ig.maxPool2d(x, 2, { padding: 1 }), ig.maxPool2d(c, 2, { padding: 1 }).toFlatArray(), 0);
  close(ig.avgPool2d(x, 3, { stride: 2 }), ig.avgPool2d(c, 3, { stride: 2 }).toFlatArray(), 0);
  close(ig.adaptiveAvgPool2d(x, [2, 4]), ig.adaptiveAvgPool2d(c, [2, 4]).toFlatArray(), 0);
});

test("error messages name the op and the shapes", () => {
  assert.throws(() => ig.conv2d(ig.zeros([1, 3, 5, 5]), ig.zeros([8, 4, 3, 3])), {
    name: "ShapeError",
    message: "conv2d: input has 3 channels but weight expects 4 (weight [8,4,3,3], groups 1)",
  });
  assert.throws(() => ig.conv2d(ig.zeros([1, 2, 5, 5]), ig.zeros([8, 2, 3, 3]), null, { padding: "full" as "same" }), /conv2d: padding must be/);
  assert.throws(() => ig.avgPool2d(ig.zeros([1, 1, 4, 4]), 2, { divisorOverride: 0 }), /avgPool2d: divisorOverride must be a non-zero integer/);
  assert.throws(() => ig.adaptiveAvgPool2d(ig.zeros([1, 1, 0, 4]), 2), /adaptiveAvgPool2d: the input \[1,1,0,4\] has an empty spatial dim/);
});
