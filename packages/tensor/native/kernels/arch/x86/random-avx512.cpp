// The random fill's Box–Muller transform (../../random-impl.h) on 8 doubles per AVX-512 vector.
#include <immintrin.h>

#include <cstdint>

#include "random.h"
#include "target.h"

#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
HEARTH_TARGET_BEGIN("avx512f,avx2,fma")

#include "random-impl.h"

namespace hearth {
namespace {

struct D512 {
  using T = __m512d;
  static constexpr int W = 8;
  static T load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, T v) { _mm512_storeu_pd(p, v); }
  static T set1(double x) { return _mm512_set1_pd(x); }
  static T add(T a, T b) { return _mm512_add_pd(a, b); }
  static T sub(T a, T b) { return _mm512_sub_pd(a, b); }
  static T mul(T a, T b) { return _mm512_mul_pd(a, b); }
  static T div(T a, T b) { return _mm512_div_pd(a, b); }
  static T fma(T a, T b, T c) { return _mm512_fmadd_pd(a, b, c); }
  static T sqrt(T a) { return _mm512_sqrt_pd(a); }
  static T floor(T a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static T nearest(T a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T gt01(T a, T b) { return _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(a, b, _CMP_GT_OQ), set1(1.0)); }
  // The biased exponent field as a double (2^52 + e, minus 2^52: exact).
  static T srl52(T u) {
    const __m512i e = _mm512_srli_epi64(_mm512_castpd_si512(u), 52);
    return sub(_mm512_castsi512_pd(_mm512_or_si512(e, _mm512_set1_epi64(0x4330000000000000LL))), set1(4503599627370496.0));
  }
  static T mantissa(T u) {
    const __m512i m = _mm512_and_si512(_mm512_castpd_si512(u), _mm512_set1_epi64(0x000fffffffffffffLL));
    return _mm512_castsi512_pd(_mm512_or_si512(m, _mm512_set1_epi64(0x3ff0000000000000LL)));
  }
};

const BoxMullerKernel kAvx512 = {"avx512", BoxMuller<D512>::run};

}  // namespace

const BoxMullerKernel* box_muller_avx512() { return &kAvx512; }

}  // namespace hearth

HEARTH_TARGET_END()
