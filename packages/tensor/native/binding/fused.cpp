// JS bindings for the fused row kernels (kernels/fused.h). Every array is a Float32Array whose
// view starts at element 0 of the rows (use subarray for offsets); optional ones may be null.
//   softmaxRows(x, y, rows, cols)            softmaxBackwardRows(y, dy, dx, rows, cols)
//   layerNormRows(x, w, b, eps, y, mean, rstd, rows, cols)
//   layerNormBackwardRows(x, w, mean, rstd, dy, dx, dw, db, rows, cols)
//   rmsNormRows(x, w, eps, y, rstd, rows, cols)
//   logSoftmaxRows(x, y, rows, cols)         logSoftmaxBackwardRows(y, dy, dx, rows, cols)
//   rmsNormBackwardRows(x, w, rstd, dy, dx, dw, rows, cols)   (dw accumulated into)
//   activation(op, x, y, n)                  activationBackward(op, x, dy, dx, n)
//     op: 'gelu' (erf), 'geluTanh' or 'silu'
//   fusedKernel() -> the variant in use: 'avx512', 'avx2' or 'generic'
#include "fused-api.h"

#include <string>

#include "args.h"
#include "kernels/fused.h"

namespace hearth {
namespace {

// A Float32Array (or null when optional) holding at least `need` elements.
float* F32(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, double need, bool optional) {
  if (optional && (info[i].IsNull() || info[i].IsUndefined())) return nullptr;
  return GetFloat32(info, i, fn, name, need);
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

namespace hearth {
namespace {

Activation GetActivation(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  HEARTH_CHECK_STRING(info, i, fn, "op");
  const std::string op = info[i].As<Napi::String>().Utf8Value();
  if (op == "gelu") return Activation::kGelu;
  if (op == "geluTanh") return Activation::kGeluTanh;
  HEARTH_CHECK(info.Env(), op == "silu", fn, "argument 'op' must be 'gelu', 'geluTanh' or 'silu', got '" + op + "'");
  return Activation::kSilu;
}

}  // namespace

Napi::Value LogSoftmaxRows(const Napi::CallbackInfo& info) {
  static const char* fn = "logSoftmaxRows";
  HEARTH_CHECK_ARGC(info, 4, fn);
  const int64_t rows = GetIndex(info, 2, fn, "rows"), cols = GetIndex(info, 3, fn, "cols");
  const double n = static_cast<double>(rows) * cols;
  log_softmax_rows(F32(info, 0, fn, "x", n, false), F32(info, 1, fn, "y", n, false), rows, cols);
  return info.Env().Undefined();
}

Napi::Value LogSoftmaxBackwardRows(const Napi::CallbackInfo& info) {
  static const char* fn = "logSoftmaxBackwardRows";
  HEARTH_CHECK_ARGC(info, 5, fn);
  const int64_t rows = GetIndex(info, 3, fn, "rows"), cols = GetIndex(info, 4, fn, "cols");
  const double n = static_cast<double>(rows) * cols;
  log_softmax_backward_rows(F32(info, 0, fn, "y", n, false), F32(info, 1, fn, "dy", n, false),
                            F32(info, 2, fn, "dx", n, false), rows, cols);
  return info.Env().Undefined();
}

Napi::Value RmsNormBackwardRows(const Napi::CallbackInfo& info) {
  static const char* fn = "rmsNormBackwardRows";
  HEARTH_CHECK_ARGC(info, 8, fn);
  const int64_t rows = GetIndex(info, 6, fn, "rows"), cols = GetIndex(info, 7, fn, "cols");
  const double n = static_cast<double>(rows) * cols;
  rms_norm_backward_rows(F32(info, 0, fn, "x", n, false), F32(info, 1, fn, "w", cols, true),
                         F32(info, 2, fn, "rstd", rows, false), F32(info, 3, fn, "dy", n, false),
                         F32(info, 4, fn, "dx", n, false), F32(info, 5, fn, "dw", cols, true), rows, cols);
  return info.Env().Undefined();
}

Napi::Value ActivationForward(const Napi::CallbackInfo& info) {
  static const char* fn = "activation";
  HEARTH_CHECK_ARGC(info, 4, fn);
  const Activation op = GetActivation(info, 0, fn);
  const int64_t n = GetIndex(info, 3, fn, "n");
  activation(op, F32(info, 1, fn, "x", n, false), F32(info, 2, fn, "y", n, false), n);
  return info.Env().Undefined();
}

Napi::Value ActivationBackward(const Napi::CallbackInfo& info) {
  static const char* fn = "activationBackward";
  HEARTH_CHECK_ARGC(info, 5, fn);
  const Activation op = GetActivation(info, 0, fn);
  const int64_t n = GetIndex(info, 4, fn, "n");
  activation_backward(op, F32(info, 1, fn, "x", n, false), F32(info, 2, fn, "dy", n, false),
                      F32(info, 3, fn, "dx", n, false), n);
  return info.Env().Undefined();
}

Napi::Value FusedKernel(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), row_kernels()->name); }

}  // namespace hearth
