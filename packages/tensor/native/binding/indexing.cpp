// JS bindings for gather and scatterAdd (see kernels/indexing.h).
//   gather(x, xOffset, xStrides, size, index, indexOffset, indexStrides, out, shape, dim)
//   scatterAdd(out, outShape, index, indexOffset, indexStrides, src, srcOffset, srcStrides,
//              shape, dim, dtype?)   (`out` row-major over outShape, already holding x;
//              dtype defaults to "float32", any dtype name is accepted)
// An index outside [-size, size) throws an Error with code HEARTH_TENSOR_INDEX and writes
// nothing.
#include "indexing-api.h"

#include <string>
#include <vector>

#include "args.h"
#include "elem-arg.h"
#include "kernels/elementwise.h"
#include "kernels/indexing.h"

namespace hearth {
namespace {

struct Index {
  IndexView view;
  std::vector<int64_t> strides;
};

Index GetIndexView(const Napi::CallbackInfo& info, size_t i, const char* fn, const std::vector<int64_t>& shape) {
  Napi::Env env = info.Env();
  BufferArg buf = GetBuffer(info, i, fn, "index");
  HEARTH_CHECK(env, buf.element_size == 8 || buf.element_size == 4, fn,
               "argument 'index' must be a BigInt64Array or an Int32Array");
  const int64_t off = GetIndex(info, i + 1, fn, "indexOffset");
  Index ix;
  ix.strides = GetDims(info, i + 2, fn, "indexStrides");
  HEARTH_CHECK(env, ix.strides.size() == shape.size(), fn, "'indexStrides' must have one stride per dim");
  CheckExtent(env, fn, "index", off, shape.data(), ix.strides.data(), shape.size(),
              static_cast<double>(buf.bytes / buf.element_size));
  ix.view = IndexView{static_cast<const char*>(buf.data) + off * buf.element_size, ix.strides.data(),
                      buf.element_size == 8};
  return ix;
}

[[noreturn]] void ThrowIndex(Napi::Env env, const char* fn, const Index& ix, const std::vector<int64_t>& shape,
                             int64_t pos, int dim, int64_t size) {
  const int64_t j = index_at(ix.view, shape.data(), static_cast<int>(shape.size()), pos);
  Napi::Error e = Napi::Error::New(env, std::string(fn) + ": index " + std::to_string(j) +
                                            " is out of range for dim " + std::to_string(dim) + " of size " +
                                            std::to_string(size));
  e.Set("code", Napi::String::New(env, "HEARTH_TENSOR_INDEX"));
  throw e;
}

}  // namespace

Napi::Value Gather(const Napi::CallbackInfo& info) {
  static const char* fn = "gather";
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 10, fn);
  const std::vector<int64_t> shape = GetDims(info, 8, fn, "shape");
  const int64_t dim = GetIndex(info, 9, fn, "dim");
  HEARTH_CHECK(env, dim < static_cast<int64_t>(shape.size()), fn, "argument 'dim' is out of range");
  BufferArg x = GetBuffer(info, 0, fn, "x");
  const int es = x.element_size;
  HEARTH_CHECK(env, es == 1 || es == 2 || es == 4 || es == 8, fn, "argument 'x' must be a typed array");
  const int64_t xoff = GetIndex(info, 1, fn, "xOffset");
  std::vector<int64_t> xs = GetDims(info, 2, fn, "xStrides");
  HEARTH_CHECK(env, xs.size() == shape.size(), fn, "'xStrides' must have one stride per dim");
  const int64_t size = GetIndex(info, 3, fn, "size");
  std::vector<int64_t> xshape = shape;
  xshape[dim] = size;
  if (Numel(shape) == 0) return env.Undefined();
  CheckExtent(env, fn, "x", xoff, xshape.data(), xs.data(), xshape.size(), static_cast<double>(x.bytes / es));
  Index ix = GetIndexView(info, 4, fn, shape);
  BufferArg out = GetBuffer(info, 7, fn, "out");
  HEARTH_CHECK(env, out.element_size == es, fn, "argument 'out' must have the element size of 'x'");
  HEARTH_CHECK(env, static_cast<double>(out.bytes / es) >= Numel(shape), fn, "argument 'out' is too small");
  const int64_t bad = gather_strided(es, static_cast<const char*>(x.data) + xoff * es, xs.data(), size, ix.view,
                                     out.data, shape.data(), static_cast<int>(shape.size()), static_cast<int>(dim));
  if (bad >= 0) ThrowIndex(env, fn, ix, shape, bad, static_cast<int>(dim), size);
  return env.Undefined();
}

Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  static const char* fn = "scatterAdd";
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 10, fn);
  const ElemType type = info.Length() > 10 && !info[10].IsUndefined() ? GetElemType(info, 10, fn, "dtype")
                                                                       : ElemType::kFloat32;
  const int es = elem_size(type);
  BufferArg out = GetBuffer(info, 0, fn, "out");
  HEARTH_CHECK(env, out.element_size == es, fn, "argument 'out' must be a typed array of its dtype");
  const std::vector<int64_t> oshape = GetDims(info, 1, fn, "outShape");
  const std::vector<int64_t> shape = GetDims(info, 8, fn, "shape");
  const int64_t dim = GetIndex(info, 9, fn, "dim");
  HEARTH_CHECK(env, oshape.size() == shape.size() && dim < static_cast<int64_t>(shape.size()), fn,
               "'outShape', 'shape' and 'dim' do not agree");
  HEARTH_CHECK(env, static_cast<double>(out.bytes / es) >= Numel(oshape), fn, "argument 'out' is too small");
  for (size_t d = 0; d < shape.size(); d++)
    HEARTH_CHECK(env, static_cast<int64_t>(d) == dim || shape[d] <= oshape[d], fn,
                 "'shape' exceeds 'outShape' outside 'dim'");
  if (Numel(shape) == 0) return env.Undefined();
  std::vector<int64_t> ostr(oshape.size());
  int64_t acc = 1;
  for (int d = static_cast<int>(oshape.size()) - 1; d >= 0; d--) {
    ostr[d] = acc;
    acc *= oshape[d];
  }
  Index ix = GetIndexView(info, 2, fn, shape);
  BufferArg src = GetBuffer(info, 5, fn, "src");
  HEARTH_CHECK(env, src.element_size == es, fn, "argument 'src' must be a typed array of its dtype");
  const int64_t soff = GetIndex(info, 6, fn, "srcOffset");
  std::vector<int64_t> ss = GetDims(info, 7, fn, "srcStrides");
  HEARTH_CHECK(env, ss.size() == shape.size(), fn, "'srcStrides' must have one stride per dim");
  CheckExtent(env, fn, "src", soff, shape.data(), ss.data(), shape.size(), static_cast<double>(src.bytes / es));
  const int64_t size = oshape[dim];
  const int64_t bad = scatter_add_typed(type, out.data, ostr.data(), static_cast<int64_t>(Numel(oshape)), size, ix.view,
                                        static_cast<const char*>(src.data) + soff * es, ss.data(), shape.data(),
                                        static_cast<int>(shape.size()), static_cast<int>(dim));
  if (bad >= 0) ThrowIndex(env, fn, ix, shape, bad, static_cast<int>(dim), size);
  return env.Undefined();
}

}  // namespace hearth
