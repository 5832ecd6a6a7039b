#pragma once
#include <napi.h>

namespace hearth {
// randomFill(out, dtype, n, distribution, seed, a, b) -> Float64Array of (index, u, v) or null
Napi::Value RandomFill(const Napi::CallbackInfo& info);
// randomKernel() -> "avx512" | "avx2" | "generic"; selectRandomKernel(name) -> boolean
Napi::Value RandomKernel(const Napi::CallbackInfo& info);
Napi::Value SelectRandomKernel(const Napi::CallbackInfo& info);
}  // namespace hearth
