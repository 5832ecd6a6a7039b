// Portable packing routines shared by every GEMM kernel family (layouts in gemm-arch.h).
// Internal linkage on purpose: each architecture's file gets its own copy compiled for its own
// instruction set, and no copy can leak into another file through the linker.
#pragma once
#include <cstdint>
#include <cstring>

#include "dtype.h"
#include "gemm-arch.h"

namespace hearth {
namespace {

struct LoadF32 {
  static float at(const void* p, int64_t i) { return static_cast<const float*>(p)[i]; }
};
struct LoadBF16 {
  static float at(const void* p, int64_t i) { return bf16_to_f32(static_cast<const uint16_t*>(p)[i]); }
};
struct LoadF16 {
  static float at(const void* p, int64_t i) { return f16_to_f32(static_cast<const uint16_t*>(p)[i]); }
};

template <typename L>
void pack_a_f32_t(const GemmMatrixView& a, int64_t i0, int m, int64_t k0, int kc, float* dst, int row_stride) {
  for (int i = 0; i < m; i++) {
    const int64_t base = (i0 + i) * a.rs + k0 * a.cs;
    float* out = dst + static_cast<int64_t>(i) * row_stride;
    for (int k = 0; k < kc; k++) out[k] = L::at(a.data, base + k * a.cs);
  }
}

// A micro-panel of float32 from any source dtype and layout.
inline void pack_a_f32_generic(const GemmMatrixView& a, int64_t i0, int m, int64_t k0, int kc, float* dst,
                               int row_stride) {
  if (a.dtype == DType::kFloat32 && a.cs == 1) {
    const float* src = static_cast<const float*>(a.data);
    for (int i = 0; i < m; i++)
      std::memcpy(dst + static_cast<int64_t>(i) * row_stride, src + (i0 + i) * a.rs + k0, sizeof(float) * kc);
    return;
  }
  switch (a.dtype) {
    case DType::kFloat32:
      return pack_a_f32_t<LoadF32>(a, i0, m, k0, kc, dst, row_stride);
    case DType::kBFloat16:
      return pack_a_f32_t<LoadBF16>(a, i0, m, k0, kc, dst, row_stride);
    default:
      return pack_a_f32_t<LoadF16>(a, i0, m, k0, kc, dst, row_stride);
  }
}

template <typename L>
void pack_b_f32_t(const GemmMatrixView& b, int64_t k0, int kc, int64_t j0, int nc, float* dst, int nr) {
  for (int p = 0; p < nc; p += nr) {
    const int w = imin(nr, nc - p);
    float* panel = dst + static_cast<int64_t>(p) * kc;
    if (b.rs == 1 && b.cs != 1) {
      // Transposed B: walk each column's contiguous k run.
      for (int j = 0; j < w; j++) {
        const int64_t base = k0 + (j0 + p + j) * b.cs;
        for (int k = 0; k < kc; k++) panel[k * nr + j] = L::at(b.data, base + k);
      }
      for (int k = 0; k < kc; k++)
        for (int j = w; j < nr; j++) panel[k * nr + j] = 0.0f;
    } else {
      for (int k = 0; k < kc; k++) {
        const int64_t base = (k0 + k) * b.rs + (j0 + p) * b.cs;
        float* out = panel + k * nr;
        for (int j = 0; j < w; j++) out[j] = L::at(b.data, base + j * b.cs);
        for (int j = w; j < nr; j++) out[j] = 0.0f;
      }
    }
  }
}

// Float32 B micro-panels (NR wide) from any source dtype and layout.
inline void pack_b_f32_generic(const GemmMatrixView& b, int64_t k0, int kc, int64_t j0, int nc, float* dst,
                               int nr) {
  if (b.dtype == DType::kFloat32 && b.cs == 1) {
    const float* src = static_cast<const float*>(b.data);
    for (int p = 0; p < nc; p += nr) {
      const int w = imin(nr, nc - p);
      float* panel = dst + static_cast<int64_t>(p) * kc;
      for (int k = 0; k < kc; k++) {
        std::memcpy(panel + k * nr, src + (k0 + k) * b.rs + j0 + p, sizeof(float) * w);
        for (int j = w; j < nr; j++) panel[k * nr + j] = 0.0f;
      }
    }
    return;
  }
  switch (b.dtype) {
    case DType::kFloat32:
      return pack_b_f32_t<LoadF32>(b, k0, kc, j0, nc, dst, nr);
    case DType::kBFloat16:
      return pack_b_f32_t<LoadBF16>(b, k0, kc, j0, nc, dst, nr);
    default:
      return pack_b_f32_t<LoadF16>(b, k0, kc, j0, nc, dst, nr);
  }
}

// Applies C = alpha * acc + beta * C for an m×n tile held in a scratch buffer (row stride ldt).
inline void store_tile_generic(int m, int n, const float* acc, int ldt, float* c, int64_t ldc, float alpha,
                               float beta) {
  for (int i = 0; i < m; i++) {
    float* row = c + i * ldc;
    const float* t = acc + i * ldt;
    if (beta == 0.0f) {
      for (int j = 0; j < n; j++) row[j] = alpha * t[j];
    } else {
      for (int j = 0; j < n; j++) row[j] = alpha * t[j] + beta * row[j];
    }
  }
}

}  // namespace
}  // namespace hearth
