// AVX2+FMA GEMM kernel: 6×16 register tile (12 ymm accumulators), A broadcast from a row-major
// packed micro-panel, B streamed from a k-major packed panel. The packers widen bfloat16 and
// float16 in vector registers and transpose 8×8 blocks of a transposed operand (a Linear
// layer's weight, a layer input in the weight gradient) in registers. Layouts:
// ../../gemm-arch.h. Compiled for AVX2 through a pragma placed after every include; the driver
// calls in only when CPUID says it may.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "gemm-arch.h"
#include "gemm-pack.h"
#include "target.h"

HEARTH_TARGET_BEGIN("avx2,fma,f16c")

#include "simd-avx2.h"

namespace hearth {
namespace {

constexpr int kMR = 6;
constexpr int kNR = 16;
constexpr int kKC = 256;
constexpr int kNC = 384;
// Only the half-size B blocks of short tasks (192 KB) have the next one prefetched: a full
// 384 KB block and the next one's source do not fit a 512 KB L2 together (Zen 3).
constexpr int64_t kPrefetchBlockBytes = int64_t{256} << 10;

// C row (16 columns) = alpha·acc + bias (when given; beta is 0 then) + beta·C, then + addend (when
// given) as a separate add.
inline void store_row16(float* c, __m256 acc0, __m256 acc1, float alpha, float beta, const float* bias,
                        const float* addend) {
  const __m256 va = _mm256_set1_ps(alpha);
  __m256 r0 = _mm256_mul_ps(acc0, va), r1 = _mm256_mul_ps(acc1, va);
  if (bias != nullptr) {
    r0 = _mm256_add_ps(r0, _mm256_loadu_ps(bias));
    r1 = _mm256_add_ps(r1, _mm256_loadu_ps(bias + 8));
  } else if (beta != 0.0f) {
    const __m256 vb = _mm256_set1_ps(beta);
    r0 = _mm256_fmadd_ps(_mm256_loadu_ps(c), vb, r0);
    r1 = _mm256_fmadd_ps(_mm256_loadu_ps(c + 8), vb, r1);
  }
  if (addend != nullptr) {
    r0 = _mm256_add_ps(r0, _mm256_loadu_ps(addend));
    r1 = _mm256_add_ps(r1, _mm256_loadu_ps(addend + 8));
  }
  _mm256_storeu_ps(c, r0);
  _mm256_storeu_ps(c + 8, r1);
}

// pf[0:npf) are lines the driver wants in L2 soon (the next B block's source; about a dozen a
// call), requested before the k loop. A's rows are lda floats apart: kKC in a packed
// micro-panel, the source's row stride when the driver reads a row-major A in place. A tile
// narrower than 16 columns goes through a stack tile and a scalar copy of its n columns (masked
// stores are slow on AMD), rounded as the full-width path rounds. addend (rows ld_addend apart)
// is added last, when given: the driver's residual, in registers instead of a pass over the
// stored tile.
template <int M>
void micro_f32(int n, int kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc, float alpha,
               float beta, const char* const* pf, int npf, const float* bias, const float* addend,
               int64_t ld_addend) {
  __m256 acc0[M], acc1[M];
#pragma GCC unroll 6
  for (int i = 0; i < M; i++) {
    acc0[i] = _mm256_setzero_ps();
    acc1[i] = _mm256_setzero_ps();
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 15), _MM_HINT_T0);
  }
  auto step = [&](int k) __attribute__((always_inline)) {
    const __m256 b0 = _mm256_load_ps(b + k * kNR);
    const __m256 b1 = _mm256_load_ps(b + k * kNR + 8);
#pragma GCC unroll 6
    for (int i = 0; i < M; i++) {
      const __m256 ai = _mm256_broadcast_ss(a + i * lda + k);
      acc0[i] = _mm256_fmadd_ps(ai, b0, acc0[i]);
      acc1[i] = _mm256_fmadd_ps(ai, b1, acc1[i]);
    }
  };
  // The prefetches go before the k loop: issued inside it (one per 4 steps), GCC 12 spilled two
  // accumulators to the stack in the hot loop (16 ymm registers hold the 12 accumulators, two B
  // vectors and a broadcast, nothing more).
  for (int q = 0; q < npf; q++) _mm_prefetch(pf[q], _MM_HINT_T1);
#pragma GCC unroll 4
  for (int k = 0; k < kc; k++) step(k);
  if (n == kNR) {
#pragma GCC unroll 6
    for (int i = 0; i < M; i++)
      store_row16(c + i * ldc, acc0[i], acc1[i], alpha, beta, bias, addend ? addend + i * ld_addend : nullptr);
    return;
  }
  alignas(32) float tile[M * kNR];
  const __m256 va = _mm256_set1_ps(alpha);
#pragma GCC unroll 6
  for (int i = 0; i < M; i++) {
    _mm256_store_ps(tile + i * kNR, _mm256_mul_ps(acc0[i], va));
    _mm256_store_ps(tile + i * kNR + 8, _mm256_mul_ps(acc1[i], va));
  }
  for (int i = 0; i < M; i++) {
    float* row = c + i * ldc;
    const float* t = tile + i * kNR;
    if (bias != nullptr) {
      for (int j = 0; j < n; j++) row[j] = t[j] + bias[j];
    } else if (beta != 0.0f) {
      for (int j = 0; j < n; j++) row[j] = std::fma(row[j], beta, t[j]);
    } else {
      for (int j = 0; j < n; j++) row[j] = t[j];
    }
    if (addend != nullptr) {
      const float* ad = addend + i * ld_addend;
      for (int j = 0; j < n; j++) row[j] += ad[j];
    }
  }
}

void micro_lda(int m, int n, int kc, const void* ap, int64_t lda, const void* bp, float* c, int64_t ldc, float alpha,
               float beta, const char* const* pf, int npf, const float* bias, const float* addend, int64_t ld_addend) {
  const float* a = static_cast<const float*>(ap);
  const float* b = static_cast<const float*>(bp);
  switch (m) {
    case 1: return micro_f32<1>(n, kc, a, lda, b, c, ldc, alpha, beta, pf, npf, bias, addend, ld_addend);
    case 2: return micro_f32<2>(n, kc, a, lda, b, c, ldc, alpha, beta, pf, npf, bias, addend, ld_addend);
    case 3: return micro_f32<3>(n, kc, a, lda, b, c, ldc, alpha, beta, pf, npf, bias, addend, ld_addend);
    case 4: return micro_f32<4>(n, kc, a, lda, b, c, ldc, alpha, beta, pf, npf, bias, addend, ld_addend);
    case 5: return micro_f32<5>(n, kc, a, lda, b, c, ldc, alpha, beta, pf, npf, bias, addend, ld_addend);
    default: return micro_f32<6>(n, kc, a, lda, b, c, ldc, alpha, beta, pf, npf, bias, addend, ld_addend);
  }
}

void micro_pf(int m, int n, int kc, const void* ap, const void* bp, float* c, int64_t ldc, float alpha, float beta,
              const char* const* pf, int npf, const float* bias) {
  micro_lda(m, n, kc, ap, kKC, bp, c, ldc, alpha, beta, pf, npf, bias, nullptr, 0);
}

void micro_any(int m, int n, int kc, const void* ap, const void* bp, float* c, int64_t ldc, float alpha, float beta) {
  micro_lda(m, n, kc, ap, kKC, bp, c, ldc, alpha, beta, nullptr, 0, nullptr, nullptr, 0);
}

// 8 float32 values from any source dtype at base[index...]: the first `count` (1..8) read, the
// others zero (a float32 tail through a masked load, a 16-bit one through a zeroed copy).
inline __m256 load8(const void* base, int64_t index, DType t, int count) {
  if (t == DType::kFloat32) {
    const float* p = static_cast<const float*>(base) + index;
    if (count >= 8) return _mm256_loadu_ps(p);
    return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
  }
  const uint16_t* p = static_cast<const uint16_t*>(base) + index;
  __m128i h;
  if (count >= 8) {
    h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  } else {
    alignas(16) uint16_t part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(part, p, sizeof(uint16_t) * count);
    h = _mm_load_si128(reinterpret_cast<const __m128i*>(part));
  }
  if (t == DType::kBFloat16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  return _mm256_cvtph_ps(h);
}

void pack_a(const GemmMatrixView& a, int64_t i0, int m, int64_t k0, int kc, void* dstv) {
  float* dst = static_cast<float*>(dstv);
  if (a.cs == 1 && a.dtype != DType::kFloat32) {
    // Rows of 16-bit values (a float32 input rounded to the weights' dtype) widened 8 at a time.
    for (int i = 0; i < m; i++) {
      const int64_t base = (i0 + i) * a.rs + k0;
      for (int k = 0; k < kc; k += 8) _mm256_storeu_ps(dst + i * kKC + k, load8(a.data, base + k, a.dtype, kc - k));
    }
    return;
  }
  if (a.rs == 1 && a.cs != 1) {
    // Column-major A (a transposed view): 8 k of the m contiguous rows, transposed in registers.
    for (int k = 0; k < kc; k += 8) {
      const int kk = imin(8, kc - k);
      __m256 r[8];
      for (int q = 0; q < 8; q++) r[q] = q < kk ? load8(a.data, i0 + (k0 + k + q) * a.cs, a.dtype, m) : _mm256_setzero_ps();
      transpose8(r);
      // Rows are kKC apart, so writing all 8 lanes of a short last group stays inside the panel.
      for (int i = 0; i < m; i++) _mm256_storeu_ps(dst + i * kKC + k, r[i]);
    }
    return;
  }
  pack_a_f32_generic(a, i0, m, k0, kc, dst, kKC);
}

void pack_b(const GemmMatrixView& b, int64_t k0, int kc, int64_t j0, int nc, void* dstv) {
  float* dst = static_cast<float*>(dstv);
  const int es = dtype_size(b.dtype);
  if (b.cs == 1) {
    // Row by row, each source row one contiguous run, fetching the row 4 ahead meanwhile (the
    // rows of a wide B lie in different pages, where the hardware prefetcher starts cold).
    for (int k = 0; k < kc; k++) {
      const int64_t base = (k0 + k) * b.rs + j0;
      if (k + 4 < kc) {
        const char* ahead = static_cast<const char*>(b.data) + (base + 4 * b.rs) * es;
        for (int j = 0; j < nc * es; j += 64) _mm_prefetch(ahead + j, _MM_HINT_T0);
      }
      for (int p = 0; p < nc; p += kNR) {
        const int w = imin(kNR, nc - p);
        float* out = dst + static_cast<int64_t>(p) * kc + k * kNR;
        _mm256_store_ps(out, load8(b.data, base + p, b.dtype, w));
        _mm256_store_ps(out + 8, w > 8 ? load8(b.data, base + p + 8, b.dtype, w - 8) : _mm256_setzero_ps());
      }
    }
    return;
  }
  if (b.rs == 1) {
    // Row-major Bᵀ (a Linear layer's weight): 8 columns × 8 k at a time, transposed; each
    // column's run is fetched 64 k ahead.
    for (int p = 0; p < nc; p += kNR) {
      const int w = imin(kNR, nc - p);
      float* panel = dst + static_cast<int64_t>(p) * kc;
      for (int k = 0; k < kc; k += 8) {
        const int kk = imin(8, kc - k);
        for (int h = 0; h < 2; h++) {
          __m256 r[8];
          for (int q = 0; q < 8; q++) {
            const int j = h * 8 + q;
            if (j >= w) {
              r[q] = _mm256_setzero_ps();
              continue;
            }
            const int64_t at = k0 + k + (j0 + p + j) * b.cs;
            if ((k & 8) == 0 && k + 64 < kc) _mm_prefetch(static_cast<const char*>(b.data) + (at + 64) * es, _MM_HINT_T0);
            r[q] = load8(b.data, at, b.dtype, kk);
          }
          transpose8(r);
          for (int q = 0; q < kk; q++) _mm256_store_ps(panel + (k + q) * kNR + h * 8, r[q]);
        }
      }
    }
    return;
  }
  pack_b_f32_generic(b, k0, kc, j0, nc, dst, kNR);
}

const GemmKernels kAvx2 = {"avx2", kMR, kNR, kKC, kNC, 1, 4, micro_any, pack_a, pack_b, micro_pf, nullptr,
                          kPrefetchBlockBytes, true, micro_lda};

}  // namespace

const GemmKernels* gemm_kernels_avx2() { return &kAvx2; }

}  // namespace hearth

HEARTH_TARGET_END()
