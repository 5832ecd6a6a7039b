// Drivers of the fused row kernels (see fused.h): rows split over the thread pool, parameter
// gradients reduced from per-task partial sums.
#include "fused.h"

#include <cmath>
#include <vector>

#include "thread-pool.h"

namespace hearth {
namespace {

constexpr int64_t kParallelElements = 1 << 15;
// Parameter-gradient partials hold at most this many rows each (float sums stay short).
constexpr int64_t kRowsPerPartial = 256;

template <typename F>
void rows_parallel(int64_t rows, int64_t cols, const F& f) {
  const int threads = rows * cols < kParallelElements || rows < 2 ? 1 : num_threads();
  if (threads == 1) {
    for (int64_t r = 0; r < rows; r++) f(r);
    return;
  }
  const int64_t tasks = rows < threads * 8 ? rows : threads * 8;
  parallel_for(static_cast<int>(tasks), threads, [&](int64_t t) {
    for (int64_t r = rows * t / tasks; r < rows * (t + 1) / tasks; r++) f(r);
  });
}

// Runs row(r, dw_part, db_part) over row blocks, each block accumulating its parameter
// gradients into its own zeroed partial rows, then adds the partials (in double) into dw, db.
template <typename F>
void rows_with_param_grads(int64_t rows, int64_t cols, float* dw, float* db, const F& row) {
  const int threads = rows * cols < kParallelElements || rows < 2 ? 1 : num_threads();
  int64_t tasks = (rows + kRowsPerPartial - 1) / kRowsPerPartial;
  if (tasks < threads * 4) tasks = rows < threads * 4 ? rows : threads * 4;
  if (tasks < 1) tasks = 1;
  const bool need = dw != nullptr || db != nullptr;
  std::vector<float> part(need ? static_cast<size_t>(tasks * cols * 2) : 0, 0.0f);
  auto body = [&](int64_t t) {
    float* pw = dw != nullptr ? part.data() + t * cols * 2 : nullptr;
    float* pb = db != nullptr ? part.data() + t * cols * 2 + cols : nullptr;
    for (int64_t r = rows * t / tasks; r < rows * (t + 1) / tasks; r++) row(r, pw, pb);
  };
  if (threads == 1) {
    for (int64_t t = 0; t < tasks; t++) body(t);
  } else {
    parallel_for(static_cast<int>(tasks), threads, body);
  }
  if (!need) return;
  for (int64_t i = 0; i < cols; i++) {
    double sw = 0, sb = 0;
    for (int64_t t = 0; t < tasks; t++) {
      sw += part[t * cols * 2 + i];
      sb += part[t * cols * 2 + cols + i];
    }
    if (dw != nullptr) dw[i] += static_cast<float>(sw);
    if (db != nullptr) db[i] += static_cast<float>(sb);
  }
}

// Contiguous runs of n split over the pool in pieces of whole vectors.
template <typename F>
void runs_parallel(int64_t n, const F& f) {
  const int threads = n < 2 * kParallelElements ? 1 : num_threads();
  if (threads == 1) return f(0, n);
  const int64_t pieces = threads * 4;
  const int64_t step = ((n + pieces - 1) / pieces + 63) / 64 * 64;
  parallel_for(static_cast<int>((n + step - 1) / step), threads, [&](int64_t t) {
    const int64_t a = t * step, b = a + step < n ? a + step : n;
    f(a, b - a);
  });
}

}  // namespace

void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols) {
  const RowKernels* k = row_kernels();
  rows_parallel(rows, cols, [&](int64_t r) { k->softmax(x + r * cols, y + r * cols, cols); });
}

void softmax_backward_rows(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols) {
  const RowKernels* k = row_kernels();
  rows_parallel(rows, cols,
                [&](int64_t r) { k->softmax_backward(y + r * cols, dy + r * cols, dx + r * cols, cols); });
}

void log_softmax_rows(const float* x, float* y, int64_t rows, int64_t cols) {
  const RowKernels* k = row_kernels();
  rows_parallel(rows, cols, [&](int64_t r) { k->log_softmax(x + r * cols, y + r * cols, cols); });
}

void log_softmax_backward_rows(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols) {
  const RowKernels* k = row_kernels();
  rows_parallel(rows, cols,
                [&](int64_t r) { k->log_softmax_backward(y + r * cols, dy + r * cols, dx + r * cols, cols); });
}

void layer_norm_rows(const float* x, const float* w, const float* b, float eps, float* y, float* mean, float* rstd,
                     int64_t rows, int64_t cols) {
  const RowKernels* k = row_kernels();
  rows_parallel(rows, cols, [&](int64_t r) {
    float m, rs;
    k->layer_norm(x + r * cols, w, b, eps, y + r * cols, cols, &m, &rs);
    if (mean != nullptr) mean[r] = m;
    if (rstd != nullptr) rstd[r] = rs;
  });
}

void layer_norm_backward_rows(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                              float* dx, float* dw, float* db, int64_t rows, int64_t cols) {
  const RowKernels* k = row_kernels();
  rows_with_param_grads(rows, cols, dw, db, [&](int64_t r, float* pw, float* pb) {
    k->layer_norm_backward(x + r * cols, w, mean[r], rstd[r], dy + r * cols, dx + r * cols, pw, pb, cols);
  });
}

void rms_norm_rows(const float* x, const float* w, float eps, float* y, float* rstd, int64_t rows, int64_t cols) {
  const RowKernels* k = row_kernels();
  rows_parallel(rows, cols, [&](int64_t r) {
    float rs;
    k->rms_norm(x + r * cols, w, eps, y + r * cols, cols, &rs);
    if (rstd != nullptr) rstd[r] = rs;
  });
}

void rms_norm_backward_rows(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw,
                            int64_t rows, int64_t cols) {
  const RowKernels* k = row_kernels();
  rows_with_param_grads(rows, cols, dw, nullptr, [&](int64_t r, float* pw, float*) {
    k->rms_norm_backward(x + r * cols, w, rstd[r], dy + r * cols, dx + r * cols, pw, cols);
  });
}

void activation(Activation op, const float* x, float* y, int64_t n) {
  const RowKernels* k = row_kernels();
  runs_parallel(n, [&](int64_t a, int64_t m) { k->activation(op, x + a, y + a, m); });
}

void activation_backward(Activation op, const float* x, const float* dy, float* dx, int64_t n) {
  const RowKernels* k = row_kernels();
  runs_parallel(n, [&](int64_t a, int64_t m) { k->activation_backward(op, x + a, dy + a, dx + a, m); });
}

}  // namespace hearth
