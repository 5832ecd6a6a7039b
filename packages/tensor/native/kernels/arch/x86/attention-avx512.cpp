// AVX-512 pieces of the fused attention (see ../../attention.h): dot products of one vector
// against four rows at a time (four accumulators, one horizontal sum each), p-weighted row
// sums that keep up to four 16-lane strips of the accumulator in registers while streaming the
// rows, 4×64 GEMM tiles (p read by rows or by columns), key blocks packed through 16×16
// register transposes, and the softmax steps of a tile (row max and double sums in vector
// lanes, the exp inline) instead of per-row scalar loops, which had cost more than the tiles'
// arithmetic. Tails use masked loads and stores.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "attention.h"
#include "target.h"

#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
HEARTH_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx2,fma")

#include "simd-avx512.h"

namespace hearth {
namespace {

inline __mmask16 mask16(int64_t n) {
  if (n <= 0) return 0;
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

// 4 query rows × 64 keys: 16 accumulators, per d four loads of the packed keys and four
// broadcasts feed 16 FMAs (a GEMM micro-tile).
void tile_scores_avx512(const float* const* q, const float* kt, int64_t d, float* s) {
  __m512 c[4][4];
  for (int r = 0; r < 4; r++)
    for (int x = 0; x < 4; x++) c[r][x] = _mm512_setzero_ps();
  const float *q0 = q[0], *q1 = q[1], *q2 = q[2], *q3 = q[3];
  for (int64_t i = 0; i < d; i++) {
    const float* kr = kt + i * 64;
    const __m512 k0 = _mm512_loadu_ps(kr), k1 = _mm512_loadu_ps(kr + 16), k2 = _mm512_loadu_ps(kr + 32),
                 k3 = _mm512_loadu_ps(kr + 48);
    const __m512 b[4] = {_mm512_set1_ps(q0[i]), _mm512_set1_ps(q1[i]), _mm512_set1_ps(q2[i]), _mm512_set1_ps(q3[i])};
    for (int r = 0; r < 4; r++) {
      c[r][0] = _mm512_fmadd_ps(b[r], k0, c[r][0]);
      c[r][1] = _mm512_fmadd_ps(b[r], k1, c[r][1]);
      c[r][2] = _mm512_fmadd_ps(b[r], k2, c[r][2]);
      c[r][3] = _mm512_fmadd_ps(b[r], k3, c[r][3]);
    }
  }
  for (int r = 0; r < 4; r++)
    for (int x = 0; x < 4; x++) _mm512_storeu_ps(s + r * 64 + x * 16, c[r][x]);
}

// 4 output rows × a 64-column strip: per key four loads of v and four broadcasts of p feed
// 16 FMAs. p is read as p[r·64 + j] or, kTransposed, as p[j·64 + r] (a column of the block).
template <bool kTransposed>
void tile_accumulate_impl(const float* p, int64_t n, const float* rows, int64_t stride, int64_t e, float* o,
                          int64_t o_stride) {
  for (int64_t c0 = 0; c0 < e; c0 += 64) {
    const int64_t w = e - c0 < 64 ? e - c0 : 64;
    const __mmask16 m[4] = {mask16(w), mask16(w - 16), mask16(w - 32), mask16(w - 48)};
    __m512 acc[4][4];
    for (int r = 0; r < 4; r++)
      for (int x = 0; x < 4; x++) acc[r][x] = _mm512_maskz_loadu_ps(m[x], o + r * o_stride + c0 + x * 16);
    for (int64_t j = 0; j < n; j++) {
      const float* v = rows + j * stride + c0;
      const __m512 v0 = _mm512_maskz_loadu_ps(m[0], v), v1 = _mm512_maskz_loadu_ps(m[1], v + 16),
                   v2 = _mm512_maskz_loadu_ps(m[2], v + 32), v3 = _mm512_maskz_loadu_ps(m[3], v + 48);
      for (int r = 0; r < 4; r++) {
        const __m512 pr = _mm512_set1_ps(kTransposed ? p[j * 64 + r] : p[r * 64 + j]);
        acc[r][0] = _mm512_fmadd_ps(pr, v0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(pr, v1, acc[r][1]);
        acc[r][2] = _mm512_fmadd_ps(pr, v2, acc[r][2]);
        acc[r][3] = _mm512_fmadd_ps(pr, v3, acc[r][3]);
      }
    }
    for (int r = 0; r < 4; r++)
      for (int x = 0; x < 4; x++) _mm512_mask_storeu_ps(o + r * o_stride + c0 + x * 16, m[x], acc[r][x]);
  }
}

void tile_accumulate_avx512(const float* p, int64_t n, const float* rows, int64_t stride, int64_t e, float* o,
                            int64_t o_stride) {
  tile_accumulate_impl<false>(p, n, rows, stride, e, o, o_stride);
}

// The backward's dv = Pᵀ·dout and dk = dSᵀ·q straight from the P and dS blocks.
void tile_accumulate_t_avx512(const float* p, int64_t n, const float* rows, int64_t stride, int64_t e, float* o,
                              int64_t o_stride) {
  tile_accumulate_impl<true>(p, n, rows, stride, e, o, o_stride);
}

// Packs in 16×16 register transposes when d is a multiple of 16 (head sizes 64, 128, ...).
void pack_transposed_avx512(const float* rows, int64_t stride, int64_t j0, int64_t n, int64_t d, float* kt) {
  if (d % 16 != 0) {
    for (int64_t c = 0; c < d; c++) {
      float* row = kt + c * 64;
      for (int64_t j = 0; j < n; j++) row[j] = rows[(j0 + j) * stride + c];
      for (int64_t j = n; j < 64; j++) row[j] = 0.0f;
    }
    return;
  }
  for (int64_t c0 = 0; c0 < d; c0 += 16) {
    for (int64_t jb = 0; jb < 64; jb += 16) {
      __m512 r[16];
      for (int64_t t = 0; t < 16; t++)
        r[t] = jb + t < n ? _mm512_loadu_ps(rows + (j0 + jb + t) * stride + c0) : _mm512_setzero_ps();
      transpose16(r);
      for (int64_t c = 0; c < 16; c++) _mm512_storeu_ps(kt + (c0 + c) * 64 + jb, r[c]);
    }
  }
}

// Σ of the 16 lanes of v in double (two 8-lane halves).
inline __m512d add_wide(__m512d acc, __m512 v) {
  acc = _mm512_add_pd(acc, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
  return _mm512_add_pd(acc, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
}

void tile_softmax_avx512(float* p, int64_t n, int64_t nr, float* m, double* l, float* corr) {
  const __mmask16 mk[4] = {mask16(n), mask16(n - 16), mask16(n - 32), mask16(n - 48)};
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  for (int64_t r = 0; r < nr; r++) {
    float* pr = p + r * 64;
    __m512 v[4];
    __m512 mx = ninf;
    for (int x = 0; x < 4; x++) {
      v[x] = _mm512_mask_loadu_ps(ninf, mk[x], pr + 16 * x);
      mx = _mm512_max_ps(v[x], mx);  // a NaN score is passed over, as the scalar loop does
    }
    const float bm = _mm512_reduce_max_ps(mx);
    corr[r] = 1.0f;
    if (bm == -INFINITY) {
      for (int x = 0; x < 4; x++) _mm512_storeu_ps(pr + 16 * x, _mm512_setzero_ps());
      continue;
    }
    if (bm > m[r]) {
      corr[r] = m[r] == -INFINITY ? 0.0f : std::exp(m[r] - bm);
      l[r] *= corr[r];
      m[r] = bm;
    }
    const __m512 mv = _mm512_set1_ps(m[r]);
    __m512d sum = _mm512_setzero_pd();
    for (int x = 0; x < 4; x++) {
      const __m512 e = _mm512_maskz_mov_ps(mk[x], V512::exp(_mm512_sub_ps(v[x], mv)));
      _mm512_mask_storeu_ps(pr + 16 * x, mk[x], e);
      sum = add_wide(sum, e);
    }
    l[r] += _mm512_reduce_add_pd(sum);
  }
}

void tile_grads_avx512(float* p, float* ds, int64_t nr, const bool* ok, const float* shift, const float* lsum,
                       const float* delta, float scale) {
  const __m512 sc = _mm512_set1_ps(scale);
  for (int64_t r = 0; r < 4; r++) {
    float* pr = p + r * 64;
    float* dr = ds + r * 64;
    if (r >= nr || !ok[r]) {
      for (int x = 0; x < 4; x++) {
        _mm512_storeu_ps(pr + 16 * x, _mm512_setzero_ps());
        _mm512_storeu_ps(dr + 16 * x, _mm512_setzero_ps());
      }
      continue;
    }
    const __m512 sh = _mm512_set1_ps(shift[r]), ls = _mm512_set1_ps(lsum[r]), d = _mm512_set1_ps(delta[r]);
    for (int x = 0; x < 4; x++) {
      const __m512 e = V512::exp(_mm512_sub_ps(_mm512_sub_ps(_mm512_loadu_ps(pr + 16 * x), sh), ls));
      _mm512_storeu_ps(pr + 16 * x, e);
      const __m512 g = _mm512_mul_ps(_mm512_mul_ps(e, _mm512_sub_ps(_mm512_loadu_ps(dr + 16 * x), d)), sc);
      _mm512_storeu_ps(dr + 16 * x, g);
    }
  }
}

const AttentionOps kAvx512 = {"avx512",
                              dots_avx512,
                              accumulate_avx512,
                              tile_scores_avx512,
                              tile_accumulate_avx512,
                              tile_accumulate_t_avx512,
                              pack_transposed_avx512,
                              tile_softmax_avx512,
                              tile_grads_avx512,
                              nullptr};

}  // namespace

const AttentionOps* attention_ops_avx512() { return &kAvx512; }

}  // namespace hearth

HEARTH_TARGET_END()
