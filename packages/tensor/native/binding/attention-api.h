#pragma once
#include <napi.h>

namespace hearth {
// attention(q, k, v, out, lse, [B, H, G, T, S, D, E], scale, causal, keyKeep): fused forward.
Napi::Value Attention(const Napi::CallbackInfo& info);
// attentionBackward(q, k, v, out, lse, dout, dq, dk, dv, shape, scale, causal, keyKeep).
Napi::Value AttentionBackward(const Napi::CallbackInfo& info);
}  // namespace hearth
