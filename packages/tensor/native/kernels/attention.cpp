// Fused attention drivers and the portable `_generic` vector pieces (see attention.h).
#include "attention.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "cpu-features.h"
#include "thread-pool.h"
#include "vec-math.h"

namespace hearth {
namespace {

constexpr int64_t kKeyBlock = 64;

void dots_generic(const float* x, const float* rows, int64_t stride, int64_t n, int64_t d, float* out) {
  for (int64_t j = 0; j < n; j++) {
    const float* r = rows + j * stride;
    float s = 0.0f;
    for (int64_t i = 0; i < d; i++) s += x[i] * r[i];
    out[j] = s;
  }
}

void accumulate_generic(const float* p, int64_t n, const float* rows, int64_t stride, int64_t e, float* acc) {
  for (int64_t j = 0; j < n; j++) {
    const float pj = p[j];
    const float* r = rows + j * stride;
    for (int64_t i = 0; i < e; i++) acc[i] += pj * r[i];
  }
}

void tile_scores_w_generic(const float* const* q, const float* kt, int64_t d, int64_t w, float* s) {
  for (int r = 0; r < 4; r++) {
    float* sr = s + r * 64;
    for (int64_t j = 0; j < w; j++) sr[j] = 0.0f;
    for (int64_t i = 0; i < d; i++) {
      const float qi = q[r][i];
      for (int64_t j = 0; j < w; j++) sr[j] += qi * kt[i * 64 + j];
    }
  }
}

void tile_scores_generic(const float* const* q, const float* kt, int64_t d, float* s) {
  tile_scores_w_generic(q, kt, d, 64, s);
}

void tile_accumulate_generic(const float* p, int64_t n, const float* rows, int64_t stride, int64_t e, float* o,
                             int64_t o_stride) {
  for (int r = 0; r < 4; r++) accumulate_generic(p + r * 64, n, rows, stride, e, o + r * o_stride);
}

void tile_accumulate_t_generic(const float* p, int64_t n, const float* rows, int64_t stride, int64_t e, float* o,
                               int64_t o_stride) {
  for (int r = 0; r < 4; r++) {
    float* orow = o + r * o_stride;
    for (int64_t i = 0; i < n; i++) {
      const float pi = p[i * 64 + r];
      const float* row = rows + i * stride;
      for (int64_t c = 0; c < e; c++) orow[c] += pi * row[c];
    }
  }
}

void pack_transposed_generic(const float* rows, int64_t stride, int64_t j0, int64_t n, int64_t d, float* kt) {
  for (int64_t c = 0; c < d; c++) {
    float* row = kt + c * 64;
    for (int64_t j = 0; j < n; j++) row[j] = rows[(j0 + j) * stride + c];
    for (int64_t j = n; j < 64; j++) row[j] = 0.0f;
  }
}

void exp_inplace(float* y, int64_t n);

void tile_softmax_generic(float* p, int64_t n, int64_t nr, float* m, double* l, float* corr) {
  for (int64_t r = 0; r < nr; r++) {
    float* pr = p + r * 64;
    float bm = -INFINITY;
    for (int64_t j = 0; j < n; j++) bm = pr[j] > bm ? pr[j] : bm;
    corr[r] = 1.0f;
    if (bm == -INFINITY) {
      for (int64_t j = 0; j < 64; j++) pr[j] = 0.0f;
      continue;
    }
    if (bm > m[r]) {
      corr[r] = m[r] == -INFINITY ? 0.0f : std::exp(m[r] - bm);
      l[r] *= corr[r];
      m[r] = bm;
    }
    for (int64_t j = 0; j < n; j++) pr[j] -= m[r];
    exp_inplace(pr, n);
    double sum = 0.0;
    for (int64_t j = 0; j < n; j++) sum += pr[j];
    l[r] += sum;
  }
}

void tile_grads_generic(float* p, float* ds, int64_t nr, const bool* ok, const float* shift, const float* lsum,
                        const float* delta, float scale) {
  for (int64_t r = 0; r < 4; r++) {
    float* pr = p + r * 64;
    float* dr = ds + r * 64;
    if (r >= nr || !ok[r]) {
      for (int64_t j = 0; j < 64; j++) pr[j] = dr[j] = 0.0f;
      continue;
    }
    for (int64_t j = 0; j < 64; j++) pr[j] = (pr[j] - shift[r]) - lsum[r];
    exp_inplace(pr, 64);
    for (int64_t j = 0; j < 64; j++) dr[j] = pr[j] * (dr[j] - delta[r]) * scale;
  }
}

const AttentionOps kGeneric = {"generic",
                               dots_generic,
                               accumulate_generic,
                               tile_scores_generic,
                               tile_accumulate_generic,
                               tile_accumulate_t_generic,
                               pack_transposed_generic,
                               tile_softmax_generic,
                               tile_grads_generic,
                               tile_scores_w_generic};

const AttentionOps* select_ops() {
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.avx512bw && f.avx512vl && f.fma) return attention_ops_avx512();
  if (f.avx2 && f.fma) return attention_ops_avx2();
#endif
  return &kGeneric;
}

const AttentionOps* g_ops = select_ops();

void exp_inplace(float* y, int64_t n) {
  const VecMath* vm = vec_math();
  if (vm != nullptr) return vm->exp(y, y, n);
  for (int64_t i = 0; i < n; i++) y[i] = std::exp(y[i]);
}

// Keys [0, last) that query i may see under the causal rule.
int64_t visible_keys(const AttentionArgs& a, int64_t i) {
  if (!a.causal) return a.S;
  const int64_t lim = i + a.S - a.T + 1;
  return lim < 0 ? 0 : (lim < a.S ? lim : a.S);
}

// Scores of one query against keys [j0, j0 + n): scale·q·k + mask (or -inf where masked out).
void block_scores(const AttentionArgs& a, const AttentionOps* ops, const float* qi, const float* kb, int64_t mrow,
                  int64_t j0, int64_t n, float* p) {
  ops->dots(qi, kb + j0 * a.k_s, a.k_s, n, a.D, p);
  for (int64_t j = 0; j < n; j++) p[j] *= a.scale;
  if (a.mask_add != nullptr) {
    const float* m = a.mask_add + mrow + j0 * a.m_s;
    for (int64_t j = 0; j < n; j++) p[j] += m[j * a.m_s];
  } else if (a.mask_keep != nullptr) {
    const uint8_t* m = a.mask_keep + mrow + j0 * a.m_s;
    for (int64_t j = 0; j < n; j++)
      if (m[j * a.m_s] == 0) p[j] = -INFINITY;
  }
}

// Asks for the rows [0, n) of width w floats of (b, h) in `out` to be brought into cache before
// they are written: the outputs are usually recycled memory that is cold, and each row is a
// short run (a head's 64 floats) in a different place, so writing them at the end of a block
// stalls on one cache miss after another (the backward's row copies took a fifth of its time).
constexpr int64_t kPrefetchOutputBytes = int64_t{256} << 10;
void prefetch_rows(const AttentionOut& out, int64_t b, int64_t h, int64_t t0, int64_t n, int64_t w) {
  for (int64_t t = t0; t < t0 + n; t++) {
    const char* row = reinterpret_cast<const char*>(out.row(b, h, t));
    for (int64_t off = 0; off < w * static_cast<int64_t>(sizeof(float)); off += 64) __builtin_prefetch(row + off, 1, 3);
  }
}

int threads_for(double work) { return work < static_cast<double>(1 << 18) ? 1 : num_threads(); }

// True when the mask hides keys [j0, j0 + n) from every query of [i0, i1) of (b, h): all
// additive values <= -1e30 (exp of such a score is exactly 0 beside any visible key) or all
// keep bytes 0.
bool block_hidden(const AttentionArgs& a, int64_t b, int64_t h, int64_t i0, int64_t i1, int64_t j0, int64_t n) {
  if (a.mask_add == nullptr && a.mask_keep == nullptr) return false;
  for (int64_t i = i0; i < i1; i++) {
    const int64_t mrow = b * a.m_b + h * a.m_h + i * a.m_t + j0 * a.m_s;
    if (a.mask_add != nullptr) {
      const float* m = a.mask_add + mrow;
      for (int64_t j = 0; j < n; j++)
        if (!(m[j * a.m_s] <= -1e30f)) return false;
    } else {
      for (int64_t j = 0; j < n; j++)
        if (a.mask_keep[mrow + j * a.m_s] != 0) return false;
    }
  }
  return true;
}

// Of keys [j0, j0 + n), how many from j0 on query i may see under the causal rule (all n
// when not causal): the later ones get p = 0 from every query up to i.
int64_t causal_keys(const AttentionArgs& a, int64_t i, int64_t j0, int64_t n) {
  if (!a.causal) return n;
  const int64_t k = visible_keys(a, i) - j0;
  return k < 0 ? 0 : (k < n ? k : n);
}

// Query i's raw scores q·k against keys [j0, j0 + n) of (b, h), in place: scaled, masked, and
// -inf from the causal limit up to `width` (>= n: a short block's spare lanes read -inf too).
// Branch-free passes the compiler vectorises.
void mask_scores(const AttentionArgs& a, int64_t b, int64_t h, int64_t i, int64_t j0, int64_t n, int64_t width,
                 float* pr) {
  const int64_t lim = visible_keys(a, i) - j0;
  const int64_t mrow = b * a.m_b + h * a.m_h + i * a.m_t + j0 * a.m_s;
  for (int64_t j = 0; j < n; j++) pr[j] *= a.scale;
  if (a.mask_add != nullptr) {
    const float* mk = a.mask_add + mrow;
    if (a.m_s == 1) {
      for (int64_t j = 0; j < n; j++) pr[j] += mk[j];
    } else {
      for (int64_t j = 0; j < n; j++) pr[j] += mk[j * a.m_s];
    }
  } else if (a.mask_keep != nullptr) {
    for (int64_t j = 0; j < n; j++)
      if (a.mask_keep[mrow + j * a.m_s] == 0) pr[j] = -INFINITY;
  }
  for (int64_t j = lim < 0 ? 0 : lim; j < width; j++) pr[j] = -INFINITY;
}

}  // namespace

const AttentionOps* attention_ops() { return g_ops; }

bool attention_select(const char* name) {
  if (name == nullptr || name[0] == '\0') {
    g_ops = select_ops();
    return true;
  }
  if (std::strcmp(name, "generic") == 0) {
    g_ops = &kGeneric;
    return true;
  }
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (std::strcmp(name, "avx512") == 0 && f.avx512f && f.avx512bw && f.avx512vl && f.fma) {
    g_ops = attention_ops_avx512();
    return true;
  }
  if (std::strcmp(name, "avx2") == 0 && f.avx2 && f.fma) {
    g_ops = attention_ops_avx2();
    return true;
  }
#endif
  return false;
}

namespace {

constexpr int64_t kQueryBlock = 64;

// Queries [i0, i1) of (b, h), tiled 4 queries × 64 keys (see attention.h).
void forward_block(const AttentionArgs& a, const AttentionOps* ops, int64_t b, int64_t h, int64_t i0, int64_t i1,
                   const AttentionOut& out, float* lse, float* kt, float* acc, float* p, float* m, double* l) {
  const int64_t g = h / (a.H / a.G);
  const float* kb = a.k + b * a.k_b + g * a.k_g;
  const float* vb = a.v + b * a.v_b + g * a.v_g;
  const float* qb = a.q + b * a.q_b + h * a.q_h;
  const int64_t rows = i1 - i0;
  prefetch_rows(out, b, h, i0, rows, a.E);
  std::memset(acc, 0, sizeof(float) * (rows + 4) * a.E);  // 4 spare rows absorb a short tile
  for (int64_t r = 0; r < rows; r++) m[r] = -INFINITY, l[r] = 0.0;
  const int64_t last = visible_keys(a, i1 - 1);
  for (int64_t j0 = 0; j0 < last; j0 += kKeyBlock) {
    const int64_t n = last - j0 < kKeyBlock ? last - j0 : kKeyBlock;
    ops->pack_transposed(kb, a.k_s, j0, n, a.D, kt);
    for (int64_t r0 = 0; r0 < rows; r0 += 4) {
      const int64_t nr = rows - r0 < 4 ? rows - r0 : 4;
      // Keys the mask hides from rows that already saw a key add exactly nothing: skip them.
      bool seen = true;
      for (int64_t r = 0; r < nr; r++) seen = seen && m[r0 + r] > -1e30f;
      if (seen && block_hidden(a, b, h, i0 + r0, i0 + r0 + nr, j0, n)) continue;
      // A short tile repeats its first row's query; its extra rows are zeroed below.
      const float* qs[4];
      for (int64_t r = 0; r < 4; r++) qs[r] = qb + (i0 + r0 + (r < nr ? r : 0)) * a.q_t;
      // Causal: keys past the tile's last visible one are masked to -inf in every row (and get
      // p = 0): score only the 8-key groups before them, and leave them out of the softmax's
      // exps and the products with v (a 128-token prefill's attention: 0.88-0.96× the time).
      const int64_t visible = causal_keys(a, i0 + r0 + nr - 1, j0, n);
      if (visible < n && ops->tile_scores_w != nullptr) {
        ops->tile_scores_w(qs, kt, a.D, (visible + 7) / 8 * 8, p);
      } else {
        ops->tile_scores(qs, kt, a.D, p);
      }
      for (int64_t r = 0; r < nr; r++) mask_scores(a, b, h, i0 + r0 + r, j0, n, n, p + r * kKeyBlock);
      for (int64_t r = nr; r < 4; r++) std::memset(p + r * kKeyBlock, 0, sizeof(float) * kKeyBlock);
      float corr[4];
      ops->tile_softmax(p, visible, nr, m + r0, l + r0, corr);
      for (int64_t r = 0; r < nr; r++) {
        if (corr[r] == 1.0f) continue;
        float* o = acc + (r0 + r) * a.E;
        for (int64_t e = 0; e < a.E; e++) o[e] *= corr[r];
      }
      ops->tile_accumulate(p, visible, vb + j0 * a.v_s, a.v_s, a.E, acc + r0 * a.E, a.E);
    }
  }
  for (int64_t r = 0; r < rows; r++) {
    const int64_t row = (b * a.H + h) * a.T + i0 + r;
    float* o = out.row(b, h, i0 + r);
    if (l[r] == 0.0) {
      for (int64_t e = 0; e < a.E; e++) o[e] = NAN;
      if (lse != nullptr) lse[row] = -INFINITY;
      continue;
    }
    const float inv = static_cast<float>(1.0 / l[r]);
    for (int64_t e = 0; e < a.E; e++) o[e] = acc[r * a.E + e] * inv;
    if (lse != nullptr) lse[row] = m[r] + static_cast<float>(std::log(l[r]));
  }
}

}  // namespace

void attention_forward(const AttentionArgs& a, const AttentionOut& out, float* lse) {
  const AttentionOps* ops = g_ops;
  if (a.T >= 4) {
    const int64_t blocks = (a.T + kQueryBlock - 1) / kQueryBlock;
    const int64_t tasks = a.B * a.H * blocks;
    const int threads = threads_for(static_cast<double>(a.B) * a.H * a.T * a.S * (a.D + a.E));
    auto body = [&](int64_t t) {
      thread_local std::vector<float> scratch;
      const size_t need = static_cast<size_t>(a.D * kKeyBlock + (kQueryBlock + 4) * a.E + 5 * kKeyBlock);
      if (scratch.size() < need) scratch.resize(need);
      thread_local std::vector<double> lsum(kQueryBlock);
      float* kt = scratch.data();
      float* acc = kt + a.D * kKeyBlock;
      float* p = acc + (kQueryBlock + 4) * a.E;
      float* m = p + 4 * kKeyBlock;
      const int64_t qb = t % blocks, bh = t / blocks;
      const int64_t i0 = qb * kQueryBlock, i1 = i0 + kQueryBlock < a.T ? i0 + kQueryBlock : a.T;
      forward_block(a, ops, bh / a.H, bh % a.H, i0, i1, out, lse, kt, acc, p, m, lsum.data());
    };
    if (threads == 1) {
      for (int64_t t = 0; t < tasks; t++) body(t);
    } else {
      parallel_for(static_cast<int>(tasks), threads, body);
    }
    return;
  }
  const int64_t group = a.H / a.G;
  const int64_t rows = a.B * a.H * a.T;
  // One query row: r = (b·H + h)·T + i. Decoding (T = 1) is the same loop over the cache.
  auto row = [&](int64_t r, float* acc, float* p) {
    const int64_t i = r % a.T;
    const int64_t h = (r / a.T) % a.H;
    const int64_t b = r / (a.T * a.H);
    const int64_t g = h / group;
    const float* qi = a.q + b * a.q_b + h * a.q_h + i * a.q_t;
    const float* kb = a.k + b * a.k_b + g * a.k_g;
    const float* vb = a.v + b * a.v_b + g * a.v_g;
    const int64_t mrow = b * a.m_b + h * a.m_h + i * a.m_t;
    const int64_t last = visible_keys(a, i);
    float m = -INFINITY;
    double l = 0.0;
    std::memset(acc, 0, sizeof(float) * a.E);
    for (int64_t j0 = 0; j0 < last; j0 += kKeyBlock) {
      const int64_t n = last - j0 < kKeyBlock ? last - j0 : kKeyBlock;
      block_scores(a, ops, qi, kb, mrow, j0, n, p);
      float bm = -INFINITY;
      for (int64_t j = 0; j < n; j++) bm = p[j] > bm ? p[j] : bm;
      if (bm == -INFINITY) continue;  // every key of the block masked
      if (bm > m) {
        const float corr = m == -INFINITY ? 0.0f : std::exp(m - bm);
        l *= corr;
        for (int64_t e = 0; e < a.E; e++) acc[e] *= corr;
        m = bm;
      }
      for (int64_t j = 0; j < n; j++) p[j] -= m;
      exp_inplace(p, n);
      for (int64_t j = 0; j < n; j++) l += p[j];
      ops->accumulate(p, n, vb + j0 * a.v_s, a.v_s, a.E, acc);
    }
    float* o = out.row(b, h, i);
    if (l == 0.0) {
      for (int64_t e = 0; e < a.E; e++) o[e] = NAN;
      if (lse != nullptr) lse[r] = -INFINITY;
      return;
    }
    const float inv = static_cast<float>(1.0 / l);
    for (int64_t e = 0; e < a.E; e++) o[e] = acc[e] * inv;
    if (lse != nullptr) lse[r] = m + static_cast<float>(std::log(l));
  };
  // A decoding step reads the whole cache (S·(D + E) floats per kv head) for a handful of
  // FMAs per element: memory bound, so the threads pay from a lower amount of work than the
  // query-block path's (GPT-2 small at S = 160: 12 rows, 1 MB of cache, 71 us on one thread,
  // 35 us on two, back to back; measured session 10).
  const double work = static_cast<double>(rows) * a.S * (a.D + a.E);
  const int threads = rows > 1 && work >= static_cast<double>(1 << 15) ? num_threads() : 1;
  const int64_t tasks = threads == 1 ? 1 : (rows < threads * 16 ? rows : threads * 16);
  parallel_for(static_cast<int>(tasks), threads, [&](int64_t t) {
    std::vector<float> acc(a.E), p(kKeyBlock);
    for (int64_t r = rows * t / tasks; r < rows * (t + 1) / tasks; r++) row(r, acc.data(), p.data());
  });
}

namespace {

// Beyond this magnitude the float32 lse has lost too much of its log-sum (|lse|·2⁻²⁴ > 6e-5):
// a row that sees only finfo.min scores saves lse = finfo.min, its log(n) rounded away, and
// exp(s − lse) would give 1 instead of 1/n. The backward recomputes such rows' max and log-sum
// (kept apart: their sum rounds the same way) in an extra pass over the row's keys.
constexpr float kLseExactLimit = 1024.0f;

// The max score of query i of (b, h) and log Σ exp(s − max) over the keys it may see (at least
// one finite score); `tmp` holds 64 floats.
void row_max_logsum(const AttentionArgs& a, const AttentionOps* ops, int64_t b, int64_t h, int64_t i, const float* qi,
                    const float* kb, float* tmp, float& max, float& logsum) {
  const int64_t last = visible_keys(a, i);
  const int64_t mrow = b * a.m_b + h * a.m_h + i * a.m_t;
  float m = -INFINITY;
  double l = 0.0;
  for (int64_t j0 = 0; j0 < last; j0 += kKeyBlock) {
    const int64_t n = last - j0 < kKeyBlock ? last - j0 : kKeyBlock;
    block_scores(a, ops, qi, kb, mrow, j0, n, tmp);
    float bm = -INFINITY;
    for (int64_t j = 0; j < n; j++) bm = tmp[j] > bm ? tmp[j] : bm;
    if (bm == -INFINITY) continue;
    if (bm > m) {
      l *= m == -INFINITY ? 0.0 : std::exp(static_cast<double>(m) - bm);
      m = bm;
    }
    for (int64_t j = 0; j < n; j++) l += std::exp(static_cast<double>(tmp[j] - m));
  }
  max = m;
  logsum = static_cast<float>(std::log(l));
}

// The keys rounded up to whole key blocks: the length of the backward's packed kᵀ and vᵀ.
int64_t padded_keys(const AttentionArgs& a) { return (a.S + kKeyBlock - 1) / kKeyBlock * kKeyBlock; }

// One (batch, kv head) task of the backward (see attention.h); scratch sized by the caller.
void backward_task(const AttentionArgs& a, const AttentionGradArgs& g, const AttentionOps* ops, int64_t b,
                   int64_t kvh, const AttentionOut& dq, const AttentionOut& dk, const AttentionOut& dv,
                   float* scratch) {
  constexpr int64_t Q = kQueryBlock, K = kKeyBlock;
  const int64_t group = a.H / a.G;
  // Every key block is packed once for the task (k and v transposed, block after block) and
  // read by all its query blocks and heads, instead of again for each query block.
  const int64_t s_pad = padded_keys(a);
  float* kts = scratch;
  float* vts = kts + a.D * s_pad;
  float* P = vts + a.E * s_pad;
  float* dS = P + Q * K;
  float* delta = dS + Q * K;
  float* dqacc = delta + Q;
  float* dkacc = dqacc + (Q + 4) * a.D;
  float* dvacc = dkacc + (a.S + 4) * a.D;
  std::memset(dkacc, 0, sizeof(float) * (a.S + 4) * a.D);
  std::memset(dvacc, 0, sizeof(float) * (a.S + 4) * a.E);
  // The task's dk and dv rows are written at its end; fetched now while few enough to stay in
  // cache until then (the task's inputs and scratch are a few hundred KB at 128 keys).
  if (a.S * (a.D + a.E) * static_cast<int64_t>(sizeof(float)) <= kPrefetchOutputBytes) {
    prefetch_rows(dk, b, kvh, 0, a.S, a.D);
    prefetch_rows(dv, b, kvh, 0, a.S, a.E);
  }
  bool ok[Q];
  // p = exp((s − shift) − lsum): shift = lse and lsum = 0, except for rows whose saved lse is
  // too large to subtract from (see kLseExactLimit), which get their own max and log-sum.
  float shift[Q], lsum[Q];
  const float* kb = a.k + b * a.k_b + kvh * a.k_g;
  const float* vb = a.v + b * a.v_b + kvh * a.v_g;
  for (int64_t j0 = 0; j0 < a.S; j0 += K) {
    const int64_t n = a.S - j0 < K ? a.S - j0 : K;
    ops->pack_transposed(kb, a.k_s, j0, n, a.D, kts + j0 * a.D);
    ops->pack_transposed(vb, a.v_s, j0, n, a.E, vts + j0 * a.E);
  }
  for (int64_t hh = 0; hh < group; hh++) {
    const int64_t h = kvh * group + hh;
    const float* qb = a.q + b * a.q_b + h * a.q_h;
    const float* ob = g.out + b * g.o_b + h * g.o_h;
    const float* gb = g.dout + b * g.do_b + h * g.do_h;
    const float* lse = g.lse + (b * a.H + h) * a.T;
    for (int64_t i0 = 0; i0 < a.T; i0 += Q) {
      const int64_t nr = a.T - i0 < Q ? a.T - i0 : Q;
      bool all_seen = true;  // every query of the block saw a key with a score above -1e30
      for (int64_t r = 0; r < nr; r++) {
        const float l = lse[i0 + r];
        ok[r] = l > -INFINITY;
        all_seen = all_seen && l > -1e30f;
        shift[r] = l, lsum[r] = 0.0f;
        if (ok[r] && std::fabs(l) > kLseExactLimit)
          row_max_logsum(a, ops, b, h, i0 + r, qb + (i0 + r) * a.q_t, kb, P, shift[r], lsum[r]);
        const float* gi = gb + (i0 + r) * g.do_t;
        const float* oi = ob + (i0 + r) * g.o_t;
        // 8 independent double lanes, so the compiler vectorises the dot product
        double acc[8] = {};
        int64_t e = 0;
        for (; e + 8 <= a.E; e += 8)
          for (int k = 0; k < 8; k++) acc[k] += static_cast<double>(gi[e + k]) * oi[e + k];
        for (; e < a.E; e++) acc[0] += static_cast<double>(gi[e]) * oi[e];
        delta[r] = static_cast<float>(((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])));
      }
      prefetch_rows(dq, b, h, i0, nr, a.D);
      std::memset(dqacc, 0, sizeof(float) * (nr + 4) * a.D);
      const int64_t last = visible_keys(a, i0 + nr - 1);
      for (int64_t j0 = 0; j0 < last; j0 += K) {
        const int64_t n = last - j0 < K ? last - j0 : K;
        if (all_seen && block_hidden(a, b, h, i0, i0 + nr, j0, n)) continue;
        const float* kt = kts + j0 * a.D;
        const float* vt = vts + j0 * a.E;
        for (int64_t r0 = 0; r0 < nr; r0 += 4) {
          const int64_t nt = nr - r0 < 4 ? nr - r0 : 4;
          // A short tile repeats its first row; its extra rows are zeroed below.
          const float* qs[4];
          const float* gs[4];
          for (int64_t r = 0; r < 4; r++) {
            const int64_t i = i0 + r0 + (r < nt ? r : 0);
            qs[r] = qb + i * a.q_t;
            gs[r] = gb + i * g.do_t;
          }
          ops->tile_scores(qs, kt, a.D, P + r0 * K);
          ops->tile_scores(gs, vt, a.E, dS + r0 * K);  // dP = dout·vᵀ
          for (int64_t r = 0; r < nt; r++) {
            if (ok[r0 + r]) mask_scores(a, b, h, i0 + r0 + r, j0, n, K, P + (r0 + r) * K);
          }
          ops->tile_grads(P + r0 * K, dS + r0 * K, nt, ok + r0, shift + r0, lsum + r0, delta + r0, a.scale);
          const int64_t nk = causal_keys(a, i0 + r0 + nt - 1, j0, n);
          ops->tile_accumulate(dS + r0 * K, nk, kb + j0 * a.k_s, a.k_s, a.D, dqacc + r0 * a.D, a.D);
        }
        // Keys past n have P = dS = 0, so the spare keys of the last group of 4 add nothing;
        // causal, queries before the first that sees key j0 + j have P = dS = 0 for the group.
        const int64_t n4 = (n + 3) / 4 * 4;
        for (int64_t j = 0; j < n4; j += 4) {
          int64_t f = a.causal ? j0 + j - (a.S - a.T) - i0 : 0;
          f = f < 0 ? 0 : f;
          if (f >= nr) break;
          ops->tile_accumulate_t(P + f * K + j, nr - f, gb + (i0 + f) * g.do_t, g.do_t, a.E, dvacc + (j0 + j) * a.E,
                                 a.E);
          ops->tile_accumulate_t(dS + f * K + j, nr - f, qb + (i0 + f) * a.q_t, a.q_t, a.D, dkacc + (j0 + j) * a.D,
                                 a.D);
        }
      }
      for (int64_t r = 0; r < nr; r++) std::memcpy(dq.row(b, h, i0 + r), dqacc + r * a.D, sizeof(float) * a.D);
    }
  }
  for (int64_t j = 0; j < a.S; j++) {
    std::memcpy(dk.row(b, kvh, j), dkacc + j * a.D, sizeof(float) * a.D);
    std::memcpy(dv.row(b, kvh, j), dvacc + j * a.E, sizeof(float) * a.E);
  }
}

}  // namespace

void attention_backward(const AttentionArgs& a, const AttentionGradArgs& g, const AttentionOut& dq,
                        const AttentionOut& dk, const AttentionOut& dv) {
  const AttentionOps* ops = g_ops;
  const size_t need = static_cast<size_t>((a.D + a.E) * padded_keys(a) + 2 * kQueryBlock * kKeyBlock + kQueryBlock +
                                          (kQueryBlock + 4) * a.D + (a.S + 4) * (a.D + a.E));
  auto body = [&](int64_t task) {
    thread_local std::vector<float> scratch;
    if (scratch.size() < need) scratch.resize(need);
    backward_task(a, g, ops, task / a.G, task % a.G, dq, dk, dv, scratch.data());
  };
  const int64_t tasks = a.B * a.G;
  const int threads = threads_for(static_cast<double>(a.B) * a.H * a.T * a.S * (a.D + a.E));
  if (threads == 1) {
    for (int64_t t = 0; t < tasks; t++) body(t);
    return;
  }
  parallel_for(static_cast<int>(tasks), threads, body);
}

}  // namespace hearth
