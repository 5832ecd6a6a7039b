// AVX-512 Adam/AdamW step (see ../../optim.h), bit-identical to the scalar loop in optim.cpp.
// Where the scalar code rounds a double result of two float operands (sum, product, quotient,
// square root), the float32 instruction gives the same correctly rounded value, so those run 16
// lanes wide in float; steps with a double constant (β1·m, √v / √(1−β2ᵗ), + eps, …) run 8 lanes
// wide in double and round to float where the scalar code does. Tails use masked lanes.
#include <immintrin.h>

#include <cstdint>

#include "optim.h"

// No fused multiply-adds: each product is rounded on its own, as in the scalar loop.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#pragma clang fp contract(off)
#else
#pragma GCC push_options
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC target("avx512f")
#pragma GCC optimize("fp-contract=off")
#endif

namespace hearth {
namespace {

// The 16 floats of x widened to two halves of 8 doubles, and two such halves rounded back.
inline __m512d low8(__m512 x) { return _mm512_cvtps_pd(_mm512_castps512_ps256(x)); }
inline __m512d high8(__m512 x) {
  return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
}
inline __m512 narrow16(__m512d lo, __m512d hi) {
  const __m512 l = _mm512_castps256_ps512(_mm512_cvtpd_ps(lo));
  return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(l), _mm256_castps_pd(_mm512_cvtpd_ps(hi)), 1));
}

// f32(x · c) for 16 floats x and a double c: two 8-lane double products, each rounded once.
inline __m512 mul_round(__m512 x, __m512d c) { return narrow16(_mm512_mul_pd(low8(x), c), _mm512_mul_pd(high8(x), c)); }

// x / c for 8 doubles x (float values) and a double c > 0 whose float32 rounding is that of the
// correctly rounded quotient, from x · (1/c) (`inv`): that product is within 3 units in the last
// place (double) of the quotient, so it rounds to the same float32 unless a float32 rounding
// boundary (a double whose low 29 significand bits are 1 followed by 28 zeros) lies within a few
// units of it, or the result is below float32's normal range (coarser boundaries); those rare
// lanes take the division. A double division per 8 lanes was most of the step's time.
inline __m512d div_for_float(__m512d x, __m512d c, __m512d inv) {
  const __m512d q = _mm512_mul_pd(x, inv);
  const __m512i bits = _mm512_castpd_si512(q);
  const __m512i low = _mm512_and_si512(bits, _mm512_set1_epi64(0x1FFFFFFF));
  const __m512i off = _mm512_abs_epi64(_mm512_sub_epi64(low, _mm512_set1_epi64(0x10000000)));
  const __m512i mag = _mm512_and_si512(bits, _mm512_set1_epi64(0x7FFFFFFFFFFFFFFF));
  // Near a boundary, or |q| below 2^-125 (0x3820000000000000); NaN and Inf are not (exact).
  const __mmask8 slow = _mm512_cmple_epu64_mask(off, _mm512_set1_epi64(8)) |
                        _mm512_cmplt_epu64_mask(mag, _mm512_set1_epi64(0x3820000000000000));
  return slow ? _mm512_mask_div_pd(q, slow, x, c) : q;
}

// f32(f32(x / c) + e) for 16 floats x and doubles c, e (inv = 1/c).
inline __m512 div_add_round(__m512 x, __m512d c, __m512d inv, __m512d e) {
  const __m512 q = narrow16(div_for_float(low8(x), c, inv), div_for_float(high8(x), c, inv));
  return narrow16(_mm512_add_pd(low8(q), e), _mm512_add_pd(high8(q), e));
}

}  // namespace

void adam_step_avx512(float* p, const float* g, float* m, float* v, float* vmax, int64_t i0, int64_t i1,
                      const AdamParams& a) {
  const __m512d b1 = _mm512_set1_pd(a.beta1), b2 = _mm512_set1_pd(a.beta2);
  const __m512d one_b1 = _mm512_set1_pd(1.0 - a.beta1), one_b2 = _mm512_set1_pd(1.0 - a.beta2);
  const __m512d bc2 = _mm512_set1_pd(a.bc2_sqrt), inv_bc2 = _mm512_set1_pd(1.0 / a.bc2_sqrt);
  const __m512d eps = _mm512_set1_pd(a.eps);
  const __m512d step = _mm512_set1_pd(a.step_size), keep = _mm512_set1_pd(a.keep);
  const __m512d wd = _mm512_set1_pd(a.weight_decay);
  const bool decay = a.keep != 1.0, l2 = a.l2 && a.weight_decay != 0.0;
  for (int64_t i = i0; i < i1; i += 16) {
    const __mmask16 k = i1 - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (i1 - i)) - 1);
    __m512 pi = _mm512_maskz_loadu_ps(k, p + i);
    __m512 gi = _mm512_maskz_loadu_ps(k, g + i);
    if (decay) pi = mul_round(pi, keep);
    if (l2) gi = _mm512_add_ps(gi, mul_round(pi, wd));
    const __m512 mi = _mm512_add_ps(mul_round(_mm512_maskz_loadu_ps(k, m + i), b1), mul_round(gi, one_b1));
    const __m512 vi =
        _mm512_add_ps(mul_round(_mm512_maskz_loadu_ps(k, v + i), b2), _mm512_mul_ps(mul_round(gi, one_b2), gi));
    _mm512_mask_storeu_ps(m + i, k, mi);
    _mm512_mask_storeu_ps(v + i, k, vi);
    __m512 vs = vi;
    if (vmax != nullptr) {
      vs = _mm512_max_ps(_mm512_maskz_loadu_ps(k, vmax + i), vi);  // NaN in vmax gives vi, as the scalar ternary
      _mm512_mask_storeu_ps(vmax + i, k, vs);
    }
    const __m512 denom = div_add_round(_mm512_sqrt_ps(vs), bc2, inv_bc2, eps);
    pi = _mm512_sub_ps(pi, mul_round(_mm512_div_ps(mi, denom), step));
    _mm512_mask_storeu_ps(p + i, k, pi);
  }
}

}  // namespace hearth

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
