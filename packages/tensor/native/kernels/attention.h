// Fused scaled-dot-product attention, forward, streaming over keys with an online softmax
// (Milakov & Gimelshein 2018; Dao et al. 2022) so memory stays linear in sequence length.
// Layout legend: B batch, H query heads, G key/value heads (H % G == 0, grouped-query
// attention: query head h reads kv head h / (H / G)), T query positions, S key positions,
// D head dim, E value dim; all contiguous:
//   q [B, H, T, D], k [B, G, S, D], v [B, G, S, E] -> out [B, H, T, E], lse [B, H, T]
// Masks: `causal` lets query i see keys j <= i + S - T; `key_keep` (bytes [B, S], optional)
// drops keys whose byte is 0. A query that sees no key gets NaN, like softmax over all -inf.
// The backward needs q, k, v, out and lse (the row log-sum-exp saved here).
#pragma once
#include <cstdint>

namespace hearth {

struct AttentionShape {
  int64_t B, H, G, T, S, D, E;
};

void attention_forward(const AttentionShape& s, const float* q, const float* k, const float* v, float scale,
                       bool causal, const uint8_t* key_keep, float* out, float* lse);

// Backward from the saved out and lse: writes dq [B,H,T,D], dk [B,G,S,D], dv [B,G,S,E]
// (overwritten). With P = exp(scale·q·kᵀ − lse) and Δ_i = dout_i·out_i:
//   dv = Pᵀ·dout; dS = P ∘ (dout·vᵀ − Δ); dq = scale·dS·k; dk = scale·dSᵀ·q.
// Work is split over (batch, kv head), so the heads sharing a kv head accumulate without races.
void attention_backward(const AttentionShape& s, const float* q, const float* k, const float* v, const float* out,
                        const float* lse, const float* dout, float scale, bool causal, const uint8_t* key_keep,
                        float* dq, float* dk, float* dv);

}  // namespace hearth
