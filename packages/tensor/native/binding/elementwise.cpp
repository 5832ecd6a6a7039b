// JS bindings for the float32 elementwise and reduction kernels.
//   unary(op, x, xOffset, xStrides, out, shape)
//   binary(op, a, aOffset, aStrides, b, bOffset, bStrides, out, shape)
//   reduce(op, x, xOffset, xStrides, shape, dims, out)
//   intUnary(op, dtype, x, xOffset, xStrides, out, shape) -> boolean
//   intBinary(op, dtype, a, aOffset, aStrides, b, bOffset, bStrides, out, shape) -> boolean
//   intReduce(op, dtype, x, xOffset, xStrides, shape, dims, out) -> boolean
//     integer dtypes (kernels/int-elementwise.h); op is a binary or comparison op (out then a
//     Uint8Array); false, with nothing written, for a pair the kernels do not take.
// Buffers are Float32Arrays (or ArrayBuffers); offsets and strides in elements; `out` is
// row-major contiguous from its start and must not overlap the inputs.
#include "elementwise-api.h"

#include <map>
#include <string>
#include <vector>

#include "args.h"
#include "elem-arg.h"
#include "kernels/elementwise.h"
#include "kernels/int-elementwise.h"

namespace hearth {
namespace {

std::vector<int64_t> GetShape(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  Napi::Env env = info.Env();
  HEARTH_CHECK(env, info[i].IsArray(), fn, std::string("argument '") + name + "' must be an array");
  const uint32_t n = info[i].As<Napi::Array>().Length();
  HEARTH_CHECK(env, n <= kMaxDims, fn,
               std::string("argument '") + name + "' has " + std::to_string(n) + " dims; at most " +
                   std::to_string(kMaxDims) + " are supported");
  std::vector<int64_t> v(n);
  if (n > 0) GetIndexArray(info, i, fn, name, v.data(), n);
  return v;
}

struct F32Input {
  const float* data;
  std::vector<int64_t> strides;
};

F32Input GetInput(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name,
                  const std::vector<int64_t>& shape) {
  Napi::Env env = info.Env();
  BufferArg buf = GetBuffer(info, i, fn, name);
  HEARTH_CHECK(env, buf.element_size == 1 || buf.element_size == 4, fn,
               std::string("argument '") + name + "' must hold float32 elements");
  const int64_t offset = GetIndex(info, i + 1, fn, (std::string(name) + "Offset").c_str());
  F32Input in;
  in.strides = GetShape(info, i + 2, fn, (std::string(name) + "Strides").c_str());
  HEARTH_CHECK(env, in.strides.size() == shape.size(), fn,
               std::string("argument '") + name + "Strides' must have one stride per dim of 'shape'");
  CheckExtent(env, fn, name, offset, shape.data(), in.strides.data(), shape.size(),
              static_cast<double>(buf.bytes / 4));
  in.data = static_cast<const float*>(buf.data) + offset;
  return in;
}

float* GetOutput(const Napi::CallbackInfo& info, size_t i, const char* fn, double numel) {
  Napi::Env env = info.Env();
  BufferArg buf = GetBuffer(info, i, fn, "out");
  HEARTH_CHECK(env, buf.element_size == 1 || buf.element_size == 4, fn, "argument 'out' must hold float32 elements");
  HEARTH_CHECK(env, static_cast<double>(buf.bytes / 4) >= numel, fn,
               "argument 'out' holds " + std::to_string(buf.bytes / 4) + " elements, needs " +
                   std::to_string(static_cast<long long>(numel)));
  return static_cast<float*>(buf.data);
}

template <typename E>
E GetOp(const Napi::CallbackInfo& info, const char* fn, const std::map<std::string, E>& ops) {
  HEARTH_CHECK_STRING(info, 0, fn, "op");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  auto it = ops.find(name);
  HEARTH_CHECK(info.Env(), it != ops.end(), fn, "unknown op '" + name + "'");
  return it->second;
}

const std::map<std::string, UnaryOp> kUnary = {
    {"neg", UnaryOp::kNeg},   {"abs", UnaryOp::kAbs},   {"sign", UnaryOp::kSign},       {"exp", UnaryOp::kExp},
    {"log", UnaryOp::kLog},   {"log1p", UnaryOp::kLog1p}, {"sqrt", UnaryOp::kSqrt},    {"sin", UnaryOp::kSin},
    {"cos", UnaryOp::kCos},   {"tanh", UnaryOp::kTanh}, {"sigmoid", UnaryOp::kSigmoid}, {"relu", UnaryOp::kRelu},
    {"erf", UnaryOp::kErf}};
const std::map<std::string, BinaryOp> kBinary = {
    {"add", BinaryOp::kAdd}, {"sub", BinaryOp::kSub}, {"mul", BinaryOp::kMul},        {"div", BinaryOp::kDiv},
    {"pow", BinaryOp::kPow}, {"maximum", BinaryOp::kMaximum}, {"minimum", BinaryOp::kMinimum}};
const std::map<std::string, CompareOp> kCompare = {{"eq", CompareOp::kEq}, {"ne", CompareOp::kNe},
                                                   {"lt", CompareOp::kLt}, {"le", CompareOp::kLe},
                                                   {"gt", CompareOp::kGt}, {"ge", CompareOp::kGe}};
const std::map<std::string, ReduceOp> kReduce = {
    {"sum", ReduceOp::kSum}, {"amax", ReduceOp::kMax}, {"amin", ReduceOp::kMin}};

}  // namespace

Napi::Value Unary(const Napi::CallbackInfo& info) {
  static const char* fn = "unary";
  HEARTH_CHECK_ARGC(info, 6, fn);
  const UnaryOp op = GetOp(info, fn, kUnary);
  const std::vector<int64_t> shape = GetShape(info, 5, fn, "shape");
  const F32Input x = GetInput(info, 1, fn, "x", shape);
  float* out = GetOutput(info, 4, fn, Numel(shape));
  if (Numel(shape) > 0) unary_f32(op, x.data, x.strides.data(), out, shape.data(), static_cast<int>(shape.size()));
  return info.Env().Undefined();
}

Napi::Value Binary(const Napi::CallbackInfo& info) {
  static const char* fn = "binary";
  HEARTH_CHECK_ARGC(info, 9, fn);
  const BinaryOp op = GetOp(info, fn, kBinary);
  const std::vector<int64_t> shape = GetShape(info, 8, fn, "shape");
  const F32Input a = GetInput(info, 1, fn, "a", shape);
  const F32Input b = GetInput(info, 4, fn, "b", shape);
  float* out = GetOutput(info, 7, fn, Numel(shape));
  if (Numel(shape) > 0)
    binary_f32(op, a.data, a.strides.data(), b.data, b.strides.data(), out, shape.data(),
               static_cast<int>(shape.size()));
  return info.Env().Undefined();
}

// compare(op, a, aOffset, aStrides, b, bOffset, bStrides, out: Uint8Array, shape)
Napi::Value Compare(const Napi::CallbackInfo& info) {
  static const char* fn = "compare";
  HEARTH_CHECK_ARGC(info, 9, fn);
  const CompareOp op = GetOp(info, fn, kCompare);
  const std::vector<int64_t> shape = GetShape(info, 8, fn, "shape");
  const F32Input a = GetInput(info, 1, fn, "a", shape);
  const F32Input b = GetInput(info, 4, fn, "b", shape);
  BufferArg out = GetBuffer(info, 7, fn, "out");
  HEARTH_CHECK(info.Env(), out.element_size == 1 && static_cast<double>(out.bytes) >= Numel(shape), fn,
               "argument 'out' must be a Uint8Array of at least " + std::to_string(static_cast<long long>(Numel(shape))) +
                   " elements");
  if (Numel(shape) > 0)
    compare_f32(op, a.data, a.strides.data(), b.data, b.strides.data(), static_cast<uint8_t*>(out.data), shape.data(),
                static_cast<int>(shape.size()));
  return info.Env().Undefined();
}

Napi::Value Copy(const Napi::CallbackInfo& info) {
  static const char* fn = "copy";
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 7, fn);
  const std::vector<int64_t> shape = GetShape(info, 6, fn, "shape");
  BufferArg src = GetBuffer(info, 0, fn, "src");
  BufferArg dst = GetBuffer(info, 3, fn, "dst");
  HEARTH_CHECK(env, src.element_size == dst.element_size, fn,
               "arguments 'src' and 'dst' must be typed arrays of one element size");
  const int es = src.element_size;
  HEARTH_CHECK(env, es == 1 || es == 2 || es == 4 || es == 8, fn, "element size must be 1, 2, 4 or 8 bytes");
  const int64_t so = GetIndex(info, 1, fn, "srcOffset");
  const int64_t doff = GetIndex(info, 4, fn, "dstOffset");
  std::vector<int64_t> ss = GetShape(info, 2, fn, "srcStrides");
  std::vector<int64_t> ds = GetShape(info, 5, fn, "dstStrides");
  HEARTH_CHECK(env, ss.size() == shape.size() && ds.size() == shape.size(), fn,
               "'srcStrides' and 'dstStrides' must have one stride per dim of 'shape'");
  CheckExtent(env, fn, "src", so, shape.data(), ss.data(), shape.size(), static_cast<double>(src.bytes / es));
  CheckExtent(env, fn, "dst", doff, shape.data(), ds.data(), shape.size(), static_cast<double>(dst.bytes / es));
  if (Numel(shape) > 0)
    copy_strided(es, static_cast<const char*>(src.data) + so * es, ss.data(), static_cast<char*>(dst.data) + doff * es,
                 ds.data(), shape.data(), static_cast<int>(shape.size()));
  return env.Undefined();
}

Napi::Value Where(const Napi::CallbackInfo& info) {
  static const char* fn = "where";
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 11, fn);
  const std::vector<int64_t> shape = GetShape(info, 10, fn, "shape");
  const char* names[3] = {"cond", "a", "b"};
  const void* ptrs[3];
  std::vector<int64_t> strides[3];
  int es = 0;
  for (int k = 0; k < 3; k++) {
    BufferArg buf = GetBuffer(info, 3 * k, fn, names[k]);
    const int size = buf.element_size;
    if (k == 0) {
      HEARTH_CHECK(env, size == 1, fn, "argument 'cond' must be a Uint8Array of 0/1 bytes");
    } else if (k == 1) {
      es = size;
    } else {
      HEARTH_CHECK(env, size == es, fn, "arguments 'a' and 'b' must be typed arrays of one element size");
    }
    const int64_t off = GetIndex(info, 3 * k + 1, fn, (std::string(names[k]) + "Offset").c_str());
    strides[k] = GetShape(info, 3 * k + 2, fn, (std::string(names[k]) + "Strides").c_str());
    HEARTH_CHECK(env, strides[k].size() == shape.size(), fn,
                 std::string("argument '") + names[k] + "Strides' must have one stride per dim of 'shape'");
    CheckExtent(env, fn, names[k], off, shape.data(), strides[k].data(), shape.size(),
                static_cast<double>(buf.bytes / size));
    ptrs[k] = static_cast<const char*>(buf.data) + off * size;
  }
  HEARTH_CHECK(env, es == 1 || es == 2 || es == 4 || es == 8, fn, "element size must be 1, 2, 4 or 8 bytes");
  BufferArg out = GetBuffer(info, 9, fn, "out");
  HEARTH_CHECK(env, out.element_size == es, fn, "argument 'out' must have the element size of 'a'");
  HEARTH_CHECK(env, static_cast<double>(out.bytes / es) >= Numel(shape), fn, "argument 'out' is too small");
  if (Numel(shape) > 0)
    where_strided(es, static_cast<const uint8_t*>(ptrs[0]), strides[0].data(), ptrs[1], strides[1].data(), ptrs[2],
                  strides[2].data(), out.data, shape.data(), static_cast<int>(shape.size()));
  return env.Undefined();
}

namespace {

// The 'dims' argument at i as flags over `nd` dims.
void GetReduceDims(const Napi::CallbackInfo& info, size_t i, const char* fn, size_t nd, bool* reduce) {
  const std::vector<int64_t> dims = GetShape(info, i, fn, "dims");
  for (int64_t d : dims) {
    HEARTH_CHECK(info.Env(), d < static_cast<int64_t>(nd), fn,
                 "argument 'dims' entry " + std::to_string(d) + " is out of range for " + std::to_string(nd) + " dims");
    reduce[d] = true;
  }
}

double KeptNumel(const std::vector<int64_t>& shape, const bool* reduce) {
  double kept = 1;
  for (size_t d = 0; d < shape.size(); d++)
    if (!reduce[d]) kept *= static_cast<double>(shape[d]);
  return kept;
}

}  // namespace

Napi::Value Reduce(const Napi::CallbackInfo& info) {
  static const char* fn = "reduce";
  HEARTH_CHECK_ARGC(info, 7, fn);
  const ReduceOp op = GetOp(info, fn, kReduce);
  const std::vector<int64_t> shape = GetShape(info, 4, fn, "shape");
  const F32Input x = GetInput(info, 1, fn, "x", shape);
  bool reduce[kMaxDims] = {};
  GetReduceDims(info, 5, fn, shape.size(), reduce);
  const double kept = KeptNumel(shape, reduce);
  float* out = GetOutput(info, 6, fn, kept);
  if (kept > 0) reduce_f32(op, x.data, x.strides.data(), shape.data(), reduce, static_cast<int>(shape.size()), out);
  return info.Env().Undefined();
}

// intReduce(op, dtype, x, xOffset, xStrides, shape, dims, out) -> boolean: sum into int64,
// amax/amin into dtype (kernels/int-elementwise.h).
Napi::Value IntReduce(const Napi::CallbackInfo& info) {
  static const char* fn = "intReduce";
  HEARTH_CHECK_ARGC(info, 8, fn);
  const ReduceOp op = GetOp(info, fn, kReduce);
  const ElemType type = GetElemType(info, 1, fn, "dtype");
  const std::vector<int64_t> shape = GetDims(info, 5, fn, "shape");
  std::vector<int64_t> xs;
  const void* x = GetView(info, 2, 3, fn, "x", type, shape, &xs);
  bool reduce[kMaxDims] = {};
  GetReduceDims(info, 6, fn, shape.size(), reduce);
  const double kept = KeptNumel(shape, reduce);
  void* out = GetTyped(info, 7, fn, "out", op == ReduceOp::kSum ? ElemType::kInt64 : type, kept);
  if (kept == 0) return Napi::Boolean::New(info.Env(), true);
  return Napi::Boolean::New(info.Env(),
                            reduce_int(op, type, x, xs.data(), shape.data(), reduce, static_cast<int>(shape.size()), out));
}

Napi::Value IntUnary(const Napi::CallbackInfo& info) {
  static const char* fn = "intUnary";
  HEARTH_CHECK_ARGC(info, 7, fn);
  const UnaryOp op = GetOp(info, fn, kUnary);
  const ElemType type = GetElemType(info, 1, fn, "dtype");
  const std::vector<int64_t> shape = GetDims(info, 6, fn, "shape");
  std::vector<int64_t> xs;
  const void* x = GetView(info, 2, 3, fn, "x", type, shape, &xs);
  void* out = GetTyped(info, 5, fn, "out", type, Numel(shape));
  if (Numel(shape) == 0) return Napi::Boolean::New(info.Env(), true);
  return Napi::Boolean::New(info.Env(), unary_int(op, type, x, xs.data(), out, shape.data(), static_cast<int>(shape.size())));
}

Napi::Value IntBinary(const Napi::CallbackInfo& info) {
  static const char* fn = "intBinary";
  HEARTH_CHECK_ARGC(info, 10, fn);
  HEARTH_CHECK_STRING(info, 0, fn, "op");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  const bool compare = kCompare.count(name) > 0;
  HEARTH_CHECK(info.Env(), compare || kBinary.count(name) > 0, fn, "unknown op '" + name + "'");
  const ElemType type = GetElemType(info, 1, fn, "dtype");
  const std::vector<int64_t> shape = GetDims(info, 9, fn, "shape");
  std::vector<int64_t> as, bs;
  const void* a = GetView(info, 2, 3, fn, "a", type, shape, &as);
  const void* b = GetView(info, 5, 6, fn, "b", type, shape, &bs);
  void* out = GetTyped(info, 8, fn, "out", compare ? ElemType::kBool : type, Numel(shape));
  if (Numel(shape) == 0) return Napi::Boolean::New(info.Env(), true);
  const int nd = static_cast<int>(shape.size());
  const bool done = compare ? compare_int(kCompare.at(name), type, a, as.data(), b, bs.data(), static_cast<uint8_t*>(out),
                                          shape.data(), nd)
                            : binary_int(kBinary.at(name), type, a, as.data(), b, bs.data(), out, shape.data(), nd);
  return Napi::Boolean::New(info.Env(), done);
}

}  // namespace hearth
