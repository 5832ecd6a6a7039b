// Running sums along one dim, with the `js` reference's arithmetic: float32/float16/bfloat16
// accumulate in double and round each prefix once into the input's dtype (so float32 results
// are bit-identical with js); integers and bool accumulate exactly in int64 (js agrees below
// 2^53). Layout: x is a strided view over `shape` (nd <= kMaxDims); out is row-major contiguous
// over `shape` (float: x's dtype; integer/bool: int64). `reverse` sums from the end.
// Backward: cumsum of the gradient in the other direction (the op table composes it).
#pragma once
#include <cstdint>

#include "elem-type.h"

namespace hearth {

void cumsum_strided(ElemType type, const void* x, const int64_t* x_strides, const int64_t* shape, int nd, int dim,
                    bool reverse, void* out);

}  // namespace hearth
