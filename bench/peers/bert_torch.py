"""Plain-torch BERT encoder (no transformers) for bench/encoders.ts: reads the same
model.safetensors and config.json, checks one input against the ids/mask it is given, times
mean-pooled embeddings of a [BATCH, LENGTH] batch, and prints one JSON line
{sentences_s, check: [first 8 values of the pooled check embedding]}.

usage: python3 bert_torch.py MODEL_DIR BATCH LENGTH RUNS THREADS
"""
import json
import math
import struct
import sys
import time

import numpy as np
import torch

model_dir, BATCH, LENGTH, RUNS, THREADS = sys.argv[1], *map(int, sys.argv[2:6])
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
E, H, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
D = E // H
eps = cfg["layer_norm_eps"]
F = torch.nn.functional


def lin(x, p):
    return F.linear(x, W[p + ".weight"], W[p + ".bias"])


def ln(x, p):
    return F.layer_norm(x, (E,), W[p + ".weight"], W[p + ".bias"], eps)


def embed(ids, mask):
    B, T = ids.shape
    h = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][:T] + W["embeddings.token_type_embeddings.weight"][0]
    h = ln(h, "embeddings.LayerNorm")
    add = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    for i in range(L):
        p = f"encoder.layer.{i}."
        q, k, v = (lin(h, p + "attention.self." + n).view(B, T, H, D).transpose(1, 2) for n in ("query", "key", "value"))
        a = ((q @ k.transpose(-1, -2)) / math.sqrt(D) + add).softmax(-1) @ v
        h = ln(lin(a.transpose(1, 2).reshape(B, T, E), p + "attention.output.dense") + h, p + "attention.output.LayerNorm")
        m = F.gelu(lin(h, p + "intermediate.dense"))
        h = ln(lin(m, p + "output.dense") + h, p + "output.LayerNorm")
    m = mask[:, :, None].float()
    return (h * m).sum(1) / m.sum(1)


with torch.no_grad():
    check_ids = torch.tensor([[(7 * i + 3) % cfg["vocab_size"] for i in range(16)]])
    check = embed(check_ids, torch.ones_like(check_ids))[0, :8].tolist()
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, cfg["vocab_size"], (BATCH, LENGTH), generator=g)
    mask = torch.ones_like(ids)
    embed(ids, mask)  # warm-up
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        embed(ids, mask)
        times.append(time.perf_counter() - t0)
times.sort()
print(json.dumps({"sentences_s": BATCH / times[len(times) // 2], "check": check}))
