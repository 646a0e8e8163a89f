# The PyTorch peer of `npm run bench -- lm`: nanoGPT's model (model.py, written out here for torch 1.13:
# no F.scaled_dot_product_attention, so attention is nanoGPT's explicit path) with the weights Ingot wrote.
#   python3 torch_lm.py train    '{"dir": "...", "threads": 1, "validateSteps": 3, "windows": 8, "windowS": 0.25, "warmup": 3}'
#   python3 torch_lm.py generate '{"dir": "...", "threads": 1, "newTokens": 200}'
# Prints one JSON line: tokensPerSec (best window), medianTokensPerSec, and the losses / logits / tokens
# that bench/lm.ts compares with Ingot's before it trusts the timing.
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_peer import blas, measure  # noqa: E402  (the same timing rule as every other peer)


class LayerNorm(nn.Module):
    """nanoGPT's LayerNorm with an optional bias."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_attn = nn.Linear(c["nEmbd"], 3 * c["nEmbd"], bias=c["bias"])
        self.c_proj = nn.Linear(c["nEmbd"], c["nEmbd"], bias=c["bias"])
        self.n_head = c["nHead"]
        T = c["blockSize"]
        self.register_buffer("mask", torch.tril(torch.ones(T, T, dtype=torch.bool)).view(1, 1, T, T), persistent=False)

    def forward(self, x, cache=None):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        H = self.n_head
        q = q.view(B, T, H, C // H).transpose(1, 2)  # (B, H, T, D)
        k = k.view(B, T, H, C // H).transpose(1, 2)
        v = v.view(B, T, H, C // H).transpose(1, 2)
        past = 0
        if cache is not None:
            if "k" in cache:
                past = cache["k"].size(2)
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        S = k.size(2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        if T > 1:  # one new token sees every cached key: no mask needed
            att = att.masked_fill(~self.mask[:, :, past:past + T, :S], float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c["nEmbd"], 4 * c["nEmbd"], bias=c["bias"])
        self.gelu = nn.GELU(approximate="tanh")  # GPT-2's form, as Ingot's GPT
        self.c_proj = nn.Linear(4 * c["nEmbd"], c["nEmbd"], bias=c["bias"])

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = LayerNorm(c["nEmbd"], c["bias"])
        self.attn = CausalSelfAttention(c)
        self.ln_2 = LayerNorm(c["nEmbd"], c["bias"])
        self.mlp = MLP(c)

    def forward(self, x, cache=None):
        x = x + self.attn(self.ln_1(x), cache)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(c["vocabSize"], c["nEmbd"]),
            wpe=nn.Embedding(c["blockSize"], c["nEmbd"]),
            h=nn.ModuleList([Block(c) for _ in range(c["nLayer"])]),
            ln_f=LayerNorm(c["nEmbd"], c["bias"]),
        ))
        self.lm_head = nn.Linear(c["nEmbd"], c["vocabSize"], bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying, as nanoGPT

    def forward(self, idx, targets=None, caches=None, last_only=False):
        B, T = idx.size()
        past = caches[0]["k"].size(2) if caches and "k" in caches[0] else 0
        pos = torch.arange(past, past + T, dtype=torch.long)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for i, block in enumerate(self.transformer.h):
            x = block(x, caches[i] if caches is not None else None)
        x = self.transformer.ln_f(x)
        if last_only:
            x = x[:, -1:, :]
        logits = self.lm_head(x)
        loss = None if targets is None else F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss

    def configure_optimizers(self, weight_decay, lr, betas):
        params = [p for p in self.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]
        return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=1e-8)


def load(d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    c = dict(meta["config"], bias=False)
    t = {}
    for name, m in meta["tensors"].items():
        dtype = np.float32 if m["dtype"] == "float32" else np.int32
        t[name] = torch.from_numpy(np.fromfile(os.path.join(d, m["file"]), dtype=dtype).reshape(m["shape"]).copy())
    model = GPT(c)
    sd = model.state_dict()
    with torch.no_grad():
        for name, p in sd.items():
            src = t["transformer.wte.weight"] if name == "lm_head.weight" else t[name]
            p.copy_(src)
    return model, c, t


def train(spec):
    model, c, t = load(spec["dir"])
    x, y = t["x"].long(), t["y"].long()
    opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.99))
    params = list(model.parameters())

    def step():
        opt.zero_grad(set_to_none=True)
        _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return loss

    losses = [step().item() for _ in range(spec.get("validateSteps", 3))]
    best, median = measure(step, windows=spec.get("windows", 8), window_s=spec.get("windowS", 0.25), warmup=spec.get("warmup", 3))
    n = x.numel()
    return {"tokensPerSec": n / best, "medianTokensPerSec": n / median, "losses": losses}


@torch.no_grad()
def generate(spec):
    model, c, t = load(spec["dir"])
    model.eval()
    prompt = t["prompt"].long()
    n_new = spec["newTokens"]
    logits, _ = model(prompt, last_only=True)
    first_logits = logits.view(-1).tolist()
    out = []

    def run():
        out.clear()
        caches = [{} for _ in range(c["nLayer"])]
        logits, _ = model(prompt, caches=caches, last_only=True)  # prefill
        for i in range(n_new):
            nxt = logits[:, -1, :].argmax(-1, keepdim=True)  # greedy
            out.append(int(nxt))
            if i + 1 < n_new:  # the last token needs no forward
                logits, _ = model(nxt, caches=caches)

    best, median = measure(run, windows=spec.get("windows", 3), window_s=spec.get("windowS", 0), warmup=spec.get("warmup", 1))
    return {"tokensPerSec": n_new / best, "medianTokensPerSec": n_new / median, "logits": first_logits, "tokens": list(out)}


def main():
    workload, spec = sys.argv[1], json.loads(sys.argv[2])
    torch.set_num_threads(spec["threads"])
    out = {"train": train, "generate": generate}[workload](spec)
    out.update({"threads": spec["threads"], "version": torch.__version__, "blas": blas()})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
