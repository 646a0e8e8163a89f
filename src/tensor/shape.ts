// Shape arithmetic: sizes, contiguous strides, NumPy broadcasting, axis normalization.
import { ShapeError, ValueError } from "./errors.js";

export type Shape = readonly number[];

/** `[2,3]` — the form every error message uses. */
export function shapeStr(s: Shape): string {
  return `[${s.join(",")}]`;
}

export function sizeOf(s: Shape): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

export function contiguousStrides(s: Shape): number[] {
  const st = new Array<number>(s.length);
  let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** NumPy broadcasting of any number of shapes; throws a ShapeError naming the op. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const nd = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(nd).fill(1);
  for (let i = 0; i < nd; i++) {
    for (const s of shapes) {
      const d = s[s.length - nd + i] ?? 1;
      if (d === 1) continue;
      if (out[i] === 1) out[i] = d;
      else if (out[i] !== d)
        throw new ShapeError(
          `${op}: shapes ${shapes.map(shapeStr).join(" and ")} cannot be broadcast (dimension ${i - nd} is ${out[i]} vs ${d})`,
        );
    }
  }
  return out;
}

/** Strides that read a tensor of `shape`/`strides` as if it had `outShape` (0 on broadcast dims). */
export function broadcastStrides(shape: Shape, strides: readonly number[], outShape: Shape): number[] {
  const nd = outShape.length;
  const off = nd - shape.length;
  const st = new Array<number>(nd).fill(0);
  for (let i = 0; i < shape.length; i++) st[i + off] = shape[i] === 1 ? 0 : strides[i];
  return st;
}

/** Maps a possibly negative axis into [0, ndim); throws a ValueError naming the op. */
export function normAxis(op: string, axis: number, ndim: number): number {
  if (!Number.isInteger(axis)) throw new ValueError(`${op}: dim must be an integer, got ${axis}`);
  const a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= Math.max(ndim, 1))
    throw new ValueError(`${op}: dim ${axis} is out of range for a tensor with ${ndim} dimension(s) (expected ${-Math.max(ndim, 1)} to ${Math.max(ndim, 1) - 1})`);
  return ndim === 0 ? 0 : a;
}

/** Normalizes `dim` (undefined = all axes, a number, or a list) into sorted unique axes. */
export function normAxes(op: string, dim: number | readonly number[] | undefined | null, ndim: number): number[] {
  if (dim === undefined || dim === null) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof dim === "number" ? [dim] : [...dim];
  const out = list.map((a) => normAxis(op, a, ndim));
  if (new Set(out).size !== out.length) throw new ValueError(`${op}: dim ${JSON.stringify(dim)} repeats an axis`);
  return out.filter((a) => a < ndim).sort((x, y) => x - y);
}

/** Checks that a user-provided shape is a list of non-negative integers. */
export function checkShape(op: string, shape: Shape): number[] {
  if (!Array.isArray(shape)) throw new ValueError(`${op}: shape must be an array of integers, got ${String(shape)}`);
  for (const d of shape)
    if (!Number.isInteger(d) || d < 0) throw new ValueError(`${op}: shape ${JSON.stringify(shape)} must hold non-negative integers`);
  return [...shape];
}
