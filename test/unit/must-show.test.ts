// The foundation issue's must-show checks, each against an independent computation.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";

/** The same loss written in plain JavaScript float64, with no Ingot code involved. */
function plainLoss(x: number[][], W: number[][], b: number[], labels: number[]): number {
  let total = 0;
  for (let i = 0; i < x.length; i++) {
    const z = b.map((bj, j) => bj + x[i].reduce((s, xk, k) => s + xk * W[k][j], 0));
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    total += -(z[labels[i]] - lse);
  }
  return total / x.length;
}

test("grad of mean(-gather(logSoftmax(x·W + b), labels)) matches independent finite differences to 1e-6", () => {
  const g = new ig.Generator(7);
  const mat = (r: number, c: number) => Array.from({ length: r }, () => Array.from({ length: c }, () => g.normal()));
  const xv = mat(4, 5);
  const Wv = mat(5, 3);
  const bv = mat(1, 3)[0];
  const labels = [0, 2, 1, 2];

  const x = ig.tensor(xv, { dtype: "float64", requiresGrad: true });
  const W = ig.tensor(Wv, { dtype: "float64", requiresGrad: true });
  const b = ig.tensor(bv, { dtype: "float64", requiresGrad: true });
  const idx = ig.tensor(labels, { dtype: "int32" }).unsqueeze(1);
  const loss = ig.gather(ig.logSoftmax(ig.matmul(x, W).add(b), 1), 1, idx).neg().mean();
  assert.ok(Math.abs(loss.item() - plainLoss(xv, Wv, bv, labels)) < 1e-12);
  loss.backward();

  const eps = 1e-6;
  const check = (name: string, param: number[][], grad: ig.Tensor) => {
    const got = grad.toFlatArray();
    let k = 0;
    for (let i = 0; i < param.length; i++)
      for (let j = 0; j < param[i].length; j++, k++) {
        const orig = param[i][j];
        param[i][j] = orig + eps;
        const fp = plainLoss(xv, Wv, bv, labels); // param aliases xv, Wv or bv
        param[i][j] = orig - eps;
        const fm = plainLoss(xv, Wv, bv, labels);
        param[i][j] = orig;
        const num = (fp - fm) / (2 * eps);
        const rel = Math.abs(got[k] - num) / Math.max(Math.abs(num), 1e-3);
        assert.ok(rel < 1e-6, `${name}[${i},${j}]: autograd ${got[k]} vs finite difference ${num} (relative error ${rel.toExponential(2)})`);
      }
  };
  check("x", xv, x.grad!);
  check("W", Wv, W.grad!);
  check("b", [bv], b.grad!);
});

test("matmul of [2,3] by [4,5] throws a ShapeError naming the op and both shapes", () => {
  assert.throws(
    () => ig.matmul(ig.zeros(2, 3), ig.zeros(4, 5)),
    (e: unknown) => {
      assert.ok(e instanceof ig.ShapeError);
      assert.match(e.message, /matmul/);
      assert.ok(e.message.includes("[2,3]") && e.message.includes("[4,5]"), e.message);
      return true;
    },
  );
});
