// The fused row kernels (../../fused-rows.h) instantiated for avx2 from ../../fused-rows-impl.h;
// tails use masked loads and stores.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "fused-rows.h"
#include "target.h"

#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
HEARTH_TARGET_BEGIN("avx2,fma")

#include "simd-avx2.h"
#include "fused-rows-impl.h"

namespace hearth {
namespace {
constexpr const RowKernels kRows = make_row_kernels<V256>("avx2");
}  // namespace

const RowKernels* row_kernels_avx2() { return &kRows; }

}  // namespace hearth

HEARTH_TARGET_END()
