"""Exports the plain-torch GPT-2 of gpt2_plain.py to ONNX for the onnxruntime-node peer of
bench/generate.ts: inputs input_ids [B, T] (int64), past_keys/past_values [L, B, H, P, D];
outputs logits [B, V] (last position), present_keys/present_values [L, B, H, P + T, D].

usage: python3 gpt2_onnx_export.py MODEL_DIR OUT.onnx
"""
import sys

import torch
from gpt2_plain import GPT2, load

cfg, weights = load(sys.argv[1])
model = GPT2(cfg, weights).eval()
ids = torch.zeros(1, 3, dtype=torch.int64)
past = (torch.zeros(model.L, 1, model.H, 2, model.D), torch.zeros(model.L, 1, model.H, 2, model.D))
with torch.no_grad():
    torch.onnx.export(
        model,
        (ids, *past),
        sys.argv[2],
        input_names=["input_ids", "past_keys", "past_values"],
        output_names=["logits", "present_keys", "present_values"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "new"},
            "past_keys": {1: "batch", 3: "past"},
            "past_values": {1: "batch", 3: "past"},
            "logits": {0: "batch"},
            "present_keys": {1: "batch", 3: "total"},
            "present_values": {1: "batch", 3: "total"},
        },
        opset_version=14,
    )
