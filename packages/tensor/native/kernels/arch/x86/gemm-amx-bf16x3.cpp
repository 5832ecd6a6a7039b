// float32 GEMM on AMX tiles by three-way bfloat16 splitting ("bf16x3", as oneMKL's
// FLOAT_TO_BF16X3 compute mode): every float32 x is packed as x = hi + mid + lo, three
// bfloat16 values holding successive 8-bit slices of its 24-bit significand (hi and mid
// rounded to nearest, lo the exact rest), and
//   a·b ≈ ah·bh + ah·bm + am·bh + am·bm + ah·bl + al·bh,
// the six products of the split that are at least 2^-16 of |a·b|. Each bf16×bf16 product is
// exact in float32 and TDPBF16PS accumulates in float32, so the result is float32-accurate: the
// dropped terms are below 2^-23·|a·b| (about one float32 rounding), the accumulation rounds as
// a float32 FMA chain does. Six tile products cost about 1/5 of the float32 FMA time at AMX's
// rate. Inputs below float32's normal range flush to zero (AMX and vcvtneps2bf16 run with
// DAZ/FTZ); Inf and NaN inputs carry through hi alone (mid = lo = 0).
//
// Tiles: C is 32×32 float32 in four 16×16 accumulators (0-3); A rows 0-15 / 16-31 of one part
// in tiles 4 / 5, B columns 0-15 / 16-31 of one part in tiles 6 / 7. Per 32 values of k the six
// products reuse loaded tiles: B hi stays for ah, am, al; then B mid for ah, am; then B lo for ah
// (12 A and 6 B tile loads per 24 TDPBF16PS).
//
// Packed layouts (per part P = hi, mid, lo; kcp = kc rounded up to 32, zeros past kc):
//   A micro-panel: part P, row i, k at a + (P·MR + i)·KC + k
//   B micro-panel: part P at b + P·kcp·NR, then (k, k+1) pairs of 32 columns at (k/2)·2·NR + 2·j
//                  (the AMX bf16 kernel's layout, ../../gemm-arch.h, one copy per part)
// Float32 inputs only (the driver picks this family for float32 when asked to, see gemm.cpp).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "gemm-arch.h"
#include "target.h"

#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
HEARTH_TARGET_BEGIN("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")

#include "amx-tiles.h"
#include "simd-avx512.h"

namespace hearth {
namespace {

constexpr int kMR = 32;
constexpr int kNR = 32;
// KC 256 (an A micro-panel of 3 parts × 32 rows × 256 bf16 is 48 KB) and NC 1024 measured
// best of KC 128-384 and NC 512-1024 on the training shapes of GPT-2 small (Sapphire Rapids
// class, 2 MB L2): a shallower KC keeps A in L1 but rewrites C more often.
constexpr int kKC = 256;
constexpr int kNC = 1024;
constexpr int kParts = 3;

inline int imin_(int a, int b) { return a < b ? a : b; }

inline __m256i to_bf16(__m512 v) { return reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v)); }
inline __m512 from_bf16(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }

struct Split {
  __m256i hi, mid, lo;
};

// x = hi + mid + lo for 16 floats. A finite x that rounds to ±Inf in bf16 (|x| within half a
// bf16 step of FLT_MAX) keeps its truncated top bits as hi instead.
inline __mmask16 non_finite(__m512 x) {
  const __m512i exp = _mm512_set1_epi32(0x7f800000);
  return _mm512_cmpeq_epi32_mask(_mm512_and_si512(_mm512_castps_si512(x), exp), exp);
}

inline Split split16(__m512 x) {
  const __mmask16 special = non_finite(x);
  __m256i hi = to_bf16(x);
  const __mmask16 overflow = non_finite(from_bf16(hi)) & ~special;
  if (overflow) {
    const __m256i trunc = _mm512_cvtepi32_epi16(_mm512_srli_epi32(_mm512_castps_si512(x), 16));
    hi = _mm256_mask_mov_epi16(hi, overflow, trunc);
  }
  const __m512 r = _mm512_maskz_sub_ps(static_cast<__mmask16>(~special), x, from_bf16(hi));
  const __m256i mid = to_bf16(r);
  const __m256i lo = to_bf16(_mm512_sub_ps(r, from_bf16(mid)));
  return {hi, mid, lo};
}

// (k, k+1) pairs of 16 columns from the parts of rows k (even) and k+1: one 64-byte pair row.
inline __m512i pairs(__m256i even, __m256i odd) {
  return _mm512_or_si512(_mm512_cvtepu16_epi32(even), _mm512_slli_epi32(_mm512_cvtepu16_epi32(odd), 16));
}

#define HEARTH_DP4()          \
  _tile_dpbf16ps(0, 4, 6);    \
  _tile_dpbf16ps(1, 4, 7);    \
  if (kTwoRowTiles) {         \
    _tile_dpbf16ps(2, 5, 6);  \
    _tile_dpbf16ps(3, 5, 7);  \
  }

// The six split products over kcp values of k, accumulated into tiles 0-3.
template <bool kTwoRowTiles>
void run_tiles(int kcp, const uint16_t* a, const uint16_t* b) {
  constexpr int64_t kAStride = kKC * 2;  // bytes between A rows
  constexpr int64_t kPartA = static_cast<int64_t>(kMR) * kKC;
  const int64_t part_b = static_cast<int64_t>(kcp) * kNR;
  for (int k = 0; k < kcp; k += 32) {
    const uint16_t* ak = a + k;
    const uint16_t* bk = b + (k / 2) * 2 * kNR;
    auto load_a = [&](int part) {
      _tile_loadd(4, ak + part * kPartA, kAStride);
      if (kTwoRowTiles) _tile_loadd(5, ak + part * kPartA + 16 * kKC, kAStride);
    };
    auto load_b = [&](int part) {
      _tile_loadd(6, bk + part * part_b, 2 * kNR * 2);
      _tile_loadd(7, bk + part * part_b + 32, 2 * kNR * 2);
    };
    load_b(0);
    load_a(0);
    HEARTH_DP4();  // hi·hi
    load_a(1);
    HEARTH_DP4();  // mid·hi
    load_a(2);
    HEARTH_DP4();  // lo·hi
    load_b(1);
    load_a(0);
    HEARTH_DP4();  // hi·mid
    load_a(1);
    HEARTH_DP4();  // mid·mid
    load_b(2);
    load_a(0);
    HEARTH_DP4();  // hi·lo
  }
}

#undef HEARTH_DP4

void micro(int m, int n, int kc, const void* ap, const void* bp, float* c, int64_t ldc, float alpha, float beta) {
  configure_tiles();
  const int kcp = (kc + 31) & ~31;
  const uint16_t* a = static_cast<const uint16_t*>(ap);
  const uint16_t* b = static_cast<const uint16_t*>(bp);
  if (m == kMR && n == kNR && alpha == 1.0f && (beta == 0.0f || beta == 1.0f)) {
    // A whole tile of C: accumulate on top of it in the tiles and store straight back.
    const int64_t stride = ldc * 4;
    if (beta == 0.0f) {
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
    } else {
      _tile_loadd(0, c, stride);
      _tile_loadd(1, c + 16, stride);
      _tile_loadd(2, c + 16 * ldc, stride);
      _tile_loadd(3, c + 16 * ldc + 16, stride);
    }
    run_tiles<true>(kcp, a, b);
    _tile_stored(0, c, stride);
    _tile_stored(1, c + 16, stride);
    _tile_stored(2, c + 16 * ldc, stride);
    _tile_stored(3, c + 16 * ldc + 16, stride);
    return;
  }
  alignas(64) float acc[kMR * kNR];
  _tile_zero(0);
  _tile_zero(1);
  if (m > 16) {
    _tile_zero(2);
    _tile_zero(3);
    run_tiles<true>(kcp, a, b);
    _tile_stored(2, acc + 16 * kNR, kNR * 4);
    _tile_stored(3, acc + 16 * kNR + 16, kNR * 4);
  } else {
    run_tiles<false>(kcp, a, b);
  }
  _tile_stored(0, acc, kNR * 4);
  _tile_stored(1, acc + 16, kNR * 4);
  store_acc32(acc, m, n, c, ldc, alpha, beta);
}

// Stores the split of 16 consecutive k of A row i (k a multiple of 16) into the three parts.
inline void store_a16(uint16_t* dst, int i, int k, __m512 x) {
  const Split s = split16(x);
  uint16_t* at = dst + static_cast<int64_t>(i) * kKC + k;
  constexpr int64_t part = static_cast<int64_t>(kMR) * kKC;
  _mm256_store_si256(reinterpret_cast<__m256i*>(at), s.hi);
  _mm256_store_si256(reinterpret_cast<__m256i*>(at + part), s.mid);
  _mm256_store_si256(reinterpret_cast<__m256i*>(at + 2 * part), s.lo);
}

void pack_a(const GemmMatrixView& a, int64_t i0, int m, int64_t k0, int kc, void* dstv) {
  uint16_t* dst = static_cast<uint16_t*>(dstv);
  const float* src = static_cast<const float*>(a.data);
  const int kcp = (kc + 31) & ~31;
  if (a.cs == 1) {
    // Across the rows first: each row's run lies in its own page (A usually comes from memory
    // here), and touching all of them together keeps a miss per row in flight.
    for (int k = 0; k < kcp; k += 16) {
      const __mmask16 km = tile_mask16(kc - k);
      for (int i = 0; i < m; i++) store_a16(dst, i, k, _mm512_maskz_loadu_ps(km, src + (i0 + i) * a.rs + k0 + k));
    }
    return;
  }
  if (a.rs == 1) {
    // Column-major A (a transposed view): 16 k of 16 contiguous rows, transposed in registers.
    for (int h = 0; h * 16 < m; h++) {
      const int rows = imin_(16, m - h * 16);
      const __mmask16 im = tile_mask16(rows);
      for (int k = 0; k < kcp; k += 16) {
        __m512 r[16];
        for (int q = 0; q < 16; q++)
          r[q] = k + q < kc ? _mm512_maskz_loadu_ps(im, src + i0 + h * 16 + (k0 + k + q) * a.cs) : _mm512_setzero_ps();
        transpose16(r);
        for (int q = 0; q < rows; q++) store_a16(dst, h * 16 + q, k, r[q]);
      }
    }
    return;
  }
  alignas(64) float tmp[16];
  for (int i = 0; i < m; i++)
    for (int k = 0; k < kcp; k += 16) {
      for (int q = 0; q < 16; q++) tmp[q] = k + q < kc ? src[(i0 + i) * a.rs + (k0 + k + q) * a.cs] : 0.0f;
      store_a16(dst, i, k, _mm512_load_ps(tmp));
    }
}

// Stores the parts of B rows k and k+1 (16 columns, half h of the micro-panel) as pair rows.
inline void store_b_pair(uint16_t* panel, int64_t part_b, int k, int h, __m512 even, __m512 odd) {
  const Split e = split16(even), o = split16(odd);
  uint16_t* at = panel + (k / 2) * 2 * kNR + h * 32;
  _mm512_store_si512(at, pairs(e.hi, o.hi));
  _mm512_store_si512(at + part_b, pairs(e.mid, o.mid));
  _mm512_store_si512(at + 2 * part_b, pairs(e.lo, o.lo));
}

void pack_b(const GemmMatrixView& b, int64_t k0, int kc, int64_t j0, int nc, void* dstv) {
  uint16_t* dst = static_cast<uint16_t*>(dstv);
  const float* src = static_cast<const float*>(b.data);
  const int kcp = (kc + 31) & ~31;
  const int64_t part_b = static_cast<int64_t>(kcp) * kNR;
  if (b.cs == 1) {
    // Two rows of k at a time across all micro-panels, so each source row is read as one
    // contiguous run (the rows of a wide B lie in different pages), the next pair prefetched.
    for (int k = 0; k < kcp; k += 2) {
      if (k + 2 < kc) {
        for (int e = 2; e < 4 && k + e < kc; e++)
          for (int j = 0; j < nc; j += 16) _mm_prefetch(reinterpret_cast<const char*>(src + (k0 + k + e) * b.rs + j0 + j), _MM_HINT_T0);
      }
      for (int p = 0; p < nc; p += kNR) {
        uint16_t* panel = dst + static_cast<int64_t>(p) * kcp * kParts;
        for (int h = 0; h < 2; h++) {
          const __mmask16 cm = tile_mask16(nc - p - 16 * h);
          const float* at = src + (k0 + k) * b.rs + j0 + p + 16 * h;
          const __m512 even = k < kc ? _mm512_maskz_loadu_ps(cm, at) : _mm512_setzero_ps();
          const __m512 odd = k + 1 < kc ? _mm512_maskz_loadu_ps(cm, at + b.rs) : _mm512_setzero_ps();
          store_b_pair(panel, part_b, k, h, even, odd);
        }
      }
    }
    return;
  }
  for (int p = 0; p < nc; p += kNR) {
    const int w = imin_(kNR, nc - p);
    uint16_t* panel = dst + static_cast<int64_t>(p) * kcp * kParts;
    if (b.rs == 1) {
      // Row-major Bᵀ (a Linear layer's weight): 16 k of 16 columns, transposed in registers.
      for (int h = 0; h < 2; h++)
        for (int k = 0; k < kcp; k += 16) {
          const __mmask16 km = tile_mask16(kc - k);
          __m512 r[16];
          for (int q = 0; q < 16; q++) {
            const int j = 16 * h + q;
            if (j < w && k + 64 < kc) _mm_prefetch(reinterpret_cast<const char*>(src + k0 + k + 64 + (j0 + p + j) * b.cs), _MM_HINT_T0);
            r[q] = j < w ? _mm512_maskz_loadu_ps(km, src + k0 + k + (j0 + p + j) * b.cs) : _mm512_setzero_ps();
          }
          transpose16(r);
          for (int q = 0; q < 16; q += 2) store_b_pair(panel, part_b, k + q, h, r[q], r[q + 1]);
        }
    } else {
      alignas(64) float even[16], odd[16];
      for (int k = 0; k < kcp; k += 2)
        for (int h = 0; h < 2; h++) {
          for (int q = 0; q < 16; q++) {
            const int j = 16 * h + q;
            even[q] = j < w && k < kc ? src[(k0 + k) * b.rs + (j0 + p + j) * b.cs] : 0.0f;
            odd[q] = j < w && k + 1 < kc ? src[(k0 + k + 1) * b.rs + (j0 + p + j) * b.cs] : 0.0f;
          }
          store_b_pair(panel, part_b, k, h, _mm512_load_ps(even), _mm512_load_ps(odd));
        }
    }
  }
}

// packed_size 6: three bf16 parts per element.
const GemmKernels kAmxBf16x3 = {"amx-bf16x3", kMR, kNR, kKC, kNC, 32, 6, micro, pack_a, pack_b, nullptr,
                                 release_tiles};

}  // namespace

const GemmKernels* gemm_kernels_amx_bf16x3() { return &kAmxBf16x3; }

}  // namespace hearth

HEARTH_TARGET_END()
