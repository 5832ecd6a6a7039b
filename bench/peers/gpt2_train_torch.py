"""Plain-torch GPT-2 training step for bench/train.ts: the same shapes (random weights, tied
LM head), AdamW on every parameter (full) or LoRA r=8 on attn.c_attn with the base frozen
(lora). Prints one JSON line {full_ms, full_cpu_ms, lora_ms, lora_cpu_ms} for the modes run
(median wall and process CPU time of a step, after one warm-up step).

usage: python3 gpt2_train_torch.py LAYERS BATCH SEQ STEPS THREADS [MODES]   (MODES: full,lora)
"""
import json
import math
import statistics
import sys
import time

import torch

L, B, T, STEPS, THREADS = map(int, sys.argv[1:6])
MODES = (sys.argv[6] if len(sys.argv) > 6 else "full,lora").split(",")
torch.set_num_threads(THREADS)
torch.manual_seed(0)
E, H, V, P = 768, 12, 50257, 1024
D = E // H


def params():
    W = {"wte": torch.randn(V, E) * 0.02, "wpe": torch.randn(P, E) * 0.01, "lnf_w": torch.ones(E), "lnf_b": torch.zeros(E)}
    for i in range(L):
        for n, s in [("c_attn", (E, 3 * E)), ("attn_proj", (E, E)), ("c_fc", (E, 4 * E)), ("mlp_proj", (4 * E, E))]:
            W[f"{i}.{n}.w"] = torch.randn(*s) * 0.02
            W[f"{i}.{n}.b"] = torch.zeros(s[1])
        for n in ("ln1", "ln2"):
            W[f"{i}.{n}_w"] = torch.ones(E)
            W[f"{i}.{n}_b"] = torch.zeros(E)
    return W


def attention(q, k, v):
    """Causal attention: torch's fused kernel where it has one (2.0+), else written out."""
    if hasattr(torch.nn.functional, "scaled_dot_product_attention"):
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    s = (q @ k.transpose(-1, -2)) / math.sqrt(D)
    s = s.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
    return torch.softmax(s, -1) @ v


def forward(W, lora, ids):
    h = W["wte"][ids] + W["wpe"][torch.arange(T)]
    for i in range(L):
        x = torch.nn.functional.layer_norm(h, (E,), W[f"{i}.ln1_w"], W[f"{i}.ln1_b"])
        qkv = x @ W[f"{i}.c_attn.w"] + W[f"{i}.c_attn.b"]
        if lora is not None:
            qkv = qkv + (x @ lora[f"{i}.A"].T @ lora[f"{i}.B"].T) * 2.0
        q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in qkv.split(E, 2))
        a = attention(q, k, v)
        h = h + a.transpose(1, 2).reshape(B, T, E) @ W[f"{i}.attn_proj.w"] + W[f"{i}.attn_proj.b"]
        x = torch.nn.functional.layer_norm(h, (E,), W[f"{i}.ln2_w"], W[f"{i}.ln2_b"])
        m = torch.nn.functional.gelu(x @ W[f"{i}.c_fc.w"] + W[f"{i}.c_fc.b"], approximate="tanh")
        h = h + m @ W[f"{i}.mlp_proj.w"] + W[f"{i}.mlp_proj.b"]
    h = torch.nn.functional.layer_norm(h, (E,), W["lnf_w"], W["lnf_b"])
    logits = h @ W["wte"].T
    return torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))


def run(mode):
    W = params()
    lora = None
    if mode == "full":
        for t in W.values():
            t.requires_grad_(True)
        opt = torch.optim.AdamW(W.values(), lr=1e-4)
    else:
        lora = {}
        for i in range(L):
            lora[f"{i}.A"] = (torch.rand(8, E) * 2 - 1) / E**0.5
            lora[f"{i}.B"] = torch.zeros(3 * E, 8)
        for t in lora.values():
            t.requires_grad_(True)
        opt = torch.optim.AdamW(lora.values(), lr=1e-4)
    ids = torch.randint(0, V, (B, T))
    times, cpu = [], []
    for s in range(STEPS + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = forward(W, lora, ids)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if s > 0:
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(times), statistics.median(cpu)


result = {}
for mode in MODES:
    result[f"{mode}_ms"], result[f"{mode}_cpu_ms"] = run(mode)
print(json.dumps(result))
