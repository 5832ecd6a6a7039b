// A dtype name argument ("float32", "int64", …) as the kernels' ElemType, and a typed array
// argument checked against it. Failures throw a coded TypeError naming the function and argument.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "args.h"
#include "kernels/elem-type.h"

namespace hearth {

inline ElemType GetElemType(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  HEARTH_CHECK_STRING(info, i, fn, name);
  const std::string d = info[i].As<Napi::String>().Utf8Value();
  static const char* const kNames[] = {"float32", "bfloat16", "float16", "int32", "int64", "uint8", "int8", "bool"};
  for (int k = 0; k < 8; k++)
    if (d == kNames[k]) return static_cast<ElemType>(k);
  throw HearthArgumentError(info.Env(), std::string(fn) + ": argument '" + name + "' must be a dtype name, got '" + d + "'");
}

// A typed array whose element size matches `t`, holding at least `need` elements.
inline void* GetTyped(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, ElemType t,
                      double need) {
  BufferArg b = GetBuffer(info, i, fn, name);
  HEARTH_CHECK(info.Env(), b.element_size == elem_size(t), fn,
               std::string("argument '") + name + "' must be a typed array of " + std::to_string(elem_size(t)) +
                   "-byte elements for its dtype");
  HEARTH_CHECK(info.Env(), static_cast<double>(b.bytes / elem_size(t)) >= need, fn,
               std::string("argument '") + name + "' holds " + std::to_string(b.bytes / elem_size(t)) +
                   " elements, needs " + std::to_string(static_cast<long long>(need)));
  return b.data;
}

// A shape or strides array of at most kMaxDims non-negative integers.
inline std::vector<int64_t> GetDims(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  HEARTH_CHECK(info.Env(), info[i].IsArray(), fn, std::string("argument '") + name + "' must be an array");
  const uint32_t n = info[i].As<Napi::Array>().Length();
  HEARTH_CHECK(info.Env(), n <= 16, fn, std::string("argument '") + name + "' has more than 16 dims");
  std::vector<int64_t> v(n);
  if (n > 0) GetIndexArray(info, i, fn, name, v.data(), n);
  return v;
}

// A strided view of `t` elements over `shape` (data at i, offset and strides at j and j + 1),
// bounds-checked against its buffer; returns the address of element [0, …, 0].
inline const void* GetView(const Napi::CallbackInfo& info, size_t i, size_t j, const char* fn, const char* name,
                           ElemType t, const std::vector<int64_t>& shape, std::vector<int64_t>* strides) {
  BufferArg b = GetBuffer(info, i, fn, name);
  HEARTH_CHECK(info.Env(), b.element_size == elem_size(t), fn,
               std::string("argument '") + name + "' must be a typed array of " + std::to_string(elem_size(t)) +
                   "-byte elements for its dtype");
  const int64_t off = GetIndex(info, j, fn, (std::string(name) + "Offset").c_str());
  *strides = GetDims(info, j + 1, fn, (std::string(name) + "Strides").c_str());
  HEARTH_CHECK(info.Env(), strides->size() == shape.size(), fn,
               std::string("argument '") + name + "Strides' must have one stride per dim");
  CheckExtent(info.Env(), fn, name, off, shape.data(), strides->data(), shape.size(),
              static_cast<double>(b.bytes / elem_size(t)));
  return static_cast<const char*>(b.data) + off * elem_size(t);
}

inline double Numel(const std::vector<int64_t>& shape) {
  double n = 1;
  for (int64_t v : shape) n *= static_cast<double>(v);
  return n;
}

}  // namespace hearth
