// AVX2+FMA exp and sigmoid (see ../../vec-math.h), with a scalar tail.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "vec-math.h"

namespace hearth {
namespace {
// Scalar tails, compiled for the baseline before the target pragma below.
float exp_scalar(float v) { return std::exp(v); }
}  // namespace
}  // namespace hearth

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

namespace hearth {
namespace {

inline __m256 exp8(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.3365447505f);
  const __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);  // exp underflows to 0 there
  x = _mm256_min_ps(_mm256_set1_ps(88.7228391117f), _mm256_max_ps(lo, x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2^n built in the exponent field; n is in [-126, 128] after the clamp, and n = 128 (only at
  // the very top) is split as 2^127 * 2.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i top = _mm256_cmpgt_epi32(ni, _mm256_set1_epi32(127));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, _mm256_and_si256(top, _mm256_set1_epi32(1))),
                                                       _mm256_set1_epi32(127)),
                                      23);
  __m256 res = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  res = _mm256_blendv_ps(res, _mm256_add_ps(res, res), _mm256_castsi256_ps(top));
  return _mm256_andnot_ps(under, res);
}

void exp_avx2(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, exp8(_mm256_loadu_ps(x + i)));
  for (; i < n; i++) y[i] = exp_scalar(x[i]);
}

void sigmoid_avx2(const float* x, float* y, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_loadu_ps(x + i)));
    _mm256_storeu_ps(y + i, _mm256_div_ps(one, _mm256_add_ps(one, e)));
  }
  for (; i < n; i++) y[i] = 1.0f / (1.0f + exp_scalar(-x[i]));
}

const VecMath kAvx2 = {"avx2", exp_avx2, sigmoid_avx2};

}  // namespace

const VecMath* vec_math_avx2() { return &kAvx2; }

}  // namespace hearth

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
