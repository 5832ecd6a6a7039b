// Fused row kernels over contiguous float32 rows: R rows of C elements (row-major), the layout
// legend being x[R, C] with C the normalised/softmaxed dim. Rows are split over the pool.
//   softmax:          y = exp(x - max) / sum exp(x - max)
//   softmax_backward: dx = y * (dy - sum(dy * y))            (needs y saved)
//   layer_norm:       y = (x - mean) * rstd * w + b, rstd = 1/sqrt(var + eps) (biased var);
//                     saves mean[R] and rstd[R] for the backward
//   layer_norm_backward: dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),
//                     dxhat = dy * w; dw += sum_r dy * xhat, db += sum_r dy (w, b optional)
//   rms_norm:         y = x * rstd * w, rstd = 1/sqrt(mean(x²) + eps)
// Sums accumulate in double per row.
#pragma once
#include <cstdint>

namespace hearth {

void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols);
void softmax_backward_rows(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);
// w and b may be null (no affine).
void layer_norm_rows(const float* x, const float* w, const float* b, float eps, float* y, float* mean, float* rstd,
                     int64_t rows, int64_t cols);
// dw and db (may be null) are accumulated into, single-threaded over rows per column block.
void layer_norm_backward_rows(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                              float* dx, float* dw, float* db, int64_t rows, int64_t cols);
void rms_norm_rows(const float* x, const float* w, float eps, float* y, float* rstd, int64_t rows, int64_t cols);

}  // namespace hearth
