// Stable sort along one dim, like the `js` reference: NaN sorts as the largest value (first when
// descending), ±0 are equal, equal keys keep their input order in both directions. Layout: x is
// a strided view over `shape`; `values` (x's element type, raw elements copied) and `indices`
// (int64 positions along dim) are row-major contiguous over `shape`. Each row's keys are mapped
// to unsigned integers that order like the values (descending: complemented) and packed with
// the position, so one integer sort gives the stable order (LSD radix passes over 32-bit keys,
// std::sort for int64 and short rows). Rows split over the pool.
// Backward: scatterAdd of the gradient through `indices` (the op table composes it).
#pragma once
#include <cstdint>

#include "elem-type.h"

namespace hearth {

void sort_strided(ElemType type, const void* x, const int64_t* x_strides, const int64_t* shape, int nd, int dim,
                  bool descending, void* values, int64_t* indices);

}  // namespace hearth
