# The PyTorch peer of the Ingot benchmarks sgemm, mlp and cnn. It stays up: it sets up one workload
# with the thread count it is given (the caller also sets OMP_WAIT_POLICY=PASSIVE and
# OPENBLAS_NUM_THREADS), checks it, prints one JSON line (the check's results, version, BLAS), then
# times one window per request line on stdin and answers each with one JSON line, until stdin closes:
#   python3 torch_peer.py sgemm '{"n": 1024, "threads": 2}'
#   python3 torch_peer.py mlp   '{"dir": "...", "batch": 128, "threads": 1, "validateSteps": 3}'
#   python3 torch_peer.py cnn   '{"dir": "...", "batch": 32, "threads": 2, "validateSteps": 3}'
#   then requests such as {"windowS": 0.25, "warmupS": 0.1}  ->  {"secPerIter": 0.0012, "iterations": 208}
# bench/common.ts (pairedTiming) alternates these windows with Ingot's, so both see the same machine.
# mlp and cnn start from the weights and data Ingot wrote to `dir` (meta.json + raw .bin files),
# so the losses of the first steps can be compared with Ingot's before anything is timed.
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def window(fn, window_s, warmup_s):
    """One timing window, the rule of bench/common.ts (timeWindow): untimed calls for warmup_s seconds
    (and at least 2), then calls for window_s seconds."""
    w0 = time.perf_counter()
    w = 0
    while w < 2 or time.perf_counter() - w0 < warmup_s:
        fn()
        w += 1
    t0 = time.perf_counter()
    n = 0
    while True:
        fn()
        n += 1
        if time.perf_counter() - t0 >= window_s:
            break
    return (time.perf_counter() - t0) / n, n


def blas():
    """The BLAS library this process actually mapped: Debian's libblas.so.3 alternative resolves to
    the reference BLAS or to OpenBLAS (…/openblas-pthread/libblas.so.3)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {l.split()[-1] for l in f if "/" in l}
        for name in ("libopenblas", "libblas", "libmkl", "libblis"):
            hits = sorted(p for p in paths if os.path.basename(p).startswith(name))
            if hits:
                return hits[0]
    except OSError:
        pass
    return "unknown"


def load(d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    out = {}
    for name, t in meta.items():
        dtype = np.float32 if t["dtype"] == "float32" else np.int32
        out[name] = torch.from_numpy(np.fromfile(os.path.join(d, t["file"]), dtype=dtype).reshape(t["shape"]).copy())
    return out


def train_loop(model, x, y, spec):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    losses = [step().item() for _ in range(spec.get("validateSteps", 3))]
    return step, {"losses": losses}


def mlp(spec):
    t = load(spec["dir"])
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    with torch.no_grad():
        model[0].weight.copy_(t["w1"]), model[0].bias.copy_(t["b1"]), model[2].weight.copy_(t["w2"]), model[2].bias.copy_(t["b2"])
    return train_loop(model, t["x"], t["y"].long(), spec)


def cnn(spec):
    t = load(spec["dir"])
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
        nn.Linear(1024, 64), nn.ReLU(), nn.Linear(64, 10),
    )
    layers = [model[0], model[3], model[6], model[9], model[11]]
    with torch.no_grad():
        for i, layer in enumerate(layers):
            layer.weight.copy_(t[f"w{i + 1}"])
            layer.bias.copy_(t[f"b{i + 1}"])
    return train_loop(model, t["x"], t["y"].long(), spec)


def sgemm(spec):
    n = spec["n"]
    g = torch.Generator().manual_seed(0)
    a = torch.rand(n, n, generator=g) * 2 - 1
    b = torch.rand(n, n, generator=g) * 2 - 1
    c = torch.mm(a, b)
    ref = a.double() @ b.double()
    err = (c.double() - ref).abs().max().item()
    if err > 1e-4 * n ** 0.5:
        raise SystemExit(f"sgemm {n}: max error {err}")
    return lambda: torch.mm(a, b), {"maxError": err}


def main():
    workload, spec = sys.argv[1], json.loads(sys.argv[2])
    torch.set_num_threads(spec["threads"])
    fn, out = {"sgemm": sgemm, "mlp": mlp, "cnn": cnn}[workload](spec)
    out.update({"threads": spec["threads"], "version": torch.__version__, "blas": blas()})
    print(json.dumps(out), flush=True)
    for line in iter(sys.stdin.readline, ""):
        req = json.loads(line)
        sec, n = window(fn, req.get("windowS", 0.25), req.get("warmupS", 0.1))
        print(json.dumps({"secPerIter": sec, "iterations": n}), flush=True)


if __name__ == "__main__":
    main()
