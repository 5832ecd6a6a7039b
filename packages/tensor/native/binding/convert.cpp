// JS binding of the float conversions (kernels/convert.h):
//   convert(src, srcDtype, dst, dstDtype, n)
// src/dst are typed arrays (Float32Array for "float32", Uint16Array of raw bits for "bfloat16"
// and "float16") whose views start at element 0 of the run (use subarray for offsets); n
// elements are converted, round to nearest even. They must not overlap unless identical.
//   cast(x, xDtype, xOffset, xStrides, out, outDtype, shape)
// casts a strided view of any dtype into a row-major `out` of any dtype (kernels/cast.h).
#include "convert-api.h"

#include <string>
#include <vector>

#include "args.h"
#include "elem-arg.h"
#include "kernels/cast.h"
#include "kernels/convert.h"

namespace hearth {
namespace {

DType GetFloatDType(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  HEARTH_CHECK_STRING(info, i, fn, name);
  const std::string d = info[i].As<Napi::String>().Utf8Value();
  if (d == "float32") return DType::kFloat32;
  if (d == "bfloat16") return DType::kBFloat16;
  HEARTH_CHECK(info.Env(), d == "float16", fn,
               std::string("argument '") + name + "' must be 'float32', 'bfloat16' or 'float16', got '" + d + "'");
  return DType::kFloat16;
}

void* GetRun(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, DType t, int64_t n) {
  BufferArg b = GetBuffer(info, i, fn, name);
  HEARTH_CHECK(info.Env(), b.element_size == dtype_size(t), fn,
               std::string("argument '") + name + "' must be a typed array of " + std::to_string(dtype_size(t)) +
                   "-byte elements for its dtype");
  HEARTH_CHECK(info.Env(), static_cast<double>(b.bytes / dtype_size(t)) >= static_cast<double>(n), fn,
               std::string("argument '") + name + "' holds " + std::to_string(b.bytes / dtype_size(t)) +
                   " elements, needs " + std::to_string(n));
  return b.data;
}

}  // namespace

Napi::Value Convert(const Napi::CallbackInfo& info) {
  static const char* fn = "convert";
  HEARTH_CHECK_ARGC(info, 5, fn);
  const DType from = GetFloatDType(info, 1, fn, "srcDtype");
  const DType to = GetFloatDType(info, 3, fn, "dstDtype");
  const int64_t n = GetIndex(info, 4, fn, "n");
  const void* src = GetRun(info, 0, fn, "src", from, n);
  void* dst = GetRun(info, 2, fn, "dst", to, n);
  if (n > 0) convert(from, src, to, dst, n);
  return info.Env().Undefined();
}

Napi::Value Cast(const Napi::CallbackInfo& info) {
  static const char* fn = "cast";
  HEARTH_CHECK_ARGC(info, 7, fn);
  const ElemType from = GetElemType(info, 1, fn, "xDtype");
  const ElemType to = GetElemType(info, 5, fn, "outDtype");
  const std::vector<int64_t> shape = GetDims(info, 6, fn, "shape");
  std::vector<int64_t> xs;
  const void* x = GetView(info, 0, 2, fn, "x", from, shape, &xs);
  void* out = GetTyped(info, 4, fn, "out", to, Numel(shape));
  if (Numel(shape) > 0) cast_strided(from, x, xs.data(), to, out, shape.data(), static_cast<int>(shape.size()));
  return info.Env().Undefined();
}

Napi::Value ConvertKernel(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), convert_kernel_name());
}

}  // namespace hearth
