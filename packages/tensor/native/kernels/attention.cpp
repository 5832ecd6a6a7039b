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

void axpy_generic(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

const AttentionOps kGeneric = {"generic", dots_generic, accumulate_generic, axpy_generic};

const AttentionOps* select_ops() {
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.avx512bw && f.avx512vl && f.fma) return attention_ops_avx512();
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

int threads_for(double work) { return work < static_cast<double>(1 << 18) ? 1 : num_threads(); }

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
#endif
  return false;
}

void attention_forward(const AttentionArgs& a, float* out, float* lse) {
  const AttentionOps* ops = g_ops;
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
    float* o = out + r * a.E;
    if (l == 0.0) {
      for (int64_t e = 0; e < a.E; e++) o[e] = NAN;
      if (lse != nullptr) lse[r] = -INFINITY;
      return;
    }
    const float inv = static_cast<float>(1.0 / l);
    for (int64_t e = 0; e < a.E; e++) o[e] = acc[e] * inv;
    if (lse != nullptr) lse[r] = m + static_cast<float>(std::log(l));
  };
  const int threads = threads_for(static_cast<double>(rows) * a.S * (a.D + a.E));
  const int64_t tasks = threads == 1 ? 1 : (rows < threads * 16 ? rows : threads * 16);
  parallel_for(static_cast<int>(tasks), threads, [&](int64_t t) {
    std::vector<float> acc(a.E), p(kKeyBlock);
    for (int64_t r = rows * t / tasks; r < rows * (t + 1) / tasks; r++) row(r, acc.data(), p.data());
  });
}

void attention_backward(const AttentionArgs& a, const float* out, const float* lse, const float* dout, float* dq,
                        float* dk, float* dv) {
  const AttentionOps* ops = g_ops;
  const int64_t group = a.H / a.G;
  auto body = [&](int64_t task) {
    const int64_t b = task / a.G, g = task % a.G;
    const float* kb = a.k + b * a.k_b + g * a.k_g;
    const float* vb = a.v + b * a.v_b + g * a.v_g;
    float* dkb = dk + (b * a.G + g) * a.S * a.D;
    float* dvb = dv + (b * a.G + g) * a.S * a.E;
    std::memset(dkb, 0, sizeof(float) * a.S * a.D);
    std::memset(dvb, 0, sizeof(float) * a.S * a.E);
    std::vector<float> p(kKeyBlock), dp(kKeyBlock);
    for (int64_t hh = 0; hh < group; hh++) {
      const int64_t h = g * group + hh;
      for (int64_t i = 0; i < a.T; i++) {
        const int64_t r = (b * a.H + h) * a.T + i;
        const float* qi = a.q + b * a.q_b + h * a.q_h + i * a.q_t;
        const float* oi = out + r * a.E;
        const float* gi = dout + r * a.E;
        float* dqi = dq + r * a.D;
        std::memset(dqi, 0, sizeof(float) * a.D);
        const float l = lse[r];
        if (!(l > -INFINITY)) continue;  // no visible key: no gradient flows
        double delta_acc = 0.0;
        for (int64_t e = 0; e < a.E; e++) delta_acc += static_cast<double>(gi[e]) * oi[e];
        const float delta = static_cast<float>(delta_acc);
        const int64_t mrow = b * a.m_b + h * a.m_h + i * a.m_t;
        const int64_t last = visible_keys(a, i);
        for (int64_t j0 = 0; j0 < last; j0 += kKeyBlock) {
          const int64_t n = last - j0 < kKeyBlock ? last - j0 : kKeyBlock;
          block_scores(a, ops, qi, kb, mrow, j0, n, p.data());
          for (int64_t j = 0; j < n; j++) p[j] -= l;
          exp_inplace(p.data(), n);
          ops->dots(gi, vb + j0 * a.v_s, a.v_s, n, a.E, dp.data());
          for (int64_t j = 0; j < n; j++) {
            const float pj = p[j];
            if (pj == 0.0f) {
              dp[j] = 0.0f;
              continue;
            }
            ops->axpy(pj, gi, dvb + (j0 + j) * a.E, a.E);
            const float ds = pj * (dp[j] - delta) * a.scale;
            dp[j] = ds;
            ops->axpy(ds, qi, dkb + (j0 + j) * a.D, a.D);
          }
          ops->accumulate(dp.data(), n, kb + j0 * a.k_s, a.k_s, a.D, dqi);
        }
      }
    }
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
