// The fused row kernels (../../fused-rows.h) instantiated for avx512 from ../../fused-rows-impl.h;
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
HEARTH_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx2,fma")

#include "simd-avx512.h"
#include "fused-rows-impl.h"

namespace hearth {
namespace {
constexpr const RowKernels kRows = make_row_kernels<V512>("avx512");
}  // namespace

const RowKernels* row_kernels_avx512() { return &kRows; }

}  // namespace hearth

HEARTH_TARGET_END()
