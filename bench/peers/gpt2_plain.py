"""A plain-torch GPT-2 (no transformers) over a Hearth/transformers checkpoint folder, shared by
the PyTorch peer (gpt2_torch.py) and the ONNX export (gpt2_onnx_export.py) of bench/generate.ts.

The cache is two stacked tensors [layers, B, heads, past, head_dim], grown by concatenation
(as transformers 4.40 does), so the same module exports to ONNX with the past as an input."""
import json
import math
import struct

import numpy as np
import torch


def load(model_dir):
    cfg = json.load(open(f"{model_dir}/config.json"))
    raw = open(f"{model_dir}/model.safetensors", "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    weights = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        arr = np.frombuffer(raw, dtype=np.float32, count=(e - b) // 4, offset=8 + n + b)
        weights[k] = torch.from_numpy(arr.reshape(v["shape"]).copy())
    return cfg, weights


class GPT2(torch.nn.Module):
    def __init__(self, cfg, weights):
        super().__init__()
        self.E, self.H, self.L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
        self.D = self.E // self.H
        self.eps = cfg["layer_norm_epsilon"]
        for k, v in weights.items():
            self.register_buffer(k.replace(".", "_"), v)

    def w(self, name):
        return getattr(self, name.replace(".", "_"))

    def ln(self, x, p):
        return torch.nn.functional.layer_norm(x, (self.E,), self.w(p + ".weight"), self.w(p + ".bias"), self.eps)

    def forward(self, ids, past_keys, past_values):
        """ids [B, T]; past_* [L, B, H, P, D] -> last logits [B, V], present_* [L, B, H, P + T, D]."""
        B, T = ids.shape
        P = past_keys.shape[3]
        E, H, D = self.E, self.H, self.D
        pos = torch.arange(T) + P
        h = self.w("transformer.wte.weight")[ids] + self.w("transformer.wpe.weight")[pos]
        causal = torch.arange(P + T)[None, :] <= pos[:, None]
        keys, values = [], []
        for i in range(self.L):
            p = f"transformer.h.{i}."
            x = self.ln(h, p + "ln_1")
            qkv = x @ self.w(p + "attn.c_attn.weight") + self.w(p + "attn.c_attn.bias")
            q, k, v = (t.reshape(B, T, H, D).transpose(1, 2) for t in qkv.split(E, 2))
            k = torch.cat([past_keys[i], k], 2)
            v = torch.cat([past_values[i], v], 2)
            keys.append(k)
            values.append(v)
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)
            scores = scores.masked_fill(~causal, float("-inf"))
            a = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, E)
            h = h + a @ self.w(p + "attn.c_proj.weight") + self.w(p + "attn.c_proj.bias")
            x = self.ln(h, p + "ln_2")
            m = torch.nn.functional.gelu(x @ self.w(p + "mlp.c_fc.weight") + self.w(p + "mlp.c_fc.bias"), approximate="tanh")
            h = h + m @ self.w(p + "mlp.c_proj.weight") + self.w(p + "mlp.c_proj.bias")
        h = self.ln(h[:, -1], "transformer.ln_f")
        return h @ self.w("transformer.wte.weight").T, torch.stack(keys), torch.stack(values)

    def empty_past(self, B):
        return torch.zeros(self.L, B, self.H, 0, self.D), torch.zeros(self.L, B, self.H, 0, self.D)
