// One row (or one contiguous run) of the fused kernels, in three variants chosen once at load
// time: AVX-512 (16 lanes), AVX2+FMA (8 lanes) and portable scalar code, all instantiated from
// the single template in fused-rows-impl.h. Layout legend: a row is C contiguous float32 values
// (C the softmaxed / normalised dim); `n` below is C. Vector tails use masked loads and stores.
//   softmax          y = exp(x - max) / sum exp(x - max)
//   log_softmax      y = x - m - log sum exp(x - m), m = max (0 when the max is infinite)
//   *_backward       from the saved output y: dx = y (dy - sum dy y) | dx = dy - exp(y) sum dy
//   layer_norm       y = (x - mean) rstd w + b, rstd = 1/sqrt(var + eps), biased var; saves
//                    mean and rstd for the backward
//   layer_norm_backward  xh = (x - mean) rstd, g = dy w: dx = rstd (g - mean(g) - xh mean(g xh));
//                    adds dy xh into dw and dy into db when those are non-null
//   rms_norm         y = x rstd w, rstd = 1/sqrt(mean(x²) + eps); saves rstd
//   rms_norm_backward    xh = x rstd, g = dy w: dx = rstd (g - xh mean(g xh)); dw += dy xh
//   activation       gelu (x Φ(x), Φ from erfc with 1.2e-7 relative error), gelu tanh
//                    (½x(1 + tanh u) = x σ(2u), u = √(2/π)(x + 0.044715 x³)), silu (x σ(x));
//                    their backwards need x saved.
// w and b may be null (no affine).
#pragma once
#include <cstdint>

namespace hearth {

enum class Activation : int { kGelu = 0, kGeluTanh = 1, kSilu = 2 };

struct RowKernels {
  const char* name;
  void (*softmax)(const float* x, float* y, int64_t n);
  void (*log_softmax)(const float* x, float* y, int64_t n);
  void (*softmax_backward)(const float* y, const float* dy, float* dx, int64_t n);
  void (*log_softmax_backward)(const float* y, const float* dy, float* dx, int64_t n);
  void (*layer_norm)(const float* x, const float* w, const float* b, float eps, float* y, int64_t n, float* mean,
                     float* rstd);
  void (*layer_norm_backward)(const float* x, const float* w, float mean, float rstd, const float* dy, float* dx,
                              float* dw, float* db, int64_t n);
  void (*rms_norm)(const float* x, const float* w, float eps, float* y, int64_t n, float* rstd);
  void (*rms_norm_backward)(const float* x, const float* w, float rstd, const float* dy, float* dx, float* dw,
                            int64_t n);
  // Cross-entropy rows (see cross-entropy.h): max + log Σ exp(x − max) with the sum in
  // double (each block of 4 vectors' terms added in float first), and dx = exp(x − lse)·g − off.
  double (*logsumexp)(const float* x, int64_t n);
  void (*softmax_grad)(const float* x, int64_t n, float lse, float g, float off, float* dx);
  void (*activation)(Activation op, const float* x, float* y, int64_t n);
  // dx = dy * activation'(x)
  void (*activation_backward)(Activation op, const float* x, const float* dy, float* dx, int64_t n);
};

const RowKernels* row_kernels_generic();
#if defined(__x86_64__)
const RowKernels* row_kernels_avx512();
const RowKernels* row_kernels_avx2();
#endif
// The variant in use.
const RowKernels* row_kernels();
// Forces "avx512" (also "avx512-bf16", "amx-bf16"), "avx2" or "generic"; "" restores the
// automatic choice. False when the CPU lacks it.
bool row_kernels_select(const char* name);

}  // namespace hearth
