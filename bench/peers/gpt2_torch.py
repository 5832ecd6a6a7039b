"""Plain-torch GPT-2 (no transformers) for bench/generate.ts: reads the same model.safetensors
and config.json, times prefill of PROMPT tokens and greedy decode with a KV cache at batch 1
and 8, and prints one JSON line {prefill_ms, decode_b1_tok_s, decode_b8_tok_s}.

usage: python3 gpt2_torch.py MODEL_DIR PROMPT NEW RUNS THREADS
"""
import json
import math
import struct
import sys
import time

import numpy as np
import torch

model_dir, PROMPT, NEW, RUNS, THREADS = sys.argv[1], *map(int, sys.argv[2:6])
torch.set_num_threads(THREADS)
cfg = json.load(open(f"{model_dir}/config.json"))
raw = open(f"{model_dir}/model.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8 : 8 + n])
W = {}
for k, v in header.items():
    if k == "__metadata__":
        continue
    b, e = v["data_offsets"]
    W[k] = torch.from_numpy(np.frombuffer(raw, dtype=np.float32, count=(e - b) // 4, offset=8 + n + b).reshape(v["shape"]).copy())
E, H, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
D = E // H
eps = cfg["layer_norm_epsilon"]


def ln(x, p):
    return torch.nn.functional.layer_norm(x, (E,), W[p + ".weight"], W[p + ".bias"], eps)


def forward(ids, cache, past):
    B, T = ids.shape
    pos = torch.arange(past, past + T)
    h = W["transformer.wte.weight"][ids] + W["transformer.wpe.weight"][pos]
    for i in range(L):
        p = f"transformer.h.{i}."
        x = ln(h, p + "ln_1")
        qkv = x @ W[p + "attn.c_attn.weight"] + W[p + "attn.c_attn.bias"]
        q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in qkv.split(E, 2))
        if cache[i] is not None:
            k = torch.cat([cache[i][0], k], 2)
            v = torch.cat([cache[i][1], v], 2)
        cache[i] = (k, v)
        a = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=T > 1)
        a = a.transpose(1, 2).reshape(B, T, E) @ W[p + "attn.c_proj.weight"] + W[p + "attn.c_proj.bias"]
        h = h + a
        x = ln(h, p + "ln_2")
        m = torch.nn.functional.gelu(x @ W[p + "mlp.c_fc.weight"] + W[p + "mlp.c_fc.bias"], approximate="tanh")
        h = h + m @ W[p + "mlp.c_proj.weight"] + W[p + "mlp.c_proj.bias"]
    h = ln(h[:, -1:], "transformer.ln_f")
    return h @ W["transformer.wte.weight"].T


def generate(ids, new):
    cache = [None] * L
    logits = forward(ids, cache, 0)
    past = ids.shape[1]
    for _ in range(new - 1):
        nxt = logits[:, -1].argmax(-1, keepdim=True)
        logits = forward(nxt, cache, past)
        past += 1


def median(xs):
    return sorted(xs)[len(xs) // 2]


with torch.inference_mode():
    prompt = torch.randint(0, cfg["vocab_size"], (1, PROMPT))
    pre = []
    for _ in range(RUNS):
        t = time.perf_counter()
        forward(prompt, [None] * L, 0)
        pre.append((time.perf_counter() - t) * 1000)
    out = {"prefill_ms": median(pre)}
    for B in (1, 8):
        p = torch.randint(0, cfg["vocab_size"], (B, 16))
        one, many = [], []
        for _ in range(RUNS):
            t = time.perf_counter(); generate(p, 1); one.append(time.perf_counter() - t)
            t = time.perf_counter(); generate(p, NEW + 1); many.append(time.perf_counter() - t)
        out[f"decode_b{B}_tok_s"] = B * NEW / (median(many) - median(one))
print(json.dumps(out))
