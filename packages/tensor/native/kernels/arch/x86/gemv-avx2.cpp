// AVX2+FMA few-row kernels (forms in ../../gemv.h), one instance per row count so the
// accumulators live in registers, with scalar tails. float16 weights are widened with F16C and
// bfloat16 by a shift as they are loaded; FMAs in float32.
// dot: a block of W's rows (4, or 2 from three rows of x up) against groups of up to 4 rows of
// x, a block ~12 KB ahead prefetched while it is summed.
// axpy: 4 or 3 rows of W at a time added into L1-resident output rows, the multipliers of a
// group of up to 4 rows of x in registers, the next rows of W prefetched.
// Sized for Zen 3: 16 ymm registers, two FMA pipes, 32 KB L1d. The software prefetches paid on
// the 2-core EPYC VM: batch-1 GPT-2 weight passes read 5-10% faster with them (alternating
// pairs, load ~3).
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

// G rows of x against JR rows of W (row q at w + q*ldw): G·JR accumulators. `next`, when not
// null, is a stretch of W read after this block (kDotAheadBytes on), JR·K elements from there
// when W's rows are packed (ldw == K; otherwise some prefetches are wasted, none is wrong),
// prefetched at the rate this block is read.
template <DType T, int G, int JR>
inline void dot_block(const Elem<T>* w, int64_t ldw, const float* x, int64_t ldx, int64_t K, const Elem<T>* next,
                      float* out, int64_t ldo) {
  constexpr int64_t es = sizeof(Elem<T>);
  __m256 acc[G][JR];
  UNROLL for (int r = 0; r < G; r++)
    UNROLL for (int q = 0; q < JR; q++) acc[r][q] = _mm256_setzero_ps();
  const auto step = [&](int64_t k) {
    __m256 wv[JR];
    UNROLL for (int q = 0; q < JR; q++) wv[q] = load8<T>(w + q * ldw + k);
    UNROLL for (int r = 0; r < G; r++) {
      __m256 xv = _mm256_loadu_ps(x + r * ldx + k);
      // One load of x per JR products: left alone, GCC folds the load into every FMA (JR loads),
      // which made the 8-row form load-bound (GPT-2's head at 8 rows: 46 -> 72 GFLOP/s in cache).
      if constexpr (JR > 1) __asm__("" : "+x"(xv));
      UNROLL for (int q = 0; q < JR; q++) acc[r][q] = _mm256_fmadd_ps(wv[q], xv, acc[r][q]);
    }
  };
  int64_t k = 0;
  // 16 k per step: JR·16 elements of the next block, at least one line.
  for (; k + 16 <= K; k += 16) {
    if (next != nullptr) {
      const char* at = reinterpret_cast<const char*>(next + JR * k);
      UNROLL for (int64_t b = 0; b < JR * 16 * es; b += kLine) _mm_prefetch(at + b, _MM_HINT_T0);
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
      for (int64_t t = k; t < K; t++) s += load1<T>(w + q * ldw + t) * x[r * ldx + t];
      out[r * ldo + q] = s;
    }
}

// Rows of x in groups of at most 4 against JR rows of W at a time (the block stays in L1 while
// the groups after the first read it): JR = 4 for one or two rows, 2 above (8 accumulators).
template <DType T, int JR, int G, int... Rest>
inline void dot_groups(const Elem<T>* w, int64_t ldw, const float* x, int64_t ldx, int64_t K, const Elem<T>* next,
                       float* out, int64_t ldo) {
  dot_block<T, G, JR>(w, ldw, x, ldx, K, next, out, ldo);
  if constexpr (sizeof...(Rest) > 0) {
    dot_groups<T, JR, Rest...>(w, ldw, x + G * ldx, ldx, K, nullptr, out + G * ldo, ldo);
  }
}

// How far ahead of the block being summed the dot form prefetches: the first block starting at
// least this many bytes on. One block ahead (6 KB: two float32 rows of GPT-2's 768-deep head) was
// too close at eight rows of x, whose blocks take 8x longer: one-thread streams over 64 MB read
// 12-13 GB/s at ~12 KB ahead against 9.7-10 at one block (float32 K=768, alternating builds);
// one row of x (4-row blocks, 12 KB) read the same at 1 to 8 blocks ahead.
constexpr int64_t kDotAheadBytes = 12 << 10;

template <DType T, int JR, int... Gs>
void dot_rows_g(const void* wv, int64_t ldw, const float* x, int64_t ldx, int64_t K, int n, float* out, int64_t ldo) {
  const auto* w = static_cast<const Elem<T>*>(wv);
  const int64_t block_bytes = JR * ldw * static_cast<int64_t>(sizeof(Elem<T>));
  // (a W of one row repeated, ldw 0, prefetches itself)
  const int64_t ahead =
      block_bytes >= kDotAheadBytes || block_bytes <= 0 ? 1 : (kDotAheadBytes + block_bytes - 1) / block_bytes;
  int j = 0;
  for (; j + JR <= n; j += JR) {
    const Elem<T>* next = j + (ahead + 1) * JR <= n ? w + (j + ahead * JR) * ldw : nullptr;
    dot_groups<T, JR, Gs...>(w + j * ldw, ldw, x, ldx, K, next, out + j, ldo);
  }
  for (; j < n; j++) dot_groups<T, 1, Gs...>(w + j * ldw, ldw, x, ldx, K, nullptr, out + j, ldo);
}

template <DType T, int R>
void dot_rows(const void* w, int64_t ldw, const float* x, int64_t ldx, int64_t K, int n, float* out, int64_t ldo) {
  if constexpr (R <= 2) {
    dot_rows_g<T, 4, R>(w, ldw, x, ldx, K, n, out, ldo);
  } else if constexpr (R <= 4) {
    dot_rows_g<T, 2, R>(w, ldw, x, ldx, K, n, out, ldo);
  } else {
    dot_rows_g<T, 2, 4, R - 4>(w, ldw, x, ldx, K, n, out, ldo);
  }
}

// G rows of out (L1-resident, row r at out + r*ldo) += U rows of W (row u at w + u*ldw) over
// columns [j0, j1): the G·U multipliers stay in registers, each weight vector is used by the G
// rows. With `prefetch`, the U rows after these are prefetched, one line per row at a time.
template <DType T, int G, int U>
inline void axpy_block(const Elem<T>* w, int64_t ldw, const float* x, int64_t ldx, int j0, int j1, bool prefetch,
                       float* out, int64_t ldo) {
  constexpr int per_line = kLine / sizeof(Elem<T>);
  __m256 xb[G][U];
  UNROLL for (int r = 0; r < G; r++)
    UNROLL for (int u = 0; u < U; u++) xb[r][u] = _mm256_set1_ps(x[r * ldx + u]);
  int j = j0;
  for (; j + 8 <= j1; j += 8) {
    if (prefetch && j % per_line == 0)
      UNROLL for (int u = U; u < 2 * U; u++) _mm_prefetch(reinterpret_cast<const char*>(w + u * ldw + j), _MM_HINT_T0);
    __m256 wv[U];
    UNROLL for (int u = 0; u < U; u++) wv[u] = load8<T>(w + u * ldw + j);
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
      UNROLL for (int u = 0; u < U; u++) s += x[r * ldx + u] * load1<T>(w + u * ldw + j);
      out[r * ldo + j] = s;
    }
}

// Columns a pass of several row groups covers: its U rows of W (at most 3 KB) stay in L1 for
// the groups after the first.
constexpr int kAxpyCols = 256;

// Rows of x in groups (G1, then G2 when R > 4) against U rows of W at a time: 4 for one or two
// rows, else 3 (at most 4·3 multipliers, 3 weight vectors and an accumulator in the 16 registers).
// (One k row at a time, as before, loaded and stored out once per FMA: at eight rows of x the
// GPT-2 weight pass ran 2.5× slower; four rows of W with the multipliers broadcast from memory
// in the loop, 44 loads and 8 stores per 32 FMAs, did no better in noisy alternating runs.)
template <DType T, int U, int G1, int G2>
void axpy_groups(const void* wv, int64_t ldw, const float* x, int64_t ldx, int64_t K, int n, float* out,
                 int64_t ldo) {
  const auto* w = static_cast<const Elem<T>*>(wv);
  int64_t k = 0;
  for (; k + U <= K; k += U) {
    const Elem<T>* row = w + k * ldw;
    const bool prefetch = k + 2 * U <= K;
    if constexpr (G2 == 0) {
      axpy_block<T, G1, U>(row, ldw, x + k, ldx, 0, n, prefetch, out, ldo);
    } else {
      for (int j = 0; j < n; j += kAxpyCols) {
        const int j1 = j + kAxpyCols < n ? j + kAxpyCols : n;
        axpy_block<T, G1, U>(row, ldw, x + k, ldx, j, j1, prefetch, out, ldo);
        axpy_block<T, G2, U>(row, ldw, x + G1 * ldx + k, ldx, j, j1, false, out + G1 * ldo, ldo);
      }
    }
  }
  for (; k < K; k++) {
    const Elem<T>* row = w + k * ldw;
    axpy_block<T, G1, 1>(row, ldw, x + k, ldx, 0, n, false, out, ldo);
    if constexpr (G2 > 0) axpy_block<T, G2, 1>(row, ldw, x + G1 * ldx + k, ldx, 0, n, false, out + G1 * ldo, ldo);
  }
}

template <DType T, int R>
void axpy_rows(const void* w, int64_t ldw, const float* x, int64_t ldx, int64_t K, int n, float* out, int64_t ldo) {
  if constexpr (R <= 2) {
    axpy_groups<T, 4, R, 0>(w, ldw, x, ldx, K, n, out, ldo);
  } else if constexpr (R <= 4) {
    axpy_groups<T, 3, R, 0>(w, ldw, x, ldx, K, n, out, ldo);
  } else {
    axpy_groups<T, 3, (R + 1) / 2, R / 2>(w, ldw, x, ldx, K, n, out, ldo);
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

const GemvKernels kAvx2 = {"avx2", dot, axpy};

}  // namespace

const GemvKernels* gemv_kernels_avx2() { return &kAvx2; }

}  // namespace hearth

HEARTH_TARGET_END()
