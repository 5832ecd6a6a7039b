// Drivers and the portable scalar variant of the float conversions (see convert.h).
#include "convert.h"

#include <cstring>

#include "cpu-features.h"
#include "thread-pool.h"

namespace hearth {
namespace {

constexpr int64_t kParallelElements = 1 << 17;

void f32_to_bf16_generic(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = src[i] != src[i] ? 0x7fc0 : f32_to_bf16(src[i]);
}
void bf16_to_f32_generic(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = bf16_to_f32(src[i]);
}
void f32_to_f16_generic(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = src[i] != src[i] ? 0x7e00 : f32_to_f16(src[i]);
}
void f16_to_f32_generic(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] = f16_to_f32(src[i]);
}

const ConvertKernels kGeneric = {"generic", f32_to_bf16_generic, bf16_to_f32_generic, f32_to_f16_generic,
                                 f16_to_f32_generic};

const ConvertKernels* select_convert() {
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.avx512bw && f.avx512vl && f.f16c) return convert_kernels_avx512();
  if (f.avx2 && f.f16c) return convert_kernels_avx2();
#endif
  return &kGeneric;
}

const ConvertKernels* g_convert = select_convert();

// One contiguous run [0, n) converted by the chosen kernels.
void convert_run(DType from, const void* src, DType to, void* dst, int64_t n) {
  const ConvertKernels* k = g_convert;
  if (from == to) {
    std::memcpy(dst, src, static_cast<size_t>(n) * dtype_size(from));
  } else if (from == DType::kFloat32) {
    auto* out = static_cast<uint16_t*>(dst);
    if (to == DType::kBFloat16) {
      k->f32_to_bf16(static_cast<const float*>(src), out, n);
    } else {
      k->f32_to_f16(static_cast<const float*>(src), out, n);
    }
  } else if (to == DType::kFloat32) {
    auto* in = static_cast<const uint16_t*>(src);
    if (from == DType::kBFloat16) {
      k->bf16_to_f32(in, static_cast<float*>(dst), n);
    } else {
      k->f16_to_f32(in, static_cast<float*>(dst), n);
    }
  } else {
    // bfloat16 <-> float16 through float32, 1024 at a time.
    float buf[1024];
    for (int64_t i = 0; i < n; i += 1024) {
      const int64_t m = n - i < 1024 ? n - i : 1024;
      convert_run(from, static_cast<const uint16_t*>(src) + i, DType::kFloat32, buf, m);
      convert_run(DType::kFloat32, buf, to, static_cast<uint16_t*>(dst) + i, m);
    }
  }
}

}  // namespace

void convert(DType from, const void* src, DType to, void* dst, int64_t n) {
  const int threads = n < kParallelElements ? 1 : num_threads();
  if (threads == 1) return convert_run(from, src, to, dst, n);
  const int64_t pieces = threads * 4;
  const int64_t step = ((n + pieces - 1) / pieces + 63) / 64 * 64;
  const int sf = dtype_size(from), st = dtype_size(to);
  parallel_for(static_cast<int>((n + step - 1) / step), threads, [&](int64_t t) {
    const int64_t a = t * step, m = a + step < n ? step : n - a;
    convert_run(from, static_cast<const char*>(src) + a * sf, to, static_cast<char*>(dst) + a * st, m);
  });
}

const char* convert_kernel_name() { return g_convert->name; }

bool convert_select(const char* name) {
  if (name == nullptr || name[0] == '\0') {
    g_convert = select_convert();
    return true;
  }
  if (std::strcmp(name, "generic") == 0) {
    g_convert = &kGeneric;
    return true;
  }
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (std::strcmp(name, "avx2") == 0 && f.avx2 && f.f16c) {
    g_convert = convert_kernels_avx2();
    return true;
  }
  if (std::strncmp(name, "avx512", 6) == 0 || std::strncmp(name, "amx-bf16", 8) == 0) {
    if (f.avx512f && f.avx512bw && f.avx512vl && f.f16c) {
      g_convert = convert_kernels_avx512();
      return true;
    }
  }
#endif
  return false;
}

}  // namespace hearth
