#pragma once
#include <napi.h>

namespace hearth {
// unary(op, x, xOffset, xStrides, out, shape): float32 neg/abs/sign/exp/log/log1p/sqrt/sin/cos/
// tanh/sigmoid/relu/erf over a strided view into a contiguous output.
Napi::Value Unary(const Napi::CallbackInfo& info);
// binary(op, a, aOffset, aStrides, b, bOffset, bStrides, out, shape): float32 add/sub/mul/div/
// pow/maximum/minimum of two views broadcast to `shape`.
Napi::Value Binary(const Napi::CallbackInfo& info);
// copy(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape): strided copy between
// typed arrays of one element size (1, 2, 4 or 8 bytes), bit-exact.
Napi::Value Copy(const Napi::CallbackInfo& info);
// where(cond, condOffset, condStrides, a, aOffset, aStrides, b, bOffset, bStrides, out, shape):
// out = cond ? a : b with cond a Uint8Array and a, b, out of one element size, broadcast.
Napi::Value Where(const Napi::CallbackInfo& info);
// reduce(op, x, xOffset, xStrides, shape, dims, out): float32 sum/amax/amin over `dims`.
Napi::Value Reduce(const Napi::CallbackInfo& info);
// compare(op, a, aOffset, aStrides, b, bOffset, bStrides, out, shape): float32 eq ne lt le gt ge
// into a Uint8Array of 0/1.
Napi::Value Compare(const Napi::CallbackInfo& info);
// intUnary / intBinary: the integer-dtype kernels (kernels/int-elementwise.h); see elementwise.cpp.
Napi::Value IntUnary(const Napi::CallbackInfo& info);
Napi::Value IntBinary(const Napi::CallbackInfo& info);
Napi::Value IntReduce(const Napi::CallbackInfo& info);
}  // namespace hearth
