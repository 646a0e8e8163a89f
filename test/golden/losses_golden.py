# Generates test/golden/losses.json: PyTorch's float64 values and gradients for the loss functions over
# their option matrix (reductions, class weights, ignoreIndex, label smoothing, posWeight, logTarget…),
# and for layerNorm and batchNorm (with the running statistics). The per-op cases are in ops_golden.py.
# Run with Debian's python3-torch:  /usr/bin/python3 test/golden/losses_golden.py
# Options are recorded under Ingot's names; TORCH below maps them to the PyTorch call, and
# test/unit/losses-golden.test.ts maps them to the Ingot call. The test never needs torch.
import json
import warnings

import torch
import torch.nn.functional as F

from golden_util import D, enc, weight, write

warnings.filterwarnings("ignore", message="reduction: 'mean' divides")
torch.manual_seed(0)
CASES = {}


def reduction(o):
    return o.get("reduction", "mean")


def batch_norm(i, o):
    # F.batch_norm updates the running statistics in place (on the clones case() passes).
    return F.batch_norm(i["input"], i.get("runningMean"), i.get("runningVar"), i.get("weight"), i.get("bias"), o["training"], o.get("momentum", 0.1), o.get("eps", 1e-5))


# Each function, with inputs and options under Ingot's names, as a PyTorch call.
TORCH = {
    "crossEntropy": lambda i, o: F.cross_entropy(
        i["input"], i["target"], weight=i.get("weight"), ignore_index=o.get("ignoreIndex", -100), reduction=reduction(o), label_smoothing=o.get("labelSmoothing", 0.0)
    ),
    "nllLoss": lambda i, o: F.nll_loss(i["input"], i["target"], weight=i.get("weight"), ignore_index=o.get("ignoreIndex", -100), reduction=reduction(o)),
    "mseLoss": lambda i, o: F.mse_loss(i["input"], i["target"], reduction=reduction(o)),
    "l1Loss": lambda i, o: F.l1_loss(i["input"], i["target"], reduction=reduction(o)),
    "huberLoss": lambda i, o: F.huber_loss(i["input"], i["target"], reduction=reduction(o), delta=o.get("delta", 1.0)),
    "smoothL1Loss": lambda i, o: F.smooth_l1_loss(i["input"], i["target"], reduction=reduction(o), beta=o.get("beta", 1.0)),
    "binaryCrossEntropy": lambda i, o: F.binary_cross_entropy(i["input"], i["target"], weight=i.get("weight"), reduction=reduction(o)),
    "binaryCrossEntropyWithLogits": lambda i, o: F.binary_cross_entropy_with_logits(
        i["input"], i["target"], weight=i.get("weight"), pos_weight=i.get("posWeight"), reduction=reduction(o)
    ),
    "klDiv": lambda i, o: F.kl_div(i["input"], i["target"], reduction=reduction(o), log_target=o.get("logTarget", False)),
    "layerNorm": lambda i, o: F.layer_norm(i["input"], o["normalizedShape"], i.get("weight"), i.get("bias"), o.get("eps", 1e-5)),
    "batchNorm": batch_norm,
}
# The inputs each function differentiates (PyTorch has no gradient for class weights, posWeight or running statistics).
DIFF = {"crossEntropy": {"input"}, "nllLoss": {"input"}, "layerNorm": {"input", "weight", "bias"}, "batchNorm": {"input", "weight", "bias"}}


def case(fn, inputs, options, what="", nograd=()):
    """Records TORCH[fn] on the named inputs; the key names the options so that it is unique."""
    desc = ", ".join([f"{k} {v if isinstance(v, str) else json.dumps(v)}" for k, v in options.items()] + [f"with {k}" for k in inputs if k not in ("input", "target")] + ([what] if what else []))
    key = f"{fn} › {desc}"
    assert key not in CASES, f"duplicate case {key}"
    diff = {k: x.is_floating_point() and k in DIFF.get(fn, {"input", "target"}) and k not in nograd for k, x in inputs.items()}
    xs = {k: x.clone().requires_grad_(diff[k]) for k, x in inputs.items()}
    out = TORCH[fn](xs, options)
    (out * weight(out.shape)).sum().backward()
    CASES[key] = {
        "fn": fn,
        "options": options,
        "inputs": {k: enc(x) for k, x in inputs.items()},
        "output": enc(out),
        "grads": {k: enc(x.grad if x.grad is not None else torch.zeros_like(x)) for k, x in xs.items() if diff[k]},
        # batchNorm in training: the running statistics after the in-place update.
        **({"after": {k: enc(xs[k]) for k in ("runningMean", "runningVar") if k in xs}} if fn == "batchNorm" and options["training"] else {}),
    }


x = torch.randn(5, 4, dtype=D) * 2
t = torch.tensor([1, -100, 3, 0, 2])
w = torch.rand(4, dtype=D) + 0.5
for red in ("mean", "sum", "none"):
    for ls in (0.0, 0.2):
        case("crossEntropy", {"input": x, "target": t, "weight": w}, {"reduction": red, "labelSmoothing": ls})
        case("crossEntropy", {"input": x, "target": t}, {"reduction": red, "labelSmoothing": ls})
x3 = torch.randn(2, 3, 4, dtype=D)
t3 = torch.tensor([[0, 2, 1, 1], [2, 2, 0, 1]])
case("crossEntropy", {"input": x3, "target": t3, "weight": torch.rand(3, dtype=D) + 0.5}, {"reduction": "mean", "labelSmoothing": 0.3, "ignoreIndex": 1}, "[N,C,L]")
lp = torch.log_softmax(torch.randn(5, 4, dtype=D), 1)
for red in ("mean", "sum", "none"):
    case("nllLoss", {"input": lp, "target": t, "weight": w}, {"reduction": red})
a = torch.randn(3, 4, dtype=D) * 2
b = torch.randn(3, 4, dtype=D) * 2
for red in ("mean", "sum", "none"):
    case("mseLoss", {"input": a, "target": b}, {"reduction": red})
    case("l1Loss", {"input": a, "target": b}, {"reduction": red})
    case("huberLoss", {"input": a, "target": b}, {"reduction": red, "delta": 1.3})
    case("smoothL1Loss", {"input": a, "target": b}, {"reduction": red, "beta": 0.7})
# Probabilities of exactly 0 and 1 (log clamped to −100) and hard targets.
p = torch.rand(3, 4, dtype=D) * 0.9 + 0.05
p[0, 0], p[0, 1], p[1, 1] = 0.0, 1.0, 1.0
y = torch.rand(3, 4, dtype=D)
y[0, 0], y[0, 1], y[1, 1] = 1.0, 0.0, 1.0
bw = torch.rand(4, dtype=D) + 0.5
for red in ("mean", "sum", "none"):
    case("binaryCrossEntropy", {"input": p, "target": y, "weight": bw}, {"reduction": red})
# Logits of 0 and ±80 (far beyond any overflow of a naive log(sigmoid)).
z = torch.randn(3, 4, dtype=D) * 3
z[0, 0], z[0, 1], z[1, 0] = 0.0, 80.0, -80.0
pw = torch.rand(4, dtype=D) * 2 + 0.5
for red in ("mean", "sum", "none"):
    case("binaryCrossEntropyWithLogits", {"input": z, "target": y, "weight": bw, "posWeight": pw}, {"reduction": red})
    case("binaryCrossEntropyWithLogits", {"input": z, "target": y}, {"reduction": red})
li = torch.log_softmax(torch.randn(3, 4, dtype=D), 1)
tg = torch.softmax(torch.randn(3, 4, dtype=D), 1)
for red in ("mean", "batchmean", "sum", "none"):
    case("klDiv", {"input": li, "target": tg}, {"reduction": red})
    case("klDiv", {"input": li, "target": torch.log(tg)}, {"reduction": red, "logTarget": True})
tg0 = tg.clone()
tg0[0, 0] = 0.0
case("klDiv", {"input": li, "target": tg0}, {"reduction": "sum"}, "a zero target", nograd=("target",))
case("layerNorm", {"input": torch.randn(2, 3, 4, dtype=D), "weight": torch.randn(3, 4, dtype=D), "bias": torch.randn(3, 4, dtype=D)}, {"normalizedShape": [3, 4], "eps": 1e-5})
xb = torch.randn(4, 3, 2, dtype=D)
bn_params = {"weight": torch.randn(3, dtype=D), "bias": torch.randn(3, dtype=D), "runningMean": torch.randn(3, dtype=D), "runningVar": torch.rand(3, dtype=D) + 0.5}
case("batchNorm", {"input": xb, **bn_params}, {"training": True, "momentum": 0.2, "eps": 1e-5})
case("batchNorm", {"input": xb, **bn_params}, {"training": False, "eps": 1e-5})

write("losses.json", CASES)
