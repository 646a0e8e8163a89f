# Generates test/golden/gpt.json: a tiny GPT written as nanoGPT's model.py, in PyTorch 1.13 and float64,
# with fixed weights, inputs and targets: its logits, loss, every parameter's gradient, and the losses and
# parameters of 10 AdamW steps (nanoGPT's optimizer groups). test/unit/gpt.test.ts checks models.GPT
# against it (the llm.c-style check). Run with Debian's python3-torch:  /usr/bin/python3 test/golden/gpt_golden.py
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from golden_util import enc

torch.manual_seed(5)
D = torch.float64


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (nanoGPT's)."""

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
        self.n_head, self.n_embd = c["nHead"], c["nEmbd"]
        mask = torch.tril(torch.ones(c["blockSize"], c["blockSize"])).view(1, 1, c["blockSize"], c["blockSize"])
        self.register_buffer("bias", mask, persistent=False)

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        # nanoGPT's manual attention (torch 1.13 has no F.scaled_dot_product_attention)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c["nEmbd"], 4 * c["nEmbd"], bias=c["bias"])
        self.c_proj = nn.Linear(4 * c["nEmbd"], c["nEmbd"], bias=c["bias"])

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))  # GPT-2's GELU


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = LayerNorm(c["nEmbd"], c["bias"])
        self.attn = CausalSelfAttention(c)
        self.ln_2 = LayerNorm(c["nEmbd"], c["bias"])
        self.mlp = MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
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
        self.transformer.wte.weight = self.lm_head.weight  # weight tying

    def forward(self, idx, targets=None):
        t = idx.size(1)
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = None if targets is None else F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss

    def configure_optimizers(self, weight_decay, lr, betas):
        params = [p for _, p in self.named_parameters()]
        groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
                  {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=1e-8)


def build(c):
    """The model with fixed weights larger than nanoGPT's N(0, 0.02), so that every nonlinearity is exercised."""
    m = GPT(c).to(D)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name.endswith("ln_f.weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
    return m


def params(m, grads=False):
    return {n: enc(p.grad if grads else p) for n, p in m.named_parameters()}


def record(c, batch, steps):
    m = build(c)
    idx = torch.randint(0, c["vocabSize"], (batch, c["blockSize"]))
    targets = torch.randint(0, c["vocabSize"], (batch, c["blockSize"]))
    targets[0, 2] = -1  # ignored, as nanoGPT's ignore_index=-1
    short = torch.randint(0, c["vocabSize"], (batch, c["blockSize"] - 3))
    out = {"config": c, "params": params(m), "idx": enc(idx), "targets": enc(targets), "short": enc(short)}
    out["shortLogits"] = enc(m(short)[0])
    logits, loss = m(idx, targets)
    loss.backward()
    out.update(logits=enc(logits), loss=loss.item(), grads=params(m, grads=True))
    if steps:
        hp = {"lr": 1e-2, "betas": [0.9, 0.95], "weightDecay": 0.1}
        opt = m.configure_optimizers(hp["weightDecay"], hp["lr"], tuple(hp["betas"]))
        losses = []
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            _, loss = m(idx, targets)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        out.update(adamw=hp, losses=losses, paramsAfter=params(m))
    return out


tiny = {"vocabSize": 11, "blockSize": 8, "nLayer": 2, "nHead": 2, "nEmbd": 8, "dropout": 0.0, "bias": True}
no_bias = {"vocabSize": 11, "blockSize": 8, "nLayer": 1, "nHead": 2, "nEmbd": 8, "dropout": 0.0, "bias": False}
golden = {"torch": torch.__version__, "tiny": record(tiny, 2, 10), "noBias": record(no_bias, 2, 0)}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpt.json")
with open(path, "w") as f:
    json.dump(golden, f, separators=(",", ":"), allow_nan=False)
print(f"wrote {path}: {os.path.getsize(path)} bytes")
