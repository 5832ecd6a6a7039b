#pragma once
#include <napi.h>

namespace hearth {
// attention(q, qOffset, qStrides, k, …, v, …, mask, maskOffset, maskStrides, out, outOffset,
// outStrides, lse, shape, scale, causal[, newK, newKOffset, newKStrides, newV, newVOffset,
// newVStrides]): fused forward over strided float32 views; with newK/newV, appended to k/v (a KV
// cache's first S positions) at [S - T, S) first.
Napi::Value Attention(const Napi::CallbackInfo& info);
// attentionBackward(q, …, k, …, v, …, mask, …, out, …, lse, dout, …, dq, …, dk, …, dv, …, shape,
// scale, causal): dq, dk, dv are strided views too (buffer, offset, strides).
Napi::Value AttentionBackward(const Napi::CallbackInfo& info);
// selectAttentionKernel("avx512" | "avx2" | "generic" | ""): forces a variant; false when unavailable.
Napi::Value SelectAttentionKernel(const Napi::CallbackInfo& info);
}  // namespace hearth
