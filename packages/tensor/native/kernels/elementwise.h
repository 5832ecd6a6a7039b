// Elementwise float32 kernels over strided, broadcast views (stride 0 on broadcast dims).
// Layout: out is row-major contiguous with `shape`; each input element (i0, i1, ...) is at
// in[sum ik * strides[k]]. Backward: these are primitives whose gradients the op table
// composes from other primitives; nothing is saved here.
#pragma once
#include <cstdint>

namespace hearth {

enum class UnaryOp : int { kNeg, kAbs, kSign, kExp, kLog, kLog1p, kSqrt, kSin, kCos, kTanh, kSigmoid, kRelu, kErf };
enum class BinaryOp : int { kAdd, kSub, kMul, kDiv, kPow, kMaximum, kMinimum };

constexpr int kMaxDims = 16;

// out[i] = f(x[i]) for every element of `shape` (nd <= kMaxDims).
void unary_f32(UnaryOp op, const float* x, const int64_t* x_strides, float* out, const int64_t* shape, int nd);
// out[i] = f(a[i], b[i]); a and b already broadcast to `shape`.
void binary_f32(BinaryOp op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides,
                float* out, const int64_t* shape, int nd);

enum class CompareOp : int { kEq, kNe, kLt, kLe, kGt, kGe };
// out[i] = a[i] OP b[i] as 0/1 bytes (bool); a and b already broadcast to `shape`; NaN compares
// unequal to everything.
void compare_f32(CompareOp op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides,
                 uint8_t* out, const int64_t* shape, int nd);

// Copies a strided view element by element (elem_size 1, 2, 4 or 8 bytes) into another
// strided view of the same shape; bit-exact for every dtype.
void copy_strided(int elem_size, const void* src, const int64_t* src_strides, void* dst, const int64_t* dst_strides,
                  const int64_t* shape, int nd);

// out[i] = cond[i] ? a[i] : b[i] for elements of elem_size bytes (1, 2, 4 or 8), cond as bytes,
// all three broadcast to `shape`; out row-major contiguous.
void where_strided(int elem_size, const uint8_t* cond, const int64_t* cond_strides, const void* a,
                   const int64_t* a_strides, const void* b, const int64_t* b_strides, void* out, const int64_t* shape,
                   int nd);

enum class ReduceOp : int { kSum, kMax, kMin };
// Reduces x over the dims flagged in `reduce` (row-major output of the kept dims). Sums
// accumulate in float64; max/min propagate NaN.
void reduce_f32(ReduceOp op, const float* x, const int64_t* x_strides, const int64_t* shape, const bool* reduce,
                int nd, float* out);

}  // namespace hearth
