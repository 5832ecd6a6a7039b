#pragma once
#include <napi.h>

namespace hearth {
// Fused cross-entropy rows (kernels/cross-entropy.h); signatures in cross-entropy.cpp.
Napi::Value CrossEntropyRows(const Napi::CallbackInfo& info);
Napi::Value CrossEntropyBackwardRows(const Napi::CallbackInfo& info);
}  // namespace hearth
