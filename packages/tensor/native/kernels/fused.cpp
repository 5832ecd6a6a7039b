#include "fused.h"

#include <cmath>
#include <vector>

#include "thread-pool.h"
#include "vec-math.h"

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
  parallel_for(static_cast<int>(tasks), threads, [&](int64_t t) {
    for (int64_t r = rows * t / tasks; r < rows * (t + 1) / tasks; r++) f(r);
  });
}

void exp_inplace(float* y, int64_t n) {
  const VecMath* vm = vec_math();
  if (vm != nullptr) return vm->exp(y, y, n);
  for (int64_t i = 0; i < n; i++) y[i] = std::exp(y[i]);
}

}  // namespace

void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols) {
  rows_parallel(rows, cols, [&](int64_t r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float mx = -INFINITY;
    bool nan = false;
    for (int64_t i = 0; i < cols; i++) {
      mx = xr[i] > mx ? xr[i] : mx;
      nan |= xr[i] != xr[i];
    }
    if (nan || mx == -INFINITY) {
      // All -inf (fully masked) gives NaN, like exp(-inf - -inf); any NaN poisons the row.
      for (int64_t i = 0; i < cols; i++) yr[i] = NAN;
      return;
    }
    for (int64_t i = 0; i < cols; i++) yr[i] = xr[i] - mx;
    exp_inplace(yr, cols);
    double sum = 0;
    for (int64_t i = 0; i < cols; i++) sum += yr[i];
    const float inv = static_cast<float>(1.0 / sum);
    for (int64_t i = 0; i < cols; i++) yr[i] *= inv;
  });
}

void softmax_backward_rows(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols) {
  rows_parallel(rows, cols, [&](int64_t r) {
    const float* yr = y + r * cols;
    const float* gr = dy + r * cols;
    float* dr = dx + r * cols;
    double dot = 0;
    for (int64_t i = 0; i < cols; i++) dot += static_cast<double>(gr[i]) * yr[i];
    const float d = static_cast<float>(dot);
    for (int64_t i = 0; i < cols; i++) dr[i] = yr[i] * (gr[i] - d);
  });
}

void layer_norm_rows(const float* x, const float* w, const float* b, float eps, float* y, float* mean, float* rstd,
                     int64_t rows, int64_t cols) {
  rows_parallel(rows, cols, [&](int64_t r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    double s = 0;
    for (int64_t i = 0; i < cols; i++) s += xr[i];
    const double mu = s / static_cast<double>(cols);
    double ss = 0;
    for (int64_t i = 0; i < cols; i++) {
      const double d = xr[i] - mu;
      ss += d * d;
    }
    const float m = static_cast<float>(mu);
    const float rs = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(cols) + eps));
    if (mean != nullptr) mean[r] = m;
    if (rstd != nullptr) rstd[r] = rs;
    for (int64_t i = 0; i < cols; i++) {
      float v = (xr[i] - m) * rs;
      if (w != nullptr) v *= w[i];
      if (b != nullptr) v += b[i];
      yr[i] = v;
    }
  });
}

void layer_norm_backward_rows(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                              float* dx, float* dw, float* db, int64_t rows, int64_t cols) {
  rows_parallel(rows, cols, [&](int64_t r) {
    const float* xr = x + r * cols;
    const float* gr = dy + r * cols;
    float* dr = dx + r * cols;
    const float m = mean[r], rs = rstd[r];
    double a = 0, bsum = 0;  // mean(dxhat), mean(dxhat * xhat)
    for (int64_t i = 0; i < cols; i++) {
      const float xh = (xr[i] - m) * rs;
      const float g = w != nullptr ? gr[i] * w[i] : gr[i];
      a += g;
      bsum += static_cast<double>(g) * xh;
    }
    const float ma = static_cast<float>(a / static_cast<double>(cols));
    const float mb = static_cast<float>(bsum / static_cast<double>(cols));
    for (int64_t i = 0; i < cols; i++) {
      const float xh = (xr[i] - m) * rs;
      const float g = w != nullptr ? gr[i] * w[i] : gr[i];
      dr[i] = rs * (g - ma - xh * mb);
    }
  });
  if (dw == nullptr && db == nullptr) return;
  // Parameter gradients: columns split over the pool, rows summed in double per column.
  const int threads = rows * cols < (1 << 15) ? 1 : num_threads();
  const int64_t blocks = (cols + 255) / 256;
  auto body = [&](int64_t blk) {
    const int64_t c0 = blk * 256, c1 = c0 + 256 < cols ? c0 + 256 : cols;
    std::vector<double> sw(c1 - c0, 0.0), sb(c1 - c0, 0.0);
    for (int64_t r = 0; r < rows; r++) {
      const float* xr = x + r * cols;
      const float* gr = dy + r * cols;
      const float m = mean[r], rs = rstd[r];
      for (int64_t i = c0; i < c1; i++) {
        sw[i - c0] += static_cast<double>(gr[i]) * ((xr[i] - m) * rs);
        sb[i - c0] += gr[i];
      }
    }
    for (int64_t i = c0; i < c1; i++) {
      if (dw != nullptr) dw[i] += static_cast<float>(sw[i - c0]);
      if (db != nullptr) db[i] += static_cast<float>(sb[i - c0]);
    }
  };
  if (threads == 1 || blocks < 2) {
    for (int64_t k = 0; k < blocks; k++) body(k);
  } else {
    parallel_for(static_cast<int>(blocks), threads, body);
  }
}

void rms_norm_rows(const float* x, const float* w, float eps, float* y, float* rstd, int64_t rows, int64_t cols) {
  rows_parallel(rows, cols, [&](int64_t r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    double ss = 0;
    for (int64_t i = 0; i < cols; i++) ss += static_cast<double>(xr[i]) * xr[i];
    const float rs = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(cols) + eps));
    if (rstd != nullptr) rstd[r] = rs;
    for (int64_t i = 0; i < cols; i++) yr[i] = w != nullptr ? xr[i] * rs * w[i] : xr[i] * rs;
  });
}

}  // namespace hearth
