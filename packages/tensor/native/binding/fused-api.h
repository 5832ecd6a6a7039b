#pragma once
#include <napi.h>

namespace hearth {
// Fused float32 row kernels; signatures in fused.cpp.
Napi::Value SoftmaxRows(const Napi::CallbackInfo& info);
Napi::Value SoftmaxBackwardRows(const Napi::CallbackInfo& info);
Napi::Value LayerNormRows(const Napi::CallbackInfo& info);
Napi::Value LayerNormBackwardRows(const Napi::CallbackInfo& info);
Napi::Value RmsNormRows(const Napi::CallbackInfo& info);
}  // namespace hearth
