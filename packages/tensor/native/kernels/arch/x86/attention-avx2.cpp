// AVX2+FMA pieces of the fused attention (see ../../attention.h), for CPUs without AVX-512.
// With 16 ymm registers a tile is 4 rows × 24 columns (12 accumulators, 3 loads and a
// broadcast per step), run in strips over the 64 keys or a head's width; the scores tile is
// the same strip over the packed keys. Dot products take 8 rows at a time (8 accumulators
// hide the FMA latency; one transposing horizontal sum gives the 8 results), key blocks are
// packed through 8×8 register transposes, and the softmax steps of a tile keep the row max,
// the exp (4 vectors at a time, interleaved: V256::exps) and the double sums in vector lanes.
// Tails load through masks; the 4×64 score tiles are written whole (their spare lanes get 0),
// and a strip's last partial vector is stored through a stack bounce, since masked stores are
// slow on AMD cores.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "attention.h"
#include "target.h"

#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
HEARTH_TARGET_BEGIN("avx2,fma")

#include "simd-avx2.h"

namespace hearth {
namespace {

// The first n (1..8) lanes of v to p.
inline void store_n(float* p, __m256 v, int64_t n) {
  if (n == 8) return _mm256_storeu_ps(p, v);
  alignas(32) float t[8];
  _mm256_store_ps(t, v);
  std::memcpy(p, t, sizeof(float) * n);
}

// The sums of the 8 lanes of each s[r], as lane r of one vector.
inline __m256 hsum8(const __m256 s[8]) {
  const __m256 t0 = _mm256_hadd_ps(s[0], s[1]), t1 = _mm256_hadd_ps(s[2], s[3]);
  const __m256 t2 = _mm256_hadd_ps(s[4], s[5]), t3 = _mm256_hadd_ps(s[6], s[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// s[r] = lane-wise partial sums of x · rows[r] over d for R rows `stride` apart.
template <int R>
inline void dot_rows(const float* x, const float* rows, int64_t stride, int64_t d, __m256 s[R]) {
  for (int r = 0; r < R; r++) s[r] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= d; i += 8) {
    const __m256 xv = _mm256_loadu_ps(x + i);
    for (int r = 0; r < R; r++) s[r] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(rows + r * stride + i), s[r]);
  }
  if (i < d) {
    const __m256i mk = V256::mask(d - i);
    const __m256 xv = _mm256_maskload_ps(x + i, mk);
    for (int r = 0; r < R; r++) s[r] = _mm256_fmadd_ps(xv, _mm256_maskload_ps(rows + r * stride + i, mk), s[r]);
  }
}

void dots_avx2(const float* x, const float* rows, int64_t stride, int64_t n, int64_t d, float* out) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 s[8];
    dot_rows<8>(x, rows + j * stride, stride, d, s);
    _mm256_storeu_ps(out + j, hsum8(s));
  }
  for (; j < n; j++) {
    __m256 s[1];
    dot_rows<1>(x, rows + j * stride, stride, d, s);
    out[j] = V256::hsum(s[0]);
  }
}

// o[r][0, w) += Σ_j p(r, j)·rows[j][0, w) for R rows (o[r] = o + r·o_stride) and a strip of
// 8·(NV − 1) < w <= 8·NV columns held in R·NV registers while the n rows stream by; kFull:
// w = 8·NV, else the last vector is masked; kSet: o = the sum, its old values not read.
template <int R, int NV, bool kFull, typename P, bool kSet = false>
inline void strip(const P& p, int64_t n, const float* rows, int64_t stride, int64_t w, float* o, int64_t o_stride) {
  const int64_t last = w - 8 * (NV - 1);
  const __m256i mk = V256::mask(last);
  auto load = [&](const float* src, int x) {
    return kFull || x < NV - 1 ? _mm256_loadu_ps(src + 8 * x) : _mm256_maskload_ps(src + 8 * x, mk);
  };
  __m256 acc[R][NV];
  for (int r = 0; r < R; r++)
    for (int x = 0; x < NV; x++) acc[r][x] = kSet ? _mm256_setzero_ps() : load(o + r * o_stride, x);
  for (int64_t j = 0; j < n; j++) {
    const float* v = rows + j * stride;
    __m256 vv[NV];
    for (int x = 0; x < NV; x++) vv[x] = load(v, x);
    for (int r = 0; r < R; r++) {
      const __m256 b = _mm256_set1_ps(p(r, j));
      for (int x = 0; x < NV; x++) acc[r][x] = _mm256_fmadd_ps(b, vv[x], acc[r][x]);
    }
  }
  for (int r = 0; r < R; r++) {
    for (int x = 0; x < NV - 1; x++) _mm256_storeu_ps(o + r * o_stride + 8 * x, acc[r][x]);
    store_n(o + r * o_stride + 8 * (NV - 1), acc[r][NV - 1], kFull ? 8 : last);
  }
}

// The last strip, 0 < w <= 8·NV columns, with as few vectors as it needs.
template <int R, int NV, typename P, bool kSet = false>
void strip_last(const P& p, int64_t n, const float* rows, int64_t stride, int64_t w, float* o, int64_t o_stride) {
  if constexpr (NV > 1) {
    if (w <= 8 * (NV - 1)) return strip_last<R, NV - 1, P, kSet>(p, n, rows, stride, w, o, o_stride);
  }
  if (w == 8 * NV) return strip<R, NV, true, P, kSet>(p, n, rows, stride, w, o, o_stride);
  strip<R, NV, false, P, kSet>(p, n, rows, stride, w, o, o_stride);
}

// The strips of e columns, 8·NV wide.
template <int R, int NV, typename P, bool kSet = false>
void columns(const P& p, int64_t n, const float* rows, int64_t stride, int64_t e, float* o, int64_t o_stride) {
  int64_t c = 0;
  for (; e - c > 8 * NV; c += 8 * NV) strip<R, NV, true, P, kSet>(p, n, rows + c, stride, 8 * NV, o + c, o_stride);
  if (c < e) strip_last<R, NV, P, kSet>(p, n, rows + c, stride, e - c, o + c, o_stride);
}

void accumulate_avx2(const float* p, int64_t n, const float* rows, int64_t stride, int64_t e, float* acc) {
  columns<1, 8>([p](int, int64_t j) { return p[j]; }, n, rows, stride, e, acc, 0);
}

// The tile's sums start from zero registers: no clearing and reloading of s.
void tile_scores_w_avx2(const float* const* q, const float* kt, int64_t d, int64_t w, float* s) {
  auto qv = [q](int r, int64_t i) { return q[r][i]; };
  columns<4, 3, decltype(qv), true>(qv, d, kt, 64, w, s, 64);
}

void tile_scores_avx2(const float* const* q, const float* kt, int64_t d, float* s) { tile_scores_w_avx2(q, kt, d, 64, s); }

void tile_accumulate_avx2(const float* p, int64_t n, const float* rows, int64_t stride, int64_t e, float* o,
                          int64_t o_stride) {
  columns<4, 3>([p](int r, int64_t j) { return p[r * 64 + j]; }, n, rows, stride, e, o, o_stride);
}

// The backward's dv = Pᵀ·dout and dk = dSᵀ·q straight from the P and dS blocks.
void tile_accumulate_t_avx2(const float* p, int64_t n, const float* rows, int64_t stride, int64_t e, float* o,
                            int64_t o_stride) {
  columns<4, 3>([p](int r, int64_t j) { return p[j * 64 + r]; }, n, rows, stride, e, o, o_stride);
}

// Columns in groups of 8 through register transposes, the last d % 8 one by one.
void pack_transposed_avx2(const float* rows, int64_t stride, int64_t j0, int64_t n, int64_t d, float* kt) {
  const int64_t d8 = d / 8 * 8;
  for (int64_t c0 = 0; c0 < d8; c0 += 8) {
    for (int64_t jb = 0; jb < 64; jb += 8) {
      __m256 r[8];
      for (int64_t t = 0; t < 8; t++)
        r[t] = jb + t < n ? _mm256_loadu_ps(rows + (j0 + jb + t) * stride + c0) : _mm256_setzero_ps();
      transpose8(r);
      for (int64_t c = 0; c < 8; c++) _mm256_storeu_ps(kt + (c0 + c) * 64 + jb, r[c]);
    }
  }
  for (int64_t c = d8; c < d; c++) {
    float* row = kt + c * 64;
    for (int64_t j = 0; j < n; j++) row[j] = rows[(j0 + j) * stride + c];
    for (int64_t j = n; j < 64; j++) row[j] = 0.0f;
  }
}

// Writes all 64 lanes of each row r < nr: lanes from n on read as -inf, so they come out 0.
void tile_softmax_avx2(float* p, int64_t n, int64_t nr, float* m, double* l, float* corr) {
  const __m256 ninf = _mm256_set1_ps(-INFINITY);
  for (int64_t r = 0; r < nr; r++) {
    float* pr = p + r * 64;
    __m256 v[8];
    __m256 mx = ninf;
    for (int x = 0; x < 8; x++) {
      const int64_t k = n - 8 * x;
      v[x] = k >= 8 ? _mm256_loadu_ps(pr + 8 * x) : k > 0 ? V256::partial(pr + 8 * x, k, -INFINITY) : ninf;
      mx = _mm256_max_ps(v[x], mx);  // a NaN score is passed over, as the scalar loop does
    }
    const float bm = V256::hmax(mx);
    corr[r] = 1.0f;
    if (bm == -INFINITY) {
      for (int x = 0; x < 8; x++) _mm256_storeu_ps(pr + 8 * x, _mm256_setzero_ps());
      continue;
    }
    if (bm > m[r]) {
      corr[r] = m[r] == -INFINITY ? 0.0f : std::exp(m[r] - bm);
      l[r] *= corr[r];
      m[r] = bm;
    }
    const __m256 mv = _mm256_set1_ps(m[r]);
    V256::D sum = V256::dzero();
    for (int h = 0; h < 8; h += 4) {
      if (n <= 8 * h) {  // four vectors of -inf (a causal tile's hidden keys): exps of 0
        for (int x = 0; x < 4; x++) _mm256_storeu_ps(pr + 8 * (h + x), _mm256_setzero_ps());
        continue;
      }
      __m256 e[4];
      for (int x = 0; x < 4; x++) e[x] = _mm256_sub_ps(v[h + x], mv);
      V256::exps(e);
      for (int x = 0; x < 4; x++) {
        _mm256_storeu_ps(pr + 8 * (h + x), e[x]);
        sum = V256::dadd(sum, e[x]);
      }
    }
    l[r] += V256::dsum(sum);
  }
}

void tile_grads_avx2(float* p, float* ds, int64_t nr, const bool* ok, const float* shift, const float* lsum,
                     const float* delta, float scale) {
  const __m256 sc = _mm256_set1_ps(scale);
  for (int64_t r = 0; r < 4; r++) {
    float* pr = p + r * 64;
    float* dr = ds + r * 64;
    if (r >= nr || !ok[r]) {
      for (int x = 0; x < 8; x++) {
        _mm256_storeu_ps(pr + 8 * x, _mm256_setzero_ps());
        _mm256_storeu_ps(dr + 8 * x, _mm256_setzero_ps());
      }
      continue;
    }
    const __m256 sh = _mm256_set1_ps(shift[r]), ls = _mm256_set1_ps(lsum[r]), d = _mm256_set1_ps(delta[r]);
    for (int h = 0; h < 64; h += 32) {
      __m256 e[4];
      for (int x = 0; x < 4; x++) e[x] = _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(pr + h + 8 * x), sh), ls);
      V256::exps(e);
      for (int x = 0; x < 4; x++) {
        _mm256_storeu_ps(pr + h + 8 * x, e[x]);
        const __m256 g = _mm256_mul_ps(_mm256_mul_ps(e[x], _mm256_sub_ps(_mm256_loadu_ps(dr + h + 8 * x), d)), sc);
        _mm256_storeu_ps(dr + h + 8 * x, g);
      }
    }
  }
}

constexpr AttentionOps kAvx2 = {"avx2",
                                dots_avx2,
                                accumulate_avx2,
                                tile_scores_avx2,
                                tile_accumulate_avx2,
                                tile_accumulate_t_avx2,
                                pack_transposed_avx2,
                                tile_softmax_avx2,
                                tile_grads_avx2,
                                tile_scores_w_avx2};

}  // namespace

const AttentionOps* attention_ops_avx2() { return &kAvx2; }

}  // namespace hearth

HEARTH_TARGET_END()
