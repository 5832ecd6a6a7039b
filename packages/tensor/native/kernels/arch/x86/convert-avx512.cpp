// AVX-512 float conversions (see ../../convert.h). float32 -> bfloat16 rounds in the integer
// unit (add 0x7fff + lsb, keep the top half), which keeps subnormals exactly as the reference
// does; vcvtneps2bf16 would flush them (it always runs with DAZ/FTZ). float16 uses vcvtps2ph /
// vcvtph2ps. Tails use masked loads and stores.
#include <immintrin.h>

#include <cstdint>

#include "convert.h"
#include "target.h"

#if !defined(__clang__)
// GCC 12 warns about the deliberately undefined upper lanes inside its own intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
HEARTH_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx2,fma,f16c")

namespace hearth {
namespace {

inline __mmask16 tail(int64_t m) { return static_cast<__mmask16>((1u << m) - 1); }

inline __m256i bf16x16(__m512 v) {
  const __m512i u = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  return _mm512_cvtepi32_epi16(_mm512_mask_mov_epi32(r, nan, _mm512_set1_epi32(0x7fc0)));
}

void f32_to_bf16(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), bf16x16(_mm512_loadu_ps(src + i)));
  }
  if (i < n) _mm256_mask_storeu_epi16(dst + i, tail(n - i), bf16x16(_mm512_maskz_loadu_ps(tail(n - i), src + i)));
}

inline __m512 from_bf16x16(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }

void bf16_to_f32(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(dst + i, from_bf16x16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
  }
  if (i < n) _mm512_mask_storeu_ps(dst + i, tail(n - i), from_bf16x16(_mm256_maskz_loadu_epi16(tail(n - i), src + i)));
}

inline __m256i f16x16(__m512 v) {
  const __m256i h = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  return _mm256_mask_mov_epi16(h, nan, _mm256_set1_epi16(0x7e00));
}

void f32_to_f16(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), f16x16(_mm512_loadu_ps(src + i)));
  }
  if (i < n) _mm256_mask_storeu_epi16(dst + i, tail(n - i), f16x16(_mm512_maskz_loadu_ps(tail(n - i), src + i)));
}

void f16_to_f32(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
  }
  if (i < n) {
    _mm512_mask_storeu_ps(dst + i, tail(n - i), _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(tail(n - i), src + i)));
  }
}

const ConvertKernels kAvx512 = {"avx512", f32_to_bf16, bf16_to_f32, f32_to_f16, f16_to_f32};

}  // namespace

const ConvertKernels* convert_kernels_avx512() { return &kAvx512; }

}  // namespace hearth

HEARTH_TARGET_END()
