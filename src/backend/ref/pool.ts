// Reference kernels for maxPool2d, avgPool2d, adaptiveAvgPool2d and their backward primitives.
// Inputs are [N, C, H, W]; each of the N·C planes is pooled on its own; sums accumulate in float64.
import { IndexError, type Tensor } from "../../tensor/index.js";
import type { AvgPool2dAttrs, MaxPool2dAttrs } from "../../ops/pool.js";
import { registerKernel } from "../registry.js";
import { dense } from "./conv.js";

const FLOATS = ["float32", "float64"] as const;

registerKernel("maxPool2d", "ref", ["float32", "float64", "int32"], ([x]: Tensor[], [out, indices]: Tensor[], a: MaxPool2dAttrs) => {
  const [N, C, H, W] = x.shape;
  const [, , Ho, Wo] = out.shape;
  const [kH, kW] = a.kernel;
  const [sh, sw] = a.stride;
  const [ph, pw] = a.padding;
  const [dh, dw] = a.dilation;
  const { d, o } = dense(x);
  const od = out.storage.data;
  const id = indices.storage.data;
  let q = 0;
  for (let plane = 0; plane < N * C; plane++) {
    const base = o + plane * H * W;
    for (let oh = 0; oh < Ho; oh++) {
      const hs = oh * sh - ph;
      for (let ow = 0; ow < Wo; ow++) {
        const ws = ow * sw - pw;
        // Padding acts as −∞. NOTE: like PyTorch, a NaN wins over any number (v !== v).
        let best = -Infinity;
        let bi = -1;
        for (let i = 0; i < kH; i++) {
          const ih = hs + i * dh;
          if (ih < 0 || ih >= H) continue;
          for (let j = 0; j < kW; j++) {
            const iw = ws + j * dw;
            if (iw < 0 || iw >= W) continue;
            const v = d[base + ih * W + iw];
            if (v > best || v !== v) {
              best = v;
              bi = ih * W + iw;
            }
          }
        }
        od[q] = best;
        id[q++] = bi;
      }
    }
  }
});

registerKernel("maxPool2dBackward", "ref", FLOATS, ([g, indices]: Tensor[], [out]: Tensor[], a: { inputShape: number[] }) => {
  const [N, C, H, W] = a.inputShape;
  const n = g.shape[2] * g.shape[3];
  const gd = dense(g);
  const id = dense(indices);
  const od = out.storage.data;
  const acc = new Float64Array(H * W);
  for (let plane = 0; plane < N * C; plane++) {
    acc.fill(0);
    for (let q = plane * n, e = q + n; q < e; q++) {
      const i = id.d[id.o + q];
      if (!(i >= 0 && i < H * W))
        throw new IndexError(`maxPool2dBackward: index ${i} is out of range for an input plane of ${H}x${W}`);
      acc[i] += gd.d[gd.o + q];
    }
    od.set(acc, plane * H * W);
  }
});

/** Pooling windows along one dim: input range [start[o], end[o]) and, for avgPool, the padded span. */
interface Windows {
  start: Int32Array;
  end: Int32Array;
  span: Int32Array;
}

/** avgPool2d's windows (PyTorch: the padded span is clipped at size + padding, the sum at the input). */
function avgWindows(size: number, outSize: number, k: number, s: number, p: number): Windows {
  const w = { start: new Int32Array(outSize), end: new Int32Array(outSize), span: new Int32Array(outSize) };
  for (let o = 0; o < outSize; o++) {
    const st = o * s - p;
    const en = Math.min(st + k, size + p);
    w.span[o] = en - st;
    w.start[o] = Math.max(st, 0);
    w.end[o] = Math.min(en, size);
  }
  return w;
}

/** adaptiveAvgPool2d's windows: floor(o·size/outSize) to ceil((o+1)·size/outSize). */
function adaptiveWindows(size: number, outSize: number): Windows {
  const w = { start: new Int32Array(outSize), end: new Int32Array(outSize), span: new Int32Array(outSize) };
  for (let o = 0; o < outSize; o++) {
    w.start[o] = Math.floor((o * size) / outSize);
    w.end[o] = Math.floor(((o + 1) * size + outSize - 1) / outSize);
    w.span[o] = w.end[o] - w.start[o];
  }
  return w;
}

/** The divisor of each output element. */
function divisors(rows: Windows, cols: Windows, countPad: boolean, override: number | null): Float64Array {
  const Ho = rows.start.length;
  const Wo = cols.start.length;
  const div = new Float64Array(Ho * Wo);
  for (let oh = 0; oh < Ho; oh++)
    for (let ow = 0; ow < Wo; ow++)
      div[oh * Wo + ow] =
        override ??
        (countPad ? rows.span[oh] * cols.span[ow] : (rows.end[oh] - rows.start[oh]) * (cols.end[ow] - cols.start[ow]));
  return div;
}

/** out[plane, oh, ow] = Σ window of x / div. */
function averageForward(x: Tensor, out: Tensor, rows: Windows, cols: Windows, div: Float64Array): void {
  const [N, C, H, W] = x.shape;
  const n = div.length;
  const { d, o } = dense(x);
  const od = out.storage.data;
  for (let plane = 0; plane < N * C; plane++) {
    const base = o + plane * H * W;
    for (let oh = 0, q = 0; oh < rows.start.length; oh++)
      for (let ow = 0; ow < cols.start.length; ow++, q++) {
        let s = 0;
        for (let ih = rows.start[oh]; ih < rows.end[oh]; ih++)
          for (let iw = cols.start[ow], r = base + ih * W; iw < cols.end[ow]; iw++) s += d[r + iw];
        od[plane * n + q] = s / div[q];
      }
  }
}

/** The adjoint: each grad element / div is added to every input element of its window. */
function averageBackward(g: Tensor, out: Tensor, rows: Windows, cols: Windows, div: Float64Array): void {
  const [N, C, H, W] = out.shape;
  const n = div.length;
  const { d, o } = dense(g);
  const od = out.storage.data;
  const acc = new Float64Array(H * W);
  for (let plane = 0; plane < N * C; plane++) {
    acc.fill(0);
    for (let oh = 0, q = 0; oh < rows.start.length; oh++)
      for (let ow = 0; ow < cols.start.length; ow++, q++) {
        const v = d[o + plane * n + q] / div[q];
        for (let ih = rows.start[oh]; ih < rows.end[oh]; ih++)
          for (let iw = cols.start[ow]; iw < cols.end[ow]; iw++) acc[ih * W + iw] += v;
      }
    od.set(acc, plane * H * W);
  }
}

function avgGeometry(inShape: readonly number[], outShape: readonly number[], a: AvgPool2dAttrs) {
  const rows = avgWindows(inShape[2], outShape[2], a.kernel[0], a.stride[0], a.padding[0]);
  const cols = avgWindows(inShape[3], outShape[3], a.kernel[1], a.stride[1], a.padding[1]);
  return { rows, cols, div: divisors(rows, cols, a.countIncludePad, a.divisorOverride) };
}

registerKernel("avgPool2d", "ref", FLOATS, ([x]: Tensor[], [out]: Tensor[], a: AvgPool2dAttrs) => {
  const { rows, cols, div } = avgGeometry(x.shape, out.shape, a);
  averageForward(x, out, rows, cols, div);
});

registerKernel("avgPool2dBackward", "ref", FLOATS, ([g]: Tensor[], [out]: Tensor[], a: AvgPool2dAttrs & { inputShape: number[] }) => {
  const { rows, cols, div } = avgGeometry(a.inputShape, g.shape, a);
  averageBackward(g, out, rows, cols, div);
});

function adaptiveGeometry(inShape: readonly number[], outShape: readonly number[]) {
  const rows = adaptiveWindows(inShape[2], outShape[2]);
  const cols = adaptiveWindows(inShape[3], outShape[3]);
  return { rows, cols, div: divisors(rows, cols, false, null) };
}

registerKernel("adaptiveAvgPool2d", "ref", FLOATS, ([x]: Tensor[], [out]: Tensor[]) => {
  const { rows, cols, div } = adaptiveGeometry(x.shape, out.shape);
  averageForward(x, out, rows, cols, div);
});

registerKernel("adaptiveAvgPool2dBackward", "ref", FLOATS, ([g]: Tensor[], [out]: Tensor[]) => {
  const { rows, cols, div } = adaptiveGeometry(out.shape, g.shape);
  averageBackward(g, out, rows, cols, div);
});
