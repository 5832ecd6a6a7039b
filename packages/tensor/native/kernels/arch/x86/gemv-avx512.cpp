// AVX-512 few-row kernels (forms in ../../gemv.h), one instance per row count so the
// accumulators live in registers. dot: a few rows of W at a time (each from its own long run of
// W's rows, see dot_rows) against every row of x. axpy: four rows of W at a time added into
// L1-resident output rows. float16 and bfloat16 weights are widened to float32 as they are
// loaded (bfloat16 by a shift; in the axpy form 32 at a time, split into even and odd columns,
// see axpy_bf16_pairs), FMAs in float32.
// panel: the rows of x against a float32 weight's 32-column GEMM packing, 2 vectors per k into
// every row's accumulators (panel_rows).
// The "avx512-bf16" family (CPUs with AVX512_BF16) multiplies bfloat16 weights in the dot form
// with vdpbf16ps instead: x's rows (bfloat16 values already: a bf16 product's A is bf16 or
// rounded to it) are packed to bfloat16 once per call, and each 64-byte load of W takes one
// instruction where widening took four (see dot_rows_bf16).
#include <immintrin.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "dtype.h"
#include "gemv-x86.h"
#include "gemv.h"
#include "target.h"

#if !defined(__clang__)
// GCC 12 warns about the deliberately undefined upper lanes inside its own intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
HEARTH_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx2,fma,f16c")

namespace hearth {
namespace {

inline __mmask16 mask16(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << n) - 1);
}

template <DType T>
inline __m512 load16(const void* base, int64_t index, __mmask16 mask) {
  if constexpr (T == DType::kFloat32) {
    return _mm512_maskz_loadu_ps(mask, static_cast<const float*>(base) + index);
  } else if constexpr (T == DType::kBFloat16) {
    const __m256i h = _mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(base) + index);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  } else {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(base) + index));
  }
}

// Horizontal sum of the 16 lanes (GCC 12's _mm512_reduce_add_ps takes its argument's address,
// which keeps arrays of accumulators in memory instead of registers).
inline float hsum(__m512 v) {
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

// R rows of x against JR rows of W at a time, rows j, j + gap, …, j + (JR-1)·gap: JR weight
// vectors and R x vectors per 16 k make R·JR FMAs, each sum taken in k order.
template <DType T, int R, int JR>
inline void dot_block(const void* w, int64_t ldw, const float* x, int64_t ldx, int64_t K, int j, int gap, float* out,
                      int64_t ldo) {
  __m512 acc[R][JR];
  UNROLL for (int r = 0; r < R; r++)
    UNROLL for (int q = 0; q < JR; q++) acc[r][q] = _mm512_setzero_ps();
  const auto step = [&](int64_t k, __mmask16 m) {
    __m512 wv[JR];
    UNROLL for (int q = 0; q < JR; q++) wv[q] = load16<T>(w, (j + q * gap) * ldw + k, m);
    UNROLL for (int r = 0; r < R; r++) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + r * ldx + k);
      UNROLL for (int q = 0; q < JR; q++) acc[r][q] = _mm512_fmadd_ps(wv[q], xv, acc[r][q]);
    }
  };
  int64_t k = 0;
  // A constant full mask: the loads fold into plain (and widening) loads.
  for (; k + 16 <= K; k += 16) step(k, 0xffff);
  if (k < K) step(k, mask16(K - k));
  UNROLL for (int r = 0; r < R; r++)
    UNROLL for (int q = 0; q < JR; q++) out[r * ldo + j + q * gap] = hsum(acc[r][q]);
}

// The n rows of W as JR streams: block i takes rows i, i + n/JR, i + 2n/JR, …, so each of the JR
// weight vectors of a step continues one long sequential run (n/JR rows of W), which the
// hardware prefetchers follow on their own; the rows past JR·(n/JR) go one at a time. Taking
// JR adjacent rows instead (a run of JR·K elements, then the next) with software prefetches of
// the following JR rows was slower on the Zen 4 host: GPT-2's tied head (the dot form, 50257
// rows, 2 threads, both orders alternating in one process, two runs of 15-21 passes each) took
// 0.82-0.87x the time with bfloat16 weights, 0.95x with float32 (the AVX2 lane-wise kernel
// splits its task the same way). Sums and bits are unchanged: only the order of the rows is.
template <DType T, int R>
void dot_rows(const void* w, int64_t ldw, const float* x, int64_t ldx, int64_t K, int n, float* out, int64_t ldo) {
  // Accumulators R·JR and JR weight vectors within the 32 registers.
  constexpr int JR = R <= 4 ? 4 : 3;
  const int gap = n / JR;
  for (int j = 0; j < gap; j++) dot_block<T, R, JR>(w, ldw, x, ldx, K, j, gap, out, ldo);
  for (int j = gap * JR; j < n; j++) dot_block<T, R, 1>(w, ldw, x, ldx, K, j, 1, out, ldo);
}

// R rows of out (L1-resident) += four rows of W at a time, each weight vector used by all R
// rows. Rows k+4..k+7 are prefetched while k..k+3 are summed (each row's stretch may be a
// column chunk, a new stream for the hardware prefetcher every row), into L2 only: a pass over
// four long rows would push them out of L1 before they are used.
template <DType T, int R>
void axpy_cols(const void* w, int64_t ldw, const float* x, int64_t ldx, int64_t K, int j0, int n, float* out,
               int64_t ldo) {
  constexpr int64_t es = sizeof(Elem<T>);
  constexpr int step = kLine / es;  // elements per cache line
  const char* base = static_cast<const char*>(w);
  int64_t k = 0;
  for (; k + 4 <= K; k += 4) {
    __m512 xb[R][4];
    UNROLL for (int r = 0; r < R; r++)
      UNROLL for (int u = 0; u < 4; u++) xb[r][u] = _mm512_set1_ps(x[r * ldx + k + u]);
    const int64_t r0 = k * ldw;
    const bool prefetch = k + 8 <= K;
    for (int j = j0; j < n; j += 16) {
      if (prefetch && (j % step) == 0)
        UNROLL for (int u = 4; u < 8; u++) _mm_prefetch(base + (r0 + u * ldw + j) * es, _MM_HINT_T1);
      const __mmask16 m = mask16(n - j);
      const __m512 w0 = load16<T>(w, r0 + j, m), w1 = load16<T>(w, r0 + ldw + j, m);
      const __m512 w2 = load16<T>(w, r0 + 2 * ldw + j, m), w3 = load16<T>(w, r0 + 3 * ldw + j, m);
      UNROLL for (int r = 0; r < R; r++) {
        float* o = out + r * ldo + j;
        __m512 acc = _mm512_maskz_loadu_ps(m, o);
        acc = _mm512_fmadd_ps(xb[r][0], w0, acc);
        acc = _mm512_fmadd_ps(xb[r][1], w1, acc);
        acc = _mm512_fmadd_ps(xb[r][2], w2, acc);
        acc = _mm512_fmadd_ps(xb[r][3], w3, acc);
        _mm512_mask_storeu_ps(o, m, acc);
      }
    }
  }
  for (; k < K; k++) {
    for (int j = j0; j < n; j += 16) {
      const __mmask16 m = mask16(n - j);
      const __m512 wv = load16<T>(w, k * ldw + j, m);
      UNROLL for (int r = 0; r < R; r++) {
        float* o = out + r * ldo + j;
        _mm512_mask_storeu_ps(o, m, _mm512_fmadd_ps(_mm512_set1_ps(x[r * ldx + k]), wv, _mm512_maskz_loadu_ps(m, o)));
      }
    }
  }
}

// Every 32-float block of rows 0..R-1 of out becomes (a·b)[first], (a·b)[second], where a and b
// are its two halves and the indices pick from their concatenation.
inline void shuffle_blocks(float* out, int64_t ldo, int R, int n32, __m512i first, __m512i second) {
  for (int r = 0; r < R; r++)
    for (int j = 0; j < n32; j += 32) {
      float* o = out + r * ldo + j;
      const __m512 a = _mm512_loadu_ps(o), b = _mm512_loadu_ps(o + 16);
      _mm512_storeu_ps(o, _mm512_permutex2var_ps(a, first, b));
      _mm512_storeu_ps(o + 16, _mm512_permutex2var_ps(a, second, b));
    }
}

// bfloat16 in 32-column blocks: one 64-byte load holds 16 pairs of columns, and a shift and a
// mask turn it into two float32 vectors (even columns, odd columns) with no shuffle, half the
// work of widening 16 at a time. The rows of out are kept in the same split order while the
// rows of W are summed (one shuffle per 16 outputs on the way in and out).
template <int R>
void axpy_bf16_pairs(const void* w, int64_t ldw, const float* x, int64_t ldx, int64_t K, int n32, float* out,
                     int64_t ldo) {
  const uint16_t* base = static_cast<const uint16_t*>(w);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
  const __m512i top = _mm512_set1_epi32(static_cast<int>(0xffff0000u));
  shuffle_blocks(out, ldo, R, n32, even, odd);
  const auto widen = [&](const uint16_t* at, __m512* e, __m512* d) {
    const __m512i v = _mm512_loadu_si512(at);
    *e = _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
    *d = _mm512_castsi512_ps(_mm512_and_si512(v, top));
  };
  int64_t k = 0;
  for (; k + 4 <= K; k += 4) {
    __m512 xb[R][4];
    UNROLL for (int r = 0; r < R; r++)
      UNROLL for (int u = 0; u < 4; u++) xb[r][u] = _mm512_set1_ps(x[r * ldx + k + u]);
    const uint16_t* row = base + k * ldw;
    const bool prefetch = k + 8 <= K;
    for (int j = 0; j < n32; j += 32) {
      if (prefetch)
        UNROLL for (int u = 4; u < 8; u++) _mm_prefetch(reinterpret_cast<const char*>(row + u * ldw + j), _MM_HINT_T1);
      __m512 e[4], d[4];
      UNROLL for (int u = 0; u < 4; u++) widen(row + u * ldw + j, &e[u], &d[u]);
      UNROLL for (int r = 0; r < R; r++) {
        float* o = out + r * ldo + j;
        __m512 ae = _mm512_loadu_ps(o), ad = _mm512_loadu_ps(o + 16);
        UNROLL for (int u = 0; u < 4; u++) {
          ae = _mm512_fmadd_ps(xb[r][u], e[u], ae);
          ad = _mm512_fmadd_ps(xb[r][u], d[u], ad);
        }
        _mm512_storeu_ps(o, ae);
        _mm512_storeu_ps(o + 16, ad);
      }
    }
  }
  for (; k < K; k++)
    for (int j = 0; j < n32; j += 32) {
      __m512 e, d;
      widen(base + k * ldw + j, &e, &d);
      UNROLL for (int r = 0; r < R; r++) {
        float* o = out + r * ldo + j;
        const __m512 xv = _mm512_set1_ps(x[r * ldx + k]);
        _mm512_storeu_ps(o, _mm512_fmadd_ps(xv, e, _mm512_loadu_ps(o)));
        _mm512_storeu_ps(o + 16, _mm512_fmadd_ps(xv, d, _mm512_loadu_ps(o + 16)));
      }
    }
  shuffle_blocks(out, ldo, R, n32, lo, hi);
}

template <DType T, int R>
void axpy_rows(const void* w, int64_t ldw, const float* x, int64_t ldx, int64_t K, int n, float* out, int64_t ldo) {
  int j0 = 0;
  if constexpr (T == DType::kBFloat16) {
    j0 = n / 32 * 32;
    if (j0 > 0) axpy_bf16_pairs<R>(w, ldw, x, ldx, K, j0, out, ldo);
  }
  if (j0 < n) axpy_cols<T, R>(w, ldw, x, ldx, K, j0, n, out, ldo);
}

// The instances for rows 1..kGemvMaxRows: dot forms first, then axpy forms.
template <DType T, int... I>
const RowsFn* rows_table(std::integer_sequence<int, I...>) {
  static const RowsFn fns[] = {dot_rows<T, I + 1>..., axpy_rows<T, I + 1>...};
  return fns;
}

RowsFn rows_fn(DType t, bool dot, int rows) {
  const auto seq = std::make_integer_sequence<int, kGemvMaxRows>{};
  const RowsFn* fns = t == DType::kFloat32    ? rows_table<DType::kFloat32>(seq)
                      : t == DType::kBFloat16 ? rows_table<DType::kBFloat16>(seq)
                                              : rows_table<DType::kFloat16>(seq);
  return fns[(dot ? 0 : kGemvMaxRows) + rows - 1];
}

void dot(DType t, const void* w, int64_t ldw, const float* x, int64_t ldx, int rows, int64_t K, int n, float* out,
         int64_t ldo) {
  rows_fn(t, true, rows)(w, ldw, x, ldx, K, n, out, ldo);
}

void axpy(DType t, const void* w, int64_t ldw, const float* x, int64_t ldx, int rows, int64_t K, int n, float* out,
          int64_t ldo) {
  rows_fn(t, false, rows)(w, ldw, x, ldx, K, n, out, ldo);
}

// The panel form (gemv.h) on the AVX-512 GEMM's 32-column packing: per k, the panel's two
// vectors are loaded once and x[r, k] is broadcast for each row, 2R FMAs into 2R accumulators
// (8 rows: 16, with 2 weight vectors and a broadcast, in the 32 registers). No software
// prefetch: the panels of a task's k slice lie one after another, a stream the hardware
// prefetcher follows. (Measured against it on the Zen 4 host, GPT-2's 8-row weight pass on 2
// threads in a standalone loop: 48-column panels, 24 accumulators, 2-3% faster, not worth a
// packing of its own; 16 rows of W lane-wise against x packed by (k, k+1) pairs, a 64-bit
// broadcast of each weight pair, 1.6x the time; two parts of W far apart for the prefetchers
// in the dot form's row-major copy, 1.9x.)
template <int R>
void panel_rows(const float* b, int kc, const float* x, int64_t ldx, int n, bool accumulate, float* out,
                int64_t ldo) {
  constexpr int kNR = 32;
  const __mmask16 m0 = mask16(n), m1 = mask16(n > 16 ? n - 16 : 0);
  __m512 acc[R][2];
  UNROLL for (int r = 0; r < R; r++) {
    acc[r][0] = accumulate ? _mm512_maskz_loadu_ps(m0, out + r * ldo) : _mm512_setzero_ps();
    acc[r][1] = accumulate ? _mm512_maskz_loadu_ps(m1, out + r * ldo + 16) : _mm512_setzero_ps();
  }
  for (int k = 0; k < kc; k++) {
    const __m512 w0 = _mm512_load_ps(b + k * kNR), w1 = _mm512_load_ps(b + k * kNR + 16);
    UNROLL for (int r = 0; r < R; r++) {
      __m512 xb = _mm512_set1_ps(x[r * ldx + k]);
      // One broadcast per row: left alone, GCC folds it into both FMAs (two loads).
      __asm__("" : "+v"(xb));
      acc[r][0] = _mm512_fmadd_ps(w0, xb, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(w1, xb, acc[r][1]);
    }
  }
  UNROLL for (int r = 0; r < R; r++) {
    _mm512_mask_storeu_ps(out + r * ldo, m0, acc[r][0]);
    _mm512_mask_storeu_ps(out + r * ldo + 16, m1, acc[r][1]);
  }
}

template <int... I>
const auto* panel_table(std::integer_sequence<int, I...>) {
  using Fn = void (*)(const float*, int, const float*, int64_t, int, bool, float*, int64_t);
  static const Fn fns[] = {panel_rows<I + 1>...};
  return fns;
}

void panel(const float* b, int nr, int kc, const float* x, int64_t ldx, int rows, int n, bool accumulate, float* out,
           int64_t ldo) {
  panel_table(std::make_integer_sequence<int, kGemvMaxRows>{})[rows - 1](b, kc, x, ldx, n, accumulate, out, ldo);
}

const GemvKernels kAvx512 = {"avx512", dot, axpy, nullptr, panel, 32};

}  // namespace

const GemvKernels* gemv_kernels_avx512() { return &kAvx512; }

}  // namespace hearth

HEARTH_TARGET_END()

HEARTH_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma,f16c")

namespace hearth {
namespace {

// R rows of x (bfloat16, row r at xb + r*ldxb, zero past K) against JR rows of W at a time (rows
// j, j + gap, …, as dot_block), 32 k per step: vdpbf16ps multiplies 16 pairs of bfloat16 and
// adds both products of each pair to a float32 lane. The products of two bfloat16 values are
// exact in float32, so this differs from widening and FMAs only in the order of the additions
// (and in flushing subnormal inputs and sums to zero, as vdpbf16ps does: below 1.2e-38, far
// under bfloat16's precision of any sum).
template <int R, int JR>
inline void dot_block_bf16(const uint16_t* w, int64_t ldw, const uint16_t* xb, int64_t ldxb, int64_t K, int j,
                           int gap, float* out, int64_t ldo) {
  __m512 acc[R][JR];
  UNROLL for (int r = 0; r < R; r++)
    UNROLL for (int q = 0; q < JR; q++) acc[r][q] = _mm512_setzero_ps();
  const auto step = [&](int64_t k, __mmask32 m) {
    __m512bh wv[JR];
    UNROLL for (int q = 0; q < JR; q++) wv[q] = (__m512bh)_mm512_maskz_loadu_epi16(m, w + (j + q * gap) * ldw + k);
    UNROLL for (int r = 0; r < R; r++) {
      const __m512bh xv = (__m512bh)_mm512_loadu_si512(xb + r * ldxb + k);
      UNROLL for (int q = 0; q < JR; q++) acc[r][q] = _mm512_dpbf16_ps(acc[r][q], wv[q], xv);
    }
  };
  int64_t k = 0;
  for (; k + 32 <= K; k += 32) step(k, 0xffffffffu);
  if (k < K) step(k, (1u << (K - k)) - 1);
  UNROLL for (int r = 0; r < R; r++)
    UNROLL for (int q = 0; q < JR; q++) out[r * ldo + j + q * gap] = hsum(acc[r][q]);
}

// The rows of x as bfloat16 (rounded to nearest even, exact for values that are bfloat16
// already), each padded with zeros to a multiple of 32, in a buffer of the calling thread.
const uint16_t* pack_x_bf16(const float* x, int64_t ldx, int R, int64_t K, int64_t* ldxb) {
  thread_local std::vector<uint16_t> buf;
  const int64_t ld = (K + 31) / 32 * 32;
  if (static_cast<int64_t>(buf.size()) < R * ld) buf.resize(R * ld);
  for (int r = 0; r < R; r++) {
    uint16_t* dst = buf.data() + r * ld;
    int64_t k = 0;
    for (; k < K; k += 16) {
      const __mmask16 m = mask16(K - k);
      const __m256i h = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + r * ldx + k));
      _mm256_mask_storeu_epi16(dst + k, m, h);
    }
    for (k = K; k < ld; k++) dst[k] = 0;
  }
  *ldxb = ld;
  return buf.data();
}

template <int R>
void dot_rows_bf16(const void* w, int64_t ldw, const float* x, int64_t ldx, int64_t K, int n, float* out,
                   int64_t ldo) {
  int64_t ldxb = 0;
  const uint16_t* xb = pack_x_bf16(x, ldx, R, K, &ldxb);
  const uint16_t* wb = static_cast<const uint16_t*>(w);
  // JR streams of rows, as dot_rows
  constexpr int JR = R <= 4 ? 4 : 3;
  const int gap = n / JR;
  for (int j = 0; j < gap; j++) dot_block_bf16<R, JR>(wb, ldw, xb, ldxb, K, j, gap, out, ldo);
  for (int j = gap * JR; j < n; j++) dot_block_bf16<R, 1>(wb, ldw, xb, ldxb, K, j, 1, out, ldo);
}

template <int... I>
const RowsFn* bf16_dot_table(std::integer_sequence<int, I...>) {
  static const RowsFn fns[] = {dot_rows_bf16<I + 1>...};
  return fns;
}

void dot_bf16(DType t, const void* w, int64_t ldw, const float* x, int64_t ldx, int rows, int64_t K, int n,
              float* out, int64_t ldo) {
  if (t != DType::kBFloat16) return dot(t, w, ldw, x, ldx, rows, K, n, out, ldo);
  bf16_dot_table(std::make_integer_sequence<int, kGemvMaxRows>{})[rows - 1](w, ldw, x, ldx, K, n, out, ldo);
}

const GemvKernels kAvx512Bf16 = {"avx512-bf16", dot_bf16, axpy, nullptr, panel, 32};

}  // namespace

const GemvKernels* gemv_kernels_avx512_bf16() { return &kAvx512Bf16; }

}  // namespace hearth

HEARTH_TARGET_END()
