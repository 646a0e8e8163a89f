# PyTorch peer for bench/mnist-accuracy.mjs: seed 001 §4.4's Keras MLP (Flatten → Dense 128 relu →
# Dense 10 softmax) trained the way Keras trains it — glorot-uniform kernels, zero biases, Adam 1e-3
# with epsilon 1e-7, 5 epochs of batch 32 reshuffled every epoch, cross-entropy on the logits — for
# the seeds given, on the MNIST files in $INGOT_DATA/mnist. One JSON line per seed on stdout.
#   INGOT_DATA=../shared/data python3 bench/peers/torch_mnist_accuracy.py 0 1 2 [--keras-adam]
# --keras-adam applies epsilon the way Keras's Adam does (to sqrt(v) before bias correction)
# instead of PyTorch's way (after it).
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
DIR = os.path.join(os.environ.get("INGOT_DATA", "../shared/data"), "mnist")


def read_idx(stem):
    with gzip.open(os.path.join(DIR, stem + ".gz"), "rb") as f:
        b = f.read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i : 8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


x_train = torch.tensor(read_idx("train-images-idx3-ubyte").astype(np.float32) / 255.0).reshape(-1, 784)
y_train = torch.tensor(read_idx("train-labels-idx1-ubyte").astype(np.int64))
x_test = torch.tensor(read_idx("t10k-images-idx3-ubyte").astype(np.float32) / 255.0).reshape(-1, 784)
y_test = torch.tensor(read_idx("t10k-labels-idx1-ubyte").astype(np.int64))
keras_adam = "--keras-adam" in sys.argv


class KerasAdam:
    """Adam as tf.keras applies it: lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε)."""

    def __init__(self, params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7):
        self.params, self.lr, self.b1, self.b2, self.eps, self.t = params, lr, b1, b2, eps, 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.t += 1
        a = self.lr * math.sqrt(1 - self.b2**self.t) / (1 - self.b1**self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            m.mul_(self.b1).add_(p.grad, alpha=1 - self.b1)
            v.mul_(self.b2).addcmul_(p.grad, p.grad, value=1 - self.b2)
            p.sub_(a * m / (v.sqrt() + self.eps))


for seed in [int(a) for a in sys.argv[1:] if a.isdigit()]:
    torch.manual_seed(seed)
    hidden, out = torch.nn.Linear(784, 128), torch.nn.Linear(128, 10)
    for layer in (hidden, out):
        limit = math.sqrt(6 / (layer.in_features + layer.out_features))
        torch.nn.init.uniform_(layer.weight, -limit, limit)
        torch.nn.init.zeros_(layer.bias)
    params = list(hidden.parameters()) + list(out.parameters())
    opt = KerasAdam(params) if keras_adam else torch.optim.Adam(params, lr=1e-3, eps=1e-7)
    t0 = time.time()
    n = x_train.shape[0]
    for epoch in range(5):
        perm = torch.randperm(n)
        for i in range(0, n, 32):
            idx = perm[i : i + 32]
            loss = torch.nn.functional.cross_entropy(out(torch.relu(hidden(x_train[idx]))), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        acc = (out(torch.relu(hidden(x_test))).argmax(1) == y_test).float().mean().item()
    print(json.dumps({"seed": seed, "test_accuracy": round(acc, 4), "seconds": round(time.time() - t0, 1), "adam": "keras" if keras_adam else "torch"}), flush=True)
