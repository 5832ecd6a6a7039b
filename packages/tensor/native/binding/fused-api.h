#pragma once
#include <napi.h>

namespace hearth {
// Fused float32 row kernels; signatures in fused.cpp.
Napi::Value SoftmaxRows(const Napi::CallbackInfo& info);
Napi::Value SoftmaxBackwardRows(const Napi::CallbackInfo& info);
Napi::Value LayerNormRows(const Napi::CallbackInfo& info);
Napi::Value LayerNormBackwardRows(const Napi::CallbackInfo& info);
Napi::Value RmsNormRows(const Napi::CallbackInfo& info);
Napi::Value LogSoftmaxRows(const Napi::CallbackInfo& info);
Napi::Value LogSoftmaxBackwardRows(const Napi::CallbackInfo& info);
Napi::Value RmsNormBackwardRows(const Napi::CallbackInfo& info);
Napi::Value ActivationForward(const Napi::CallbackInfo& info);
Napi::Value ActivationBackward(const Napi::CallbackInfo& info);
Napi::Value FusedKernel(const Napi::CallbackInfo& info);
}  // namespace hearth
