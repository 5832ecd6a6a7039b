// JS bindings for the fused row kernels (kernels/fused.h). Every array is a Float32Array whose
// view starts at element 0 of the rows (use subarray for offsets); optional ones may be null.
//   softmaxRows(x, y, rows, cols)            softmaxBackwardRows(y, dy, dx, rows, cols)
//   layerNormRows(x, w, b, eps, y, mean, rstd, rows, cols)
//   layerNormBackwardRows(x, w, mean, rstd, dy, dx, dw, db, rows, cols)
//   rmsNormRows(x, w, eps, y, rstd, rows, cols)
#include "fused-api.h"

#include <string>

#include "args.h"
#include "kernels/fused.h"

namespace hearth {
namespace {

// A Float32Array (or null when optional) holding at least `need` elements.
float* F32(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, double need, bool optional) {
  if (optional && (info[i].IsNull() || info[i].IsUndefined())) return nullptr;
  BufferArg b = GetBuffer(info, i, fn, name);
  HEARTH_CHECK(info.Env(), b.element_size == 4, fn, std::string("argument '") + name + "' must be a Float32Array");
  HEARTH_CHECK(info.Env(), static_cast<double>(b.bytes / 4) >= need, fn,
               std::string("argument '") + name + "' holds " + std::to_string(b.bytes / 4) + " elements, needs " +
                   std::to_string(static_cast<long long>(need)));
  return static_cast<float*>(b.data);
}

}  // namespace

Napi::Value SoftmaxRows(const Napi::CallbackInfo& info) {
  static const char* fn = "softmaxRows";
  HEARTH_CHECK_ARGC(info, 4, fn);
  const int64_t rows = GetIndex(info, 2, fn, "rows"), cols = GetIndex(info, 3, fn, "cols");
  const double n = static_cast<double>(rows) * cols;
  const float* x = F32(info, 0, fn, "x", n, false);
  float* y = F32(info, 1, fn, "y", n, false);
  softmax_rows(x, y, rows, cols);
  return info.Env().Undefined();
}

Napi::Value SoftmaxBackwardRows(const Napi::CallbackInfo& info) {
  static const char* fn = "softmaxBackwardRows";
  HEARTH_CHECK_ARGC(info, 5, fn);
  const int64_t rows = GetIndex(info, 3, fn, "rows"), cols = GetIndex(info, 4, fn, "cols");
  const double n = static_cast<double>(rows) * cols;
  softmax_backward_rows(F32(info, 0, fn, "y", n, false), F32(info, 1, fn, "dy", n, false),
                        F32(info, 2, fn, "dx", n, false), rows, cols);
  return info.Env().Undefined();
}

Napi::Value LayerNormRows(const Napi::CallbackInfo& info) {
  static const char* fn = "layerNormRows";
  HEARTH_CHECK_ARGC(info, 9, fn);
  const int64_t rows = GetIndex(info, 7, fn, "rows"), cols = GetIndex(info, 8, fn, "cols");
  const double n = static_cast<double>(rows) * cols;
  const float eps = static_cast<float>(GetNumber(info, 3, fn, "eps"));
  layer_norm_rows(F32(info, 0, fn, "x", n, false), F32(info, 1, fn, "w", cols, true), F32(info, 2, fn, "b", cols, true),
                  eps, F32(info, 4, fn, "y", n, false), F32(info, 5, fn, "mean", rows, true),
                  F32(info, 6, fn, "rstd", rows, true), rows, cols);
  return info.Env().Undefined();
}

Napi::Value LayerNormBackwardRows(const Napi::CallbackInfo& info) {
  static const char* fn = "layerNormBackwardRows";
  HEARTH_CHECK_ARGC(info, 10, fn);
  const int64_t rows = GetIndex(info, 8, fn, "rows"), cols = GetIndex(info, 9, fn, "cols");
  const double n = static_cast<double>(rows) * cols;
  layer_norm_backward_rows(F32(info, 0, fn, "x", n, false), F32(info, 1, fn, "w", cols, true),
                           F32(info, 2, fn, "mean", rows, false), F32(info, 3, fn, "rstd", rows, false),
                           F32(info, 4, fn, "dy", n, false), F32(info, 5, fn, "dx", n, false),
                           F32(info, 6, fn, "dw", cols, true), F32(info, 7, fn, "db", cols, true), rows, cols);
  return info.Env().Undefined();
}

Napi::Value RmsNormRows(const Napi::CallbackInfo& info) {
  static const char* fn = "rmsNormRows";
  HEARTH_CHECK_ARGC(info, 7, fn);
  const int64_t rows = GetIndex(info, 5, fn, "rows"), cols = GetIndex(info, 6, fn, "cols");
  const double n = static_cast<double>(rows) * cols;
  const float eps = static_cast<float>(GetNumber(info, 2, fn, "eps"));
  rms_norm_rows(F32(info, 0, fn, "x", n, false), F32(info, 1, fn, "w", cols, true), eps, F32(info, 3, fn, "y", n, false),
                F32(info, 4, fn, "rstd", rows, true), rows, cols);
  return info.Env().Undefined();
}

}  // namespace hearth
