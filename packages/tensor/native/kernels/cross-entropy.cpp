// Cross-entropy row kernels (see cross-entropy.h): rows split over the pool, each row one call
// of the fused row kernels (fused-rows.h: AVX-512, AVX2 or scalar), which keep the max, the
// exponentials and the double sums in vector lanes in two passes over the row (the second from
// cache), and write the gradient in one.
#include "cross-entropy.h"

#include "fused-rows.h"
#include "thread-pool.h"

namespace hearth {
namespace {

template <typename F>
void rows_parallel(int64_t rows, int64_t cols, const F& f) {
  const int threads = rows * cols < (1 << 15) || rows < 2 ? 1 : num_threads();
  if (threads == 1) {
    for (int64_t r = 0; r < rows; r++) f(r);
    return;
  }
  const int64_t tasks = rows < threads * 8 ? rows : threads * 8;
  parallel_for(static_cast<int>(tasks), threads, [&](int64_t k) {
    for (int64_t r = rows * k / tasks; r < rows * (k + 1) / tasks; r++) f(r);
  });
}

double sum_lanes(const float* x, int64_t n) {
  constexpr int kLanes = 16;
  double s[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; j++) s[j] += x[i + j];
  }
  double r = 0;
  for (int j = 0; j < kLanes; j++) r += s[j];
  for (; i < n; i++) r += x[i];
  return r;
}

}  // namespace

void cross_entropy_rows(const float* x, const int64_t* t, const CrossEntropyShape& s, float* loss, float* lse) {
  const int64_t V = s.cols;
  const RowKernels* rk = row_kernels();
  rows_parallel(s.rows, V, [&](int64_t r) {
    const float* xr = x + r * s.row_stride;
    const double l = rk->logsumexp(xr, V);
    lse[r] = static_cast<float>(l);
    const int64_t target = t[r];
    if (target == s.ignore_index) {
      loss[r] = 0.0f;
      return;
    }
    double out = l - (1.0 - s.smoothing) * static_cast<double>(xr[target]);
    if (s.smoothing != 0.0) out -= s.smoothing * sum_lanes(xr, V) / static_cast<double>(V);
    loss[r] = static_cast<float>(out);
  });
}

void cross_entropy_backward_rows(const float* x, const int64_t* t, const float* lse, const float* g,
                                 int64_t g_stride, const CrossEntropyShape& s, float* dx) {
  const int64_t V = s.cols;
  const RowKernels* rk = row_kernels();
  rows_parallel(s.rows, V, [&](int64_t r) {
    float* dr = dx + r * V;
    const int64_t target = t[r];
    const float gr = g[r * g_stride];
    if (target == s.ignore_index) {
      for (int64_t i = 0; i < V; i++) dr[i] = 0.0f;
      return;
    }
    const float off = static_cast<float>(static_cast<double>(gr) * s.smoothing / static_cast<double>(V));
    rk->softmax_grad(x + r * s.row_stride, V, lse[r], gr, off, dr);
    dr[target] -= static_cast<float>(static_cast<double>(gr) * (1.0 - s.smoothing));
  });
}

}  // namespace hearth
