// AVX2+FMA GEMM kernel: 6×16 register tile (12 ymm accumulators), A broadcast from a row-major
// packed micro-panel, B streamed from a k-major packed panel. Packing uses the portable
// routines. Layouts: ../../gemm-arch.h. Compiled for AVX2 through a pragma placed after every
// include; the driver calls in only when CPUID says it may.
#include <immintrin.h>

#include <cstdint>

#include "gemm-arch.h"
#include "gemm-pack.h"
#include "target.h"

HEARTH_TARGET_BEGIN("avx2,fma,f16c")

namespace hearth {
namespace {

constexpr int kMR = 6;
constexpr int kNR = 16;
constexpr int kKC = 256;
constexpr int kNC = 384;

inline __m256i mask8(int n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}

inline void store8(float* c, __m256 acc, int n, float alpha, float beta) {
  __m256 r = _mm256_mul_ps(acc, _mm256_set1_ps(alpha));
  if (n >= 8) {
    if (beta != 0.0f) r = _mm256_fmadd_ps(_mm256_loadu_ps(c), _mm256_set1_ps(beta), r);
    _mm256_storeu_ps(c, r);
  } else if (n > 0) {
    const __m256i m = mask8(n);
    if (beta != 0.0f) r = _mm256_fmadd_ps(_mm256_maskload_ps(c, m), _mm256_set1_ps(beta), r);
    _mm256_maskstore_ps(c, m, r);
  }
}

template <int M>
void micro(int n, int kc, const float* a, const float* b, float* c, int64_t ldc, float alpha, float beta) {
  __m256 acc0[M], acc1[M];
#pragma GCC unroll 6
  for (int i = 0; i < M; i++) {
    acc0[i] = _mm256_setzero_ps();
    acc1[i] = _mm256_setzero_ps();
  }
#pragma GCC unroll 4
  for (int k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_load_ps(b + k * kNR);
    const __m256 b1 = _mm256_load_ps(b + k * kNR + 8);
#pragma GCC unroll 6
    for (int i = 0; i < M; i++) {
      const __m256 ai = _mm256_broadcast_ss(a + i * kKC + k);
      acc0[i] = _mm256_fmadd_ps(ai, b0, acc0[i]);
      acc1[i] = _mm256_fmadd_ps(ai, b1, acc1[i]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < M; i++) {
    store8(c + i * ldc, acc0[i], n, alpha, beta);
    store8(c + i * ldc + 8, acc1[i], n - 8, alpha, beta);
  }
}

void micro_any(int m, int n, int kc, const void* ap, const void* bp, float* c, int64_t ldc, float alpha, float beta) {
  const float* a = static_cast<const float*>(ap);
  const float* b = static_cast<const float*>(bp);
  switch (m) {
    case 1: return micro<1>(n, kc, a, b, c, ldc, alpha, beta);
    case 2: return micro<2>(n, kc, a, b, c, ldc, alpha, beta);
    case 3: return micro<3>(n, kc, a, b, c, ldc, alpha, beta);
    case 4: return micro<4>(n, kc, a, b, c, ldc, alpha, beta);
    case 5: return micro<5>(n, kc, a, b, c, ldc, alpha, beta);
    default: return micro<6>(n, kc, a, b, c, ldc, alpha, beta);
  }
}

void pack_a(const GemmMatrixView& a, int64_t i0, int m, int64_t k0, int kc, void* dst) {
  pack_a_f32_generic(a, i0, m, k0, kc, static_cast<float*>(dst), kKC);
}

void pack_b(const GemmMatrixView& b, int64_t k0, int kc, int64_t j0, int nc, void* dst) {
  pack_b_f32_generic(b, k0, kc, j0, nc, static_cast<float*>(dst), kNR);
}

const GemmKernels kAvx2 = {"avx2", kMR, kNR, kKC, kNC, 1, 4, micro_any, pack_a, pack_b};

}  // namespace

const GemmKernels* gemm_kernels_avx2() { return &kAvx2; }

}  // namespace hearth

HEARTH_TARGET_END()
