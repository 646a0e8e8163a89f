// Recurrent layers (src/nn/rnn.ts): RNN, LSTM, GRU and their cells against PyTorch's numbers
// (test/golden/nn_fixtures.json from make_nn_fixtures.py), plus init, errors, dropout and dtypes.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { Tensor } from "../../src/index.js";
import { GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell, type RNNBase } from "../../src/nn/rnn.js";
import { type FixtureRun as Run, fixtureTests } from "./helpers.js";

const F64 = { dtype: "float64" as const };
const vals = (t: Tensor) => Array.from(t.to("float64").dataSync() as Float64Array);

function assertClose(a: Tensor, b: Tensor, tol = 1e-12, what = "values"): void {
  assert.deepEqual([...a.shape], [...b.shape], `${what}: shape`);
  const x = vals(a);
  const y = vals(b);
  x.forEach((v, i) => assert.ok(Math.abs(v - y[i]) <= tol, `${what}: element ${i}: ${v} vs ${y[i]}`));
}

// ---------------------------------------------------------------- against PyTorch

const layerRun =
  (m: RNNBase): Run =>
  (xs): Record<string, Tensor | null> => {
    if (m instanceof LSTM) {
      const [out, [h, c]] = m.call(xs.input, xs.h0 ? [xs.h0, xs.c0] : null);
      return { output: out, hN: h, cN: c };
    }
    const [out, h] = (m as RNN | GRU).call(xs.input, xs.h0 ?? null);
    return { output: out, hN: h };
  };
const cellRun =
  (m: RNNCell | LSTMCell | GRUCell): Run =>
  (xs): Record<string, Tensor | null> => {
    if (m instanceof LSTMCell) {
      const [h, c] = m.call(xs.input, xs.h0 ? [xs.h0, xs.c0] : null);
      return { h, c };
    }
    return { h: m.call(xs.input, xs.h0 ?? null) };
  };

const builders: Record<string, () => [ig.nn.Module, Run]> = {
  lstmBi2BatchFirstH0: () => {
    const m = new LSTM(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true, dropout: 0.3, ...F64 });
    return [m, layerRun(m)];
  },
  lstmSeqFirst: () => {
    const m = new LSTM(3, 5, F64);
    return [m, layerRun(m)];
  },
  lstmNoBiasUnbatched: () => {
    const m = new LSTM(2, 3, { bias: false, ...F64 });
    return [m, layerRun(m)];
  },
  lstmProj2Layers: () => {
    const m = new LSTM(3, 5, { numLayers: 2, projSize: 2, bidirectional: true, ...F64 });
    return [m, layerRun(m)];
  },
  gruBi2H0: () => {
    const m = new GRU(3, 4, { numLayers: 2, bidirectional: true, ...F64 });
    return [m, layerRun(m)];
  },
  gruBatchFirst: () => {
    const m = new GRU(3, 4, { batchFirst: true, ...F64 });
    return [m, layerRun(m)];
  },
  rnnRelu2Layers: () => {
    const m = new RNN(3, 4, { numLayers: 2, nonlinearity: "relu", ...F64 });
    return [m, layerRun(m)];
  },
  rnnTanhBiBatchFirstNoBias: () => {
    const m = new RNN(2, 3, { bidirectional: true, batchFirst: true, bias: false, ...F64 });
    return [m, layerRun(m)];
  },
  rnnTanhUnbatched: () => {
    const m = new RNN(2, 3, F64);
    return [m, layerRun(m)];
  },
  rnnCellTanh: () => {
    const m = new RNNCell(3, 4, F64);
    return [m, cellRun(m)];
  },
  rnnCellReluNoBias: () => {
    const m = new RNNCell(3, 4, { bias: false, nonlinearity: "relu", ...F64 });
    return [m, cellRun(m)];
  },
  lstmCell: () => {
    const m = new LSTMCell(3, 4, F64);
    return [m, cellRun(m)];
  },
  lstmCellUnbatchedNoState: () => {
    const m = new LSTMCell(3, 2, F64);
    return [m, cellRun(m)];
  },
  gruCell: () => {
    const m = new GRUCell(3, 4, F64);
    return [m, cellRun(m)];
  },
  gruCellUnbatchedNoBias: () => {
    const m = new GRUCell(2, 3, { bias: false, ...F64 });
    return [m, cellRun(m)];
  },
};

fixtureTests("recurrent", builders, (k) => /^(lstm|gru|rnn)/.test(k));

// ---------------------------------------------------------------- parameters and init

test("LSTM parameters follow PyTorch's names, order and shapes", () => {
  const m = new LSTM(3, 4, { numLayers: 2, bidirectional: true, projSize: 2 });
  const shapes = Object.fromEntries(m.namedParameters().map(([k, p]) => [k, [...p.shape]]));
  assert.deepEqual(Object.keys(shapes).slice(0, 10), [
    "weight_ih_l0",
    "weight_hh_l0",
    "bias_ih_l0",
    "bias_hh_l0",
    "weight_hr_l0",
    "weight_ih_l0_reverse",
    "weight_hh_l0_reverse",
    "bias_ih_l0_reverse",
    "bias_hh_l0_reverse",
    "weight_hr_l0_reverse",
  ]);
  assert.deepEqual(shapes.weight_ih_l0, [16, 3]);
  assert.deepEqual(shapes.weight_hh_l0, [16, 2]);
  assert.deepEqual(shapes.weight_hr_l0, [2, 4]);
  assert.deepEqual(shapes.weight_ih_l1, [16, 4]); // both directions' projected outputs
  assert.equal(m.allWeights.length, 4);
  assert.equal(m.allWeights[3][0], (m as unknown as Record<string, Tensor>).weight_ih_l1_reverse);
});

test("init: every weight in U(−1/√hidden, 1/√hidden), repeatable with manualSeed", () => {
  ig.manualSeed(7);
  const a = new GRU(5, 9, { numLayers: 2 });
  ig.manualSeed(7);
  const b = new GRU(5, 9, { numLayers: 2 });
  const bound = 1 / 3;
  let spread = 0;
  for (const [k, p] of a.namedParameters()) {
    const v = vals(p);
    assert.ok(v.every((x) => Math.abs(x) <= bound), `${k} outside ±1/3`);
    spread = Math.max(spread, ...v.map(Math.abs));
    assert.deepEqual(v, vals((b as unknown as Record<string, Tensor>)[k]), `${k} repeats with the seed`);
  }
  assert.ok(spread > 0.3, "the draws fill the range");
  const cell = new LSTMCell(2, 16);
  assert.ok(cell.parameters().every((p) => vals(p).every((x) => Math.abs(x) <= 0.25)));
});

// ---------------------------------------------------------------- semantics beyond the fixtures

test("a one-layer RNN over one step equals its cell with the same weights", () => {
  ig.manualSeed(3);
  for (const [Layer, Cell] of [
    [LSTM, LSTMCell],
    [GRU, GRUCell],
    [RNN, RNNCell],
  ] as const) {
    const layer = new Layer(3, 4, F64);
    const cell = new Cell(3, 4, F64);
    cell.loadStateDict(Object.fromEntries(Object.entries(layer.stateDict()).map(([k, v]) => [k.replace("_l0", ""), v])));
    const x = ig.randn([1, 2, 3], F64);
    const h = ig.randn([1, 2, 4], F64);
    if (layer instanceof LSTM) {
      const c = ig.randn([1, 2, 4], F64);
      const [, [hN, cN]] = layer.call(x, [h, c]);
      const [h1, c1] = (cell as LSTMCell).call(x.select(0, 0), [h.select(0, 0), c.select(0, 0)]);
      assertClose(hN.select(0, 0), h1);
      assertClose(cN.select(0, 0), c1);
    } else {
      const [, hN] = (layer as GRU).call(x, h);
      assertClose(hN.select(0, 0), (cell as GRUCell).call(x.select(0, 0), h.select(0, 0)));
    }
  }
});

test("the last step's output is hN, and the reverse direction's first output is its hN", () => {
  ig.manualSeed(4);
  const m = new GRU(2, 3, { bidirectional: true, ...F64 });
  const [out, hN] = m.call(ig.randn([5, 2, 2], F64)); // out (T, N, 2·H)
  assertClose(out.select(0, 4).slice(1, 0, 3), hN.select(0, 0));
  assertClose(out.select(0, 0).slice(1, 3, 6), hN.select(0, 1));
});

test("dropout acts between layers in training only, never after the last layer", () => {
  ig.manualSeed(5);
  const x = ig.randn([4, 2, 3], F64);
  const two = new LSTM(3, 6, { numLayers: 2, dropout: 0.5, ...F64 });
  const evalOut = two.eval().call(x)[0];
  assertClose(two.call(x)[0], evalOut, 0, "eval is deterministic");
  const trainOut = two.train().call(x)[0];
  assert.ok(vals(trainOut).some((v, i) => Math.abs(v - vals(evalOut)[i]) > 1e-6), "training output differs");
  const one = new LSTM(3, 6, { dropout: 0.5, ...F64 });
  assertClose(one.train().call(x)[0], one.eval().call(x)[0], 0, "one layer: nothing to drop");
});

test("float32 by default, and float32 agrees with float64", () => {
  ig.manualSeed(6);
  const m = new LSTM(3, 4, { numLayers: 2, batchFirst: true });
  const x = ig.randn([2, 3, 3]);
  const [out32] = m.call(x);
  assert.equal(out32.dtype, "float32");
  const [out64] = m.double().call(x.to("float64"));
  assertClose(out32, out64, 1e-5);
});

test("batchFirst transposes input and output only, not the states", () => {
  ig.manualSeed(8);
  const a = new RNN(3, 4, { numLayers: 2, ...F64 });
  const b = new RNN(3, 4, { numLayers: 2, batchFirst: true, ...F64 });
  b.loadStateDict(a.stateDict());
  const x = ig.randn([5, 2, 3], F64);
  const h0 = ig.randn([2, 2, 4], F64);
  const [oa, ha] = a.call(x, h0);
  const [ob, hb] = b.call(x.transpose(0, 1), h0);
  assertClose(ob.transpose(0, 1), oa);
  assertClose(hb, ha);
});

// ---------------------------------------------------------------- errors

test("errors name the layer, the shapes and what was expected", () => {
  const lstm = new LSTM(3, 4, { numLayers: 2 });
  assert.throws(() => lstm.call(ig.randn([5, 2, 4])), { name: "ShapeError", message: /^LSTM: input \[5,2,4\] has 4 features in its last dim, expected inputSize = 3/ });
  assert.throws(() => lstm.call(ig.randn([1, 5, 2, 3])), { name: "ShapeError", message: /^LSTM: expected a 3-d input \[time, batch, inputSize\]/ });
  assert.throws(() => lstm.call(ig.randn([5, 2, 3]), [ig.zeros([1, 2, 4]), ig.zeros([2, 2, 4])]), {
    name: "ShapeError",
    message: /^LSTM: h0 must be \[2,2,4\] .* got \[1,2,4\]/,
  });
  assert.throws(() => lstm.call(ig.randn([5, 2, 3]), [ig.zeros([2, 2, 4]), ig.zeros([2, 3, 4])]), { name: "ShapeError", message: /^LSTM: c0 must be \[2,2,4\]/ });
  assert.throws(() => lstm.call(ig.randn([5, 3]), [ig.zeros([2, 1, 4]), ig.zeros([2, 1, 4])]), { name: "ShapeError", message: /^LSTM: h0 must be \[2,4\]/ });
  assert.throws(() => lstm.call(ig.randn([0, 2, 3])), { name: "ShapeError", message: /^LSTM: input \[0,2,3\] has no time steps/ });
  assert.throws(() => lstm.call(ig.randn([5, 2, 3], F64)), { name: "DTypeError", message: /^LSTM: input has dtype float64 but the parameters are float32/ });
  assert.throws(() => lstm.call(ig.randn([5, 2, 3]), ig.zeros([2, 2, 4]) as never), { name: "ValueError", message: /^LSTM: the initial state must be a pair \[h0, c0\]/ });
  assert.throws(() => new GRU(3, 4, { batchFirst: true }).call(ig.randn([2, 5, 3]), ig.zeros([1, 5, 4])), { name: "ShapeError", message: /^GRU: h0 must be \[1,2,4\]/ });
  assert.throws(() => new RNN(3, 4, { nonlinearity: "sigmoid" as never }), { name: "ValueError", message: /^RNN: unknown nonlinearity 'sigmoid'; expected 'tanh' or 'relu'/ });
  assert.throws(() => new LSTM(3, 4, { projSize: 4 }), { name: "ValueError", message: /^LSTM: projSize \(4\) must be smaller than hiddenSize \(4\)/ });
  assert.throws(() => new GRU(3, 0), { name: "ValueError", message: /^GRU: hiddenSize must be an integer ≥ 1, got 0/ });
  assert.throws(() => new RNN(3, 4, { numLayers: 0 }), { name: "ValueError", message: /^RNN: numLayers must be an integer ≥ 1/ });
  assert.throws(() => new GRU(3, 4, { dropout: 1.5 }), { name: "ValueError", message: /^GRU: dropout must be in \[0, 1\], got 1.5/ });
  const cell = new GRUCell(3, 4);
  assert.throws(() => cell.call(ig.randn([2, 5])), { name: "ShapeError", message: /^GRUCell: input \[2,5\] has 5 features in its last dim, expected inputSize = 3/ });
  assert.throws(() => cell.call(ig.randn([2, 3]), ig.zeros([3, 4])), { name: "ShapeError", message: /^GRUCell: h must be \[2,4\] for input \[2,3\], got \[3,4\]/ });
  assert.throws(() => cell.call(ig.randn([1, 2, 3])), { name: "ShapeError", message: /^GRUCell: expected a 2-d input \[batch, inputSize\] or a 1-d unbatched/ });
});

test("toString shows the hyper-parameters", () => {
  assert.equal(new LSTM(3, 4, { numLayers: 2, batchFirst: true, bidirectional: true }).toString(), "LSTM(3, 4, numLayers=2, batchFirst=true, bidirectional=true)");
  assert.equal(new GRUCell(2, 5, { bias: false }).toString(), "GRUCell(2, 5, bias=false)");
});
