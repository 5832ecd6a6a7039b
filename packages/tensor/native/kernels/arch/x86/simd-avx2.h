// AVX2+FMA vector traits shared by the x86 kernels: 8 float32 lanes, masked tails, a
// vectorised exp (Cephes expf as in simd-avx512.h, 2^n built in the exponent field; exp(-inf)
// = 0, exp(+inf) = inf, NaN stays NaN; `exps` takes several vectors at once), and an 8×8
// register transpose. Include it after <immintrin.h> and after the including file's
// HEARTH_TARGET_BEGIN("avx2,fma") (target.h).
#pragma once

namespace hearth {
namespace {

struct V256 {
  using T = __m256;
  static constexpr int64_t W = 8;
  static __m256i mask(int64_t m) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(m)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  // Lanes [0, m) from p, the others `fill`.
  static T partial(const float* p, int64_t m, float fill) {
    const __m256i k = mask(m);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, k), _mm256_castsi256_ps(k));
  }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static void store_partial(float* p, T v, int64_t m) { _mm256_maskstore_ps(p, mask(m), v); }
  static T set1(float v) { return _mm256_set1_ps(v); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T div(T a, T b) { return _mm256_div_ps(a, b); }
  static T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T max(T a, T b) { return _mm256_max_ps(a, b); }
  static T abs(T a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  // |a| with the sign of b.
  static T copysign(T a, T b) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_and_ps(sign, b), _mm256_andnot_ps(sign, a));
  }
  // Sums in double lanes (each float lane widened, none rounded): dzero, dadd, dsum.
  struct D {
    __m256d lo, hi;
  };
  static D dzero() { return {_mm256_setzero_pd(), _mm256_setzero_pd()}; }
  static D dadd(D a, T v) {
    return {_mm256_add_pd(a.lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v))),
            _mm256_add_pd(a.hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)))};
  }
  static double dsum(D a) {
    const __m256d s = _mm256_add_pd(a.lo, a.hi);
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
  }
  static float hsum(T v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float hmax(T v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static T exp(T x) {
    __m256 v[1] = {x};
    exps(v);
    return v[0];
  }
  // exp of K vectors in place, lane for lane the same as exp(): the same steps taken for all K
  // before the next, so that the core has K independent chains in flight. One exp is a chain of
  // ~20 dependent steps (~60 cycles); taken one vector after another, a Zen 3 core overlaps
  // few of them (over L1 data ~5.0 ns an exp against ~4.0 interleaved by 4; the row kernels
  // built on it, one thread, alternated: 0.59-0.74× the time of one exp at a time).
  template <int K>
  static void exps(__m256 (&x)[K]) {
    // exp underflows to 0 below ln(FLT_MIN); those lanes compute exp(0) meanwhile, so no
    // product goes denormal (a microcode assist per vector)
    const __m256 lo = _mm256_set1_ps(-87.3365447505f);
    __m256 under[K], n[K], r[K], p[K];
    for (int k = 0; k < K; k++) under[k] = _mm256_cmp_ps(x[k], lo, _CMP_LT_OQ);
    for (int k = 0; k < K; k++)
      x[k] = _mm256_min_ps(_mm256_set1_ps(88.7228391117f), _mm256_max_ps(lo, _mm256_andnot_ps(under[k], x[k])));
    for (int k = 0; k < K; k++)
      n[k] = _mm256_round_ps(_mm256_mul_ps(x[k], _mm256_set1_ps(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    for (int k = 0; k < K; k++) r[k] = _mm256_fnmadd_ps(n[k], _mm256_set1_ps(0.693359375f), x[k]);
    for (int k = 0; k < K; k++) r[k] = _mm256_fnmadd_ps(n[k], _mm256_set1_ps(-2.12194440e-4f), r[k]);
    for (int k = 0; k < K; k++)
      p[k] = _mm256_fmadd_ps(_mm256_set1_ps(1.9875691500e-4f), r[k], _mm256_set1_ps(1.3981999507e-3f));
    for (int k = 0; k < K; k++) p[k] = _mm256_fmadd_ps(p[k], r[k], _mm256_set1_ps(8.3334519073e-3f));
    for (int k = 0; k < K; k++) p[k] = _mm256_fmadd_ps(p[k], r[k], _mm256_set1_ps(4.1665795894e-2f));
    for (int k = 0; k < K; k++) p[k] = _mm256_fmadd_ps(p[k], r[k], _mm256_set1_ps(1.6666665459e-1f));
    for (int k = 0; k < K; k++) p[k] = _mm256_fmadd_ps(p[k], r[k], _mm256_set1_ps(5.0000001201e-1f));
    for (int k = 0; k < K; k++)
      p[k] = _mm256_fmadd_ps(p[k], _mm256_mul_ps(r[k], r[k]), _mm256_add_ps(r[k], _mm256_set1_ps(1.0f)));
    // 2^n built in the exponent field; n is in [-126, 128] after the clamp, and n = 128 (only
    // at the very top) is split as 2^127 * 2.
    for (int k = 0; k < K; k++) {
      const __m256i ni = _mm256_cvtps_epi32(n[k]);
      const __m256i top = _mm256_cmpgt_epi32(ni, _mm256_set1_epi32(127));
      const __m256i e = _mm256_slli_epi32(
          _mm256_add_epi32(_mm256_sub_epi32(ni, _mm256_and_si256(top, _mm256_set1_epi32(1))), _mm256_set1_epi32(127)),
          23);
      __m256 res = _mm256_mul_ps(p[k], _mm256_castsi256_ps(e));
      res = _mm256_blendv_ps(res, _mm256_add_ps(res, res), _mm256_castsi256_ps(top));
      x[k] = _mm256_andnot_ps(under[k], res);
    }
  }
};

// In-register transpose of an 8×8 float32 block: r[i] lane j becomes r[j] lane i.
inline void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; i++) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int h = 0; h < 2; h++) {
    const __m256 *a = t + 4 * h, *b = t + 4 * h + 2;
    u[4 * h + 0] = _mm256_shuffle_ps(a[0], b[0], 0x44);
    u[4 * h + 1] = _mm256_shuffle_ps(a[0], b[0], 0xEE);
    u[4 * h + 2] = _mm256_shuffle_ps(a[1], b[1], 0x44);
    u[4 * h + 3] = _mm256_shuffle_ps(a[1], b[1], 0xEE);
  }
  for (int c = 0; c < 4; c++) {
    r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
    r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
  }
}

}  // namespace
}  // namespace hearth
