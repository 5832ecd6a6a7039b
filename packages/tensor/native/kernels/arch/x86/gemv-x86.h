// Pieces the x86 few-row kernel families (gemv-avx2.cpp, gemv-avx512.cpp) share: declarations
// only, so each file compiles them for its own instruction set.
#pragma once
#include <cstdint>
#include <type_traits>

#include "dtype.h"

namespace hearth {

// The storage element of a weight dtype.
template <DType T>
using Elem = std::conditional_t<T == DType::kFloat32, float, uint16_t>;

constexpr int kLine = 64;

// One family's kernel for a fixed row count of x (both forms take the same arguments).
using RowsFn = void (*)(const void*, int64_t, const float*, int64_t, int64_t, int, float*, int64_t);

}  // namespace hearth

// Loops over the register-blocked accumulators must be unrolled completely for them to stay
// in registers; GCC's own limits stop short of 8×3 blocks.
#if defined(__clang__)
#define UNROLL _Pragma("unroll")
#else
#define UNROLL _Pragma("GCC unroll 32")
#endif
