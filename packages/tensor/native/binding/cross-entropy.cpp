// JS bindings for the fused cross-entropy rows (kernels/cross-entropy.h). Offsets and strides
// are in elements; logits rows have a unit column stride.
//   crossEntropyRows(x, xOffset, rowStride, rows, cols, target, targetOffset, targetStride,
//                    ignoreIndex, smoothing, loss, lse)
//   crossEntropyBackwardRows(x, xOffset, rowStride, rows, cols, target, targetOffset,
//                    targetStride, ignoreIndex, smoothing, lse, lseOffset, lseStride,
//                    g, gOffset, gStride, dx)
// `loss`, `lse` and `dx` are written from element 0, row-major. A target outside [0, cols)
// that is not ignoreIndex throws an Error with code HEARTH_TENSOR_INDEX and writes nothing.
#include "cross-entropy-api.h"

#include <string>
#include <vector>

#include "args.h"
#include "kernels/cross-entropy.h"

namespace hearth {
namespace {

struct Rows {
  const float* x;
  CrossEntropyShape shape;
  std::vector<int64_t> targets;
};

const float* F32At(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, int64_t offset,
                   int64_t size, int64_t stride) {
  BufferArg b = GetBuffer(info, i, fn, name);
  HEARTH_CHECK(info.Env(), b.element_size == 4, fn, std::string("argument '") + name + "' must be a Float32Array");
  CheckExtent(info.Env(), fn, name, offset, &size, &stride, 1, static_cast<double>(b.bytes / 4));
  return static_cast<const float*>(b.data) + offset;
}

// Arguments 0..9 shared by both functions: logits rows, targets (copied to int64 and
// range-checked), ignoreIndex and smoothing.
Rows GetRows(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  Rows r;
  const int64_t xoff = GetIndex(info, 1, fn, "xOffset");
  r.shape.row_stride = GetIndex(info, 2, fn, "rowStride");
  r.shape.rows = GetIndex(info, 3, fn, "rows");
  r.shape.cols = GetIndex(info, 4, fn, "cols");
  HEARTH_CHECK(env, r.shape.cols > 0, fn, "argument 'cols' must be positive");
  BufferArg xb = GetBuffer(info, 0, fn, "x");
  HEARTH_CHECK(env, xb.element_size == 4, fn, "argument 'x' must be a Float32Array");
  const int64_t sizes[2] = {r.shape.rows, r.shape.cols};
  const int64_t strides[2] = {r.shape.row_stride, 1};
  CheckExtent(env, fn, "x", xoff, sizes, strides, 2, static_cast<double>(xb.bytes / 4));
  r.x = static_cast<const float*>(xb.data) + xoff;

  BufferArg tb = GetBuffer(info, 5, fn, "target");
  HEARTH_CHECK(env, tb.element_size == 8 || tb.element_size == 4, fn,
               "argument 'target' must be a BigInt64Array or an Int32Array");
  const int64_t toff = GetIndex(info, 6, fn, "targetOffset");
  const int64_t tstride = GetIndex(info, 7, fn, "targetStride");
  CheckExtent(env, fn, "target", toff, &r.shape.rows, &tstride, 1,
              static_cast<double>(tb.bytes / tb.element_size));
  HEARTH_CHECK(env, info[8].IsNumber(), fn, "argument 'ignoreIndex' must be a number");
  r.shape.ignore_index = info[8].As<Napi::Number>().Int64Value();
  r.shape.smoothing = GetNumber(info, 9, fn, "smoothing");
  HEARTH_CHECK(env, r.shape.smoothing >= 0 && r.shape.smoothing <= 1, fn, "argument 'smoothing' must be in [0, 1]");
  r.targets.resize(static_cast<size_t>(r.shape.rows));
  for (int64_t n = 0; n < r.shape.rows; n++) {
    const int64_t at = toff + n * tstride;
    const int64_t v = tb.element_size == 8 ? static_cast<const int64_t*>(tb.data)[at]
                                           : static_cast<const int32_t*>(tb.data)[at];
    if (v != r.shape.ignore_index && (v < 0 || v >= r.shape.cols)) {
      Napi::Error e = Napi::Error::New(env, std::string(fn) + ": target " + std::to_string(v) + " of row " +
                                                std::to_string(n) + " is outside [0, " +
                                                std::to_string(r.shape.cols) + ") and is not ignoreIndex " +
                                                std::to_string(r.shape.ignore_index));
      e.Set("code", Napi::String::New(env, "HEARTH_TENSOR_INDEX"));
      throw e;
    }
    r.targets[static_cast<size_t>(n)] = v;
  }
  return r;
}

}  // namespace

Napi::Value CrossEntropyRows(const Napi::CallbackInfo& info) {
  static const char* fn = "crossEntropyRows";
  HEARTH_CHECK_ARGC(info, 12, fn);
  Rows r = GetRows(info, fn);
  float* loss = GetFloat32(info, 10, fn, "loss", static_cast<double>(r.shape.rows));
  float* lse = GetFloat32(info, 11, fn, "lse", static_cast<double>(r.shape.rows));
  cross_entropy_rows(r.x, r.targets.data(), r.shape, loss, lse);
  return info.Env().Undefined();
}

Napi::Value CrossEntropyBackwardRows(const Napi::CallbackInfo& info) {
  static const char* fn = "crossEntropyBackwardRows";
  HEARTH_CHECK_ARGC(info, 17, fn);
  Rows r = GetRows(info, fn);
  const int64_t lstride = GetIndex(info, 12, fn, "lseStride");
  const float* lse = F32At(info, 10, fn, "lse", GetIndex(info, 11, fn, "lseOffset"), r.shape.rows, lstride);
  const int64_t gstride = GetIndex(info, 15, fn, "gStride");
  const float* g = F32At(info, 13, fn, "g", GetIndex(info, 14, fn, "gOffset"), r.shape.rows, gstride);
  float* dx = GetFloat32(info, 16, fn, "dx", static_cast<double>(r.shape.rows) * static_cast<double>(r.shape.cols));
  if (lstride != 1) {
    std::vector<float> packed(static_cast<size_t>(r.shape.rows));
    for (int64_t n = 0; n < r.shape.rows; n++) packed[static_cast<size_t>(n)] = lse[n * lstride];
    cross_entropy_backward_rows(r.x, r.targets.data(), packed.data(), g, gstride, r.shape, dx);
  } else {
    cross_entropy_backward_rows(r.x, r.targets.data(), lse, g, gstride, r.shape, dx);
  }
  return info.Env().Undefined();
}

}  // namespace hearth
