# Shared by the golden scripts (ops_golden.py, ops_golden_nn.py, losses_golden.py): the JSON encoding
# of tensors, the fixed gradient weights w, input generators, and the case recorder of ops.json.
import json
import math
import os

import torch

D = torch.float64
I = torch.int64
CASES = {}


def U(*shape, lo=-2.0, hi=2.0):
    """Uniform floats in [lo, hi], rounded to 4 decimals so that the inputs stay short in the JSON."""
    return torch.round((torch.rand(shape, dtype=D) * (hi - lo) + lo) * 1e4) / 1e4


def V(values, shape=None):
    t = torch.tensor(values, dtype=D)
    return t.reshape(shape) if shape is not None else t


def R(hi, *shape, lo=0):
    """Random int64 indices in [lo, hi) (Ingot's int32 on the TS side)."""
    return torch.randint(lo, hi, shape, dtype=I)


def IV(values):
    return torch.tensor(values, dtype=I)


def B(*shape):
    return torch.rand(shape) < 0.5


def num(v):
    # NaN and ±Infinity are not JSON: written as strings, decoded by the tests.
    return v if math.isfinite(v) else ("NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity"))


def enc(t):
    t = t.detach()
    data = t.reshape(-1).tolist()
    if t.dtype == torch.bool:
        data = [int(v) for v in data]
    elif t.is_floating_point():
        data = [num(float(v)) for v in data]
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": data}


def weight(shape):
    """The fixed w of sum(out · w): w_i = 0.5 + ((7i + 3) mod 23)/22 (test/unit/golden-compare.ts: weightAt)."""
    n = math.prod(shape)
    return torch.tensor([0.5 + ((7 * i + 3) % 23) / 22 for i in range(n)], dtype=D).reshape(shape)


def case(key, inputs, fn, nograd=(), grad=True):
    """Records fn(*inputs) in CASES; differentiates w.r.t. the float inputs not listed in nograd (by index)."""
    assert key not in CASES, f"duplicate case {key}"
    diff = [grad and x.is_floating_point() and i not in nograd for i, x in enumerate(inputs)]
    xs = [x.clone().requires_grad_(d) for x, d in zip(inputs, diff)]
    out = fn(*xs)
    entry = {"inputs": [enc(x) for x in inputs], "output": enc(out)}
    if out.requires_grad:
        (out * weight(out.shape)).sum().backward()
        entry["grads"] = [enc(x.grad if x.grad is not None else torch.zeros_like(x)) if d else None for x, d in zip(xs, diff)]
    CASES[key] = entry


def write(name, cases):
    """Writes {"torch": version, "cases": cases} to test/golden/<name>. With INGOT_GOLDEN_ONLY=a,b only the
    cases whose key starts with one of those prefixes are written into the existing file; the others
    stay as they are (adding cases without rewriting every number a newer torch prints differently)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    only = [p for p in os.environ.get("INGOT_GOLDEN_ONLY", "").split(",") if p]
    if only:
        with open(path) as f:
            old = json.load(f)
        picked = {k: v for k, v in cases.items() if any(k.startswith(p) for p in only)}
        assert picked, f"INGOT_GOLDEN_ONLY={','.join(only)} matches no case"
        cases = {**old["cases"], **picked}
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    print(f"wrote {path}: {len(cases)} cases, {os.path.getsize(path)} bytes")
