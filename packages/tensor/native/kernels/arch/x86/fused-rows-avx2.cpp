// The fused row kernels (../../fused-rows.h) instantiated for avx2 from ../../fused-rows-impl.h;
// tails use masked loads and stores.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "fused-rows.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC target("avx2,fma")
#endif

#include "simd-avx2.h"
#include "fused-rows-impl.h"

namespace hearth {
namespace {
const RowKernels kRows = make_row_kernels<V256>("avx2");
}  // namespace

const RowKernels* row_kernels_avx2() { return &kRows; }

}  // namespace hearth

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
