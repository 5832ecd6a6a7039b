// AVX-512 pieces of the fused attention (see ../../attention.h): dot products of one vector
// against four rows at a time (four accumulators, one horizontal sum each), and p-weighted row
// sums that keep up to four 16-lane strips of the accumulator in registers while streaming the
// rows. Tails use masked loads and stores.
#include <immintrin.h>

#include <cstdint>

#include "attention.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma")
#endif

namespace hearth {
namespace {

inline __mmask16 mask16(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << n) - 1);
}

void dots_avx512(const float* x, const float* rows, int64_t stride, int64_t n, int64_t d, float* out) {
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float* r0 = rows + j * stride;
    const float* r1 = r0 + stride;
    const float* r2 = r1 + stride;
    const float* r3 = r2 + stride;
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    for (int64_t i = 0; i < d; i += 16) {
      const __mmask16 m = mask16(d - i);
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + i);
      s0 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, r0 + i), s0);
      s1 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, r1 + i), s1);
      s2 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, r2 + i), s2);
      s3 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, r3 + i), s3);
    }
    out[j] = _mm512_reduce_add_ps(s0);
    out[j + 1] = _mm512_reduce_add_ps(s1);
    out[j + 2] = _mm512_reduce_add_ps(s2);
    out[j + 3] = _mm512_reduce_add_ps(s3);
  }
  for (; j < n; j++) {
    const float* r = rows + j * stride;
    __m512 s = _mm512_setzero_ps();
    for (int64_t i = 0; i < d; i += 16) {
      const __mmask16 m = mask16(d - i);
      s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, r + i), s);
    }
    out[j] = _mm512_reduce_add_ps(s);
  }
}

// acc[0, w) += Σ_j p[j]·rows[j][0, w) for a strip of w <= 64 columns held in four registers.
inline void accumulate_strip(const float* p, int64_t n, const float* rows, int64_t stride, int64_t w, float* acc) {
  const __mmask16 m0 = mask16(w), m1 = mask16(w - 16), m2 = mask16(w - 32), m3 = mask16(w - 48);
  __m512 a0 = _mm512_maskz_loadu_ps(m0, acc);
  __m512 a1 = w > 16 ? _mm512_maskz_loadu_ps(m1, acc + 16) : _mm512_setzero_ps();
  __m512 a2 = w > 32 ? _mm512_maskz_loadu_ps(m2, acc + 32) : _mm512_setzero_ps();
  __m512 a3 = w > 48 ? _mm512_maskz_loadu_ps(m3, acc + 48) : _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j++) {
    const __m512 pj = _mm512_set1_ps(p[j]);
    const float* r = rows + j * stride;
    a0 = _mm512_fmadd_ps(pj, _mm512_maskz_loadu_ps(m0, r), a0);
    if (w > 16) a1 = _mm512_fmadd_ps(pj, _mm512_maskz_loadu_ps(m1, r + 16), a1);
    if (w > 32) a2 = _mm512_fmadd_ps(pj, _mm512_maskz_loadu_ps(m2, r + 32), a2);
    if (w > 48) a3 = _mm512_fmadd_ps(pj, _mm512_maskz_loadu_ps(m3, r + 48), a3);
  }
  _mm512_mask_storeu_ps(acc, m0, a0);
  if (w > 16) _mm512_mask_storeu_ps(acc + 16, m1, a1);
  if (w > 32) _mm512_mask_storeu_ps(acc + 32, m2, a2);
  if (w > 48) _mm512_mask_storeu_ps(acc + 48, m3, a3);
}

void accumulate_avx512(const float* p, int64_t n, const float* rows, int64_t stride, int64_t e, float* acc) {
  for (int64_t c = 0; c < e; c += 64) accumulate_strip(p, n, rows + c, stride, e - c < 64 ? e - c : 64, acc + c);
}

void axpy_avx512(float a, const float* x, float* y, int64_t n) {
  const __m512 av = _mm512_set1_ps(a);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = mask16(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

const AttentionOps kAvx512 = {"avx512", dots_avx512, accumulate_avx512, axpy_avx512};

}  // namespace

const AttentionOps* attention_ops_avx512() { return &kAvx512; }

}  // namespace hearth

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
