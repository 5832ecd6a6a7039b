// Cross-entropy row kernels (see cross-entropy.h). Portable code: the exponentials go through
// the vectorised `vec_math()` exp in stack-sized chunks, and the max and sums run over 16
// independent lanes so the compiler can keep them in vector registers.
#include "cross-entropy.h"

#include <cmath>

#include "thread-pool.h"
#include "vec-math.h"

namespace hearth {
namespace {

constexpr int64_t kChunk = 2048;
constexpr int kLanes = 16;

void exp_inplace(float* y, int64_t n) {
  const VecMath* vm = vec_math();
  if (vm != nullptr) return vm->exp(y, y, n);
  for (int64_t i = 0; i < n; i++) y[i] = std::exp(y[i]);
}

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

// Max over a row, NaN-blind (a NaN reaches the sum of exponentials instead).
float row_max(const float* x, int64_t n) {
  float m[kLanes];
  for (int j = 0; j < kLanes; j++) m[j] = -INFINITY;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; j++) m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
  }
  float r = -INFINITY;
  for (int j = 0; j < kLanes; j++) r = m[j] > r ? m[j] : r;
  for (; i < n; i++) r = x[i] > r ? x[i] : r;
  return r;
}

double sum_lanes(const float* x, int64_t n) {
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
  rows_parallel(s.rows, V, [&](int64_t r) {
    const float* xr = x + r * s.row_stride;
    const float mx = row_max(xr, V);
    float buf[kChunk];
    double sum = 0;
    for (int64_t c0 = 0; c0 < V; c0 += kChunk) {
      const int64_t len = V - c0 < kChunk ? V - c0 : kChunk;
      for (int64_t i = 0; i < len; i++) buf[i] = xr[c0 + i] - mx;
      exp_inplace(buf, len);
      sum += sum_lanes(buf, len);
    }
    const double l = static_cast<double>(mx) + std::log(sum);
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
  rows_parallel(s.rows, V, [&](int64_t r) {
    float* dr = dx + r * V;
    const int64_t target = t[r];
    const float gr = g[r * g_stride];
    if (target == s.ignore_index) {
      for (int64_t i = 0; i < V; i++) dr[i] = 0.0f;
      return;
    }
    const float* xr = x + r * s.row_stride;
    const float l = lse[r];
    for (int64_t i = 0; i < V; i++) dr[i] = xr[i] - l;
    exp_inplace(dr, V);
    const float off = static_cast<float>(static_cast<double>(gr) * s.smoothing / static_cast<double>(V));
    for (int64_t i = 0; i < V; i++) dr[i] = dr[i] * gr - off;
    dr[target] -= static_cast<float>(static_cast<double>(gr) * (1.0 - s.smoothing));
  });
}

}  // namespace hearth
