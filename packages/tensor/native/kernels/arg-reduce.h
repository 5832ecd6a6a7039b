// argmax / argmin along one dim, like the `js` reference: the first position of the largest
// (smallest) value; the first NaN wins over everything. Layout: x is a strided view over `shape`;
// `out` (int64) is row-major over the other dims in order (keepdim only changes the shape).
// No backward (integer output).
#pragma once
#include <cstdint>

#include "elem-type.h"

namespace hearth {

void arg_reduce_strided(ElemType type, bool max, const void* x, const int64_t* x_strides, const int64_t* shape, int nd,
                        int dim, int64_t* out);

}  // namespace hearth
