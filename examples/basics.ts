// Seed 001 §4.1–4.3 as runnable TypeScript: ReLU, the ½·Σ squared-error loss, and one gradient
// descent step of y = w·x + b, computed by hand as the seed does and checked with autograd.
//   node dist/examples/basics.js
import * as ingot from "../src/index.js";

/** Six significant digits, so float32 noise does not hide the value (0.26, not 0.25999999). */
const show = (v: number) => Number(v.toPrecision(6));

// §4.1 ReLU: max(0, x), first on plain numbers as the seed writes it, then as an ingot op.
function relu(x: number): number {
  return Math.max(0, x);
}
const input = [-2, -1, 0, 1, 2];
const outputs = input.map(relu);
console.log("relu:", outputs); // [0, 0, 0, 1, 2]
console.log("ingot.relu:", ingot.relu(ingot.tensor(input)).toFlatArray()); // the same

// §4.2 The seed's "MSE": L = ½·Σ(y − ŷ)².
// NOTE: the seed prints 0.375 here, which is wrong: the squared errors are 0.01, 0.01, 0.25 and
// 0.25, their sum is 0.52, and half of it is 0.26. (The mean, 0.13, would be Keras' MSE.)
function mse(yTrue: ingot.Tensor, yPred: ingot.Tensor): ingot.Tensor {
  return yTrue.sub(yPred).pow(2).sum().mul(0.5);
}
const yTrue = ingot.tensor([0, 1, 0, 1]);
const yPred = ingot.tensor([0.1, 0.9, 0.5, 0.5]);
const loss = mse(yTrue, yPred);
console.log("mse:", show(loss.item())); // 0.26 (the seed says 0.375)
console.log("mean squared error:", show(ingot.mseLoss(yPred, yTrue).item())); // 0.13

// §4.3 One gradient-descent step of the linear model y = w·x + b.
let w = 1.0;
let b = 0.0;
const learningRate = 0.01;
const x = ingot.tensor([1.0, 2.0, 3.0]);
const y = ingot.tensor([2.0, 4.0, 6.0]);

const yHat = x.mul(w).add(b); // forward: [1, 2, 3]
const stepLoss = y.sub(yHat).pow(2).sum().mul(0.5); // ½·(1 + 4 + 9) = 7
// NOTE: the seed writes d_loss_d_w = (y − y_pred)·x: that is minus the gradient and a vector (not
// summed), so its update would move w away from 2 and turn w into an array. The gradient of
// ½·Σ(y − w·x − b)² is −Σ(y − ŷ)·x = −14 for w and −Σ(y − ŷ) = −6 for b.
const dLossDw = y.sub(yHat).mul(x).sum().neg();
const dLossDb = y.sub(yHat).sum().neg();
w -= learningRate * dLossDw.item();
b -= learningRate * dLossDb.item();
console.log("loss:", show(stepLoss.item()), "dL/dw:", show(dLossDw.item()), "dL/db:", show(dLossDb.item())); // 7 -14 -6
console.log("w:", show(w), "b:", show(b)); // w: 1.14 b: 0.06 (towards the answer w = 2, b = 0)

// The same gradients from autograd.
const wT = ingot.tensor(1.0, { requiresGrad: true });
const bT = ingot.tensor(0.0, { requiresGrad: true });
y.sub(x.mul(wT).add(bT)).pow(2).sum().mul(0.5).backward();
console.log("autograd dL/dw:", show(wT.grad!.item()), "dL/db:", show(bT.grad!.item())); // -14 -6
