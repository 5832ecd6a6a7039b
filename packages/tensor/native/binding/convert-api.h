#pragma once
#include <napi.h>

namespace hearth {
// convert(src, srcDtype, dst, dstDtype, n): float32/bfloat16/float16 conversions; see convert.cpp.
Napi::Value Convert(const Napi::CallbackInfo& info);
// The conversion variant in use: "avx512", "avx2" or "generic".
Napi::Value ConvertKernel(const Napi::CallbackInfo& info);
// cast(x, xDtype, xOffset, xStrides, out, outDtype, shape): any dtype to any dtype.
Napi::Value Cast(const Napi::CallbackInfo& info);
}  // namespace hearth
