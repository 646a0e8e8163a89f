// Reference kernels for layerNorm, batchNorm (forward and backward) and dropout. Statistics are
// computed in float64 with two passes (mean, then squared deviations) and rounded once when written.
import type { Generator, Tensor } from "../../tensor/index.js";
import { registerKernel } from "../registry.js";
import { layerNormRows, type LayerNormAttrs } from "../contracts.js";
import { readF64, writeOut } from "./iter.js";

const F = ["float32", "float64"] as const;



// inputs: x, weight?, bias?   outputs: y, mean, rstd (x's leading dims, trailing dims of size 1)
registerKernel("layerNorm", "ref", F, (inputs, [y, meanOut, rstdOut], a: LayerNormAttrs) => {
  const x = readF64(inputs[0]);
  const w = a.hasWeight ? readF64(inputs[1]) : null;
  const b = a.hasBias ? readF64(inputs[a.hasWeight ? 2 : 1]) : null;
  const [rows, n] = layerNormRows(inputs[0], a.normalizedShape);
  const out = new Float64Array(x.length);
  const means = new Float64Array(rows);
  const rstds = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += x[base + j];
    const mu = s / n;
    // NOTE: two passes (Σ(x−μ)²) rather than E[x²]−μ², which cancels catastrophically.
    let ss = 0;
    for (let j = 0; j < n; j++) ss += (x[base + j] - mu) ** 2;
    const rstd = 1 / Math.sqrt(ss / n + a.eps);
    means[r] = mu;
    rstds[r] = rstd;
    for (let j = 0; j < n; j++) {
      let v = (x[base + j] - mu) * rstd;
      if (w) v *= w[j];
      if (b) v += b[j];
      out[base + j] = v;
    }
  }
  writeOut(y, out);
  writeOut(meanOut, means);
  writeOut(rstdOut, rstds);
});

// inputs: g, x, mean, rstd, weight?   outputs: dx, dweight, dbias (the last two of normalizedShape)
registerKernel("layerNormBackward", "ref", F, (inputs, [dxOut, dwOut, dbOut], a: { normalizedShape: number[]; hasWeight: boolean }) => {
  const [g, x, mean, rstd] = inputs.slice(0, 4).map(readF64);
  const w = a.hasWeight ? readF64(inputs[4]) : null;
  const [rows, n] = layerNormRows(inputs[1], a.normalizedShape);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(n);
  const db = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    const mu = mean[r];
    const rs = rstd[r];
    // dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·w and x̂ = (x − μ)·rstd.
    let sg = 0;
    let sgx = 0;
    for (let j = 0; j < n; j++) {
      const xh = (x[base + j] - mu) * rs;
      const gj = g[base + j];
      const gh = w ? gj * w[j] : gj;
      sg += gh;
      sgx += gh * xh;
      dw[j] += gj * xh;
      db[j] += gj;
    }
    for (let j = 0; j < n; j++) {
      const xh = (x[base + j] - mu) * rs;
      const gh = w ? g[base + j] * w[j] : g[base + j];
      dx[base + j] = rs * (gh - sg / n - (xh * sgx) / n);
    }
  }
  writeOut(dxOut, dx);
  writeOut(dwOut, dw);
  writeOut(dbOut, db);
});

interface BatchNormAttrs {
  training: boolean;
  eps: number;
  hasWeight: boolean;
  hasBias: boolean;
}

/** [N, C, S] view of an input shaped [N, C, *]: batch, channels, spatial size. */
function ncs(x: Tensor): [number, number, number] {
  const [n, c] = x.shape;
  const s = x.shape.slice(2).reduce((p, d) => p * d, 1);
  return [n, c, s];
}

// inputs: x, weight?, bias?, then runningMean, runningVar in eval mode only.
// outputs: y, mean [C], rstd [C] (the batch statistics in training, the running ones in eval).
registerKernel("batchNorm", "ref", F, (inputs, [yOut, meanOut, rstdOut], a: BatchNormAttrs) => {
  const x = readF64(inputs[0]);
  let k = 1;
  const w = a.hasWeight ? readF64(inputs[k++]) : null;
  const b = a.hasBias ? readF64(inputs[k++]) : null;
  const [N, C, S] = ncs(inputs[0]);
  const mean = new Float64Array(C);
  const rstd = new Float64Array(C);
  if (a.training) {
    const cnt = N * S;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let n = 0; n < N; n++) for (let i = (n * C + c) * S, e = i + S; i < e; i++) s += x[i];
      const mu = s / cnt;
      let ss = 0;
      for (let n = 0; n < N; n++) for (let i = (n * C + c) * S, e = i + S; i < e; i++) ss += (x[i] - mu) ** 2;
      mean[c] = mu;
      rstd[c] = 1 / Math.sqrt(ss / cnt + a.eps);
    }
  } else {
    const rm = readF64(inputs[k]);
    const rv = readF64(inputs[k + 1]);
    for (let c = 0; c < C; c++) {
      mean[c] = rm[c];
      rstd[c] = 1 / Math.sqrt(rv[c] + a.eps);
    }
  }
  const y = new Float64Array(x.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const scale = rstd[c] * (w ? w[c] : 1);
      const shift = b ? b[c] : 0;
      for (let i = (n * C + c) * S, e = i + S; i < e; i++) y[i] = (x[i] - mean[c]) * scale + shift;
    }
  writeOut(yOut, y);
  writeOut(meanOut, mean);
  writeOut(rstdOut, rstd);
});

// inputs: g, x, mean, rstd, weight?   outputs: dx, dweight [C], dbias [C].
// In training the statistics depend on x, which adds the two mean terms to dx; in eval they are constants.
registerKernel("batchNormBackward", "ref", F, (inputs, [dxOut, dwOut, dbOut], a: { training: boolean; hasWeight: boolean }) => {
  const [g, x, mean, rstd] = inputs.slice(0, 4).map(readF64);
  const w = a.hasWeight ? readF64(inputs[4]) : null;
  const [N, C, S] = ncs(inputs[1]);
  const cnt = N * S;
  const dw = new Float64Array(C);
  const db = new Float64Array(C);
  for (let c = 0; c < C; c++)
    for (let n = 0; n < N; n++)
      for (let i = (n * C + c) * S, e = i + S; i < e; i++) {
        db[c] += g[i];
        dw[c] += g[i] * (x[i] - mean[c]) * rstd[c];
      }
  const dx = new Float64Array(x.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const k = rstd[c] * (w ? w[c] : 1);
      for (let i = (n * C + c) * S, e = i + S; i < e; i++) {
        if (!a.training) dx[i] = k * g[i];
        else dx[i] = k * (g[i] - db[c] / cnt - ((x[i] - mean[c]) * rstd[c] * dw[c]) / cnt);
      }
    }
  writeOut(dxOut, dx);
  writeOut(dwOut, dw);
  writeOut(dbOut, db);
});

// Inverted dropout. inputs: x   outputs: y, keep mask (bool). One uniform draw per element, row-major.
registerKernel("dropout", "ref", F, ([xIn], [yOut, maskOut], a: { p: number; generator: Generator }) => {
  const x = readF64(xIn);
  const y = yOut.storage.data;
  const m = maskOut.storage.data;
  const scale = 1 / (1 - a.p);
  for (let i = 0; i < x.length; i++) {
    const keep = a.generator.random() >= a.p;
    m[i] = keep ? 1 : 0;
    y[i] = keep ? x[i] * scale : 0;
  }
});
