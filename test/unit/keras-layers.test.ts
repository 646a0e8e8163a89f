// ingot.keras layers: each layer's forward against an independent computation written out here
// (plain loops over the weights, Keras' formulas), plus initializers, regularizers and shape errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";

const { keras } = ig;
const F64 = { dtype: "float64" as const };
const vals = (t: Tensor) => Array.from(t.dataSync() as ArrayLike<number>);

/** Deterministic values in [lo, hi) from a private generator. */
function randArr(n: number, seed: number, lo = -1, hi = 1): number[] {
  const g = new ig.Generator(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * g.random());
}
function t64(data: number[], shape: number[]): Tensor {
  return ig.tensor(Float64Array.from(data), { dtype: "float64", shape });
}
function close(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-10): void {
  assert.equal(got.length, want.length, `${what}: length ${got.length} vs ${want.length}`);
  for (let i = 0; i < want.length; i++)
    assert.ok(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])), `${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
}
const sig = (v: number) => 1 / (1 + Math.exp(-v));

// ------------------------------------------------------------------ dense

test("dense: activation(x·kernel + bias) over the last dim, on 2-d and 3-d inputs", () => {
  const layer = keras.dense({ units: 3, activation: "tanh", biasInitializer: keras.initializers.randomNormal({ seed: 5 }), ...F64 });
  const x = randArr(2 * 2 * 4, 1);
  const y = layer.apply(t64(x, [2, 2, 4]));
  assert.deepEqual([...y.shape], [2, 2, 3]);
  const k = vals(layer.kernel!);
  const b = vals(layer.bias!);
  assert.deepEqual([...layer.kernel!.shape], [4, 3], "Keras layout [in, units]");
  const want: number[] = [];
  for (let r = 0; r < 4; r++)
    for (let u = 0; u < 3; u++) {
      let s = b[u];
      for (let i = 0; i < 4; i++) s += x[r * 4 + i] * k[i * 3 + u];
      want.push(Math.tanh(s));
    }
  close("dense", vals(y), want);
  assert.ok(b.some((v) => v !== 0));
});

test("dense: Keras initializers by default (glorotUniform kernel within √(6/(in+out)), zero bias) and useBias false", () => {
  ig.manualSeed(3);
  const layer = keras.dense({ units: 300, inputShape: [200] });
  layer.apply(ig.zeros([1, 200]));
  const k = vals(layer.kernel!);
  const lim = Math.sqrt(6 / 500);
  assert.ok(k.every((v) => Math.abs(v) <= lim));
  const sd = Math.sqrt(k.reduce((a, v) => a + v * v, 0) / k.length);
  assert.ok(Math.abs(sd - lim / Math.sqrt(3)) < 0.02 * lim, `std ${sd}`);
  assert.ok(vals(layer.bias!).every((v) => v === 0));
  const nb = keras.dense({ units: 2, useBias: false });
  nb.apply(ig.ones([1, 3]));
  assert.equal(nb.bias, null);
  assert.equal(nb.countParams(), 6);
});

test("dense: a wrong last dimension names the layer and both shapes", () => {
  const layer = keras.dense({ units: 4, inputShape: [6], name: "hidden" });
  assert.throws(() => layer.apply(ig.zeros([5, 7])), (e: Error) => e instanceof ig.ShapeError && /^hidden: expected input with last dimension 6, got shape \[5,7\]/.test(e.message));
  assert.throws(() => layer.apply(ig.zeros([5, 2, 3])), /hidden: expected input with last dimension 6, got shape \[5,2,3\]; add a flatten\(\) layer or fix inputShape/);
  assert.throws(() => keras.dense({ units: 0 }), /dense: units must be an integer ≥ 1, got 0/);
  assert.throws(() => keras.dense({ units: 2, activation: "nope" as never }), /unknown activation "nope"/);
});

// ------------------------------------------------------------------ conv and pooling

type Pad = "valid" | "same";

/** TensorFlow's output size and leading pad of one dim. */
function geometry(size: number, k: number, s: number, d: number, padding: Pad): [number, number] {
  const span = (k - 1) * d + 1;
  if (padding === "valid") return [Math.floor((size - span) / s) + 1, 0];
  const out = Math.ceil(size / s);
  return [out, Math.floor(Math.max((out - 1) * s + span - size, 0) / 2)];
}

function convRef(x: number[], [N, H, W, C]: number[], k: number[], [KH, KW, , F]: number[], b: number[], [sh, sw]: number[], [dh, dw]: number[], padding: Pad) {
  const [OH, top] = geometry(H, KH, sh, dh, padding);
  const [OW, left] = geometry(W, KW, sw, dw, padding);
  const out: number[] = [];
  for (let n = 0; n < N; n++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++)
        for (let f = 0; f < F; f++) {
          let s = b[f];
          for (let a = 0; a < KH; a++)
            for (let c = 0; c < KW; c++) {
              const r = i * sh + a * dh - top;
              const q = j * sw + c * dw - left;
              if (r < 0 || r >= H || q < 0 || q >= W) continue;
              for (let ch = 0; ch < C; ch++) s += x[((n * H + r) * W + q) * C + ch] * k[((a * KW + c) * C + ch) * F + f];
            }
          out.push(s);
        }
  return { out, shape: [N, OH, OW, F] };
}

for (const [name, opts] of [
  ["valid, stride 1", { kernelSize: 3, padding: "valid" as Pad, strides: 1, dilationRate: 1 }],
  ["same, strides [2, 1], kernel [3, 2]", { kernelSize: [3, 2], padding: "same" as Pad, strides: [2, 1], dilationRate: 1 }],
  ["same, stride 2 (asymmetric padding)", { kernelSize: 2, padding: "same" as Pad, strides: 2, dilationRate: 1 }],
  ["valid, dilation 2", { kernelSize: 2, padding: "valid" as Pad, strides: 1, dilationRate: 2 }],
] as const)
  test(`conv2d (channels-last): ${name}`, () => {
    const shape = [2, 5, 6, 3];
    const x = randArr(2 * 5 * 6 * 3, 11);
    const layer = keras.conv2d({ filters: 4, ...opts, biasInitializer: keras.initializers.randomNormal({ seed: 2 }), ...F64 } as never);
    const y = layer.apply(t64(x, shape));
    const ks = [...layer.kernel!.shape];
    const kh = typeof opts.kernelSize === "number" ? opts.kernelSize : opts.kernelSize[0];
    assert.equal(ks[0], kh);
    assert.deepEqual(ks.slice(2), [3, 4], "kernel [kH, kW, in, filters]");
    const pair = (v: number | readonly number[]) => (typeof v === "number" ? [v, v] : [...v]);
    const ref = convRef(x, shape, vals(layer.kernel!), ks, vals(layer.bias!), pair(opts.strides), pair(opts.dilationRate), opts.padding);
    assert.deepEqual([...y.shape], ref.shape);
    assert.deepEqual(layer.computeOutputShape([null, 5, 6, 3]), [null, ...ref.shape.slice(1)]);
    close("conv2d", vals(y), ref.out);
  });

test("conv2d: input checks name the layer (rank, channels, too small)", () => {
  const c = keras.conv2d({ filters: 2, kernelSize: 3, inputShape: [8, 8, 1], name: "conv" });
  assert.throws(() => c.apply(ig.zeros([2, 8, 8])), { message: /^conv: expected a 4-d input \[batch, height, width, channels\], got shape \[2,8,8\]; add a channels dim/ });
  assert.throws(() => c.apply(ig.zeros([2, 8, 8, 3])), { message: /^conv: expected input with last dimension 1, got shape \[2,8,8,3\]/ });
  const d = keras.conv2d({ filters: 2, kernelSize: 5, name: "big" });
  assert.throws(() => d.apply(ig.zeros([1, 3, 3, 1])), { message: /^big: the input \[1,3,3,1\] is smaller than the window \[5,5\] with padding 'valid'/ });
  assert.throws(() => keras.conv2d({ filters: 2, kernelSize: 3, padding: "full" as never }), /padding must be 'valid' or 'same'/);
});

function poolRef(x: number[], [N, H, W, C]: number[], [ph, pw]: number[], [sh, sw]: number[], padding: Pad, kind: "max" | "avg") {
  const [OH, top] = geometry(H, ph, sh, 1, padding);
  const [OW, left] = geometry(W, pw, sw, 1, padding);
  const out: number[] = [];
  for (let n = 0; n < N; n++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++)
        for (let c = 0; c < C; c++) {
          const seen: number[] = [];
          for (let a = 0; a < ph; a++)
            for (let b = 0; b < pw; b++) {
              const r = i * sh + a - top;
              const q = j * sw + b - left;
              if (r >= 0 && r < H && q >= 0 && q < W) seen.push(x[((n * H + r) * W + q) * C + c]);
            }
          out.push(kind === "max" ? Math.max(...seen) : seen.reduce((s, v) => s + v, 0) / seen.length);
        }
  return { out, shape: [N, OH, OW, C] };
}

for (const kind of ["max", "avg"] as const)
  for (const [name, o] of [
    ["2×2 default", { poolSize: [2, 2], strides: [2, 2], padding: "valid" as Pad, args: {} }],
    ["3×2, strides [2, 1], same", { poolSize: [3, 2], strides: [2, 1], padding: "same" as Pad, args: { poolSize: [3, 2], strides: [2, 1], padding: "same" as Pad } }],
    ["2×2 same on odd sizes", { poolSize: [2, 2], strides: [2, 2], padding: "same" as Pad, args: { padding: "same" as Pad } }],
  ] as const)
    test(`${kind === "max" ? "maxPooling2d" : "averagePooling2d"}: ${name}`, () => {
      const shape = [2, 5, 7, 2];
      const x = randArr(2 * 5 * 7 * 2, 21);
      const layer = kind === "max" ? keras.maxPooling2d(o.args as never) : keras.averagePooling2d(o.args as never);
      const y = layer.apply(t64(x, shape));
      const ref = poolRef(x, shape, [...o.poolSize], [...o.strides], o.padding, kind);
      assert.deepEqual([...y.shape], ref.shape);
      close(kind, vals(y), ref.out);
    });

test("global pooling: mean and max over height and width", () => {
  const x = randArr(2 * 3 * 4 * 5, 4);
  const g = keras.globalAveragePooling2d().apply(t64(x, [2, 3, 4, 5]));
  const m = keras.globalMaxPooling2d().apply(t64(x, [2, 3, 4, 5]));
  const wantAvg: number[] = [];
  const wantMax: number[] = [];
  for (let n = 0; n < 2; n++)
    for (let c = 0; c < 5; c++) {
      const v: number[] = [];
      for (let i = 0; i < 12; i++) v.push(x[(n * 12 + i) * 5 + c]);
      wantAvg.push(v.reduce((a, b) => a + b, 0) / 12);
      wantMax.push(Math.max(...v));
    }
  close("gap", vals(g), wantAvg);
  close("gmp", vals(m), wantMax);
});

// ------------------------------------------------------------------ shape layers, dropout, activations

test("flatten, reshape and rescaling", () => {
  const x = randArr(2 * 3 * 4, 8);
  const f = keras.flatten().apply(t64(x, [2, 3, 4]));
  assert.deepEqual([...f.shape], [2, 12]);
  close("flatten keeps row-major (channels-last) order", vals(f), x);
  const r = keras.reshape({ targetShape: [-1, 2] }).apply(t64(x, [2, 12]));
  assert.deepEqual([...r.shape], [2, 6, 2]);
  assert.throws(() => keras.reshape({ targetShape: [5], name: "rs" }).apply(t64(x, [2, 12])), { message: /^rs: cannot reshape an input of shape \[2,12\] \(12 values per sample\) to \[null,5\]/ });
  const px = ig.tensor([0, 51, 255], { dtype: "int32", shape: [1, 3] });
  const s = keras.rescaling({ scale: 1 / 255, offset: -0.5 }).apply(px);
  assert.equal(s.dtype, "float32");
  close("rescaling", vals(s), [-0.5, 0.2 - 0.5, 0.5], 1e-6);
});

test("dropout: identity in inference; in training zeros about `rate` and scales the rest by 1/(1 − rate)", () => {
  ig.manualSeed(4);
  const d = keras.dropout({ rate: 0.25 });
  const x = ig.add(ig.rand([40, 50]), 1);
  assert.deepEqual(vals(d.apply(x)), vals(x));
  const y = vals(d.apply(x, { training: true }));
  const xv = vals(x);
  let zeros = 0;
  y.forEach((v, i) => {
    if (v === 0) zeros++;
    else assert.ok(Math.abs(v - xv[i] / 0.75) < 1e-5);
  });
  assert.ok(Math.abs(zeros / y.length - 0.25) < 0.03, `zero fraction ${zeros / y.length}`);
  assert.equal(d.training, false, "apply(x, {training}) restores the mode");
  assert.throws(() => keras.dropout({ rate: 1 }), /rate must be in \[0, 1\), got 1/);
});

test("activation layer: every named activation against its formula", () => {
  const xs = [-2.5, -0.3, 0, 0.7, 3];
  const erf = (v: number) => vals(ig.erf(t64([v], [1])))[0];
  const f: Record<string, (v: number) => number> = {
    linear: (v) => v,
    relu: (v) => Math.max(v, 0),
    relu6: (v) => Math.min(Math.max(v, 0), 6),
    elu: (v) => (v > 0 ? v : Math.exp(v) - 1),
    selu: (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.exp(v) - 1)),
    gelu: (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
    swish: (v) => v * sig(v),
    sigmoid: sig,
    tanh: Math.tanh,
    softplus: (v) => Math.log1p(Math.exp(v)),
    softsign: (v) => v / (1 + Math.abs(v)),
    exponential: Math.exp,
  };
  for (const [name, fn] of Object.entries(f)) {
    const y = keras.activation({ activation: name as never }).apply(t64(xs, [1, 5]));
    close(name, vals(y), xs.map(fn), 1e-9);
  }
  const z = Math.log(xs.map(Math.exp).reduce((a, b) => a + b, 0));
  close("softmax", vals(keras.activation({ activation: "softmax" }).apply(t64(xs, [1, 5]))), xs.map((v) => Math.exp(v - z)));
  close("logSoftmax", vals(keras.activation({ activation: "logSoftmax" }).apply(t64(xs, [1, 5]))), xs.map((v) => v - z));
});

// ------------------------------------------------------------------ normalization

test("batchNormalization: batch statistics in training (biased variance, momentum 0.99), moving averages in inference", () => {
  const x = randArr(4 * 2 * 3, 13, -2, 3);
  const bn = keras.batchNormalization({ gammaInitializer: keras.initializers.constant({ value: 1.5 }), betaInitializer: keras.initializers.constant({ value: -0.25 }), ...F64 });
  const yt = vals(bn.apply(t64(x, [4, 2, 3]), { training: true }));
  const mean = [0, 1, 2].map((c) => x.filter((_, i) => i % 3 === c).reduce((a, b) => a + b, 0) / 8);
  const vr = [0, 1, 2].map((c) => x.filter((_, i) => i % 3 === c).reduce((a, b) => a + (b - mean[c]) ** 2, 0) / 8);
  close("train", yt, x.map((v, i) => ((v - mean[i % 3]) / Math.sqrt(vr[i % 3] + 1e-3)) * 1.5 - 0.25));
  const mm = mean.map((m) => 0.01 * m);
  const mv = vr.map((v) => 0.99 + 0.01 * v);
  close("moving mean", vals(bn.movingMean!), mm);
  close("moving variance", vals(bn.movingVariance!), mv);
  const yi = vals(bn.apply(t64(x, [4, 2, 3])));
  close("inference", yi, x.map((v, i) => ((v - mm[i % 3]) / Math.sqrt(mv[i % 3] + 1e-3)) * 1.5 - 0.25));
  assert.equal(bn.countParams(), 12);
  assert.equal(bn.countTrainableParams(), 6, "moving statistics are non-trainable weights");
});

test("batchNormalization: axis 1 normalizes along dim 1; wrong channels name the layer", () => {
  const x = randArr(3 * 2 * 2, 17);
  const bn = keras.batchNormalization({ axis: 1, ...F64, name: "bn" });
  const y = vals(bn.apply(t64(x, [3, 2, 2]), { training: true }));
  const ch = (i: number) => Math.floor(i / 2) % 2;
  const mean = [0, 1].map((c) => x.filter((_, i) => ch(i) === c).reduce((a, b) => a + b, 0) / 6);
  const vr = [0, 1].map((c) => x.filter((_, i) => ch(i) === c).reduce((a, b) => a + (b - mean[c]) ** 2, 0) / 6);
  close("axis 1", y, x.map((v, i) => (v - mean[ch(i)]) / Math.sqrt(vr[ch(i)] + 1e-3)));
  assert.throws(() => bn.apply(t64(randArr(12, 1), [2, 3, 2])), { message: /^bn: expected input with size 2 in dimension 1, got shape \[2,3,2\]/ });
});

test("layerNormalization: each sample over its last axis (epsilon 1e-3)", () => {
  const x = randArr(2 * 4, 19);
  const y = vals(keras.layerNormalization(F64).apply(t64(x, [2, 4])));
  const want: number[] = [];
  for (let r = 0; r < 2; r++) {
    const row = x.slice(r * 4, r * 4 + 4);
    const m = row.reduce((a, b) => a + b, 0) / 4;
    const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / 4;
    want.push(...row.map((q) => (q - m) / Math.sqrt(v + 1e-3)));
  }
  close("layerNormalization", y, want);
});

// ------------------------------------------------------------------ embedding and recurrent

test("embedding: rows of the table, U(−0.05, 0.05) init, float ids truncated, ids out of range name the layer", () => {
  const e = keras.embedding({ inputDim: 5, outputDim: 3, name: "emb" });
  const y = e.apply(ig.tensor([4, 0, 2, 2], { dtype: "int32", shape: [2, 2] }));
  assert.deepEqual([...y.shape], [2, 2, 3]);
  const w = vals(e.embeddings!);
  assert.ok(w.every((v) => Math.abs(v) <= 0.05));
  close("rows", vals(y), [4, 0, 2, 2].flatMap((i) => w.slice(i * 3, i * 3 + 3)), 0);
  close("float ids", vals(e.apply(ig.tensor([[1.0, 3.0]]))), [1, 3].flatMap((i) => w.slice(i * 3, i * 3 + 3)), 0);
  assert.throws(() => e.apply(ig.tensor([[5]], { dtype: "int32" })), { message: /^emb: id 5 is out of range for inputDim 5/ });
});

/** Keras' LSTM written out: z = x·K + h·R + b, gates i, f, c, o. */
function lstmRef(x: number[], [N, T, F]: number[], K: number[], R: number[], b: number[], u: number, backwards = false): number[][] {
  const outs: number[][] = [];
  for (let n = 0; n < N; n++) {
    let h = new Array<number>(u).fill(0);
    let c = new Array<number>(u).fill(0);
    const seq: number[] = [];
    for (let s = 0; s < T; s++) {
      const t = backwards ? T - 1 - s : s;
      const z = new Array<number>(4 * u).fill(0).map((_, j) => {
        let v = b[j];
        for (let i = 0; i < F; i++) v += x[(n * T + t) * F + i] * K[i * 4 * u + j];
        for (let i = 0; i < u; i++) v += h[i] * R[i * 4 * u + j];
        return v;
      });
      c = c.map((cv, j) => sig(z[u + j]) * cv + sig(z[j]) * Math.tanh(z[2 * u + j]));
      h = c.map((cv, j) => sig(z[3 * u + j]) * Math.tanh(cv));
      seq.push(...h);
    }
    outs.push(seq);
  }
  return outs;
}

/** [rows, cols] row-major → its transpose. */
function transpose(a: number[], rows: number, cols: number): number[] {
  return Array.from({ length: rows * cols }, (_, k) => a[(k % rows) * cols + Math.floor(k / rows)]);
}

test("lstm: Keras' equations step by step, returnSequences, goBackwards, Keras initialization", () => {
  ig.manualSeed(7);
  const [N, T, F, u] = [2, 4, 3, 5];
  const x = randArr(N * T * F, 23);
  for (const [returnSequences, goBackwards] of [[false, false], [true, false], [false, true]]) {
    const layer = keras.lstm({ units: u, returnSequences, goBackwards, ...F64 });
    const y = layer.apply(t64(x, [N, T, F]));
    const p = layer.rnn as unknown as Record<string, Tensor>;
    const K = transpose(vals(p.weight_ih_l0), 4 * u, F); // [F, 4u]
    const R = transpose(vals(p.weight_hh_l0), 4 * u, u); // [u, 4u]
    const bih = vals(p.bias_ih_l0);
    const b = bih.map((v, j) => v + vals(p.bias_hh_l0)[j]);
    close("unit forget bias", bih, Array.from({ length: 4 * u }, (_, j) => (j >= u && j < 2 * u ? 1 : 0)), 0);
    // The recurrent kernel [u, 4u] has orthonormal rows (Keras' orthogonal initializer).
    for (let i = 0; i < u; i++)
      for (let j = 0; j < u; j++) {
        let d = 0;
        for (let k = 0; k < 4 * u; k++) d += R[i * 4 * u + k] * R[j * 4 * u + k];
        assert.ok(Math.abs(d - (i === j ? 1 : 0)) < 1e-9);
      }
    const ref = lstmRef(x, [N, T, F], K, R, b, u, goBackwards);
    const want = returnSequences ? ref.flat() : ref.flatMap((seq) => seq.slice(-u));
    assert.deepEqual([...y.shape], returnSequences ? [N, T, u] : [N, u]);
    close(`lstm returnSequences=${returnSequences} goBackwards=${goBackwards}`, vals(y), want);
  }
  assert.throws(() => keras.lstm({ units: 2, name: "rnn" }).apply(ig.zeros([2, 3])), { message: /^rnn: expected a 3-d input \[batch, time, features\], got shape \[2,3\]/ });
});

test("gru: reset gate after the recurrent matmul (Keras' resetAfter), step by step", () => {
  const [N, T, F, u] = [2, 3, 4, 3];
  const x = randArr(N * T * F, 29);
  const layer = keras.gru({ units: u, returnSequences: true, biasInitializer: keras.initializers.randomNormal({ seed: 1, stddev: 0.5 }), ...F64 });
  const y = vals(layer.apply(t64(x, [N, T, F])));
  const p = layer.rnn as unknown as Record<string, Tensor>;
  const [Wi, Wh, bi, bh] = [vals(p.weight_ih_l0), vals(p.weight_hh_l0), vals(p.bias_ih_l0), vals(p.bias_hh_l0)];
  const want: number[] = [];
  for (let n = 0; n < N; n++) {
    let h = new Array<number>(u).fill(0);
    for (let t = 0; t < T; t++) {
      // Rows of the weights: reset r, update z, new n (PyTorch's order).
      const xi = (row: number) => bi[row] + Array.from({ length: F }, (_, i) => Wi[row * F + i] * x[(n * T + t) * F + i]).reduce((a, b) => a + b, 0);
      const hh = (row: number) => bh[row] + Array.from({ length: u }, (_, i) => Wh[row * u + i] * h[i]).reduce((a, b) => a + b, 0);
      h = h.map((hv, j) => {
        const r = sig(xi(j) + hh(j));
        const z = sig(xi(u + j) + hh(u + j));
        const nn = Math.tanh(xi(2 * u + j) + r * hh(2 * u + j));
        return (1 - z) * nn + z * hv;
      });
      want.push(...h);
    }
  }
  close("gru", y, want);
});

// ------------------------------------------------------------------ augmentation

test("randomFlip: each image is either itself or its mirror; inference passes images through", () => {
  const x = t64(randArr(8 * 2 * 3, 31), [8, 2, 3, 1]);
  const flip = keras.randomFlip({ mode: "horizontal", seed: 3 });
  assert.equal(flip.apply(x), x);
  const y = flip.apply(x, { training: true });
  const mirror = vals(ig.flip(x, 2));
  let flipped = 0;
  for (let n = 0; n < 8; n++) {
    const got = vals(y).slice(n * 6, n * 6 + 6);
    const same = got.every((v, i) => v === vals(x)[n * 6 + i]);
    const mir = got.every((v, i) => v === mirror[n * 6 + i]);
    assert.ok(same || mir, `image ${n}`);
    if (mir && !same) flipped++;
  }
  assert.ok(flipped > 0 && flipped < 8, `${flipped} of 8 flipped`);
  // The same seed repeats the same flips.
  assert.deepEqual(vals(keras.randomFlip({ mode: "horizontal", seed: 3 }).apply(x, { training: true })), vals(y));
});

test("randomRotation: a quarter turn counter-clockwise; randomTranslation and fill modes; randomZoom out", () => {
  const img = t64([1, 2, 3, 4], [1, 2, 2, 1]); // [[1, 2], [3, 4]]
  const rot = keras.randomRotation({ factor: [0.25, 0.25], seed: 1 }).apply(img, { training: true });
  close("rotation 90°", vals(rot), [2, 4, 1, 3], 1e-12);
  const row = t64([1, 2, 3, 4], [1, 1, 4, 1]);
  const shift = (fillMode: "reflect" | "wrap" | "nearest" | "constant") =>
    vals(keras.randomTranslation({ heightFactor: 0, widthFactor: [0.25, 0.25], fillMode, fillValue: 9, seed: 1 }).apply(row, { training: true }));
  close("reflect", shift("reflect"), [1, 1, 2, 3], 1e-12);
  close("wrap", shift("wrap"), [4, 1, 2, 3], 1e-12);
  close("nearest", shift("nearest"), [1, 1, 2, 3], 1e-12);
  close("constant", shift("constant"), [9, 1, 2, 3], 1e-12);
  const line = t64([0, 10, 20, 30, 40], [1, 1, 5, 1]);
  // Zoom out 2×: output column x samples input column 2x − 2 (about the centre 2).
  const z = keras.randomZoom({ heightFactor: 0, widthFactor: [1, 1], fillMode: "constant", seed: 1 }).apply(line, { training: true });
  close("zoom", vals(z), [0, 0, 20, 40, 0], 1e-12);
  assert.equal(keras.randomZoom({ heightFactor: 0.2 }).apply(line), line, "inference passes through");
  assert.throws(() => keras.randomRotation({ factor: [0.3, 0.1] }), /factor must be a number f/);
});

test("randomCrop: a random window in training, the centre in inference", () => {
  const x = t64(Array.from({ length: 2 * 4 * 5 }, (_, i) => i), [2, 4, 5, 1]);
  const c = keras.randomCrop({ height: 2, width: 3, seed: 5 });
  const centre = c.apply(x);
  assert.deepEqual([...centre.shape], [2, 2, 3, 1]);
  close("centre", vals(centre), [6, 7, 8, 11, 12, 13, 26, 27, 28, 31, 32, 33], 0);
  const r = vals(c.apply(x, { training: true }));
  for (let n = 0; n < 2; n++) {
    const first = r[n * 6];
    const top = Math.floor((first - n * 20) / 5);
    const left = (first - n * 20) % 5;
    const want = [0, 1].flatMap((i) => [0, 1, 2].map((j) => n * 20 + (top + i) * 5 + left + j));
    close(`window ${n}`, r.slice(n * 6, n * 6 + 6), want, 0);
  }
  assert.throws(() => keras.randomCrop({ height: 5, width: 1, name: "crop" }).apply(x), { message: /^crop: cannot crop 5×1 from images of 4×5/ });
});

// ------------------------------------------------------------------ merge, regularizers, initializers

test("add and concatenate merge the branches of a functional model", () => {
  const a = keras.input({ shape: [3] });
  const b = keras.input({ shape: [2] });
  const cat = keras.concatenate().apply([a, b]);
  const sum = keras.add().apply([a, a]);
  assert.deepEqual(cat.shape, [null, 5]);
  const m = keras.model({ inputs: [a, b], outputs: [cat, sum] });
  const [c, s] = m.predict([ig.tensor([[1, 2, 3]]), ig.tensor([[4, 5]])]) as Tensor[];
  assert.deepEqual(vals(c), [1, 2, 3, 4, 5]);
  assert.deepEqual(vals(s), [2, 4, 6]);
  assert.throws(() => keras.add({ name: "plus" }).apply([a, b]), { message: /^plus: inputs must have the same shape, got \[null,3\] and \[null,2\]/ });
});

test("regularizers: l1, l2 (no ½) and l1l2 penalties, Keras defaults 0.01", () => {
  const w = t64([1, -2, 3], [3]);
  assert.ok(Math.abs(keras.l1({ l1: 0.1 }).apply(w).item() - 0.6) < 1e-12);
  assert.ok(Math.abs(keras.l2().apply(w).item() - 0.14) < 1e-12);
  assert.ok(Math.abs(keras.l1l2({ l1: 0.5, l2: 2 }).apply(w).item() - (3 + 28)) < 1e-12);
  assert.ok(Math.abs(keras.regularizers.l2(0.5).apply(w).item() - 7) < 1e-12);
  assert.throws(() => keras.l2({ l2: -1 }), /l2 must be a number ≥ 0/);
});

test("initializers: fans in Keras' layout, heNormal's variance, orthogonal, zeros/ones/constant", () => {
  assert.deepEqual(keras.initializers.kerasFans([3, 3, 16, 32]), [144, 288]);
  const t = ig.zeros([100, 400], F64);
  keras.initializers.heNormal({ seed: 1 }).init(t);
  const v = vals(t);
  const sd = Math.sqrt(v.reduce((a, b) => a + b * b, 0) / v.length);
  assert.ok(Math.abs(sd - Math.sqrt(2 / 100)) < 0.03 * Math.sqrt(2 / 100), `heNormal std ${sd}`);
  assert.ok(v.every((q) => Math.abs(q) <= 2 * Math.sqrt(2 / 100) / 0.87962566103423978 + 1e-12), "truncated at two std");
  const c = ig.zeros([2, 2]);
  keras.initializers.getInitializer("ones").init(c);
  assert.deepEqual(vals(c), [1, 1, 1, 1]);
  keras.initializers.getInitializer({ className: "Constant", config: { value: 3 } }).init(c);
  assert.deepEqual(vals(c), [3, 3, 3, 3]);
  assert.throws(() => keras.initializers.getInitializer("magic"), /unknown initializer "magic"/);
});
