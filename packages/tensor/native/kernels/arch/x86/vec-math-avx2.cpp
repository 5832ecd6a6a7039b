// AVX2+FMA exp and sigmoid (see ../../vec-math.h), with a scalar tail.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "vec-math.h"
#include "target.h"

namespace hearth {
namespace {
// Scalar tails, compiled for the baseline before the target pragma below.
float exp_scalar(float v) { return std::exp(v); }
}  // namespace
}  // namespace hearth

HEARTH_TARGET_BEGIN("avx2,fma")

#include "simd-avx2.h"

namespace hearth {
namespace {

inline __m256 exp8(__m256 x) { return V256::exp(x); }

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

void accumulate_f64_avx2(const float* x, double* acc, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    _mm256_storeu_pd(acc + i, _mm256_add_pd(_mm256_loadu_pd(acc + i), _mm256_cvtps_pd(_mm_loadu_ps(x + i))));
  for (; i < n; i++) acc[i] += x[i];
}

const VecMath kAvx2 = {"avx2", exp_avx2, sigmoid_avx2, accumulate_f64_avx2};

}  // namespace

const VecMath* vec_math_avx2() { return &kAvx2; }

}  // namespace hearth

HEARTH_TARGET_END()
