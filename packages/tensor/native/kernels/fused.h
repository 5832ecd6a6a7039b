// Fused row kernels over contiguous float32 rows: R rows of C elements (row-major), the layout
// legend being x[R, C] with C the softmaxed/normalised dim. Rows are split over the pool; each
// row runs the vectorised kernel of fused-rows.h (AVX-512, AVX2 or scalar, chosen at load).
//   softmax:          y = exp(x - max) / sum exp(x - max)          backward needs y saved:
//   softmax_backward: dx = y * (dy - sum(dy * y))
//   log_softmax:      y = x - max - log sum exp(x - max)            backward needs y saved:
//   log_softmax_backward: dx = dy - exp(y) * sum(dy)
//   layer_norm:       y = (x - mean) * rstd * w + b, rstd = 1/sqrt(var + eps) (biased var);
//                     saves mean[R] and rstd[R] for the backward
//   layer_norm_backward: dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),
//                     dxhat = dy * w; dw += sum_r dy * xhat, db += sum_r dy (w, b optional)
//   rms_norm:         y = x * rstd * w, rstd = 1/sqrt(mean(x²) + eps); saves rstd[R]
//   rms_norm_backward: dx = rstd * (dxhat - xhat * mean(dxhat * xhat)); dw += sum_r dy * xhat
//   activation:       gelu / gelu tanh / silu over n contiguous values (backward needs x)
// Per-row sums accumulate in float vectors; parameter gradients are summed per block of at most
// 256 rows, the blocks in double.
#pragma once
#include <cstdint>

#include "fused-rows.h"

namespace hearth {

void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols);
void softmax_backward_rows(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);
void log_softmax_rows(const float* x, float* y, int64_t rows, int64_t cols);
void log_softmax_backward_rows(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);
// w and b may be null (no affine); mean and rstd may be null (not saved).
void layer_norm_rows(const float* x, const float* w, const float* b, float eps, float* y, float* mean, float* rstd,
                     int64_t rows, int64_t cols);
// dw and db (may be null) are accumulated into.
void layer_norm_backward_rows(const float* x, const float* w, const float* mean, const float* rstd, const float* dy,
                              float* dx, float* dw, float* db, int64_t rows, int64_t cols);
void rms_norm_rows(const float* x, const float* w, float eps, float* y, float* rstd, int64_t rows, int64_t cols);
// dw (may be null) is accumulated into.
void rms_norm_backward_rows(const float* x, const float* w, const float* rstd, const float* dy, float* dx, float* dw,
                            int64_t rows, int64_t cols);
void activation(Activation op, const float* x, float* y, int64_t n);
void activation_backward(Activation op, const float* x, const float* dy, float* dx, int64_t n);

}  // namespace hearth
