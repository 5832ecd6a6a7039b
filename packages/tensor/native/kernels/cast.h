// Casts between any two dtypes, with the `js` reference's semantics exactly (elem-type.h):
// out (row-major contiguous over `shape`, dtype `to`) = x (a strided view, dtype `from`).
// Same dtype: bit copy. int64 -> int32/int8/uint8: the low bits (a C cast). Otherwise through
// the double the js kernel sees: floats round to nearest even once, integers truncate and wrap,
// bool is 1 for anything but ±0 (NaN included). float32 <-> float16/bfloat16 of contiguous runs
// go to convert.h's vector kernels instead. Common pairs (ids, masks: int/bool <-> float32,
// int32 <-> int64, float -> bool) are plain loops over coalesced rows the compiler vectorises;
// big tensors split over the pool. Backward: the op table casts the gradient back.
#pragma once
#include <cstdint>

#include "elem-type.h"

namespace hearth {

void cast_strided(ElemType from, const void* x, const int64_t* x_strides, ElemType to, void* out,
                  const int64_t* shape, int nd);

}  // namespace hearth
