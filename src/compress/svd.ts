// The singular value decomposition of a small dense matrix in float64, by one-sided Jacobi
// rotations (Hestenes 1958; Demmel & Veselić 1992): accurate to the last digits for the sizes of
// layer weights (≤ ~1024), with no dependency. A = U·diag(S)·Vᵀ, S descending.
import { ValueError } from "../tensor/index.js";

export interface SVDResult {
  /** m×k, row-major, orthonormal columns (k = min(m, n)). */
  U: Float64Array;
  /** k singular values, descending. */
  S: Float64Array;
  /** n×k, row-major, orthonormal columns. */
  V: Float64Array;
  m: number;
  n: number;
  k: number;
}

/**
 * The thin SVD of the row-major m×n matrix `a`: U (m×k), S (k), V (n×k), k = min(m, n).
 * @example const { U, S, V } = svd(Float64Array.from([3, 0, 0, 4]), 2, 2); // S = [4, 3]
 */
export function svd(a: ArrayLike<number>, m: number, n: number): SVDResult {
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 1 || n < 1) throw new ValueError(`svd: the matrix must be at least 1×1, got ${m}×${n}`);
  if (a.length !== m * n) throw new ValueError(`svd: expected ${m}×${n} = ${m * n} values, got ${a.length}`);
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw new ValueError(`svd: the matrix has a non-finite value (${a[i]}) at index ${i}`);
  if (m >= n) return jacobi(a, m, n);
  // Wide matrix: decompose Aᵀ = V·S·Uᵀ and swap the factors.
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
  const r = jacobi(t, n, m);
  return { U: r.V, S: r.S, V: r.U, m, n, k: r.k };
}

/** One-sided Jacobi on a tall m×n matrix (m ≥ n), columns stored contiguously. */
function jacobi(a: ArrayLike<number>, m: number, n: number): SVDResult {
  // Column-major working copy: column j is cols[j*m .. j*m + m).
  const cols = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) cols[j * m + i] = a[i * n + j];
  const v = new Float64Array(n * n); // column-major too; starts as the identity
  for (let j = 0; j < n; j++) v[j * n + j] = 1;
  const norms = new Float64Array(n);
  const EPS = 2.220446049250313e-16;
  for (let sweep = 0; sweep < 80; sweep++) {
    for (let j = 0; j < n; j++) norms[j] = dot(cols, j * m, cols, j * m, m);
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const alpha = norms[p];
        const beta = norms[q];
        const gamma = dot(cols, p * m, cols, q * m, m);
        // NOTE: the test is relative, so tiny columns are orthogonalized as accurately as big ones.
        if (gamma === 0 || Math.abs(gamma) <= m * EPS * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotate(cols, p * m, q * m, m, c, s);
        rotate(v, p * n, q * n, n, c, s);
        norms[p] = alpha - t * gamma;
        norms[q] = beta + t * gamma;
      }
    }
    if (!rotated) break;
  }
  // Singular values are the column norms; U's columns the normalized columns.
  const sv = new Float64Array(n);
  for (let j = 0; j < n; j++) sv[j] = Math.sqrt(dot(cols, j * m, cols, j * m, m));
  const order = Array.from(sv.keys()).sort((x, y) => sv[y] - sv[x]);
  const U = new Float64Array(m * n);
  const V = new Float64Array(n * n);
  const S = new Float64Array(n);
  const scale = sv[order[0]] || 1;
  const uCols: Float64Array[] = [];
  order.forEach((j, r) => {
    S[r] = sv[j];
    const col = new Float64Array(m);
    // Columns whose singular value is at rounding level carry no direction: complete U instead.
    if (sv[j] > scale * m * EPS) for (let i = 0; i < m; i++) col[i] = cols[j * m + i] / sv[j];
    uCols.push(col);
    for (let i = 0; i < n; i++) V[i * n + r] = v[j * n + i];
  });
  completeBasis(uCols, m, S, scale * m * EPS);
  uCols.forEach((col, r) => {
    for (let i = 0; i < m; i++) U[i * n + r] = col[i];
  });
  return { U, S, V, m, n, k: n };
}

function dot(x: Float64Array, xo: number, y: Float64Array, yo: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i++) s += x[xo + i] * y[yo + i];
  return s;
}

/** [x_p, x_q] ← [c·x_p − s·x_q, s·x_p + c·x_q]. */
function rotate(x: Float64Array, po: number, qo: number, len: number, c: number, s: number): void {
  for (let i = 0; i < len; i++) {
    const xp = x[po + i];
    const xq = x[qo + i];
    x[po + i] = c * xp - s * xq;
    x[qo + i] = s * xp + c * xq;
  }
}

/** Replaces the columns of (near-)zero singular values by unit vectors orthogonal to the others (Gram–Schmidt twice). */
function completeBasis(cols: Float64Array[], m: number, S: Float64Array, tiny: number): void {
  let e = 0;
  for (let r = 0; r < cols.length; r++) {
    if (S[r] > tiny) continue;
    for (; e < m; e++) {
      const x = new Float64Array(m);
      x[e] = 1;
      for (let pass = 0; pass < 2; pass++)
        for (let o = 0; o < cols.length; o++) {
          if (o === r || (S[o] <= tiny && o > r)) continue;
          const d = dot(x, 0, cols[o], 0, m);
          for (let i = 0; i < m; i++) x[i] -= d * cols[o][i];
        }
      const nx = Math.sqrt(dot(x, 0, x, 0, m));
      if (nx > 0.5) {
        for (let i = 0; i < m; i++) x[i] /= nx;
        cols[r] = x;
        e++;
        break;
      }
    }
  }
}
