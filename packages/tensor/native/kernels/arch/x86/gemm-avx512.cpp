// AVX-512 GEMM kernels.
//   float32: 14×32 register tile (28 zmm accumulators), A broadcast from a row-major packed
//            micro-panel, B streamed from a k-major packed panel; fused multiply-add.
//   bfloat16: same tile shape with vdpbf16ps (AVX512-BF16): each instruction multiplies pairs of
//            bf16 along k and accumulates in float32, so B is packed as (k, k+1) pairs.
// Layouts: ../../gemm-arch.h. Transposed operands are transposed 16×16 in registers while
// packing. Compiled for AVX-512 through a pragma placed after every include, so nothing from a
// header is built for this instruction set; the driver calls in only when CPUID says it may.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include <unistd.h>

#include "gemm-arch.h"
#include "gemm-pack.h"
#include "target.h"

#if !defined(__clang__)
// GCC 12 warns about the deliberately undefined upper lanes inside its own intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
HEARTH_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma,f16c")

#include "simd-avx512.h"

namespace hearth {
namespace {

constexpr int kMR = 14;
constexpr int kNR = 32;
// Depth of the k slices (and the packed A rows' stride): float32's is chosen at load from the L2
// size (gemm_avx512_configure), bfloat16's is fixed.
constexpr int kKCBf16 = 384;
// A 384-deep float32 B block of KC×NC is 1.4 MB, most of a 2 MB L2 (Sapphire Rapids); of B
// blocks 0.5 to 1.75 times this size, it measured best there for products of 512 rows and more.
constexpr int kNC = 960;

// The float32 packed A row stride (the family's kc), set by gemm_avx512_configure.
int g_kc = 384;

inline __mmask16 mask16(int n) { return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << n) - 1); }

// C row = alpha·acc + bias (when bias is given; beta is 0 then) + beta·C, then + addend (when
// given) as a separate add.
inline void store_row(float* c, __m512 acc0, __m512 acc1, int n, float alpha, float beta,
                      const float* bias = nullptr, const float* addend = nullptr) {
  const __mmask16 m0 = mask16(n), m1 = mask16(n - 16 > 0 ? n - 16 : 0);
  const __m512 va = _mm512_set1_ps(alpha);
  __m512 r0 = _mm512_mul_ps(acc0, va), r1 = _mm512_mul_ps(acc1, va);
  if (bias != nullptr) {
    r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(m0, bias));
    r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(m1, bias + 16));
  } else if (beta != 0.0f) {
    const __m512 vb = _mm512_set1_ps(beta);
    r0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m0, c), vb, r0);
    r1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m1, c + 16), vb, r1);
  }
  if (addend != nullptr) {
    r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(m0, addend));
    r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(m1, addend + 16));
  }
  _mm512_mask_storeu_ps(c, m0, r0);
  _mm512_mask_storeu_ps(c + 16, m1, r1);
}

// pf[0:npf) are lines the driver wants in L2 soon (the next panels' sources): one is
// requested every 4 steps of k, spread over the kernel so they overlap the arithmetic. A's rows
// are lda floats apart: g_kc in a packed micro-panel, the source's row stride when the driver
// reads a row-major float32 A in place. addend (rows ld_addend apart) is added last, when given:
// the driver's residual, in registers instead of a pass over the stored tile.
template <int M>
void micro_f32(int n, int kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc, float alpha,
               float beta, const char* const* pf, int npf, const float* bias, const float* addend,
               int64_t ld_addend) {
  __m512 acc0[M], acc1[M];
#pragma GCC unroll 14
  for (int i = 0; i < M; i++) {
    acc0[i] = _mm512_setzero_ps();
    acc1[i] = _mm512_setzero_ps();
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
  }
  auto step = [&](int k) __attribute__((always_inline)) {
    const __m512 b0 = _mm512_load_ps(b + k * kNR);
    const __m512 b1 = _mm512_load_ps(b + k * kNR + 16);
#pragma GCC unroll 14
    for (int i = 0; i < M; i++) {
      const __m512 ai = _mm512_set1_ps(a[i * lda + k]);
      acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
    }
  };
  int k = 0;
  for (int q = 0; k + 4 <= kc; k += 4) {
    if (q < npf) _mm_prefetch(pf[q++], _MM_HINT_T1);
    step(k);
    step(k + 1);
    step(k + 2);
    step(k + 3);
  }
  for (; k < kc; k++) step(k);
#pragma GCC unroll 14
  for (int i = 0; i < M; i++)
    store_row(c + i * ldc, acc0[i], acc1[i], n, alpha, beta, bias, addend ? addend + i * ld_addend : nullptr);
}

template <int M>
void micro_bf16(int n, int kc, const uint16_t* a, const uint16_t* b, float* c, int64_t ldc, float alpha,
                float beta) {
  __m512 acc0[M], acc1[M];
#pragma GCC unroll 14
  for (int i = 0; i < M; i++) {
    acc0[i] = _mm512_setzero_ps();
    acc1[i] = _mm512_setzero_ps();
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
  }
  const int kp = (kc + 1) / 2;
#pragma GCC unroll 4
  for (int k = 0; k < kp; k++) {
    const __m512bh b0 = (__m512bh)_mm512_load_si512(b + k * 2 * kNR);
    const __m512bh b1 = (__m512bh)_mm512_load_si512(b + k * 2 * kNR + 32);
#pragma GCC unroll 14
    for (int i = 0; i < M; i++) {
      int32_t pair;
      std::memcpy(&pair, a + i * kKCBf16 + 2 * k, 4);
      const __m512bh ai = (__m512bh)_mm512_set1_epi32(pair);
      acc0[i] = _mm512_dpbf16_ps(acc0[i], ai, b0);
      acc1[i] = _mm512_dpbf16_ps(acc1[i], ai, b1);
    }
  }
#pragma GCC unroll 14
  for (int i = 0; i < M; i++) store_row(c + i * ldc, acc0[i], acc1[i], n, alpha, beta);
}

// Calls FN<m> (m = 1..14, as a template argument) with the parenthesised argument list ARGS.
#define HEARTH_MICRO_CASES(FN, ARGS) \
  switch (m) {                       \
    case 1: return FN<1> ARGS;       \
    case 2: return FN<2> ARGS;       \
    case 3: return FN<3> ARGS;       \
    case 4: return FN<4> ARGS;       \
    case 5: return FN<5> ARGS;       \
    case 6: return FN<6> ARGS;       \
    case 7: return FN<7> ARGS;       \
    case 8: return FN<8> ARGS;       \
    case 9: return FN<9> ARGS;       \
    case 10: return FN<10> ARGS;     \
    case 11: return FN<11> ARGS;     \
    case 12: return FN<12> ARGS;     \
    case 13: return FN<13> ARGS;     \
    default: return FN<14> ARGS;     \
  }

void micro_f32_lda(int m, int n, int kc, const void* ap, int64_t lda, const void* bp, float* c, int64_t ldc,
                   float alpha, float beta, const char* const* pf, int npf, const float* bias, const float* addend,
                   int64_t ld_addend) {
  const float* a = static_cast<const float*>(ap);
  const float* b = static_cast<const float*>(bp);
  HEARTH_MICRO_CASES(micro_f32, (n, kc, a, lda, b, c, ldc, alpha, beta, pf, npf, bias, addend, ld_addend))
}

void micro_f32_pf(int m, int n, int kc, const void* ap, const void* bp, float* c, int64_t ldc, float alpha,
                  float beta, const char* const* pf, int npf, const float* bias) {
  micro_f32_lda(m, n, kc, ap, g_kc, bp, c, ldc, alpha, beta, pf, npf, bias, nullptr, 0);
}

void micro_f32_any(int m, int n, int kc, const void* ap, const void* bp, float* c, int64_t ldc, float alpha,
                   float beta) {
  micro_f32_lda(m, n, kc, ap, g_kc, bp, c, ldc, alpha, beta, nullptr, 0, nullptr, nullptr, 0);
}

void micro_bf16_any(int m, int n, int kc, const void* ap, const void* bp, float* c, int64_t ldc, float alpha,
                    float beta) {
  const uint16_t* a = static_cast<const uint16_t*>(ap);
  const uint16_t* b = static_cast<const uint16_t*>(bp);
  HEARTH_MICRO_CASES(micro_bf16, (n, kc, a, b, c, ldc, alpha, beta))
}

#undef HEARTH_MICRO_CASES

// 16 float32 values from any source dtype; lanes outside `mask` read nothing and are zero.
inline __m512 load16(const void* base, int64_t index, DType t, __mmask16 mask) {
  switch (t) {
    case DType::kFloat32:
      return _mm512_maskz_loadu_ps(mask, static_cast<const float*>(base) + index);
    case DType::kBFloat16: {
      const __m256i h = _mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(base) + index);
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    default:
      return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(base) + index));
  }
}

void pack_a_f32(const GemmMatrixView& a, int64_t i0, int m, int64_t k0, int kc, void* dstv) {
  float* dst = static_cast<float*>(dstv);
  if (a.cs == 1) {
    // Across the rows first: each row is a short run in its own page (A is usually read from
    // memory here), and touching all of them together keeps one miss per row in flight.
    for (int k = 0; k < kc; k += 16) {
      const __mmask16 km = mask16(kc - k);
      for (int i = 0; i < m; i++)
        _mm512_storeu_ps(dst + i * g_kc + k, load16(a.data, (i0 + i) * a.rs + k0 + k, a.dtype, km));
    }
    return;
  }
  if (a.rs == 1) {
    // Column-major A (a transposed view): 16 k-rows of contiguous i, transposed in registers.
    const __mmask16 im = mask16(m);
    for (int k = 0; k < kc; k += 16) {
      const int kk = imin(16, kc - k);
      __m512 r[16];
      for (int q = 0; q < 16; q++)
        r[q] = q < kk ? load16(a.data, i0 + (k0 + k + q) * a.cs, a.dtype, im) : _mm512_setzero_ps();
      transpose16(r);
      for (int i = 0; i < m; i++) _mm512_mask_storeu_ps(dst + i * g_kc + k, mask16(kk), r[i]);
    }
    return;
  }
  pack_a_f32_generic(a, i0, m, k0, kc, dst, g_kc);
}

void pack_b_f32(const GemmMatrixView& b, int64_t k0, int kc, int64_t j0, int nc, void* dstv) {
  float* dst = static_cast<float*>(dstv);
  if (b.cs == 1) {
    // Row by row, so each source row is read as one contiguous run, fetching the row 4 ahead
    // meanwhile: B usually comes from memory here, and the rows of a wide B lie in different
    // pages, where the hardware prefetcher starts cold (measured 3-5% on whole products).
    const int es = dtype_size(b.dtype);
    for (int k = 0; k < kc; k++) {
      const int64_t base = (k0 + k) * b.rs + j0;
      if (k + 4 < kc) {
        const char* ahead = static_cast<const char*>(b.data) + (base + 4 * b.rs) * es;
        for (int j = 0; j < nc; j += 64 / es) _mm_prefetch(ahead + j * es, _MM_HINT_T0);
      }
      for (int p = 0; p < nc; p += kNR) {
        const int w = imin(kNR, nc - p);
        float* out = dst + static_cast<int64_t>(p) * kc + k * kNR;
        _mm512_store_ps(out, load16(b.data, base + p, b.dtype, mask16(w)));
        _mm512_store_ps(out + 16, load16(b.data, base + p + 16, b.dtype, mask16(w > 16 ? w - 16 : 0)));
      }
    }
    return;
  }
  if (b.rs == 1) {
    // Row-major Bᵀ (e.g. a Linear layer's weight): 16 columns × 16 k at a time, transposed;
    // each column's run is fetched 64 k ahead (measured 4-15% faster on whole products).
    for (int p = 0; p < nc; p += kNR) {
      const int w = imin(kNR, nc - p);
      float* panel = dst + static_cast<int64_t>(p) * kc;
      for (int k = 0; k < kc; k += 16) {
        const int kk = imin(16, kc - k);
        const __mmask16 km = mask16(kk);
        for (int h = 0; h < 2; h++) {
          __m512 r[16];
          for (int q = 0; q < 16; q++) {
            const int j = h * 16 + q;
            if (j < w && k + 64 < kc)
              _mm_prefetch(static_cast<const char*>(b.data) + (k0 + k + 64 + (j0 + p + j) * b.cs) * dtype_size(b.dtype), _MM_HINT_T0);
            r[q] = j < w ? load16(b.data, k0 + k + (j0 + p + j) * b.cs, b.dtype, km) : _mm512_setzero_ps();
          }
          transpose16(r);
          for (int q = 0; q < kk; q++) _mm512_store_ps(panel + (k + q) * kNR + h * 16, r[q]);
        }
      }
    }
    return;
  }
  pack_b_f32_generic(b, k0, kc, j0, nc, dst, kNR);
}

// bf16 A micro-panel: rows of kc bf16 values, padded with a zero to an even count.
void pack_a_bf16(const GemmMatrixView& a, int64_t i0, int m, int64_t k0, int kc, void* dstv) {
  uint16_t* dst = static_cast<uint16_t*>(dstv);
  if (a.rs == 1 && a.cs != 1) return pack_a_bf16_transposed_avx512(a, i0, m, k0, kc, kKCBf16, dst);
  const uint16_t* src = static_cast<const uint16_t*>(a.data);
  for (int i = 0; i < m; i++) {
    uint16_t* out = dst + i * kKCBf16;
    if (a.cs == 1) {
      std::memcpy(out, src + (i0 + i) * a.rs + k0, 2 * static_cast<size_t>(kc));
    } else {
      for (int k = 0; k < kc; k++) out[k] = src[(i0 + i) * a.rs + (k0 + k) * a.cs];
    }
    if (kc & 1) out[kc] = 0;
  }
}

}  // namespace

// bf16 A micro-panel rows from a column-major A (a.rs == 1, e.g. a layer's input in the weight
// gradient): rows k and k+1 of 16 consecutive i widen into 32-bit (k, k+1) pairs, and 16 pairs ×
// 16 rows are transposed as 32-bit lanes, giving 32 consecutive k of each row. Writes k up to kc
// rounded up to 32 (zeros past kc); the row stride kKCBf16 is a multiple of 32.
void pack_a_bf16_transposed_avx512(const GemmMatrixView& a, int64_t i0, int m, int64_t k0, int kc, int row_stride,
                                   uint16_t* dst) {
  const uint16_t* src = static_cast<const uint16_t*>(a.data);
  for (int h = 0; h * 16 < m; h++) {
    const int rows = imin(16, m - h * 16);
    const __mmask16 im = mask16(rows);
    for (int k = 0; k < kc; k += 32) {
      __m512 r[16];
      for (int q = 0; q < 16; q++) {
        const int64_t k1 = k + 2 * q;
        const __m512i lo = k1 < kc ? _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(
                                         im, src + (i0 + h * 16) * a.rs + (k0 + k1) * a.cs))
                                   : _mm512_setzero_si512();
        const __m512i hi = k1 + 1 < kc ? _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(
                                             im, src + (i0 + h * 16) * a.rs + (k0 + k1 + 1) * a.cs))
                                       : _mm512_setzero_si512();
        r[q] = _mm512_castsi512_ps(_mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
      }
      transpose16(r);
      for (int c = 0; c < rows; c++) {
        _mm512_store_si512(dst + static_cast<int64_t>(h * 16 + c) * row_stride + k, _mm512_castps_si512(r[c]));
      }
    }
  }
}

// bf16 B panels of (k, k+1) pairs from a B with unit column stride or any strides.
static void pack_b_bf16_pairs(const GemmMatrixView& b, int64_t k0, int kc, int kcp, int64_t j0, int nc, uint16_t* dst) {
  const uint16_t* src = static_cast<const uint16_t*>(b.data);
  for (int p = 0; p < nc; p += kNR) {
    const int w = imin(kNR, nc - p);
    uint16_t* panel = dst + static_cast<int64_t>(p) * kcp;
    if (b.cs == 1) {
      const __mmask32 wm = w >= 32 ? 0xffffffffu : ((1u << w) - 1);
      for (int k = 0; k < kcp; k += 2) {
        const __m512i r0 =
            k < kc ? _mm512_maskz_loadu_epi16(wm, src + (k0 + k) * b.rs + j0 + p) : _mm512_setzero_si512();
        const __m512i r1 =
            k + 1 < kc ? _mm512_maskz_loadu_epi16(wm, src + (k0 + k + 1) * b.rs + j0 + p) : _mm512_setzero_si512();
        const __m512i lo = _mm512_unpacklo_epi16(r0, r1), hi = _mm512_unpackhi_epi16(r0, r1);
        const __m512i x = _mm512_shuffle_i32x4(lo, hi, 0x44), y = _mm512_shuffle_i32x4(lo, hi, 0xee);
        _mm512_store_si512(panel + k * kNR, _mm512_shuffle_i32x4(x, x, 0xd8));
        _mm512_store_si512(panel + k * kNR + 32, _mm512_shuffle_i32x4(y, y, 0xd8));
      }
    } else {
      for (int k = 0; k < kcp; k += 2)
        for (int j = 0; j < kNR; j++)
          for (int e = 0; e < 2; e++)
            panel[k * kNR + 2 * j + e] =
                (j < w && k + e < kc) ? src[(k0 + k + e) * b.rs + (j0 + p + j) * b.cs] : static_cast<uint16_t>(0);
    }
  }
}


// bf16 B panels (32 columns of (k, k+1) pairs) from a row-major Bᵀ (b.rs == 1, e.g. a Linear
// layer's weight): each column's pairs are contiguous 32-bit words, so 16 columns × 16 pairs at
// a time are loaded (16-bit masks zero everything past kc) and transposed as 32-bit lanes.
// Stores pairs up to kcp / 2 (kcp: kc padded to the kernel's k unit).
void pack_b_bf16_transposed_avx512(const GemmMatrixView& b, int64_t k0, int kc, int kcp, int64_t j0, int nc,
                                   uint16_t* dst) {
  const uint16_t* src = static_cast<const uint16_t*>(b.data);
  for (int p = 0; p < nc; p += kNR) {
    const int w = imin(kNR, nc - p);
    uint16_t* panel = dst + static_cast<int64_t>(p) * kcp;
    for (int k = 0; k < kcp; k += 32) {
      const int kk = imin(32, kc - k > 0 ? kc - k : 0);
      const __mmask32 km = kk >= 32 ? 0xffffffffu : ((1u << kk) - 1);
      const int pairs = imin(16, (kcp - k) / 2);
      for (int h = 0; h < 2; h++) {
        __m512 r[16];
        for (int q = 0; q < 16; q++) {
          const int j = h * 16 + q;
          r[q] = j < w && kk > 0
                     ? _mm512_castsi512_ps(_mm512_maskz_loadu_epi16(km, src + k0 + k + (j0 + p + j) * b.cs))
                     : _mm512_setzero_ps();
        }
        transpose16(r);
        for (int q = 0; q < pairs; q++) {
          _mm512_store_si512(panel + (k / 2 + q) * 2 * kNR + h * 32, _mm512_castps_si512(r[q]));
        }
      }
    }
  }
}

void pack_b_bf16_avx512(const GemmMatrixView& b, int64_t k0, int kc, int kcp, int64_t j0, int nc, uint16_t* dst) {
  if (b.rs == 1 && b.cs != 1) {
    pack_b_bf16_transposed_avx512(b, k0, kc, kcp, j0, nc, dst);
  } else {
    pack_b_bf16_pairs(b, k0, kc, kcp, j0, nc, dst);
  }
}

namespace {

void pack_b_bf16_any(const GemmMatrixView& b, int64_t k0, int kc, int64_t j0, int nc, void* dstv) {
  pack_b_bf16_avx512(b, k0, kc, (kc + 1) & ~1, j0, nc, static_cast<uint16_t*>(dstv));
}

GemmKernels kF32 = {"avx512",   kMR,          kNR,     384, kNC, 1, 4, micro_f32_any, pack_a_f32,
                    pack_b_f32, micro_f32_pf, nullptr, int64_t{768} << 10, false, micro_f32_lda};
const GemmKernels kBF16 = {"avx512-bf16", kMR, kNR, kKCBf16, kNC, 2, 2, micro_bf16_any, pack_a_bf16, pack_b_bf16_any};

}  // namespace

const GemmKernels* gemm_kernels_avx512() { return &kF32; }

// Float32 slice depth: 384 on a 2 MB L2 or larger, where that B block fits (tuned on Sapphire
// Rapids), else 768. With a 1 MB L2 (Zen 4) neither block fits, and the deeper slices halve the
// passes over C: one thread, CPU time, alternating, 1.5-3% faster on every GPT-2 training and
// prefill shape (B blocks 480 wide no better), and the products' wall time in full fine-tuning
// steps 0.98x (3 alternating pairs in one build). 768 floats keep a packed panel's rows 3 KB apart, on 4
// offsets within 4 KB (see gemm.cpp a_in_place).
void gemm_avx512_configure() {
  const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
  g_kc = kF32.kc = l2 > 0 && l2 < (long{2} << 20) ? 768 : 384;
}

const GemmKernels* gemm_kernels_avx512_bf16() { return &kBF16; }

}  // namespace hearth

HEARTH_TARGET_END()
