// AVX2+FMA few-row kernels (forms in ../../gemv.h), one instance per row count so the
// accumulators live in registers, with scalar tails. float16 weights are widened with F16C and
// bfloat16 by a shift as they are loaded; FMAs in float32.
// dot: a block of W's rows (4, or 2 from three rows of x up) against groups of up to 4 rows of
// x. axpy: 4 or 3 rows of W at a time added into L1-resident output rows, the multipliers of a
// group of up to 4 rows of x in registers.
// Up to kStreamRows rows of x (memory-bound) a block's rows come from parts of W far apart,
// several sequential streams for the hardware prefetchers, with no software prefetch; above it
// (FMA-bound) a block's rows are consecutive and the rows ahead are prefetched.
// Sized for Zen 3: 16 ymm registers, two FMA pipes, 32 KB L1d.
// (Tried for bfloat16 at one or two rows of x: 16 weights per 32-byte load, the even ones
// widened by a shift and the odd ones by a mask of the high halves, against x permuted to
// match. In L2, one thread, it summed 20% faster than the widening load (768x128); streaming
// GPT-2's weights from memory on 2 threads, both builds loaded in one process and alternating,
// it was 1.5-6% slower, twice: at batch 1 the stream, not the widening, sets the pace.)
#include <immintrin.h>

#include <cstdint>
#include <utility>

#include "dtype.h"
#include "gemv-x86.h"
#include "gemv.h"
#include "target.h"

HEARTH_TARGET_BEGIN("avx2,fma,f16c")

namespace hearth {
namespace {

template <DType T>
inline __m256 load8(const Elem<T>* p) {
  if constexpr (T == DType::kFloat32) {
    return _mm256_loadu_ps(p);
  } else {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    if constexpr (T == DType::kBFloat16) {
      return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    } else {
      return _mm256_cvtph_ps(h);
    }
  }
}

template <DType T>
inline float load1(const Elem<T>* p) {
  return load_as_f32(p, 0, T);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// G rows of x against JR rows of W (row q at w + q*qs): G·JR accumulators, sums to
// out[r*ldo + q*qo]. With `ahead` > 0 each row's stream is prefetched that many elements on.
template <DType T, int G, int JR>
inline void dot_block(const Elem<T>* w, int64_t qs, const float* x, int64_t ldx, int64_t K, int64_t ahead,
                      float* out, int64_t ldo, int64_t qo) {
  constexpr int64_t es = sizeof(Elem<T>);
  __m256 acc[G][JR];
  UNROLL for (int r = 0; r < G; r++)
    UNROLL for (int q = 0; q < JR; q++) acc[r][q] = _mm256_setzero_ps();
  // (always_inline: at 8 rows of x GCC otherwise calls it, the accumulators in memory)
  const auto step = [&](int64_t k) __attribute__((always_inline)) {
    __m256 wv[JR];
    UNROLL for (int q = 0; q < JR; q++) wv[q] = load8<T>(w + q * qs + k);
    UNROLL for (int r = 0; r < G; r++) {
      __m256 xv = _mm256_loadu_ps(x + r * ldx + k);
      // One load of x per JR products: left alone, GCC folds the load into every FMA (JR loads),
      // which made the 8-row form load-bound (GPT-2's head at 8 rows: 46 -> 72 GFLOP/s in cache).
      if constexpr (JR > 1) __asm__("" : "+x"(xv));
      UNROLL for (int q = 0; q < JR; q++) acc[r][q] = _mm256_fmadd_ps(wv[q], xv, acc[r][q]);
    }
  };
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    if (ahead > 0 && (k * es) % kLine == 0) {
      UNROLL for (int q = 0; q < JR; q++) {
        _mm_prefetch(reinterpret_cast<const char*>(w + q * qs + k + ahead), _MM_HINT_T0);
      }
    }
    step(k);
    step(k + 8);
  }
  if (k + 8 <= K) {
    step(k);
    k += 8;
  }
  UNROLL for (int r = 0; r < G; r++)
    UNROLL for (int q = 0; q < JR; q++) {
      float s = hsum(acc[r][q]);
      for (int64_t t = k; t < K; t++) s += load1<T>(w + q * qs + t) * x[r * ldx + t];
      out[r * ldo + q * qo] = s;
    }
}

// Rows of x in groups of at most 4 against JR rows of W at a time (the block stays in L1 while
// the groups after the first read it): JR = 4 for one or two rows, 2 above (8 accumulators).
template <DType T, int JR, int G, int... Rest>
inline void dot_groups(const Elem<T>* w, int64_t qs, const float* x, int64_t ldx, int64_t K, int64_t ahead,
                       float* out, int64_t ldo, int64_t qo) {
  dot_block<T, G, JR>(w, qs, x, ldx, K, ahead, out, ldo, qo);
  if constexpr (sizeof...(Rest) > 0) {
    dot_groups<T, JR, Rest...>(w, qs, x + G * ldx, ldx, K, 0, out + G * ldo, ldo, qo);
  }
}

// Up to this many rows of x a product is bound by memory bandwidth, and the kernels walk W
// as a few streams far apart (see dot_rows_g); above it, by the FMAs, and they walk W in
// storage order with software prefetches (one stream: the separate streams measured 0-5% slower
// at 8 rows in GPT-2 weight passes).
constexpr int kStreamRows = 4;

// How far ahead the dot form prefetches when it walks W in storage order: one block ahead (6 KB:
// two float32 rows of GPT-2's 768-deep head) was too close at eight rows of x: one-thread
// streams over 64 MB read 12-13 GB/s at ~12 KB ahead against 9.7-10 at one block.
constexpr int64_t kDotAheadBytes = 12 << 10;

// Blocks of JR rows of W. With `Streams` (memory-bound row counts), the n rows are cut into JR
// parts of equal length and a block takes one row from each: JR sequential streams far apart,
// which the hardware prefetchers follow at once, so more lines are in flight than one stream
// keeps (one thread read ~1.5x faster over 4 such streams than over one; 2 threads, GPT-2's
// head at batch 1: 27 -> 43 GB/s, weight pass 18.5 -> 13.9 ms per token, alternating builds,
// 12 of 12 rounds; software prefetches on top made it slower). Otherwise a block is JR
// consecutive rows, prefetched kDotAheadBytes ahead. The rows left over go singly; every
// output's sum is the same whichever block it is in.
template <DType T, bool Streams, int JR, int... Gs>
void dot_rows_g(const void* wv, int64_t ldw, const float* x, int64_t ldx, int64_t K, int n, float* out, int64_t ldo) {
  const auto* w = static_cast<const Elem<T>*>(wv);
  const int m = n / JR;
  // block j: rows base + q*qs, outputs at out + j*os + q*qo
  const int64_t bs = Streams ? ldw : JR * ldw, qs = Streams ? m * ldw : ldw;
  const int os = Streams ? 1 : JR, qo = Streams ? m : 1;
  // (in storage order: the first block starting at least kDotAheadBytes on; none when W is
  // one row repeated, ldw 0)
  const int64_t block_bytes = bs * static_cast<int64_t>(sizeof(Elem<T>));
  const int64_t blocks = Streams || block_bytes <= 0 ? 0 : (kDotAheadBytes + block_bytes - 1) / block_bytes;
  for (int j = 0; j < m; j++) {
    const int64_t ahead = blocks > 0 && j + blocks < m ? blocks * bs : 0;
    dot_groups<T, JR, Gs...>(w + j * bs, qs, x, ldx, K, ahead, out + j * os, ldo, qo);
  }
  for (int j = JR * m; j < n; j++) dot_groups<T, 1, Gs...>(w + j * ldw, 0, x, ldx, K, 0, out + j, ldo, 0);
}

template <DType T, int R>
void dot_rows(const void* w, int64_t ldw, const float* x, int64_t ldx, int64_t K, int n, float* out, int64_t ldo) {
  if constexpr (R <= 2) {
    dot_rows_g<T, true, 4, R>(w, ldw, x, ldx, K, n, out, ldo);
  } else if constexpr (R <= kStreamRows) {
    dot_rows_g<T, true, 2, R>(w, ldw, x, ldx, K, n, out, ldo);
  } else {
    dot_rows_g<T, false, 2, 4, R - 4>(w, ldw, x, ldx, K, n, out, ldo);
  }
}

// The lane-wise dot form (dot_lanes: float32 weights, more than kStreamRows rows of x): x packed
// as [K][8], row r in lane r, and each weight broadcast across the lanes, so one FMA takes a
// weight into all the rows' sums; 12 rows of W a block with 12 accumulators: one vector load of x
// per 12 FMAs and no horizontal sums (the dot form above loads x once per 2 FMAs and sums each
// output across its lanes). A block's rows come from 4 parts of W far apart (as the
// memory-bound forms'), 3 consecutive rows from each, with no software prefetch (with 12
// consecutive rows a block, prefetching each row 0.25-8 KB ahead made GPT-2's 8-row weight pass
// 15-50% slower, and the next block's rows into L1 or L2 no faster). (bfloat16 weights, widened
// two at a time from a 32-bit broadcast of a (k, k+1) pair by a shift and a mask, 8 rows a
// block: 1.1-1.2x the dot form's time, not kept.)

// MR rows of W against the packed x, G consecutive rows from each part: row q at
// w + (q / G)*ps + (q % G)*ldw, its sums to out[r*ldo + (q / G)*po + q % G] for r < rows.
template <int MR, int G>
inline void lanes_block(const float* w, int64_t ldw, int64_t ps, const float* xt, int rows, int64_t K, float* out,
                        int64_t ldo, int64_t po) {
  __m256 acc[MR];
  UNROLL for (int q = 0; q < MR; q++) acc[q] = _mm256_setzero_ps();
  for (int64_t k = 0; k < K; k++) {
    const __m256 xv = _mm256_loadu_ps(xt + k * kGemvLanes);
    UNROLL for (int q = 0; q < MR; q++) {
      acc[q] = _mm256_fmadd_ps(_mm256_broadcast_ss(w + (q / G) * ps + (q % G) * ldw + k), xv, acc[q]);
    }
  }
  alignas(32) float sums[MR][kGemvLanes];
  UNROLL for (int q = 0; q < MR; q++) _mm256_store_ps(sums[q], acc[q]);
  for (int r = 0; r < rows; r++)
    for (int q = 0; q < MR; q++) out[r * ldo + (q / G) * po + q % G] = sums[q][r];
}

// Blocks of 12 rows in 4 parts, then blocks of 4 and single rows for those left over.
void dot_lanes(const float* w, int64_t ldw, const float* xt, int rows, int64_t K, int n, float* out, int64_t ldo) {
  constexpr int MR = 12, G = MR / 4;
  const int m = n / MR;  // blocks; part p holds rows [p*m*G, (p+1)*m*G)
  const int64_t part = static_cast<int64_t>(m) * G;
  for (int b = 0; b < m; b++) lanes_block<MR, G>(w + b * G * ldw, ldw, part * ldw, xt, rows, K, out + b * G, ldo, part);
  int j = m * MR;
  for (; j + 4 <= n; j += 4) lanes_block<4, 4>(w + j * ldw, ldw, 0, xt, rows, K, out + j, ldo, 0);
  for (; j < n; j++) lanes_block<1, 1>(w + j * ldw, ldw, 0, xt, rows, K, out + j, ldo, 0);
}

// G rows of out (L1-resident, row r at out + r*ldo) += U rows of W (row u at w + u*us, its
// multiplier x[r*ldx + u*xs]) over columns [j0, j1): the G·U multipliers stay in registers,
// each weight vector is used by the G rows. With `ahead` > 0, each row's elements that many on
// are prefetched, one line per row at a time.
template <DType T, int G, int U>
inline void axpy_block(const Elem<T>* w, int64_t us, const float* x, int64_t xs, int64_t ldx, int j0, int j1,
                       int64_t ahead, float* out, int64_t ldo) {
  constexpr int per_line = kLine / sizeof(Elem<T>);
  __m256 xb[G][U];
  UNROLL for (int r = 0; r < G; r++)
    UNROLL for (int u = 0; u < U; u++) xb[r][u] = _mm256_set1_ps(x[r * ldx + u * xs]);
  int j = j0;
  for (; j + 8 <= j1; j += 8) {
    if (ahead > 0 && j % per_line == 0) {
      UNROLL for (int u = 0; u < U; u++) {
        _mm_prefetch(reinterpret_cast<const char*>(w + u * us + ahead + j), _MM_HINT_T0);
      }
    }
    __m256 wv[U];
    UNROLL for (int u = 0; u < U; u++) wv[u] = load8<T>(w + u * us + j);
    UNROLL for (int r = 0; r < G; r++) {
      float* o = out + r * ldo + j;
      __m256 acc = _mm256_loadu_ps(o);
      UNROLL for (int u = 0; u < U; u++) acc = _mm256_fmadd_ps(xb[r][u], wv[u], acc);
      _mm256_storeu_ps(o, acc);
    }
  }
  for (; j < j1; j++)
    UNROLL for (int r = 0; r < G; r++) {
      float s = out[r * ldo + j];
      UNROLL for (int u = 0; u < U; u++) s += x[r * ldx + u * xs] * load1<T>(w + u * us + j);
      out[r * ldo + j] = s;
    }
}

// Columns a pass of several row groups covers: its U rows of W (at most 3 KB) stay in L1 for
// the groups after the first.
constexpr int kAxpyCols = 256;

// Rows of x in groups (G1, then G2 when R > 4) against U rows of W at a time: 4 for one or two
// rows, else 3 (at most 4·3 multipliers, 3 weight vectors and an accumulator in the 16 registers).
// With `Streams`, the K rows of W are cut into U parts of equal length and a step takes one row
// from each, U sequential streams far apart as in the dot form (2 threads, GPT-2's Conv1D weights
// at batch 1: 24-29 -> 29-35 GB/s); otherwise U consecutive rows, the next U prefetched. The
// rows left over go singly.
// (One k row at a time, as before, loaded and stored out once per FMA: at eight rows of x the
// GPT-2 weight pass ran 2.5× slower; four rows of W with the multipliers broadcast from memory
// in the loop, 44 loads and 8 stores per 32 FMAs, did no better in noisy alternating runs.)
template <DType T, bool Streams, int U, int G1, int G2>
void axpy_groups(const void* wv, int64_t ldw, const float* x, int64_t ldx, int64_t K, int n, float* out,
                 int64_t ldo) {
  const auto* w = static_cast<const Elem<T>*>(wv);
  const int64_t m = K / U;
  // step i: rows base + u*us with multipliers x[i*xb + u*xs]
  const int64_t bs = Streams ? ldw : U * ldw, us = Streams ? m * ldw : ldw;
  const int64_t xb = Streams ? 1 : U, xs = Streams ? m : 1;
  for (int64_t i = 0; i < m; i++) {
    const Elem<T>* row = w + i * bs;
    const int64_t ahead = !Streams && i + 1 < m ? bs : 0;
    if constexpr (G2 == 0) {
      axpy_block<T, G1, U>(row, us, x + i * xb, xs, ldx, 0, n, ahead, out, ldo);
    } else {
      for (int j = 0; j < n; j += kAxpyCols) {
        const int j1 = j + kAxpyCols < n ? j + kAxpyCols : n;
        axpy_block<T, G1, U>(row, us, x + i * xb, xs, ldx, j, j1, ahead, out, ldo);
        axpy_block<T, G2, U>(row, us, x + G1 * ldx + i * xb, xs, ldx, j, j1, 0, out + G1 * ldo, ldo);
      }
    }
  }
  for (int64_t k = U * m; k < K; k++) {
    const Elem<T>* row = w + k * ldw;
    axpy_block<T, G1, 1>(row, 0, x + k, 0, ldx, 0, n, 0, out, ldo);
    if constexpr (G2 > 0) axpy_block<T, G2, 1>(row, 0, x + G1 * ldx + k, 0, ldx, 0, n, 0, out + G1 * ldo, ldo);
  }
}

template <DType T, int R>
void axpy_rows(const void* w, int64_t ldw, const float* x, int64_t ldx, int64_t K, int n, float* out, int64_t ldo) {
  if constexpr (R <= 2) {
    axpy_groups<T, true, 4, R, 0>(w, ldw, x, ldx, K, n, out, ldo);
  } else if constexpr (R <= kStreamRows) {
    axpy_groups<T, true, 3, R, 0>(w, ldw, x, ldx, K, n, out, ldo);
  } else {
    axpy_groups<T, false, 3, (R + 1) / 2, R / 2>(w, ldw, x, ldx, K, n, out, ldo);
  }
}

// The instances for rows 1..kGemvMaxRows: dot forms first, then axpy forms (constant-initialised).
template <DType T, int... I>
struct RowsTable {
  static constexpr RowsFn fns[] = {dot_rows<T, I + 1>..., axpy_rows<T, I + 1>...};
};

template <DType T, int... I>
constexpr const RowsFn* rows_table(std::integer_sequence<int, I...>) {
  return RowsTable<T, I...>::fns;
}

RowsFn rows_fn(DType t, bool dot, int rows) {
  constexpr auto seq = std::make_integer_sequence<int, kGemvMaxRows>{};
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

const GemvKernels kAvx2 = {"avx2", dot, axpy, dot_lanes, nullptr, 0};

}  // namespace

const GemvKernels* gemv_kernels_avx2() { return &kAvx2; }

}  // namespace hearth

HEARTH_TARGET_END()
