#include "optim.h"

#include <cmath>

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
  const int threads = n < (1 << 16) ? 1 : num_threads();
  if (threads == 1) return run(0, n);
  const int tasks = threads * 4;
  parallel_for(tasks, threads, [&](int64_t t) { run(n * t / tasks, n * (t + 1) / tasks); });
}

}  // namespace hearth
