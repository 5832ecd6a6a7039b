// Fused scaled-dot-product attention, streaming over keys with an online softmax
// (Milakov & Gimelshein 2018; Dao et al. 2022) so memory stays linear in sequence length.
// Layout legend: B batch, H query heads, G key/value heads (H % G == 0, grouped-query
// attention: query head h reads kv head h / (H / G), nothing is repeated in memory),
// T query positions, S key positions, D head dim, E value dim.
//   q [B, H, T, D], k [B, G, S, D], v [B, G, S, E]: any strides over the first three dims, the
//   last dim contiguous (a KV cache read through its [:, :, :S] view needs no copy);
//   out [B, H, T, E] likewise strided (the primitive writes it as [B, T, H, E], which a head
//   merge reads as [B, T, H·E] without a copy); lse [B, H, T] contiguous.
// Masks: `causal` lets query i see keys j <= i + S - T; an optional mask over [B, H, T, S]
// (strides may be 0 to broadcast) is either added to the scaled scores (float) or keeps the
// keys whose byte is non-zero (bool). A query that sees no key (every score -inf) gets NaN,
// like softmax over all -inf; a finite mask value (finfo.min) keeps the row finite.
// The backward recomputes the probabilities from q, k, v and the row log-sum-exp `lse` saved
// here, so it also needs no [T, S] buffer.
#pragma once
#include <cstdint>

namespace hearth {

// A strided output: element (b, h, t, e) at data[b·sb + h·sh + t·st + e].
struct AttentionOut {
  float* data;
  int64_t sb, sh, st;
  float* row(int64_t b, int64_t h, int64_t t) const { return data + b * sb + h * sh + t * st; }
};

struct AttentionArgs {
  int64_t B, H, G, T, S, D, E;
  const float* q;
  int64_t q_b, q_h, q_t;
  const float* k;
  int64_t k_b, k_g, k_s;
  const float* v;
  int64_t v_b, v_g, v_s;
  const float* mask_add;     // additive mask, or null
  const uint8_t* mask_keep;  // boolean keep-mask, or null (at most one of the two)
  int64_t m_b, m_h, m_t, m_s;
  float scale;
  bool causal;
};

// The vector pieces the drivers are built from, chosen once at load time.
struct AttentionOps {
  const char* name;
  // out[j] = x · rows[j] for n rows of length d at `stride` elements apart.
  void (*dots)(const float* x, const float* rows, int64_t stride, int64_t n, int64_t d, float* out);
  // acc[e] += Σ_j p[j] · rows[j][e] for n rows of length e at `stride` apart.
  void (*accumulate)(const float* p, int64_t n, const float* rows, int64_t stride, int64_t e, float* acc);
  // Query tile: s[r][j] = q[r] · k_j for 4 query rows against the 64 keys of a block packed
  // transposed, kt[d·64 + j] (keys past the block's end zero).
  void (*tile_scores)(const float* const* q, const float* kt, int64_t d, float* s);
  // o[r][e] += Σ_j p[r·64 + j] · rows[j][e] for 4 rows (o[r] = o + r·o_stride), n keys.
  void (*tile_accumulate)(const float* p, int64_t n, const float* rows, int64_t stride, int64_t e, float* o,
                          int64_t o_stride);
  // The same with p read transposed: o[r][e] += Σ_i p[i·64 + r] · rows[i][e] (the backward's
  // dv = Pᵀ·dout and dk = dSᵀ·q straight from the 64×64 P and dS blocks, no transpose).
  void (*tile_accumulate_t)(const float* p, int64_t n, const float* rows, int64_t stride, int64_t e, float* o,
                            int64_t o_stride);
  // Packs rows [j0, j0 + n) (n <= 64, `stride` apart, width d) transposed: kt[c·64 + j] =
  // rows[(j0 + j)·stride + c], zero for j >= n.
  void (*pack_transposed)(const float* rows, int64_t stride, int64_t j0, int64_t n, int64_t d, float* kt);
  // The forward's online-softmax step for a 4-row tile of masked scores p[r·64 + j] over keys
  // j < n, rows r < nr: with bm the row's max, a row with no visible key (bm = -inf) gets
  // p = 0 and corr[r] = 1; otherwise, when bm > m[r], corr[r] = exp(m[r] − bm) (0 when m[r] =
  // -inf), l[r] *= corr[r] and m[r] = bm (else corr[r] = 1); then p = exp(p − m[r]) and
  // l[r] += Σ_j p (in double). The caller rescales its output rows by corr.
  void (*tile_softmax)(float* p, int64_t n, int64_t nr, float* m, double* l, float* corr);
  // The backward's probabilities and score gradients for a 4-row tile over all 64 lanes: rows
  // r < nr with ok[r] get p = exp((p − shift[r]) − lsum[r]) and ds = p·(ds − delta[r])·scale;
  // the other rows get p = ds = 0.
  void (*tile_grads)(float* p, float* ds, int64_t nr, const bool* ok, const float* shift, const float* lsum,
                     const float* delta, float scale);
  // tile_scores for the first w keys only (w a multiple of 8, at most 64; lanes from w on keep
  // what s held): a causal tile's keys past its last row's limit, which masking sets to -inf
  // anyway. Null where a family has none (the driver then scores all 64).
  void (*tile_scores_w)(const float* const* q, const float* kt, int64_t d, int64_t w, float* s);
};

#if defined(__x86_64__)
const AttentionOps* attention_ops_avx512();
const AttentionOps* attention_ops_avx2();
#endif
// The variant in use.
const AttentionOps* attention_ops();
// Forces "avx512", "avx2" or "generic"; "" restores the automatic choice. False when the CPU lacks it.
bool attention_select(const char* name);

// Writes out [B, H, T, E] and, when non-null, lse [B, H, T] (the row log-sum-exp of the
// masked, scaled scores; -inf for a query that sees no key). With T >= 4 (prefill, encoders)
// it works in tiles of 4 queries × 64 keys against key blocks packed once per 64 queries, the
// FlashAttention loop order; a decoding step (T < 4) streams each query row over the cache.
// Threads over (batch, head, query block) or over rows.
void attention_forward(const AttentionArgs& a, const AttentionOut& out, float* lse);

// What the backward reads besides q, k, v and the mask: the saved out [B,H,T,E] and dout
// [B,H,T,E] (strides over the first three dims, the last dim contiguous: dout is usually the
// transposed view of a [B,T,H·E] gradient) and the contiguous lse [B,H,T].
struct AttentionGradArgs {
  const float* out;
  int64_t o_b, o_h, o_t;
  const float* dout;
  int64_t do_b, do_h, do_t;
  const float* lse;
};

// Writes dq [B,H,T,D], dk [B,G,S,D], dv [B,G,S,E] (strided views: the primitive packs them
// into one [B, T, H + 2G, D] buffer when T == S and D == E, the layout of a fused qkv
// projection's output, so their gradient needs no copy or concatenation). With
// P = exp(scale·q·kᵀ + mask − lse) and Δ_i = dout_i·out_i:
//   dv = Pᵀ·dout; dS = P ∘ (dout·vᵀ − Δ); dq = scale·dS·k; dk = scale·dSᵀ·q.
// FlashAttention-2's loop: per (batch, kv head) task (the heads sharing a kv head accumulate
// dk, dv without races), per block of 64 queries, per block of 64 keys, P and dS are
// recomputed as 4×64 GEMM tiles and the four products run as tiles too. A key block that the
// mask hides from every query of the block (all mask values <= -1e30, every query with a
// finite lse) contributes exactly zero and is skipped, so a causal additive mask costs half.
// A row with |lse| > 1024 (one that sees only finfo.min scores saves lse = finfo.min, its
// log(n) rounded away) gets its max and log-sum recomputed apart in one extra pass, so its P
// is 1/n as softmax gives, not 1.
void attention_backward(const AttentionArgs& a, const AttentionGradArgs& g, const AttentionOut& dq,
                        const AttentionOut& dk, const AttentionOut& dv);

}  // namespace hearth
