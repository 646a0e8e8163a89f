# Generates test/golden/nn-optim.json: PyTorch reference numbers for ingot.nn layers (outputs and
# gradients), ingot.optim optimizers (parameters after each step) and learning-rate schedules.
# Run with Debian's python3-torch:  /usr/bin/python3 test/golden/nn_optim_golden.py
# The unit tests read the JSON only; they never need torch.
import json
import math
import os

import torch
import torch.nn as nn

torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)


def camel(name):
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def arr(t):
    t = t.detach()
    if t.dtype in (torch.int64, torch.int32):
        return {"shape": list(t.shape), "dtype": "int32", "data": [int(v) for v in t.reshape(-1).tolist()]}
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def state_of(m):
    return {".".join(camel(p) for p in k.split(".")): arr(v) for k, v in m.state_dict().items()}


def layer_case(module, inputs, train=True, grad_input=True, steps=1):
    """Runs module on inputs (the first is differentiated when grad_input), `steps` times in
    train/eval mode, and records the state before, the last output, the state after, and the
    gradients of sum(out * r) for a fixed random r."""
    module.train(train)
    before = state_of(module)
    xs = [x.clone().requires_grad_(grad_input and i == 0 and x.is_floating_point()) for i, x in enumerate(inputs)]
    for _ in range(steps):
        out = module(*xs)
    r = torch.rand(out.shape) + 0.5
    (out * r).sum().backward()
    case = {
        "train": train,
        "steps": steps,
        "state": before,
        "inputs": [arr(x) for x in inputs],
        "output": arr(out),
        "r": arr(r),
        "stateAfter": state_of(module),
        "grads": {".".join(camel(p) for p in k.split(".")): arr(p_.grad) for k, p_ in module.named_parameters() if p_.grad is not None},
    }
    if xs[0].grad is not None:
        case["inputGrad"] = arr(xs[0].grad)
    return case


def randn(*s):
    return torch.randn(*s)


layers = {}
layers["linear"] = layer_case(nn.Linear(3, 4), [randn(2, 3)])
layers["linearNoBias3d"] = layer_case(nn.Linear(4, 2, bias=False), [randn(2, 3, 4)])
layers["conv2dPad1"] = layer_case(nn.Conv2d(2, 3, 3, padding=1), [randn(2, 2, 4, 5)])
layers["conv2dStride2Dil"] = layer_case(nn.Conv2d(2, 2, (2, 3), stride=2, dilation=(1, 2), bias=False), [randn(1, 2, 6, 7)])
layers["conv2dGroups"] = layer_case(nn.Conv2d(4, 2, 3, groups=2, padding="same"), [randn(1, 4, 5, 5)])
layers["conv2dReflect"] = layer_case(nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect"), [randn(1, 1, 4, 4)])
layers["conv2dCircular"] = layer_case(nn.Conv2d(2, 1, 3, padding=(1, 2), padding_mode="circular"), [randn(1, 2, 4, 5)])
layers["conv1d"] = layer_case(nn.Conv1d(2, 4, 3, padding=1, groups=2), [randn(2, 2, 6)])
layers["conv1dStride"] = layer_case(nn.Conv1d(3, 2, 2, stride=2), [randn(1, 3, 7)])
layers["maxPool2d"] = layer_case(nn.MaxPool2d(2), [randn(1, 2, 4, 6)])
layers["maxPool2dStridePad"] = layer_case(nn.MaxPool2d(3, stride=2, padding=1), [randn(1, 1, 5, 5)])
layers["avgPool2d"] = layer_case(nn.AvgPool2d(3, stride=2, padding=1), [randn(1, 2, 5, 7)])
layers["adaptiveAvgPool2d"] = layer_case(nn.AdaptiveAvgPool2d((2, 3)), [randn(1, 2, 5, 7)])
layers["flatten"] = layer_case(nn.Flatten(), [randn(2, 3, 2)])
bn1 = nn.BatchNorm1d(3)
with torch.no_grad():
    bn1.weight.copy_(torch.rand(3) + 0.5)
    bn1.bias.copy_(torch.randn(3))
layers["batchNorm1dTrain"] = layer_case(bn1, [randn(5, 3)], steps=2)
bn1e = nn.BatchNorm1d(3)
with torch.no_grad():
    bn1e.running_mean.copy_(torch.randn(3))
    bn1e.running_var.copy_(torch.rand(3) + 0.5)
    bn1e.weight.copy_(torch.rand(3) + 0.5)
    bn1e.bias.copy_(torch.randn(3))
layers["batchNorm1dEval"] = layer_case(bn1e, [randn(4, 3)], train=False)
layers["batchNorm1d3d"] = layer_case(nn.BatchNorm1d(2), [randn(3, 2, 4)])
layers["batchNorm2dCumulative"] = layer_case(nn.BatchNorm2d(2, momentum=None), [randn(2, 2, 3, 3)], steps=3)
layers["batchNorm2dNoAffine"] = layer_case(nn.BatchNorm2d(2, affine=False, momentum=0.3), [randn(2, 2, 2, 3)])
ln = nn.LayerNorm([3, 4])
with torch.no_grad():
    ln.weight.copy_(torch.rand(3, 4) + 0.5)
    ln.bias.copy_(torch.randn(3, 4))
layers["layerNorm"] = layer_case(ln, [randn(2, 3, 4)])
layers["layerNormNoAffine"] = layer_case(nn.LayerNorm(5, elementwise_affine=False, eps=1e-3), [randn(3, 5)])
layers["embedding"] = layer_case(nn.Embedding(5, 3, padding_idx=1), [torch.tensor([[0, 1, 4], [1, 3, 3]])], grad_input=False)
act_x = [torch.linspace(-3, 3, 12).reshape(3, 4)]
layers["relu"] = layer_case(nn.ReLU(), act_x)
layers["leakyRelu"] = layer_case(nn.LeakyReLU(0.2), act_x)
layers["elu"] = layer_case(nn.ELU(0.5), act_x)
layers["gelu"] = layer_case(nn.GELU(), act_x)
layers["geluTanh"] = layer_case(nn.GELU(approximate="tanh"), act_x)
layers["silu"] = layer_case(nn.SiLU(), act_x)
layers["sigmoid"] = layer_case(nn.Sigmoid(), act_x)
layers["tanh"] = layer_case(nn.Tanh(), act_x)
layers["softplus"] = layer_case(nn.Softplus(2, 3), act_x)
layers["softmax"] = layer_case(nn.Softmax(dim=1), act_x)
layers["logSoftmax"] = layer_case(nn.LogSoftmax(dim=0), act_x)
logits = randn(4, 3)
labels = torch.tensor([0, 2, 1, 2])
layers["crossEntropy"] = layer_case(nn.CrossEntropyLoss(), [logits, labels])
layers["crossEntropyWeighted"] = layer_case(
    nn.CrossEntropyLoss(weight=torch.tensor([0.2, 1.0, 2.5]), ignore_index=1, label_smoothing=0.1), [logits, labels]
)
layers["crossEntropySum"] = layer_case(nn.CrossEntropyLoss(reduction="sum"), [randn(2, 3, 4), torch.tensor([[0, 1, 2, 1], [2, 2, 0, 0]])])
layers["nllLoss"] = layer_case(nn.NLLLoss(weight=torch.tensor([1.0, 0.5, 2.0])), [torch.log_softmax(logits, 1), labels])
pred = randn(3, 4)
target = randn(3, 4)
layers["mse"] = layer_case(nn.MSELoss(), [pred, target])
layers["l1Sum"] = layer_case(nn.L1Loss(reduction="sum"), [pred, target])
layers["huber"] = layer_case(nn.HuberLoss(delta=0.5), [pred, target])
layers["smoothL1"] = layer_case(nn.SmoothL1Loss(beta=0.5), [pred, target])
probs = torch.rand(3, 4) * 0.8 + 0.1
btarget = (torch.rand(3, 4) > 0.5).double()
layers["bce"] = layer_case(nn.BCELoss(weight=torch.rand(4) + 0.5), [probs, btarget])
layers["bceWithLogits"] = layer_case(nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 2.0, 0.5, 3.0])), [pred, btarget])
layers["klDiv"] = layer_case(nn.KLDivLoss(reduction="batchmean"), [torch.log_softmax(pred, 1), torch.softmax(target, 1)])
mlp = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
layers["sequentialMlp"] = layer_case(mlp, [randn(4, 3)])


# Optimizers: two float64 parameters, fixed gradients per step, parameters after each of 4 steps.
p_init = [randn(2, 3), randn(3)]
grads = [[randn(2, 3), randn(3)] for _ in range(4)]


def run_opt(make, groups=None):
    ps = [p.clone().requires_grad_(True) for p in p_init]
    opt = make([{"params": [ps[0]], **groups[0]}, {"params": [ps[1]], **groups[1]}] if groups else ps)
    steps = []
    for g in grads:
        for p, gi in zip(ps, g):
            p.grad = gi.clone()
        opt.step()
        steps.append([arr(p) for p in ps])
    return steps


O = torch.optim
optim_cases = {
    "sgd": (lambda ps: O.SGD(ps, lr=0.1)),
    "sgdMomentum": (lambda ps: O.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    "sgdNesterov": (lambda ps: O.SGD(ps, lr=0.05, momentum=0.8, nesterov=True)),
    "sgdMaximize": (lambda ps: O.SGD(ps, lr=0.1, momentum=0.5, maximize=True)),
    "adam": (lambda ps: O.Adam(ps, lr=0.01)),
    "adamTuned": (lambda ps: O.Adam(ps, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    "adamAmsgrad": (lambda ps: O.Adam(ps, lr=0.01, amsgrad=True)),
    "adamMaximize": (lambda ps: O.Adam(ps, lr=0.01, maximize=True)),
    "adamw": (lambda ps: O.AdamW(ps, lr=0.01)),
    "adamwDecay": (lambda ps: O.AdamW(ps, lr=0.05, weight_decay=0.5, betas=(0.85, 0.95))),
    "adamwAmsgrad": (lambda ps: O.AdamW(ps, lr=0.01, amsgrad=True)),
    "rmsprop": (lambda ps: O.RMSprop(ps, lr=0.01)),
    "rmspropCentered": (lambda ps: O.RMSprop(ps, lr=0.01, alpha=0.9, centered=True, weight_decay=0.05)),
    "rmspropMomentum": (lambda ps: O.RMSprop(ps, lr=0.01, momentum=0.7, eps=1e-4)),
    "adagrad": (lambda ps: O.Adagrad(ps, lr=0.1)),
    "adagradDecay": (lambda ps: O.Adagrad(ps, lr=0.1, lr_decay=0.5, weight_decay=0.1, initial_accumulator_value=0.3, eps=1e-6)),
}
optim = {"params": [arr(p) for p in p_init], "grads": [[arr(g) for g in gs] for gs in grads], "cases": {}}
for name, make in optim_cases.items():
    optim["cases"][name] = run_opt(make)
optim["cases"]["sgdGroups"] = run_opt(lambda g: O.SGD(g, lr=0.1, momentum=0.9), groups=[{}, {"lr": 0.01, "momentum": 0.0}])
optim["cases"]["adamGroups"] = run_opt(lambda g: O.Adam(g, lr=0.01), groups=[{"betas": (0.5, 0.9)}, {"lr": 0.1, "weight_decay": 0.2}])


# Schedules: the lr (and momentum/beta1 where cycled) after construction and after each step.
def sched_run(make_opt, make_sched, n, metrics=None, key=None):
    opt = make_opt([torch.zeros(1, requires_grad=True)])
    s = make_sched(opt)
    lrs = [opt.param_groups[0]["lr"]]
    moms = [opt.param_groups[0][key] if key != "betas" else opt.param_groups[0]["betas"][0]] if key else None
    for i in range(n):
        opt.step()
        if metrics is None:
            s.step()
        else:
            s.step(metrics[i])
        lrs.append(opt.param_groups[0]["lr"])
        if key:
            moms.append(opt.param_groups[0][key] if key != "betas" else opt.param_groups[0]["betas"][0])
    out = {"lr": lrs}
    if key:
        out["momentum"] = moms
    return out


S = O.lr_scheduler
sgd = lambda ps: O.SGD(ps, lr=0.1, momentum=0.9)
adam = lambda ps: O.Adam(ps, lr=0.1)
plateau_metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
schedules = {
    "stepLR": sched_run(sgd, lambda o: S.StepLR(o, step_size=3, gamma=0.5), 10),
    "multiStepLR": sched_run(sgd, lambda o: S.MultiStepLR(o, milestones=[2, 5, 6], gamma=0.1), 8),
    "exponentialLR": sched_run(sgd, lambda o: S.ExponentialLR(o, gamma=0.9), 6),
    "cosineAnnealingLR": sched_run(sgd, lambda o: S.CosineAnnealingLR(o, T_max=5, eta_min=0.01), 12),
    "linearLR": sched_run(sgd, lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4), 7),
    "constantLR": sched_run(sgd, lambda o: S.ConstantLR(o, factor=0.5, total_iters=3), 5),
    "lambdaLR": sched_run(sgd, lambda o: S.LambdaLR(o, lambda e: 1 / (1 + e)), 5),
    "oneCycleCos": sched_run(sgd, lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=10), 10, key="momentum"),
    "oneCycleLinear3": sched_run(
        adam, lambda o: S.OneCycleLR(o, max_lr=0.5, epochs=2, steps_per_epoch=6, anneal_strategy="linear", three_phase=True, pct_start=0.25), 12, key="betas"
    ),
    "plateau": sched_run(sgd, lambda o: S.ReduceLROnPlateau(o, patience=2, factor=0.5, cooldown=1, min_lr=0.02), len(plateau_metrics), plateau_metrics),
    "plateauMaxAbs": sched_run(
        sgd, lambda o: S.ReduceLROnPlateau(o, mode="max", threshold_mode="abs", threshold=0.1, patience=1), 8, [0.5, 0.55, 0.7, 0.75, 0.79, 0.95, 0.96, 0.97]
    ),
}
schedules["plateau"]["metrics"] = plateau_metrics
schedules["plateauMaxAbs"]["metrics"] = [0.5, 0.55, 0.7, 0.75, 0.79, 0.95, 0.96, 0.97]

# clip_grad_norm_ for three norm types.
clip = {}
for name, norm_type in (("l2", 2.0), ("l1", 1.0), ("inf", math.inf), ("l3", 3.0)):
    ps = [p.clone().requires_grad_(True) for p in p_init]
    for p, g in zip(ps, grads[0]):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm=0.7, norm_type=norm_type)
    clip[name] = {"normType": "inf" if norm_type == math.inf else norm_type, "total": float(total), "grads": [arr(p.grad) for p in ps]}

out = {"torch": torch.__version__, "layers": layers, "optim": optim, "schedules": schedules, "clip": clip}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn-optim.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(f"wrote {path} ({os.path.getsize(path)} bytes)")
