"""PyTorch peer of bench/generate.ts: times prefill of PROMPT tokens and greedy decode with a KV
cache at batch 1 and 8 on the plain-torch GPT-2 of gpt2_plain.py, and prints one JSON line
{prefill_ms, decode_b1_tok_s, decode_b8_tok_s, check}.

usage: python3 gpt2_torch.py MODEL_DIR PROMPT NEW RUNS THREADS
"""
import json
import sys
import time

import torch
from gpt2_plain import GPT2, load

model_dir, PROMPT, NEW, RUNS, THREADS = sys.argv[1], *map(int, sys.argv[2:6])
torch.set_num_threads(THREADS)
cfg, weights = load(model_dir)
model = GPT2(cfg, weights).eval()


def generate(ids, new):
    past = model.empty_past(ids.shape[0])
    out = []
    for i in range(new):
        logits, *past = model(ids, *past)
        ids = logits.argmax(-1, keepdim=True)
        out.append(ids)
    return torch.cat(out, 1)


def median(xs):
    return sorted(xs)[len(xs) // 2]


with torch.inference_mode():
    prompt = torch.randint(0, cfg["vocab_size"], (1, PROMPT))
    pre = []
    for _ in range(RUNS):
        t = time.perf_counter()
        model(prompt, *model.empty_past(1))
        pre.append((time.perf_counter() - t) * 1000)
    out = {"prefill_ms": median(pre)}
    # The same greedy continuation as bench/generate.ts computes, to check both run the same model.
    check = torch.tensor([[(7 * i) % cfg["vocab_size"] for i in range(16)]])
    out["check"] = generate(check, 4)[0].tolist()
    for B in (1, 8):
        p = torch.randint(0, cfg["vocab_size"], (B, 16))
        one, many = [], []
        for _ in range(RUNS):
            t = time.perf_counter()
            generate(p, 1)
            one.append(time.perf_counter() - t)
            t = time.perf_counter()
            generate(p, NEW + 1)
            many.append(time.perf_counter() - t)
        out[f"decode_b{B}_tok_s"] = B * NEW / (median(many) - median(one))
print(json.dumps(out))
