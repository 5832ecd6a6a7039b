// AVX-512 vector traits shared by the x86 kernels: 16 float32 lanes, masked tails, a vectorised
// exp (Cody-Waite range reduction + degree-6 polynomial, Cephes expf, about 1 ulp; results below
// FLT_MIN flush to 0, exp(-inf) = 0, exp(+inf) = inf, NaN stays NaN), and a 16×16 in-register
// transpose. Include it after <immintrin.h> and after the including file's
// HEARTH_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx2,fma") (target.h), so nothing here is
// compiled for the baseline.
#pragma once

namespace hearth {
namespace {

struct V512 {
  using T = __m512;
  static constexpr int64_t W = 16;
  static __mmask16 mask(int64_t m) { return static_cast<__mmask16>((1u << m) - 1); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  // Lanes [0, m) from p, the others `fill`.
  static T partial(const float* p, int64_t m, float fill) {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), mask(m), p);
  }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static void store_partial(float* p, T v, int64_t m) { _mm512_mask_storeu_ps(p, mask(m), v); }
  static T set1(float v) { return _mm512_set1_ps(v); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T div(T a, T b) { return _mm512_div_ps(a, b); }
  static T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T max(T a, T b) { return _mm512_max_ps(a, b); }
  static T abs(T a) { return _mm512_abs_ps(a); }
  // |a| with the sign of b.
  static T copysign(T a, T b) {
    const __m512i sign = _mm512_set1_epi32(static_cast<int>(0x80000000u));
    // bitwise select: (b & sign) | (a & ~sign)
    return _mm512_castsi512_ps(
        _mm512_ternarylogic_epi32(sign, _mm512_castps_si512(b), _mm512_castps_si512(a), 0xca));  // sign ? b : a
  }
  static float hsum(T v) { return _mm512_reduce_add_ps(v); }
  // Sums in double lanes (each float lane widened, none rounded): dzero, dadd, dsum.
  struct D {
    __m512d lo, hi;
  };
  static D dzero() { return {_mm512_setzero_pd(), _mm512_setzero_pd()}; }
  static D dadd(D a, T v) {
    return {_mm512_add_pd(a.lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v))),
            _mm512_add_pd(a.hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))))};
  }
  static double dsum(D a) { return _mm512_reduce_add_pd(_mm512_add_pd(a.lo, a.hi)); }
  static float hmax(T v) { return _mm512_reduce_max_ps(v); }
  static T exp(T x) {
    // Below ln(FLT_MIN) the result is flushed to 0, and those lanes compute exp(0) meanwhile:
    // letting vscalefps produce a denormal takes a microcode assist of ~170 ns per vector
    // (measured here), and masked attention scores and softmax tails (-inf) land there all the
    // time. Clamp keeping NaN (max/min return their second operand when one is NaN).
    const __m512 lo = _mm512_set1_ps(-87.3365447505f);
    const __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
    x = _mm512_mask_mov_ps(x, under, _mm512_setzero_ps());
    x = _mm512_min_ps(_mm512_set1_ps(89.0f), _mm512_max_ps(lo, x));
    const __m512 n =
        _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_mask_mov_ps(_mm512_scalef_ps(p, n), under, _mm512_setzero_ps());  // p·2^n; inf above
  }
};

// In-register transpose of a 16×16 float32 block: r[i] lane j becomes r[j] lane i.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  __m512 u[16];
  for (int g = 0; g < 4; g++) {
    const __m512d t0 = _mm512_castps_pd(t[4 * g]), t1 = _mm512_castps_pd(t[4 * g + 1]);
    const __m512d t2 = _mm512_castps_pd(t[4 * g + 2]), t3 = _mm512_castps_pd(t[4 * g + 3]);
    u[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
    u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
    u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
    u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
  }
  for (int e = 0; e < 4; e++) {
    const __m512 p0 = _mm512_shuffle_f32x4(u[e], u[4 + e], 0x88);
    const __m512 p1 = _mm512_shuffle_f32x4(u[e], u[4 + e], 0xdd);
    const __m512 q0 = _mm512_shuffle_f32x4(u[8 + e], u[12 + e], 0x88);
    const __m512 q1 = _mm512_shuffle_f32x4(u[8 + e], u[12 + e], 0xdd);
    r[0 + e] = _mm512_shuffle_f32x4(p0, q0, 0x88);
    r[8 + e] = _mm512_shuffle_f32x4(p0, q0, 0xdd);
    r[4 + e] = _mm512_shuffle_f32x4(p1, q1, 0x88);
    r[12 + e] = _mm512_shuffle_f32x4(p1, q1, 0xdd);
  }
}

}  // namespace
}  // namespace hearth
