// JS bindings of the scans along a dim (kernels/cumsum.h, kernels/sort.h):
//   cumsum(x, dtype, xOffset, xStrides, shape, dim, reverse, out)
//     out: row-major over shape; x's dtype for floats, a BigInt64Array for integers and bool
//   sort(x, dtype, xOffset, xStrides, shape, dim, descending, values, indices)
//     values: x's dtype, indices: BigInt64Array, both row-major over shape
//   argReduce(op, x, dtype, xOffset, xStrides, shape, dim, out)
//     op "argmax" | "argmin"; out: BigInt64Array row-major over the other dims
#include <string>
#include <vector>

#include "elem-arg.h"
#include "kernels/arg-reduce.h"
#include "kernels/cumsum.h"
#include "kernels/sort.h"
#include "scan-api.h"

namespace hearth {
namespace {

int GetDim(const Napi::CallbackInfo& info, size_t i, const char* fn, const std::vector<int64_t>& shape) {
  const int64_t dim = GetIndex(info, i, fn, "dim");
  HEARTH_CHECK(info.Env(), dim < static_cast<int64_t>(shape.size()), fn,
               "argument 'dim' must be below the rank " + std::to_string(shape.size()) + ", got " + std::to_string(dim));
  return static_cast<int>(dim);
}

}  // namespace

Napi::Value Cumsum(const Napi::CallbackInfo& info) {
  static const char* fn = "cumsum";
  HEARTH_CHECK_ARGC(info, 8, fn);
  const ElemType type = GetElemType(info, 1, fn, "dtype");
  const std::vector<int64_t> shape = GetDims(info, 4, fn, "shape");
  const int dim = GetDim(info, 5, fn, shape);
  std::vector<int64_t> xs;
  const void* x = GetView(info, 0, 2, fn, "x", type, shape, &xs);
  const ElemType out_type = is_float_elem(type) ? type : ElemType::kInt64;
  void* out = GetTyped(info, 7, fn, "out", out_type, Numel(shape));
  if (Numel(shape) > 0) {
    cumsum_strided(type, x, xs.data(), shape.data(), static_cast<int>(shape.size()), dim, info[6].ToBoolean(), out);
  }
  return info.Env().Undefined();
}

Napi::Value Sort(const Napi::CallbackInfo& info) {
  static const char* fn = "sort";
  HEARTH_CHECK_ARGC(info, 9, fn);
  const ElemType type = GetElemType(info, 1, fn, "dtype");
  const std::vector<int64_t> shape = GetDims(info, 4, fn, "shape");
  const int dim = GetDim(info, 5, fn, shape);
  HEARTH_CHECK(info.Env(), shape[dim] < (int64_t{1} << 32), fn, "the sorted dim must be shorter than 2^32");
  std::vector<int64_t> xs;
  const void* x = GetView(info, 0, 2, fn, "x", type, shape, &xs);
  void* values = GetTyped(info, 7, fn, "values", type, Numel(shape));
  void* indices = GetTyped(info, 8, fn, "indices", ElemType::kInt64, Numel(shape));
  if (Numel(shape) > 0) {
    sort_strided(type, x, xs.data(), shape.data(), static_cast<int>(shape.size()), dim, info[6].ToBoolean(), values,
                 static_cast<int64_t*>(indices));
  }
  return info.Env().Undefined();
}

Napi::Value ArgReduce(const Napi::CallbackInfo& info) {
  static const char* fn = "argReduce";
  HEARTH_CHECK_ARGC(info, 8, fn);
  HEARTH_CHECK_STRING(info, 0, fn, "op");
  const std::string op = info[0].As<Napi::String>().Utf8Value();
  HEARTH_CHECK(info.Env(), op == "argmax" || op == "argmin", fn, "argument 'op' must be 'argmax' or 'argmin', got '" + op + "'");
  const ElemType type = GetElemType(info, 2, fn, "dtype");
  const std::vector<int64_t> shape = GetDims(info, 5, fn, "shape");
  const int dim = GetDim(info, 6, fn, shape);
  HEARTH_CHECK(info.Env(), shape[dim] > 0, fn, "cannot reduce over an empty dim");
  std::vector<int64_t> xs;
  const void* x = GetView(info, 1, 3, fn, "x", type, shape, &xs);
  void* out = GetTyped(info, 7, fn, "out", ElemType::kInt64, Numel(shape) / static_cast<double>(shape[dim]));
  if (Numel(shape) > 0) {
    arg_reduce_strided(type, op == "argmax", x, xs.data(), shape.data(), static_cast<int>(shape.size()), dim,
                       static_cast<int64_t*>(out));
  }
  return info.Env().Undefined();
}

}  // namespace hearth
