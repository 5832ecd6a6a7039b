// The random fill's Box–Muller transform (../../random-impl.h) on 4 doubles per AVX2 vector.
#include <immintrin.h>

#include <cstdint>

#include "random.h"
#include "target.h"

#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
HEARTH_TARGET_BEGIN("avx2,fma")

#include "random-impl.h"

namespace hearth {
namespace {

struct D256 {
  using T = __m256d;
  static constexpr int W = 4;
  static T load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, T v) { _mm256_storeu_pd(p, v); }
  static T set1(double x) { return _mm256_set1_pd(x); }
  static T add(T a, T b) { return _mm256_add_pd(a, b); }
  static T sub(T a, T b) { return _mm256_sub_pd(a, b); }
  static T mul(T a, T b) { return _mm256_mul_pd(a, b); }
  static T div(T a, T b) { return _mm256_div_pd(a, b); }
  static T fma(T a, T b, T c) { return _mm256_fmadd_pd(a, b, c); }
  static T sqrt(T a) { return _mm256_sqrt_pd(a); }
  static T floor(T a) { return _mm256_round_pd(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static T nearest(T a) { return _mm256_round_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T gt01(T a, T b) { return _mm256_and_pd(_mm256_cmp_pd(a, b, _CMP_GT_OQ), set1(1.0)); }
  // The biased exponent field as a double (2^52 + e, minus 2^52: exact).
  static T srl52(T u) {
    const __m256i e = _mm256_srli_epi64(_mm256_castpd_si256(u), 52);
    return sub(_mm256_castsi256_pd(_mm256_or_si256(e, _mm256_set1_epi64x(0x4330000000000000LL))), set1(4503599627370496.0));
  }
  static T mantissa(T u) {
    const __m256i m = _mm256_and_si256(_mm256_castpd_si256(u), _mm256_set1_epi64x(0x000fffffffffffffLL));
    return _mm256_castsi256_pd(_mm256_or_si256(m, _mm256_set1_epi64x(0x3ff0000000000000LL)));
  }
};

const BoxMullerKernel kAvx2 = {"avx2", BoxMuller<D256>::run};

}  // namespace

const BoxMullerKernel* box_muller_avx2() { return &kAvx2; }

}  // namespace hearth

HEARTH_TARGET_END()
