// Geometric image transforms on tensors (NHWC or NCHW, float): one affine sampler (bilinear or
// nearest, Keras' fill modes; differentiable), and the random transforms the Keras augmentation
// layers and ImageDataGenerator use, seeded by the default generator.
import { DTypeError, type Generator, shapeStr, ShapeError, Storage, Tensor, ValueError } from "../tensor/index.js";
import { add, contiguous, expand, gather, mul, reshape, slice, squeeze, unsqueeze, zeros } from "../ops/index.js";
import { isGradEnabled } from "../autograd/index.js";
import { pickGenerator } from "./util.js";

export type DataFormat = "channelsLast" | "channelsFirst";
/** What lies outside the image: reflect (d c b a | a b c d), wrap (a b c d | a b c d), nearest (a a | a b c d), constant (k k | a b c d). */
export type FillMode = "reflect" | "wrap" | "nearest" | "constant";
export type Interpolation = "bilinear" | "nearest";

export interface WarpOptions {
  /** Default 'reflect' (as the Keras layers). */
  fillMode?: FillMode;
  /** The value for fillMode 'constant' (default 0). */
  fillValue?: number;
  /** Default 'bilinear'. */
  interpolation?: Interpolation;
  /** 'channelsLast' [N, H, W, C] (default, as Keras) or 'channelsFirst' [N, C, H, W]; a 3-D tensor is one image. */
  dataFormat?: DataFormat;
}

export interface RandomTransformOptions extends WarpOptions {
  /** Default: the default generator (repeatable with manualSeed). */
  generator?: Generator;
  seed?: number;
}

/**
 * An affine map from output to input pixel coordinates, [a0, a1, a2, b0, b1, b2]: the output pixel
 * at column x, row y samples the input at column a0·x + a1·y + a2, row b0·x + b1·y + b2 (Keras' convention;
 * pixel centres are at integer coordinates).
 */
export type AffineMatrix = readonly number[];

const IDENTITY: AffineMatrix = [1, 0, 0, 0, 1, 0];

/** The output→input map m0 ∘ m1 ∘ …: as warps, the image goes through m0 first, then m1, and so on. */
export function composeAffine(...ms: AffineMatrix[]): number[] {
  return ms.reduce<number[]>((a, b) => [a[0] * b[0] + a[1] * b[3], a[0] * b[1] + a[1] * b[4], a[0] * b[2] + a[1] * b[5] + a[2], a[3] * b[0] + a[4] * b[3], a[3] * b[1] + a[4] * b[4], a[3] * b[2] + a[4] * b[5] + a[5]], [...IDENTITY]);
}

/** Rotation by `angle` radians counter-clockwise about the image centre (Keras' RandomRotation matrix). */
export function rotationMatrix(angle: number, height: number, width: number): number[] {
  const [c, s] = [Math.cos(angle), Math.sin(angle)];
  const [cx, cy] = [(width - 1) / 2, (height - 1) / 2];
  return [c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy];
}

/** Moves the content dx pixels right and dy pixels down. */
export function translationMatrix(dx: number, dy: number): number[] {
  return [1, 0, -dx, 0, 1, -dy];
}

/** Samples a region zx (zy) times the width (height) about the centre: factors above 1 zoom out, below 1 zoom in. */
export function zoomMatrix(zx: number, zy: number, height: number, width: number): number[] {
  const [cx, cy] = [(width - 1) / 2, (height - 1) / 2];
  return [zx, 0, cx * (1 - zx), 0, zy, cy * (1 - zy)];
}

/** Mirror left–right (horizontal) and/or top–bottom (vertical). */
export function flipMatrix(horizontal: boolean, vertical: boolean, height: number, width: number): number[] {
  return [horizontal ? -1 : 1, 0, horizontal ? width - 1 : 0, 0, vertical ? -1 : 1, vertical ? height - 1 : 0];
}

interface Layout {
  n: number;
  h: number;
  w: number;
  c: number;
  last: boolean;
  batched: boolean;
}

/** Checks an image tensor and reads its layout. */
export function imageLayout(op: string, x: Tensor, dataFormat: DataFormat = "channelsLast"): Layout {
  if (!(x instanceof Tensor)) throw new ValueError(`${op}: expected an image tensor, got ${typeof x}`);
  if (dataFormat !== "channelsLast" && dataFormat !== "channelsFirst") throw new ValueError(`${op}: dataFormat must be 'channelsLast' or 'channelsFirst', got ${JSON.stringify(dataFormat)}`);
  if (x.ndim !== 3 && x.ndim !== 4)
    throw new ShapeError(`${op}: expected images [N, H, W, C] (or [N, C, H, W] with dataFormat 'channelsFirst'), or one image without N, got shape ${shapeStr(x.shape)}`);
  if (x.dtype !== "float32" && x.dtype !== "float64") throw new DTypeError(`${op}: images must be float32 or float64, got ${x.dtype}; convert with x.to('float32') (and scale to [0, 1] if they are bytes)`);
  const s = x.ndim === 4 ? x.shape : [1, ...x.shape];
  const last = dataFormat === "channelsLast";
  return { n: s[0], h: last ? s[1] : s[2], w: last ? s[2] : s[3], c: last ? s[3] : s[1], last, batched: x.ndim === 4 };
}

/** Maps an integer pixel index into [0, len) by the fill mode; -1 means "outside, use the fill value". */
function mapIndex(i: number, len: number, mode: FillMode): number {
  if (i >= 0 && i < len) return i;
  if (mode === "constant") return -1;
  if (mode === "nearest") return i < 0 ? 0 : len - 1;
  if (mode === "wrap") return ((i % len) + len) % len;
  if (len === 1) return 0;
  const m = ((i % (2 * len)) + 2 * len) % (2 * len);
  return m < len ? m : 2 * len - 1 - m;
}

/** Rounds coordinates within 1e-9 of an integer to it, so 90° rotations and flips sample exact pixels. */
function snap(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - r) < 1e-9 ? r : v;
}

/** Per output pixel (of all images): up to 4 source pixels with weights, and the weight of the fill value. */
interface SamplingTable {
  idx: Int32Array[];
  wts: Float64Array[];
  fillW: Float64Array;
}

function samplingTable(L: Layout, mats: readonly AffineMatrix[], oh: number, ow: number, mode: FillMode, interp: Interpolation): SamplingTable {
  const P = oh * ow;
  const taps = interp === "nearest" ? 1 : 4;
  const idx = Array.from({ length: taps }, () => new Int32Array(L.n * P));
  const wts = Array.from({ length: taps }, () => new Float64Array(L.n * P));
  const fillW = new Float64Array(L.n * P);
  const tx = new Array<number>(taps);
  const ty = new Array<number>(taps);
  const tw = new Array<number>(taps);
  for (let b = 0; b < L.n; b++) {
    const m = mats[b];
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        const sx = snap(m[0] * ox + m[1] * oy + m[2]);
        const sy = snap(m[3] * ox + m[4] * oy + m[5]);
        if (taps === 1) {
          tx[0] = Math.floor(sx + 0.5);
          ty[0] = Math.floor(sy + 0.5);
          tw[0] = 1;
        } else {
          const x0 = Math.floor(sx);
          const y0 = Math.floor(sy);
          const fx = sx - x0;
          const fy = sy - y0;
          tx[0] = tx[2] = x0;
          tx[1] = tx[3] = x0 + 1;
          ty[0] = ty[1] = y0;
          ty[2] = ty[3] = y0 + 1;
          tw[0] = (1 - fx) * (1 - fy);
          tw[1] = fx * (1 - fy);
          tw[2] = (1 - fx) * fy;
          tw[3] = fx * fy;
        }
        const p = b * P + oy * ow + ox;
        for (let k = 0; k < taps; k++) {
          if (tw[k] === 0) continue;
          const mx = mapIndex(tx[k], L.w, mode);
          const my = mapIndex(ty[k], L.h, mode);
          if (mx < 0 || my < 0) fillW[p] += tw[k];
          else {
            idx[k][p] = my * L.w + mx;
            wts[k][p] = tw[k];
          }
        }
      }
  }
  return { idx, wts, fillW };
}

/** The warp written with gather, mul and add: autograd records it, so gradients reach the images. */
function sampleWithOps(x: Tensor, L: Layout, t: SamplingTable, oh: number, ow: number, fillValue: number): Tensor {
  const P = oh * ow;
  // Flatten the pixels: [N, C, H·W] (channels first) or [N, H·W, C] (channels last), gather along them.
  const x4 = x.ndim === 4 ? x : unsqueeze(x, 0);
  const flat = L.last ? reshape(x4, [L.n, L.h * L.w, L.c]) : reshape(x4, [L.n, L.c, L.h * L.w]);
  const dim = L.last ? 1 : 2;
  const perPixel = L.last ? [L.n, P, 1] : [L.n, 1, P];
  const full = L.last ? [L.n, P, L.c] : [L.n, L.c, P];
  const make = (a: Float64Array | Int32Array, dtype: "int32" | "float32" | "float64") =>
    new Tensor(new Storage(dtype, dtype === "int32" ? a : dtype === "float32" ? Float32Array.from(a) : Float64Array.from(a)), perPixel);
  let out: Tensor | null = null;
  for (let k = 0; k < t.wts.length; k++) {
    const w = t.wts[k];
    if (w.every((v) => v === 0)) continue; // e.g. the far neighbours of integer coordinates
    let term = gather(flat, dim, expand(make(t.idx[k], "int32"), full));
    if (!w.every((v) => v === 1)) term = mul(term, make(w, x.dtype as "float32"));
    out = out ? add(out, term) : term;
  }
  if (fillValue !== 0 && t.fillW.some((v) => v !== 0)) {
    const term = expand(mul(make(t.fillW, x.dtype as "float32"), fillValue), full);
    out = out ? add(out, term) : term;
  }
  return out ?? zeros(full, { dtype: x.dtype });
}

/**
 * The same warp as one loop over the CPU data, used when no gradient is wanted (data pipelines):
 * NOTE: about fifty times faster than the ops on the reference backend; sums in float64, rounds once.
 */
function sampleDirect(x: Tensor, L: Layout, t: SamplingTable, oh: number, ow: number, fillValue: number): Tensor {
  const P = oh * ow;
  const src = contiguous(x).dataSync();
  const out = x.dtype === "float64" ? new Float64Array(L.n * L.c * P) : new Float32Array(L.n * L.c * P);
  const hw = L.h * L.w;
  for (let b = 0; b < L.n; b++)
    for (let q = 0; q < P; q++) {
      const p = b * P + q;
      for (let ch = 0; ch < L.c; ch++) {
        let acc = t.fillW[p] * fillValue;
        for (let k = 0; k < t.wts.length; k++) {
          const w = t.wts[k][p];
          if (w !== 0) acc += w * src[L.last ? (b * hw + t.idx[k][p]) * L.c + ch : (b * L.c + ch) * hw + t.idx[k][p]];
        }
        out[L.last ? p * L.c + ch : (b * L.c + ch) * P + q] = acc;
      }
    }
  return new Tensor(new Storage(x.dtype, out), L.last ? [L.n, P, L.c] : [L.n, L.c, P]);
}

/**
 * Warps every image by its affine matrix (one for all, or one per image); `outputSize` [height, width]
 * defaults to the input's. Differentiable with respect to the images: when they require grad the
 * warp runs as ops (gather, mul, add), so autograd records it.
 */
export function affineTransform(x: Tensor, matrices: AffineMatrix | readonly AffineMatrix[], opts: WarpOptions & { outputSize?: readonly [number, number] } = {}): Tensor {
  const op = "affineTransform";
  const L = imageLayout(op, x, opts.dataFormat);
  const mats = (typeof matrices[0] === "number" ? Array.from({ length: L.n }, () => matrices as AffineMatrix) : (matrices as readonly AffineMatrix[])) as AffineMatrix[];
  if (mats.length !== L.n) throw new ValueError(`${op}: ${mats.length} matrices for ${L.n} images; give one matrix or one per image`);
  for (const m of mats) if (m.length !== 6 || !m.every(Number.isFinite)) throw new ValueError(`${op}: a matrix must be 6 finite numbers [a0, a1, a2, b0, b1, b2], got ${JSON.stringify(m)}`);
  const [oh, ow] = opts.outputSize ?? [L.h, L.w];
  if (!(Number.isInteger(oh) && Number.isInteger(ow) && oh > 0 && ow > 0)) throw new ValueError(`${op}: outputSize must be two positive integers, got ${JSON.stringify(opts.outputSize)}`);
  const mode = opts.fillMode ?? "reflect";
  if (!["reflect", "wrap", "nearest", "constant"].includes(mode)) throw new ValueError(`${op}: fillMode must be 'reflect', 'wrap', 'nearest' or 'constant', got ${JSON.stringify(mode)}`);
  const interp = opts.interpolation ?? "bilinear";
  if (interp !== "bilinear" && interp !== "nearest") throw new ValueError(`${op}: interpolation must be 'bilinear' or 'nearest', got ${JSON.stringify(interp)}`);
  const table = samplingTable(L, mats, oh, ow, mode, interp);
  const useOps = (isGradEnabled() && x.requiresGrad) || x.device !== "cpu";
  const out = (useOps ? sampleWithOps : sampleDirect)(x, L, table, oh, ow, opts.fillValue ?? 0);
  const shaped = L.last ? reshape(out, [L.n, oh, ow, L.c]) : reshape(out, [L.n, L.c, oh, ow]);
  return L.batched ? shaped : squeeze(shaped, 0);
}

/** One value per image: a number for all, or an array with one per image. */
function perImage(op: string, v: number | readonly number[], n: number, what: string): number[] {
  const a = typeof v === "number" ? new Array<number>(n).fill(v) : [...v];
  if (a.length !== n) throw new ValueError(`${op}: ${a.length} ${what} values for ${n} images`);
  return a;
}

/** Rotates each image by angle radians counter-clockwise about its centre (one angle, or one per image). */
export function rotate(x: Tensor, angle: number | readonly number[], opts: WarpOptions = {}): Tensor {
  const L = imageLayout("rotate", x, opts.dataFormat);
  return affineTransform(x, perImage("rotate", angle, L.n, "angle").map((a) => rotationMatrix(a, L.h, L.w)), opts);
}

/** Shifts each image dx pixels right and dy pixels down (negative: left/up). */
export function translate(x: Tensor, dx: number | readonly number[], dy: number | readonly number[], opts: WarpOptions = {}): Tensor {
  const L = imageLayout("translate", x, opts.dataFormat);
  const ys = perImage("translate", dy, L.n, "dy");
  return affineTransform(x, perImage("translate", dx, L.n, "dx").map((d, b) => translationMatrix(d, ys[b])), opts);
}

/** Zooms each image about its centre: factors above 1 zoom out (show more), below 1 zoom in. zy defaults to zx. */
export function zoom(x: Tensor, zx: number | readonly number[], zy: number | readonly number[] = zx, opts: WarpOptions = {}): Tensor {
  const L = imageLayout("zoom", x, opts.dataFormat);
  const ys = perImage("zoom", zy, L.n, "zy");
  return affineTransform(x, perImage("zoom", zx, L.n, "zx").map((z, b) => zoomMatrix(z, ys[b], L.h, L.w)), opts);
}

/** The region [top, top + height) × [left, left + width) of every image (a view). */
export function crop(x: Tensor, top: number, left: number, height: number, width: number, opts: { dataFormat?: DataFormat } = {}): Tensor {
  const L = imageLayout("crop", x, opts.dataFormat);
  if (![top, left, height, width].every(Number.isInteger) || top < 0 || left < 0 || height < 1 || width < 1 || top + height > L.h || left + width > L.w)
    throw new ValueError(`crop: the region top ${top}, left ${left}, ${height}×${width} does not fit in ${L.h}×${L.w} images`);
  const off = x.ndim === 4 ? 1 : 0;
  const [hd, wd] = L.last ? [off, off + 1] : [off + 1, off + 2];
  return slice(slice(x, hd, top, top + height), wd, left, left + width);
}

/** A factor as a [lower, upper] range: a number f means [−f, f]. */
export function factorRange(op: string, what: string, f: number | readonly [number, number]): [number, number] {
  const r: [number, number] = typeof f === "number" ? [-Math.abs(f), Math.abs(f)] : [f[0], f[1]];
  if (!r.every(Number.isFinite) || r[0] > r[1]) throw new ValueError(`${op}: ${what} must be a number or an increasing pair [lower, upper], got ${JSON.stringify(f)}`);
  return r;
}

const uniform = (g: Generator, [lo, hi]: [number, number]) => lo + (hi - lo) * g.random();

/** Flips each image with probability ½ per direction: mode 'horizontal', 'vertical' or 'horizontal_and_vertical' (default, as Keras). */
export function randomFlip(x: Tensor, opts: RandomTransformOptions & { mode?: "horizontal" | "vertical" | "horizontal_and_vertical" } = {}): Tensor {
  const L = imageLayout("randomFlip", x, opts.dataFormat);
  const mode = opts.mode ?? "horizontal_and_vertical";
  if (!["horizontal", "vertical", "horizontal_and_vertical"].includes(mode)) throw new ValueError(`randomFlip: mode must be 'horizontal', 'vertical' or 'horizontal_and_vertical', got ${JSON.stringify(mode)}`);
  const g = pickGenerator(opts);
  const mats = Array.from({ length: L.n }, () => flipMatrix(mode !== "vertical" && g.random() < 0.5, mode !== "horizontal" && g.random() < 0.5, L.h, L.w));
  return affineTransform(x, mats, { ...opts, interpolation: "nearest" });
}

/** Rotates each image by a random angle in factor·2π (factor f means [−f, f] of a full turn), like Keras' RandomRotation. */
export function randomRotation(x: Tensor, factor: number | readonly [number, number], opts: RandomTransformOptions = {}): Tensor {
  const L = imageLayout("randomRotation", x, opts.dataFormat);
  const r = factorRange("randomRotation", "factor", factor);
  const g = pickGenerator(opts);
  return affineTransform(x, Array.from({ length: L.n }, () => rotationMatrix(uniform(g, r) * 2 * Math.PI, L.h, L.w)), opts);
}

/** Shifts each image by a random fraction of its height and width (f means [−f, f]), like Keras' RandomTranslation. */
export function randomTranslation(x: Tensor, heightFactor: number | readonly [number, number], widthFactor: number | readonly [number, number], opts: RandomTransformOptions = {}): Tensor {
  const L = imageLayout("randomTranslation", x, opts.dataFormat);
  const hr = factorRange("randomTranslation", "heightFactor", heightFactor);
  const wr = factorRange("randomTranslation", "widthFactor", widthFactor);
  const g = pickGenerator(opts);
  const mats = Array.from({ length: L.n }, () => {
    const dy = uniform(g, hr) * L.h;
    return translationMatrix(uniform(g, wr) * L.w, dy);
  });
  return affineTransform(x, mats, opts);
}

/**
 * Zooms each image by a random factor 1 + u, u drawn from heightFactor (f means [−f, f]); positive
 * zooms out, negative zooms in, as Keras' RandomZoom. widthFactor defaults to keeping the aspect ratio.
 */
export function randomZoom(x: Tensor, heightFactor: number | readonly [number, number], widthFactor?: number | readonly [number, number] | null, opts: RandomTransformOptions = {}): Tensor {
  const L = imageLayout("randomZoom", x, opts.dataFormat);
  const hr = factorRange("randomZoom", "heightFactor", heightFactor);
  const wr = widthFactor === undefined || widthFactor === null ? null : factorRange("randomZoom", "widthFactor", widthFactor);
  if (hr[0] <= -1 || (wr && wr[0] <= -1)) throw new ValueError(`randomZoom: factors must stay above -1 (a zoom of 1 + factor > 0), got ${JSON.stringify([heightFactor, widthFactor])}`);
  const g = pickGenerator(opts);
  const mats = Array.from({ length: L.n }, () => {
    const zy = 1 + uniform(g, hr);
    return zoomMatrix(wr ? 1 + uniform(g, wr) : zy, zy, L.h, L.w);
  });
  return affineTransform(x, mats, opts);
}

/** A random height×width region of each image (its own position per image), like Keras' RandomCrop. */
export function randomCrop(x: Tensor, height: number, width: number, opts: RandomTransformOptions = {}): Tensor {
  const L = imageLayout("randomCrop", x, opts.dataFormat);
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1 || height > L.h || width > L.w)
    throw new ValueError(`randomCrop: a ${height}×${width} crop does not fit in ${L.h}×${L.w} images; give a size no larger than the images`);
  const g = pickGenerator(opts);
  const mats = Array.from({ length: L.n }, () => {
    const top = g.int(0, L.h - height + 1);
    return translationMatrix(-g.int(0, L.w - width + 1), -top);
  });
  return affineTransform(x, mats, { ...opts, interpolation: "nearest", outputSize: [height, width] });
}
