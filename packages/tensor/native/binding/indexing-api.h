#pragma once
#include <napi.h>

namespace hearth {
// gather(x, xOffset, xStrides, size, index, indexOffset, indexStrides, out, shape, dim)
Napi::Value Gather(const Napi::CallbackInfo& info);
// scatterAdd(out, outShape, index, indexOffset, indexStrides, src, srcOffset, srcStrides, shape, dim)
Napi::Value ScatterAdd(const Napi::CallbackInfo& info);
}  // namespace hearth
