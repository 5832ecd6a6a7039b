#pragma once
#include <napi.h>

namespace hearth {
// adamStep(p, g, m, v, vmax | null, stepSize, bc2Sqrt, beta1, beta2, eps, weightDecay, l2, keep).
Napi::Value AdamStep(const Napi::CallbackInfo& info);
}  // namespace hearth
