// Elementwise kernels for the integer dtypes (int8, uint8, int32, int64; bool for comparisons)
// over strided, broadcast views, with the `js` reference's results wherever its float64
// arithmetic is exact: add, sub, mul, neg and abs wrap modulo 2^bits (two's complement), div
// truncates towards zero (x / 0 gives 0, as js's ±inf/NaN write 0), maximum/minimum/relu/sign
// are exact, comparisons write 0/1 bytes, sums accumulate exactly in int64 (js: in float64,
// exact below 2^53). Layout as in elementwise.h: inputs broadcast to
// `shape`, out row-major contiguous. Integer outputs have no gradient.
#pragma once
#include <cstdint>

#include "elem-type.h"
#include "elementwise.h"

namespace hearth {

// False (nothing written) for an op or dtype these kernels do not take (pow, float dtypes).
bool unary_int(UnaryOp op, ElemType type, const void* x, const int64_t* x_strides, void* out, const int64_t* shape,
               int nd);
bool binary_int(BinaryOp op, ElemType type, const void* a, const int64_t* a_strides, const void* b,
                const int64_t* b_strides, void* out, const int64_t* shape, int nd);
// sum (into int64, wrapping) or amax/amin (into `type`) over the dims flagged in `reduce`,
// row-major over the kept dims; an empty reduction gives 0 (as js writes ±inf into integers).
bool reduce_int(ReduceOp op, ElemType type, const void* x, const int64_t* x_strides, const int64_t* shape,
                const bool* reduce, int nd, void* out);
bool compare_int(CompareOp op, ElemType type, const void* a, const int64_t* a_strides, const void* b,
                 const int64_t* b_strides, uint8_t* out, const int64_t* shape, int nd);

}  // namespace hearth
