// The TensorFlow.js peer of the Ingot benchmarks: one workload on one tfjs backend ("wasm": XNNPACK
// with SIMD; "cpu": plain JavaScript), printing one JSON line.
//   node tfjs_peer.mjs sgemm '{"n": 512, "backend": "wasm"}'
//   node tfjs_peer.mjs mlp '{"dir": "...", "batch": 128, "backend": "wasm", "validateSteps": 3}'
//   node tfjs_peer.mjs cnn '{"dir": "...", "batch": 32, "backend": "cpu", "validateSteps": 1}'
// mlp and cnn start from the weights and data Ingot wrote to `dir`, converted to tfjs layouts
// (dense kernels [in, out], NHWC images, HWIO filters), so the first losses can be compared.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";

/** Same rule as bench/common.ts: the fastest of several windows, and the median. */
function measure(fn, { windows = 8, windowS = 0.25, warmup = 3 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const per = [];
  for (let w = 0; w < windows; w++) {
    const t0 = performance.now();
    let n = 0;
    do {
      fn();
      n++;
    } while (performance.now() - t0 < windowS * 1000);
    per.push((performance.now() - t0) / 1000 / n);
  }
  per.sort((a, b) => a - b);
  return { best: per[0], median: per[Math.floor(per.length / 2)] };
}

function load(dir) {
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
  const out = {};
  for (const [name, t] of Object.entries(meta)) {
    const buf = readFileSync(join(dir, t.file));
    const data = t.dtype === "float32" ? new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4) : new Int32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    out[name] = tf.tensor(data.slice(), t.shape, t.dtype);
  }
  return out;
}

/** Trains with tf.train.adam (PyTorch's formula) on softmax cross-entropy averaged over the batch. */
function train(vars, forward, x, y, spec) {
  const labels = tf.oneHot(y, 10).toFloat();
  const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  const loss = () => tf.losses.softmaxCrossEntropy(labels, forward(x));
  const step = () => {
    const l = opt.minimize(loss, true, vars);
    const v = l.dataSync()[0];
    l.dispose();
    return v;
  };
  const losses = [];
  for (let i = 0; i < (spec.validateSteps ?? 3); i++) losses.push(step());
  if (spec.validateOnly) return { losses };
  const t = measure(step, { windows: spec.windows ?? 8, windowS: spec.windowS ?? 0.25, warmup: spec.warmup ?? 3 });
  const b = x.shape[0];
  return { samplesPerSec: b / t.best, medianSamplesPerSec: b / t.median, losses };
}

function mlp(spec) {
  const t = load(spec.dir);
  const v = [tf.variable(t.w1.transpose()), tf.variable(t.b1), tf.variable(t.w2.transpose()), tf.variable(t.b2)];
  const forward = (x) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, v[0]), v[1])), v[2]), v[3]);
  return train(v, forward, t.x, t.y, spec);
}

function cnn(spec) {
  const t = load(spec.dir);
  const filter = (w) => tf.variable(w.transpose([2, 3, 1, 0])); // [O, I, kh, kw] → [kh, kw, I, O]
  // Ingot/PyTorch flatten [C, H, W]; tfjs flattens [H, W, C]: permute the first dense kernel's rows.
  const dense1 = tf.variable(t.w4.reshape([64, 64, 4, 4]).transpose([2, 3, 1, 0]).reshape([1024, 64]));
  const v = [filter(t.w1), tf.variable(t.b1), filter(t.w2), tf.variable(t.b2), filter(t.w3), tf.variable(t.b3), dense1, tf.variable(t.b4), tf.variable(t.w5.transpose()), tf.variable(t.b5)];
  const conv = (h, w, b) => tf.relu(tf.add(tf.conv2d(h, w, 1, "valid"), b));
  const pool = (h) => tf.maxPool(h, 2, 2, "valid");
  const forward = (x) => {
    let h = pool(conv(x, v[0], v[1]));
    h = pool(conv(h, v[2], v[3]));
    h = conv(h, v[4], v[5]).reshape([x.shape[0], 1024]);
    return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(h, v[6]), v[7])), v[8]), v[9]);
  };
  return train(v, forward, t.x.transpose([0, 2, 3, 1]), t.y, spec);
}

function sgemm(spec) {
  const n = spec.n;
  const a = tf.randomUniform([n, n], -1, 1, "float32", 1);
  const b = tf.randomUniform([n, n], -1, 1, "float32", 2);
  const c = tf.matMul(a, b);
  const [av, bv, cv] = [a.dataSync(), b.dataSync(), c.dataSync()];
  for (let t = 0; t < 50; t++) {
    const i = (t * 7919) % n;
    const j = (t * 104729) % n;
    let s = 0;
    for (let k = 0; k < n; k++) s += av[i * n + k] * bv[k * n + j];
    if (Math.abs(cv[i * n + j] - s) > 1e-4 * Math.sqrt(n)) throw new Error(`sgemm ${n}: C[${i},${j}] = ${cv[i * n + j]}, float64 says ${s}`);
  }
  const t = measure(
    () => {
      const r = tf.matMul(a, b);
      r.dataSync();
      r.dispose();
    },
    { windows: n >= 2048 ? 3 : 6, windowS: n >= 1024 ? 0.6 : 0.25, warmup: 1 },
  );
  return { gflops: (2 * n ** 3) / t.best / 1e9, medianGflops: (2 * n ** 3) / t.median / 1e9 };
}

const [workload, specJson] = process.argv.slice(2);
const spec = JSON.parse(specJson);
if (!(await tf.setBackend(spec.backend))) throw new Error(`tfjs backend ${spec.backend} did not initialize`);
await tf.ready();
const out = { sgemm, mlp, cnn }[workload](spec);
console.log(JSON.stringify({ ...out, backend: tf.getBackend(), version: tf.version.tfjs }));
