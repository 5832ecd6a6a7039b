#pragma once
#include <napi.h>

namespace hearth {
// cumsum(x, dtype, xOffset, xStrides, shape, dim, reverse, out)
Napi::Value Cumsum(const Napi::CallbackInfo& info);
// sort(x, dtype, xOffset, xStrides, shape, dim, descending, values, indices)
Napi::Value Sort(const Napi::CallbackInfo& info);
// argReduce(op, x, dtype, xOffset, xStrides, shape, dim, out)
Napi::Value ArgReduce(const Napi::CallbackInfo& info);
}  // namespace hearth
