// AVX2 Adam/AdamW step (see ../../optim.h), bit-identical to the scalar loop in optim.cpp by
// the same argument as optim-avx512.cpp: a double result of two float operands rounded to
// float is the float32 instruction's result, so those steps run 8 lanes wide in float, and the
// steps with a double constant run as two 4-lane halves in double, rounded where the scalar
// code rounds. A tail of under 8 elements goes through stack copies (masked stores are slow on
// AMD cores).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "optim.h"

// No fused multiply-adds: each product is rounded on its own, as in the scalar loop.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#pragma clang fp contract(off)
#else
#pragma GCC push_options
#pragma GCC target("avx2")
#pragma GCC optimize("fp-contract=off")
#endif

namespace hearth {
namespace {

inline __m256d low4(__m256 x) { return _mm256_cvtps_pd(_mm256_castps256_ps128(x)); }
inline __m256d high4(__m256 x) { return _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)); }
inline __m256 narrow8(__m256d lo, __m256d hi) {
  return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(lo)), _mm256_cvtpd_ps(hi), 1);
}

// f32(x · c) for 8 floats x and a double c.
inline __m256 mul_round(__m256 x, __m256d c) { return narrow8(_mm256_mul_pd(low4(x), c), _mm256_mul_pd(high4(x), c)); }

// Lanes of q = x·(1/c) whose float32 rounding may differ from that of the quotient x/c: within
// 8 units of a float32 rounding boundary (the 29 low bits of the double near 2^28), or |q| below
// 2^-125 (see optim-avx512.cpp's div_for_float). (low − (2^28 − 8)) mod 2^29 < 17 tests the first
// with one compare; AVX2 has only signed 64-bit compares, and both sides are non-negative.
inline __m256i risky(__m256d q) {
  const __m256i bits = _mm256_castpd_si256(q);
  const __m256i off = _mm256_and_si256(_mm256_sub_epi64(bits, _mm256_set1_epi64x(0x10000000 - 8)),
                                       _mm256_set1_epi64x(0x1FFFFFFF));
  const __m256i mag = _mm256_and_si256(bits, _mm256_set1_epi64x(0x7FFFFFFFFFFFFFFF));
  return _mm256_or_si256(_mm256_cmpgt_epi64(_mm256_set1_epi64x(17), off),
                         _mm256_cmpgt_epi64(_mm256_set1_epi64x(0x3820000000000000), mag));
}

// q with its `slow` lanes replaced by the quotient x/c: out of line, behind one test per 8 lanes
// (a test and blend per 4 lanes, which GCC compiled to a division of every lane, with the
// two-compare boundary test, took 1.3x the time of the whole step: one thread, 1M elements in
// cache, 5.2 against 4.0 ns an element).
__attribute__((noinline)) __m256d divide_lanes(__m256d q, __m256d x, __m256d c, __m256i slow) {
  return _mm256_blendv_pd(q, _mm256_div_pd(x, c), _mm256_castsi256_pd(slow));
}

// f32(f32(x / c) + e) for 8 floats x and doubles c, e (inv = 1/c): x/c from x·(1/c) where
// that rounds to the same float32 as the quotient.
inline __m256 div_add_round(__m256 x, __m256d c, __m256d inv, __m256d e) {
  const __m256d xl = low4(x), xh = high4(x);
  __m256d ql = _mm256_mul_pd(xl, inv), qh = _mm256_mul_pd(xh, inv);
  const __m256i sl = risky(ql), sh = risky(qh);
  const __m256i any = _mm256_or_si256(sl, sh);
  if (__builtin_expect(!_mm256_testz_si256(any, any), 0)) {
    ql = divide_lanes(ql, xl, c, sl);
    qh = divide_lanes(qh, xh, c, sh);
  }
  const __m256 q = narrow8(ql, qh);
  return narrow8(_mm256_add_pd(low4(q), e), _mm256_add_pd(high4(q), e));
}

}  // namespace

void adam_step_avx2(float* p, const float* g, float* m, float* v, float* vmax, int64_t i0, int64_t i1,
                    const AdamParams& a) {
  const __m256d b1 = _mm256_set1_pd(a.beta1), b2 = _mm256_set1_pd(a.beta2);
  const __m256d one_b1 = _mm256_set1_pd(1.0 - a.beta1), one_b2 = _mm256_set1_pd(1.0 - a.beta2);
  const __m256d bc2 = _mm256_set1_pd(a.bc2_sqrt), inv_bc2 = _mm256_set1_pd(1.0 / a.bc2_sqrt);
  const __m256d eps = _mm256_set1_pd(a.eps);
  const __m256d step = _mm256_set1_pd(a.step_size), keep = _mm256_set1_pd(a.keep);
  const __m256d wd = _mm256_set1_pd(a.weight_decay);
  const bool decay = a.keep != 1.0, l2 = a.l2 && a.weight_decay != 0.0;
  // Three passes over blocks of up to kBlock elements (n, a multiple of 8): m, v (and vmax), the
  // decayed p and √v; then the denominators; then the step. In one pass, each 8 elements' chain
  // of dependent conversions, square root and divisions (about 110 cycles) let too few groups
  // overlap in the core's window (Zen 3, one thread, 16K elements in L2: 3.5 ns an element in
  // one pass, 2.4 in three, the same bits).
  constexpr int kBlock = 256;
  alignas(32) float root[kBlock];  // √v, then the denominators
  auto block = [&](float* pp, const float* gp, float* mp, float* vp, float* vm, int64_t n) {
    for (int64_t j = 0; j < n; j += 8) {
      __m256 pi = _mm256_loadu_ps(pp + j);
      __m256 gi = _mm256_loadu_ps(gp + j);
      if (decay) {
        pi = mul_round(pi, keep);
        _mm256_storeu_ps(pp + j, pi);
      }
      if (l2) gi = _mm256_add_ps(gi, mul_round(pi, wd));
      const __m256 mi = _mm256_add_ps(mul_round(_mm256_loadu_ps(mp + j), b1), mul_round(gi, one_b1));
      const __m256 vi =
          _mm256_add_ps(mul_round(_mm256_loadu_ps(vp + j), b2), _mm256_mul_ps(mul_round(gi, one_b2), gi));
      _mm256_storeu_ps(mp + j, mi);
      _mm256_storeu_ps(vp + j, vi);
      __m256 vs = vi;
      if (vm != nullptr) {
        vs = _mm256_max_ps(_mm256_loadu_ps(vm + j), vi);  // NaN in vmax gives vi, as the scalar ternary
        _mm256_storeu_ps(vm + j, vs);
      }
      _mm256_store_ps(root + j, _mm256_sqrt_ps(vs));
    }
    for (int64_t j = 0; j < n; j += 8)
      _mm256_store_ps(root + j, div_add_round(_mm256_load_ps(root + j), bc2, inv_bc2, eps));
    for (int64_t j = 0; j < n; j += 8) {
      const __m256 update = mul_round(_mm256_div_ps(_mm256_loadu_ps(mp + j), _mm256_load_ps(root + j)), step);
      _mm256_storeu_ps(pp + j, _mm256_sub_ps(_mm256_loadu_ps(pp + j), update));
    }
  };
  int64_t i = i0;
  for (; i + 8 <= i1;) {
    const int64_t n = std::min<int64_t>(kBlock, (i1 - i) / 8 * 8);
    block(p + i, g + i, m + i, v + i, vmax != nullptr ? vmax + i : nullptr, n);
    i += n;
  }
  if (i == i1) return;
  const size_t k = sizeof(float) * static_cast<size_t>(i1 - i);
  float tp[8] = {}, tg[8] = {}, tm[8] = {}, tv[8] = {}, tx[8] = {};
  std::memcpy(tp, p + i, k);
  std::memcpy(tg, g + i, k);
  std::memcpy(tm, m + i, k);
  std::memcpy(tv, v + i, k);
  if (vmax != nullptr) std::memcpy(tx, vmax + i, k);
  block(tp, tg, tm, tv, vmax != nullptr ? tx : nullptr, 8);
  std::memcpy(p + i, tp, k);
  std::memcpy(m + i, tm, k);
  std::memcpy(v + i, tv, k);
  if (vmax != nullptr) std::memcpy(vmax + i, tx, k);
}

}  // namespace hearth

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
