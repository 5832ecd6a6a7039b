// Typed access to JS arguments for the kernel bindings. Every getter validates and throws a
// JS TypeError/RangeError naming the function and argument; nothing aborts.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "check.h"

namespace hearth {

struct BufferArg {
  void* data;
  size_t bytes;
  int element_size;  // of the typed array, or 1 for a bare ArrayBuffer
};

// An ArrayBuffer or typed array (a view starts at its byteOffset).
BufferArg GetBuffer(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name);

// A Float32Array holding at least `need` elements (its start; the caller indexes it densely).
float* GetFloat32(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, double need);

// A non-negative integer below 2^53.
int64_t GetIndex(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name);

// A finite number.
double GetNumber(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name);

// An array of exactly n non-negative integers (strides, in elements).
void GetIndexArray(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, int64_t* out,
                   size_t n);

// Throws unless every element addressed by offset + sum (sizes[d]-1)*strides[d] lies inside a
// buffer of `elements` elements. Empty extents (a zero size) always pass.
void CheckExtent(Napi::Env env, const char* fn, const char* name, int64_t offset, const int64_t* sizes,
                 const int64_t* strides, size_t ndim, double elements);

}  // namespace hearth
