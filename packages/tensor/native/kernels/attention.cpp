#include "attention.h"

#include <cmath>
#include <vector>

#include "thread-pool.h"
#include "vec-math.h"

namespace hearth {
namespace {

constexpr int64_t kKeyBlock = 64;

void exp_inplace(float* y, int64_t n) {
  const VecMath* vm = vec_math();
  if (vm != nullptr) return vm->exp(y, y, n);
  for (int64_t i = 0; i < n; i++) y[i] = std::exp(y[i]);
}

}  // namespace

void attention_forward(const AttentionShape& s, const float* q, const float* k, const float* v, float scale,
                       bool causal, const uint8_t* key_keep, float* out, float* lse) {
  const int64_t group = s.H / s.G;
  const int64_t rows = s.B * s.H * s.T;
  auto row = [&](int64_t r, float* acc, float* p) {
    const int64_t i = r % s.T;
    const int64_t h = (r / s.T) % s.H;
    const int64_t b = r / (s.T * s.H);
    const int64_t g = h / group;
    const float* qi = q + r * s.D;
    const float* kb = k + (b * s.G + g) * s.S * s.D;
    const float* vb = v + (b * s.G + g) * s.S * s.E;
    const uint8_t* keep = key_keep != nullptr ? key_keep + b * s.S : nullptr;
    int64_t last = s.S;  // keys [0, last)
    if (causal) {
      const int64_t lim = i + s.S - s.T + 1;
      last = lim < 0 ? 0 : (lim < s.S ? lim : s.S);
    }
    float m = -INFINITY;
    double l = 0.0;
    for (int64_t e = 0; e < s.E; e++) acc[e] = 0.0f;
    for (int64_t j0 = 0; j0 < last; j0 += kKeyBlock) {
      const int64_t n = last - j0 < kKeyBlock ? last - j0 : kKeyBlock;
      float bm = -INFINITY;
      for (int64_t j = 0; j < n; j++) {
        const float* kj = kb + (j0 + j) * s.D;
        float dot = 0.0f;
        for (int64_t d = 0; d < s.D; d++) dot += qi[d] * kj[d];
        const float sc = keep != nullptr && keep[j0 + j] == 0 ? -INFINITY : dot * scale;
        p[j] = sc;
        bm = sc > bm ? sc : bm;
      }
      if (bm == -INFINITY) continue;  // every key of the block masked
      if (bm > m) {
        const float corr = m == -INFINITY ? 0.0f : std::exp(m - bm);
        l *= corr;
        for (int64_t e = 0; e < s.E; e++) acc[e] *= corr;
        m = bm;
      }
      for (int64_t j = 0; j < n; j++) p[j] -= m;
      exp_inplace(p, n);
      for (int64_t j = 0; j < n; j++) {
        const float pj = p[j];
        l += pj;
        const float* vj = vb + (j0 + j) * s.E;
        for (int64_t e = 0; e < s.E; e++) acc[e] += pj * vj[e];
      }
    }
    float* o = out + r * s.E;
    if (l == 0.0) {
      for (int64_t e = 0; e < s.E; e++) o[e] = NAN;
      if (lse != nullptr) lse[r] = -INFINITY;
      return;
    }
    const float inv = static_cast<float>(1.0 / l);
    for (int64_t e = 0; e < s.E; e++) o[e] = acc[e] * inv;
    if (lse != nullptr) lse[r] = m + static_cast<float>(std::log(l));
  };
  const int threads = rows * s.S * s.D < (1 << 18) ? 1 : num_threads();
  const int64_t tasks = threads == 1 ? 1 : (rows < threads * 16 ? rows : threads * 16);
  parallel_for(static_cast<int>(tasks), threads, [&](int64_t t) {
    std::vector<float> acc(s.E), p(kKeyBlock);
    for (int64_t r = rows * t / tasks; r < rows * (t + 1) / tasks; r++) row(r, acc.data(), p.data());
  });
}

void attention_backward(const AttentionShape& s, const float* q, const float* k, const float* v, const float* out,
                        const float* lse, const float* dout, float scale, bool causal, const uint8_t* key_keep,
                        float* dq, float* dk, float* dv) {
  const int64_t group = s.H / s.G;
  const int64_t tasks = s.B * s.G;
  auto body = [&](int64_t task) {
    const int64_t b = task / s.G, g = task % s.G;
    const float* kb = k + (b * s.G + g) * s.S * s.D;
    const float* vb = v + (b * s.G + g) * s.S * s.E;
    float* dkb = dk + (b * s.G + g) * s.S * s.D;
    float* dvb = dv + (b * s.G + g) * s.S * s.E;
    for (int64_t x = 0; x < s.S * s.D; x++) dkb[x] = 0.0f;
    for (int64_t x = 0; x < s.S * s.E; x++) dvb[x] = 0.0f;
    const uint8_t* keep = key_keep != nullptr ? key_keep + b * s.S : nullptr;
    for (int64_t hh = 0; hh < group; hh++) {
      const int64_t h = g * group + hh;
      for (int64_t i = 0; i < s.T; i++) {
        const int64_t r = (b * s.H + h) * s.T + i;
        const float* qi = q + r * s.D;
        const float* oi = out + r * s.E;
        const float* gi = dout + r * s.E;
        float* dqi = dq + r * s.D;
        for (int64_t d = 0; d < s.D; d++) dqi[d] = 0.0f;
        const float l = lse[r];
        if (!(l > -INFINITY)) continue;  // no visible key: no gradient flows
        double delta_acc = 0.0;
        for (int64_t e = 0; e < s.E; e++) delta_acc += static_cast<double>(gi[e]) * oi[e];
        const float delta = static_cast<float>(delta_acc);
        int64_t last = s.S;
        if (causal) {
          const int64_t lim = i + s.S - s.T + 1;
          last = lim < 0 ? 0 : (lim < s.S ? lim : s.S);
        }
        for (int64_t j = 0; j < last; j++) {
          if (keep != nullptr && keep[j] == 0) continue;
          const float* kj = kb + j * s.D;
          const float* vj = vb + j * s.E;
          float dot = 0.0f;
          for (int64_t d = 0; d < s.D; d++) dot += qi[d] * kj[d];
          const float p = std::exp(dot * scale - l);
          float dp = 0.0f;
          float* dvj = dvb + j * s.E;
          for (int64_t e = 0; e < s.E; e++) {
            dvj[e] += p * gi[e];
            dp += gi[e] * vj[e];
          }
          const float ds = p * (dp - delta) * scale;
          float* dkj = dkb + j * s.D;
          for (int64_t d = 0; d < s.D; d++) {
            dqi[d] += ds * kj[d];
            dkj[d] += ds * qi[d];
          }
        }
      }
    }
  };
  const int threads = s.B * s.H * s.T * s.S * s.D < (1 << 18) ? 1 : num_threads();
  if (threads == 1) {
    for (int64_t t = 0; t < tasks; t++) body(t);
    return;
  }
  parallel_for(static_cast<int>(tasks), threads, body);
}

}  // namespace hearth
