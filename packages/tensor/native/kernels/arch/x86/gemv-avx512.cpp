// AVX-512 matrix-vector kernels (forms in ../../gemv.h). dot: four rows of W at a time against
// one pass over x. axpy: four rows of W at a time added into an L1-resident output strip.
// float16 and bfloat16 rows are widened to float32 as they are loaded.
#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "dtype.h"
#include "gemv.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c"))), \
                             apply_to = function)
#else
#pragma GCC push_options
// GCC 12 warns about the deliberately undefined upper lanes inside its own intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")
#endif

namespace hearth {
namespace {

inline __mmask16 mask16(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << n) - 1);
}

template <DType T>
inline __m512 load16(const void* base, int64_t index, __mmask16 mask) {
  if constexpr (T == DType::kFloat32) {
    return _mm512_maskz_loadu_ps(mask, static_cast<const float*>(base) + index);
  } else if constexpr (T == DType::kBFloat16) {
    const __m256i h = _mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(base) + index);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  } else {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(base) + index));
  }
}

template <DType T>
using Elem = std::conditional_t<T == DType::kFloat32, float, uint16_t>;

template <DType T>
void dot_t(const void* w, int64_t ldw, const float* x, int64_t K, int n, float* out) {
  const __mmask16 full = 0xffff;
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    const int64_t r0 = j * ldw, r1 = r0 + ldw, r2 = r1 + ldw, r3 = r2 + ldw;
    // The next four rows, fetched while these are summed: short rows (K of a few hundred)
    // end before the hardware prefetcher has locked on to their streams.
    const char* next = static_cast<const char*>(w) + (r0 + 4 * ldw) * static_cast<int64_t>(sizeof(Elem<T>));
    const int64_t next_bytes = j + 8 <= n ? 4 * ldw * static_cast<int64_t>(sizeof(Elem<T>)) : 0;
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
      const int64_t at = 4 * k * static_cast<int64_t>(sizeof(Elem<T>));
      if (at < next_bytes) {
        _mm_prefetch(next + at, _MM_HINT_T0);
        _mm_prefetch(next + at + 64, _MM_HINT_T0);
        if constexpr (T == DType::kFloat32) {
          _mm_prefetch(next + at + 128, _MM_HINT_T0);
          _mm_prefetch(next + at + 192, _MM_HINT_T0);
        }
      }
      const __m512 xv = _mm512_loadu_ps(x + k);
      s0 = _mm512_fmadd_ps(load16<T>(w, r0 + k, full), xv, s0);
      s1 = _mm512_fmadd_ps(load16<T>(w, r1 + k, full), xv, s1);
      s2 = _mm512_fmadd_ps(load16<T>(w, r2 + k, full), xv, s2);
      s3 = _mm512_fmadd_ps(load16<T>(w, r3 + k, full), xv, s3);
    }
    if (k < K) {
      const __mmask16 m = mask16(K - k);
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + k);
      s0 = _mm512_fmadd_ps(load16<T>(w, r0 + k, m), xv, s0);
      s1 = _mm512_fmadd_ps(load16<T>(w, r1 + k, m), xv, s1);
      s2 = _mm512_fmadd_ps(load16<T>(w, r2 + k, m), xv, s2);
      s3 = _mm512_fmadd_ps(load16<T>(w, r3 + k, m), xv, s3);
    }
    out[j] = _mm512_reduce_add_ps(s0);
    out[j + 1] = _mm512_reduce_add_ps(s1);
    out[j + 2] = _mm512_reduce_add_ps(s2);
    out[j + 3] = _mm512_reduce_add_ps(s3);
  }
  for (; j < n; j++) {
    __m512 s = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k += 16) {
      const __mmask16 m = mask16(K - k);
      s = _mm512_fmadd_ps(load16<T>(w, j * ldw + k, m), _mm512_maskz_loadu_ps(m, x + k), s);
    }
    out[j] = _mm512_reduce_add_ps(s);
  }
}

template <DType T>
void axpy_t(const void* w, int64_t ldw, const float* x, int64_t K, int n, float* out) {
  int64_t k = 0;
  for (; k + 4 <= K; k += 4) {
    const __m512 x0 = _mm512_set1_ps(x[k]), x1 = _mm512_set1_ps(x[k + 1]);
    const __m512 x2 = _mm512_set1_ps(x[k + 2]), x3 = _mm512_set1_ps(x[k + 3]);
    const int64_t r0 = k * ldw, r1 = r0 + ldw, r2 = r1 + ldw, r3 = r2 + ldw;
    for (int j = 0; j < n; j += 16) {
      const __mmask16 m = mask16(n - j);
      __m512 acc = _mm512_maskz_loadu_ps(m, out + j);
      acc = _mm512_fmadd_ps(x0, load16<T>(w, r0 + j, m), acc);
      acc = _mm512_fmadd_ps(x1, load16<T>(w, r1 + j, m), acc);
      acc = _mm512_fmadd_ps(x2, load16<T>(w, r2 + j, m), acc);
      acc = _mm512_fmadd_ps(x3, load16<T>(w, r3 + j, m), acc);
      _mm512_mask_storeu_ps(out + j, m, acc);
    }
  }
  for (; k < K; k++) {
    const __m512 xk = _mm512_set1_ps(x[k]);
    for (int j = 0; j < n; j += 16) {
      const __mmask16 m = mask16(n - j);
      _mm512_mask_storeu_ps(out + j, m,
                            _mm512_fmadd_ps(xk, load16<T>(w, k * ldw + j, m), _mm512_maskz_loadu_ps(m, out + j)));
    }
  }
}

void dot(DType t, const void* w, int64_t ldw, const float* x, int64_t K, int n, float* out) {
  if (t == DType::kFloat32) return dot_t<DType::kFloat32>(w, ldw, x, K, n, out);
  if (t == DType::kBFloat16) return dot_t<DType::kBFloat16>(w, ldw, x, K, n, out);
  return dot_t<DType::kFloat16>(w, ldw, x, K, n, out);
}

void axpy(DType t, const void* w, int64_t ldw, const float* x, int64_t K, int n, float* out) {
  if (t == DType::kFloat32) return axpy_t<DType::kFloat32>(w, ldw, x, K, n, out);
  if (t == DType::kBFloat16) return axpy_t<DType::kBFloat16>(w, ldw, x, K, n, out);
  return axpy_t<DType::kFloat16>(w, ldw, x, K, n, out);
}

const GemvKernels kAvx512 = {"avx512", dot, axpy};

}  // namespace

const GemvKernels* gemv_kernels_avx512() { return &kAvx512; }

}  // namespace hearth

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
