// Conversions between float32, bfloat16 and float16 over contiguous runs: round to nearest
// even, NaN to the canonical quiet NaN (0x7fc0 / 0x7e00), subnormals kept, so results are
// bit-identical with the js reference's encoders. Vectorised (AVX-512: integer rounding for
// bfloat16 and vcvtps2ph for float16; AVX2+F16C likewise on 8 lanes; scalar otherwise), chosen
// once at load time, and split over the thread pool for long runs. bfloat16 <-> float16 goes
// through float32 in cache-sized chunks.
#pragma once
#include <cstdint>

#include "dtype.h"

namespace hearth {

struct ConvertKernels {
  const char* name;
  void (*f32_to_bf16)(const float* src, uint16_t* dst, int64_t n);
  void (*bf16_to_f32)(const uint16_t* src, float* dst, int64_t n);
  void (*f32_to_f16)(const float* src, uint16_t* dst, int64_t n);
  void (*f16_to_f32)(const uint16_t* src, float* dst, int64_t n);
};

#if defined(__x86_64__)
const ConvertKernels* convert_kernels_avx512();
const ConvertKernels* convert_kernels_avx2();
#endif

// dst[i] = src[i] converted from `from` to `to` (the same dtype copies).
void convert(DType from, const void* src, DType to, void* dst, int64_t n);
// The variant in use ("avx512", "avx2" or "generic").
const char* convert_kernel_name();
// Forces "avx512" (also "avx512-bf16", "amx-bf16"), "avx2" or "generic"; "" restores the
// automatic choice. False when the CPU lacks it.
bool convert_select(const char* name);

}  // namespace hearth
