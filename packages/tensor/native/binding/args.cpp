#include "args.h"

#include <cmath>

namespace hearth {

BufferArg GetBuffer(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  Napi::Value v = info[i];
  if (v.IsArrayBuffer()) {
    Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
    return BufferArg{ab.Data(), ab.ByteLength(), 1};
  }
  if (v.IsTypedArray()) {
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    Napi::ArrayBuffer ab = ta.ArrayBuffer();
    return BufferArg{static_cast<char*>(ab.Data()) + ta.ByteOffset(), ta.ByteLength(),
                     static_cast<int>(ta.ElementSize())};
  }
  throw HearthArgumentError(info.Env(),
                            std::string(fn) + ": argument '" + name + "' must be an ArrayBuffer or a typed array");
}

float* GetFloat32(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, double need) {
  BufferArg b = GetBuffer(info, i, fn, name);
  HEARTH_CHECK(info.Env(), b.element_size == 4, fn, std::string("argument '") + name + "' must be a Float32Array");
  HEARTH_CHECK(info.Env(), static_cast<double>(b.bytes / 4) >= need, fn,
               std::string("argument '") + name + "' holds " + std::to_string(b.bytes / 4) + " elements, needs " +
                   std::to_string(static_cast<long long>(need)));
  return static_cast<float*>(b.data);
}

int64_t GetIndex(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  HEARTH_CHECK_NUMBER(info, i, fn, name);
  double d = info[i].As<Napi::Number>().DoubleValue();
  HEARTH_CHECK(info.Env(), d >= 0 && d <= 9007199254740991.0 && std::floor(d) == d, fn,
               std::string("argument '") + name + "' must be a non-negative integer, got " + std::to_string(d));
  return static_cast<int64_t>(d);
}

double GetNumber(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  HEARTH_CHECK_NUMBER(info, i, fn, name);
  double d = info[i].As<Napi::Number>().DoubleValue();
  HEARTH_CHECK(info.Env(), std::isfinite(d), fn, std::string("argument '") + name + "' must be finite");
  return d;
}

void GetIndexArray(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, int64_t* out,
                   size_t n) {
  Napi::Env env = info.Env();
  HEARTH_CHECK(env, info[i].IsArray(), fn,
               std::string("argument '") + name + "' must be an array of " + std::to_string(n) + " integers");
  Napi::Array arr = info[i].As<Napi::Array>();
  HEARTH_CHECK(env, arr.Length() == n, fn,
               std::string("argument '") + name + "' must have " + std::to_string(n) + " entries, got " +
                   std::to_string(arr.Length()));
  for (size_t k = 0; k < n; k++) {
    Napi::Value v = arr.Get(static_cast<uint32_t>(k));
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1.0;
    HEARTH_CHECK(env, d >= 0 && d <= 9007199254740991.0 && std::floor(d) == d, fn,
                 std::string("argument '") + name + "' entry " + std::to_string(k) +
                     " must be a non-negative integer");
    out[k] = static_cast<int64_t>(d);
  }
}

void CheckExtent(Napi::Env env, const char* fn, const char* name, int64_t offset, const int64_t* sizes,
                 const int64_t* strides, size_t ndim, double elements) {
  double last = static_cast<double>(offset);
  for (size_t d = 0; d < ndim; d++) {
    if (sizes[d] == 0) return;
    last += static_cast<double>(sizes[d] - 1) * static_cast<double>(strides[d]);
  }
  if (last >= elements) {
    Napi::Error e = Napi::RangeError::New(env, std::string(fn) + ": operand '" + name + "' reaches element " +
                                                   std::to_string(static_cast<long long>(last)) +
                                                   " but its buffer holds " +
                                                   std::to_string(static_cast<long long>(elements)) + " elements");
    e.Set("code", Napi::String::New(env, "HEARTH_TENSOR_BUFFER"));
    throw e;
  }
}

}  // namespace hearth
