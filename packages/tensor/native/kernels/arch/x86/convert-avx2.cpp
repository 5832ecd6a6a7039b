// AVX2+F16C float conversions (see ../../convert.h): 8 lanes, integer rounding for bfloat16,
// vcvtps2ph / vcvtph2ps for float16, and a scalar tail.
#include <immintrin.h>

#include <cstdint>

#include "convert.h"
#include "target.h"

namespace hearth {
namespace {
// Scalar tails, compiled for the baseline before the target pragma below.
void f32_to_bf16_tail(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = src[i] != src[i] ? 0x7fc0 : f32_to_bf16(src[i]);
}
void f32_to_f16_tail(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = src[i] != src[i] ? 0x7e00 : f32_to_f16(src[i]);
}
void f16_to_f32_tail(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = f16_to_f32(src[i]);
}
void bf16_to_f32_tail(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = bf16_to_f32(src[i]);
}
}  // namespace
}  // namespace hearth

HEARTH_TARGET_BEGIN("avx2,fma,f16c")

namespace hearth {
namespace {

// Eight rounded bfloat16 values in the low 128 bits.
inline __m128i bf16x8(__m256 v) {
  const __m256i u = _mm256_castps_si256(v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  __m256i r = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
  const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  r = _mm256_blendv_epi8(r, _mm256_set1_epi32(0x7fc0), nan);
  // values fit 16 bits, so the saturating pack is exact; fix the lane order after it
  const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
  return _mm256_castsi256_si128(p);
}

void f32_to_bf16(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), bf16x8(_mm256_loadu_ps(src + i)));
  f32_to_bf16_tail(src + i, dst + i, n - i);
}

void bf16_to_f32(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
  }
  bf16_to_f32_tail(src + i, dst + i, n - i);
}

void f32_to_f16(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(src + i);
    const __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m128i nan = _mm_packs_epi32(_mm256_castsi256_si128(_mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q))),
                                        _mm256_extracti128_si256(_mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)), 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm_blendv_epi8(h, _mm_set1_epi16(0x7e00), nan));
  }
  f32_to_f16_tail(src + i, dst + i, n - i);
}

void f16_to_f32(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
  f16_to_f32_tail(src + i, dst + i, n - i);
}

const ConvertKernels kAvx2 = {"avx2", f32_to_bf16, bf16_to_f32, f32_to_f16, f16_to_f32};

}  // namespace

const ConvertKernels* convert_kernels_avx2() { return &kAvx2; }

}  // namespace hearth

HEARTH_TARGET_END()
