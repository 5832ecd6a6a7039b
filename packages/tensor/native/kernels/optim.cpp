#include "optim.h"

#include <cmath>

#include "cpu-features.h"
#include "thread-pool.h"

namespace hearth {

void adam_step(float* p, const float* g, float* m, float* v, float* vmax, int64_t n, const AdamParams& a) {
  const double b1 = a.beta1, b2 = a.beta2;
  const double bc2_sqrt = a.bc2_sqrt, step_size = a.step_size;
  const double one_b1 = 1.0 - b1, one_b2 = 1.0 - b2;
  auto f = [](double x) { return static_cast<double>(static_cast<float>(x)); };
  auto run = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
      if (a.keep != 1.0) p[i] = static_cast<float>(p[i] * a.keep);
      double gi = g[i];
      if (a.l2 && a.weight_decay != 0.0) gi = f(gi + f(a.weight_decay * p[i]));
      const double mi = f(f(b1 * m[i]) + f(one_b1 * gi));
      const double vi = f(f(b2 * v[i]) + f(f(one_b2 * gi) * gi));
      m[i] = static_cast<float>(mi);
      v[i] = static_cast<float>(vi);
      double vs = vi;
      if (vmax != nullptr) {
        vs = vmax[i] > vi ? vmax[i] : vi;
        vmax[i] = static_cast<float>(vs);
      }
      const double denom = f(f(f(std::sqrt(vs)) / bc2_sqrt) + a.eps);
      p[i] = static_cast<float>(p[i] - f(step_size * f(mi / denom)));
    }
  };
#if defined(__x86_64__)
  static const bool avx512 = cpu_features().avx512f, avx2 = cpu_features().avx2;
  auto chunk = [&](int64_t i0, int64_t i1) {
    if (avx512) return adam_step_avx512(p, g, m, v, vmax, i0, i1, a);
    if (avx2) return adam_step_avx2(p, g, m, v, vmax, i0, i1, a);
    run(i0, i1);
  };
#else
  auto chunk = run;
#endif
  const int threads = n < (1 << 16) ? 1 : num_threads();
  if (threads == 1) return chunk(0, n);
  const int tasks = threads * 4;
  // Task boundaries on 16-element lines so vector loads stay aligned with the buffers.
  parallel_for(tasks, threads, [&](int64_t t) { chunk(n * t / tasks / 16 * 16, t + 1 == tasks ? n : n * (t + 1) / tasks / 16 * 16); });
}

}  // namespace hearth
