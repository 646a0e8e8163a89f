// Reference kernels for conv2d, conv2dGradInput and conv2dGradWeight, written as im2col plus
// matrix loops over Float64Arrays (small CNNs train on these when the native backend is absent).
import type { Tensor } from "../../tensor/index.js";
import type { Conv2dAttrs, Conv2dGradInputAttrs, Conv2dGradWeightAttrs } from "../../ops/conv.js";
import { registerKernel } from "../registry.js";
import { readF64 } from "./iter.js";

const FLOATS = ["float32", "float64"] as const;

/** Values of t in row-major order from position `o`: the storage itself when contiguous, else a copy. */
export function dense(t: Tensor): { d: ArrayLike<number>; o: number } {
  return t.isContiguous() ? { d: t.storage.data, o: t.offset } : { d: readF64(t), o: 0 };
}

/**
 * For each kernel tap k along one dim: the output positions [lo[k], hi[k]) whose input position
 * o·stride + k·dilation − padLo falls inside [0, inSize). Hoisting this out of the inner loops
 * leaves them free of bounds checks.
 */
function taps(kSize: number, stride: number, dilation: number, padLo: number, inSize: number, outSize: number): { lo: Int32Array; hi: Int32Array } {
  const lo = new Int32Array(kSize);
  const hi = new Int32Array(kSize);
  for (let k = 0; k < kSize; k++) {
    const c = k * dilation - padLo;
    lo[k] = Math.max(0, Math.ceil(-c / stride));
    hi[k] = Math.max(lo[k], Math.min(outSize, Math.floor((inSize - 1 - c) / stride) + 1));
  }
  return { lo, hi };
}

type Geometry = ReturnType<typeof geometry>;

/** The loop geometry shared by the three kernels. x is [N, C, H, W], w [O, Cg, kH, kW], y [N, O, Ho, Wo]. */
function geometry(xShape: readonly number[], wShape: readonly number[], yShape: readonly number[], a: Conv2dAttrs) {
  const [N, C, H, W] = xShape;
  const [O, Cg, kH, kW] = wShape;
  const [, , Ho, Wo] = yShape;
  return {
    N, C, H, W, O, Cg, kH, kW, Ho, Wo,
    sh: a.stride[0], sw: a.stride[1], dh: a.dilation[0], dw: a.dilation[1], pt: a.padding[0], pl: a.padding[2],
    G: a.groups,
    Og: O / a.groups,
    /** Rows of the column matrix: one per (input channel of a group, kh, kw). */
    K: Cg * kH * kW,
    /** Columns: one per output position. */
    P: Ho * Wo,
    rows: taps(kH, a.stride[0], a.dilation[0], a.padding[0], H, Ho),
    cols: taps(kW, a.stride[1], a.dilation[1], a.padding[2], W, Wo),
  };
}

/** Plain float64 copy of a tensor's values in row-major order (monomorphic inner loops). */
function f64(t: Tensor): Float64Array {
  return t.dtype === "float64" && t.isContiguous() && t.offset === 0 && t.storage.data.length === t.size ? (t.storage.data as Float64Array) : readF64(t);
}

/**
 * im2col (add = false) fills col[r·P + p] = x[c0 + c, ih, iw] for r = (c, kh, kw), p = (oh, ow),
 * zero where the tap lands in the padding. col2im (add = true) is its adjoint: x[…] += col[…].
 */
function im2col(x: Float64Array, base: number, g: Geometry, col: Float64Array, add: boolean): void {
  const { H, W, Wo, P, sh, sw, dh, dw, pt, pl, rows, cols } = g;
  if (!add) col.fill(0);
  let r = 0;
  for (let c = 0; c < g.Cg; c++) {
    const plane = base + c * H * W;
    for (let kh = 0; kh < g.kH; kh++) {
      const ihOff = kh * dh - pt;
      const ohLo = rows.lo[kh];
      const ohHi = rows.hi[kh];
      for (let kw = 0; kw < g.kW; kw++, r++) {
        const iwOff = kw * dw - pl;
        const owLo = cols.lo[kw];
        const owHi = cols.hi[kw];
        for (let oh = ohLo; oh < ohHi; oh++) {
          const src = plane + (oh * sh + ihOff) * W + iwOff;
          const dst = r * P + oh * Wo;
          if (add) for (let ow = owLo; ow < owHi; ow++) x[src + ow * sw] += col[dst + ow];
          else for (let ow = owLo; ow < owHi; ow++) col[dst + ow] = x[src + ow * sw];
        }
      }
    }
  }
}

/**
 * c[i·P + p] += Σ_j a[aOff + i·ars + j·acs] · b[bOff + j·P + p] for i < I, j < J, p < P. Four rows
 * of c at a time, so each b element loaded serves four multiply-adds (about twice as fast in V8).
 */
function matmulAdd(c: Float64Array, I: number, J: number, P: number, a: Float64Array, aOff: number, ars: number, acs: number, b: Float64Array, bOff: number): void {
  let i = 0;
  for (; i + 4 <= I; i += 4) {
    const c0 = i * P;
    const c1 = c0 + P;
    const c2 = c1 + P;
    const c3 = c2 + P;
    for (let j = 0; j < J; j++) {
      const aj = aOff + i * ars + j * acs;
      const a0 = a[aj];
      const a1 = a[aj + ars];
      const a2 = a[aj + 2 * ars];
      const a3 = a[aj + 3 * ars];
      const br = bOff + j * P;
      for (let p = 0; p < P; p++) {
        const v = b[br + p];
        c[c0 + p] += a0 * v;
        c[c1 + p] += a1 * v;
        c[c2 + p] += a2 * v;
        c[c3 + p] += a3 * v;
      }
    }
  }
  for (; i < I; i++) {
    const c0 = i * P;
    for (let j = 0; j < J; j++) {
      const a0 = a[aOff + i * ars + j * acs];
      const br = bOff + j * P;
      for (let p = 0; p < P; p++) c[c0 + p] += a0 * b[br + p];
    }
  }
}

/** c[cOff + i·K + k] += Σ_p a[aOff + i·P + p] · b[k·P + p] (dot products), four k at a time. */
function matmulAddBt(c: Float64Array, cOff: number, I: number, K: number, P: number, a: Float64Array, aOff: number, b: Float64Array): void {
  for (let i = 0; i < I; i++) {
    const ar = aOff + i * P;
    const cr = cOff + i * K;
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      const b0 = k * P;
      const b1 = b0 + P;
      const b2 = b1 + P;
      const b3 = b2 + P;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let p = 0; p < P; p++) {
        const v = a[ar + p];
        s0 += v * b[b0 + p];
        s1 += v * b[b1 + p];
        s2 += v * b[b2 + p];
        s3 += v * b[b3 + p];
      }
      c[cr + k] += s0;
      c[cr + k + 1] += s1;
      c[cr + k + 2] += s2;
      c[cr + k + 3] += s3;
    }
    for (; k < K; k++) {
      const b0 = k * P;
      let s = 0;
      for (let p = 0; p < P; p++) s += a[ar + p] * b[b0 + p];
      c[cr + k] += s;
    }
  }
}

registerKernel("conv2d", "ref", FLOATS, (inputs: Tensor[], [out]: Tensor[], a: Conv2dAttrs) => {
  const [xt, wt, bt] = inputs;
  const g = geometry(xt.shape, wt.shape, out.shape, a);
  const { C, H, W, O, Og, K, P } = g;
  const x = f64(xt);
  const w = f64(wt);
  const b = bt ? f64(bt) : null;
  const col = new Float64Array(K * P);
  const y = new Float64Array(Og * P);
  const od = out.storage.data;
  for (let n = 0; n < g.N; n++) {
    for (let grp = 0; grp < g.G; grp++) {
      im2col(x, (n * C + grp * g.Cg) * H * W, g, col, false);
      // y[oc, p] = b[oc] + Σ_r w[oc, r] · col[r, p] over the group's output channels.
      for (let ocl = 0; ocl < Og; ocl++) y.fill(b ? b[grp * Og + ocl] : 0, ocl * P, (ocl + 1) * P);
      matmulAdd(y, Og, K, P, w, grp * Og * K, K, 1, col, 0);
      od.set(y, (n * O + grp * Og) * P);
    }
  }
});

registerKernel("conv2dGradInput", "ref", FLOATS, ([gt, wt]: Tensor[], [out]: Tensor[], a: Conv2dGradInputAttrs) => {
  const g = geometry(a.inputShape, wt.shape, gt.shape, a);
  const { C, H, W, O, Og, K, P } = g;
  const gy = f64(gt);
  const w = f64(wt);
  const dx = new Float64Array(out.size);
  const dcol = new Float64Array(K * P);
  for (let n = 0; n < g.N; n++) {
    for (let grp = 0; grp < g.G; grp++) {
      // dcol[r, p] = Σ_oc w[oc, r] · gy[oc, p] (w read transposed), then scattered onto the input (col2im).
      dcol.fill(0);
      matmulAdd(dcol, K, Og, P, w, grp * Og * K, 1, K, gy, (n * O + grp * Og) * P);
      im2col(dx, (n * C + grp * g.Cg) * H * W, g, dcol, true);
    }
  }
  out.storage.data.set(dx);
});

registerKernel("conv2dGradWeight", "ref", FLOATS, ([xt, gt]: Tensor[], [out]: Tensor[], a: Conv2dGradWeightAttrs) => {
  const g = geometry(xt.shape, a.weightShape, gt.shape, a);
  const { C, H, W, O, Og, K, P } = g;
  const x = f64(xt);
  const gy = f64(gt);
  const dw = new Float64Array(out.size);
  const col = new Float64Array(K * P);
  for (let n = 0; n < g.N; n++) {
    for (let grp = 0; grp < g.G; grp++) {
      im2col(x, (n * C + grp * g.Cg) * H * W, g, col, false);
      // dw[oc, r] += Σ_p gy[oc, p] · col[r, p], summed over the batch in float64.
      matmulAddBt(dw, grp * Og * K, Og, K, P, gy, (n * O + grp * Og) * P, col);
    }
  }
  out.storage.data.set(dw);
});
