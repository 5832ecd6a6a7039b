// JS bindings for the GEMM kernels and the thread pool.
//
// gemm(dtype, M, N, K, batch, a, aOffset, aStrides, b, bOffset, bStrides, c, cOffset, cStrides,
//      alpha, beta)
//   C[b] = alpha * A[b]·B[b] + beta * C[b]. dtype ("float32" | "bfloat16" | "float16") is the
//   dtype of a and b; c is float32. Buffers are ArrayBuffers or typed arrays; offsets and
//   strides ([batch, row, column]) are in elements. c must not overlap a or b.
#include "gemm-api.h"

#include <cstring>
#include <string>

#include "args.h"
#include "kernels/gemm.h"
#include "kernels/thread-pool.h"

namespace hearth {
namespace {

DType ParseDType(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  HEARTH_CHECK_STRING(info, i, fn, "dtype");
  std::string s = info[i].As<Napi::String>().Utf8Value();
  if (s == "float32") return DType::kFloat32;
  if (s == "bfloat16") return DType::kBFloat16;
  if (s == "float16") return DType::kFloat16;
  throw HearthArgumentError(info.Env(), std::string(fn) +
                                            ": argument 'dtype' must be 'float32', 'bfloat16' or 'float16', got '" +
                                            s + "'");
}

const char* DTypeName(DType t) {
  return t == DType::kFloat32 ? "float32" : t == DType::kBFloat16 ? "bfloat16" : "float16";
}

struct Operand {
  char* base;
  int64_t offset;
  int64_t strides[3];
};

Operand GetOperand(const Napi::CallbackInfo& info, size_t i, const char* name, int elem_size, DType dtype,
                   int64_t batch, int64_t rows, int64_t cols) {
  static const char* fn = "gemm";
  Napi::Env env = info.Env();
  BufferArg buf = GetBuffer(info, i, fn, name);
  HEARTH_CHECK(env, buf.element_size == 1 || buf.element_size == elem_size, fn,
               std::string("argument '") + name + "' is a typed array of " + std::to_string(buf.element_size) +
                   "-byte elements but dtype " + DTypeName(dtype) + " needs " + std::to_string(elem_size));
  Operand op;
  op.base = static_cast<char*>(buf.data);
  op.offset = GetIndex(info, i + 1, fn, (std::string(name) + "Offset").c_str());
  GetIndexArray(info, i + 2, fn, (std::string(name) + "Strides").c_str(), op.strides, 3);
  const int64_t sizes[3] = {batch, rows, cols};
  CheckExtent(env, fn, name, op.offset, sizes, op.strides, 3, static_cast<double>(buf.bytes / elem_size));
  HEARTH_CHECK(env, reinterpret_cast<uintptr_t>(op.base) % elem_size == 0, fn,
               std::string("argument '") + name + "' is not aligned to its element size");
  return op;
}

}  // namespace

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  static const char* fn = "gemm";
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 16, fn);
  const DType dtype = ParseDType(info, 0, fn);
  const int64_t M = GetIndex(info, 1, fn, "M");
  const int64_t N = GetIndex(info, 2, fn, "N");
  const int64_t K = GetIndex(info, 3, fn, "K");
  const int64_t batch = GetIndex(info, 4, fn, "batch");
  const int es = dtype_size(dtype);
  Operand a = GetOperand(info, 5, "a", es, dtype, batch, M, K);
  Operand b = GetOperand(info, 8, "b", es, dtype, batch, K, N);
  Operand c = GetOperand(info, 11, "c", 4, DType::kFloat32, batch, M, N);
  const double alpha = GetNumber(info, 14, fn, "alpha");
  const double beta = GetNumber(info, 15, fn, "beta");
  HEARTH_CHECK(env, M < (int64_t{1} << 31) && N < (int64_t{1} << 31) && K < (int64_t{1} << 31), fn,
               "M, N and K must each be below 2^31");

  GemmProblem p;
  p.M = M;
  p.N = N;
  p.K = K;
  p.batch = batch;
  p.dtype = dtype;
  p.a = GemmOperand{a.base + a.offset * es, a.strides[0], a.strides[1], a.strides[2]};
  p.b = GemmOperand{b.base + b.offset * es, b.strides[0], b.strides[1], b.strides[2]};
  p.c = reinterpret_cast<float*>(c.base) + c.offset;
  p.cbs = c.strides[0];
  p.crs = c.strides[1];
  p.ccs = c.strides[2];
  p.alpha = static_cast<float>(alpha);
  p.beta = static_cast<float>(beta);
  gemm(p);
  return env.Undefined();
}

Napi::Value GemmKernel(const Napi::CallbackInfo& info) {
  HEARTH_CHECK_ARGC(info, 1, "gemmKernel");
  return Napi::String::New(info.Env(), gemm_kernel_name(ParseDType(info, 0, "gemmKernel")));
}

Napi::Value SelectGemmKernel(const Napi::CallbackInfo& info) {
  HEARTH_CHECK_ARGC(info, 1, "selectGemmKernel");
  HEARTH_CHECK_STRING(info, 0, "selectGemmKernel", "name");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  return Napi::Boolean::New(info.Env(), gemm_select_kernel(name.c_str()));
}

Napi::Value NumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), num_threads()); }

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  HEARTH_CHECK_ARGC(info, 1, "setNumThreads");
  const int64_t n = GetIndex(info, 0, "setNumThreads", "n");
  HEARTH_CHECK(info.Env(), n <= 1024, "setNumThreads", "argument 'n' must be at most 1024, got " + std::to_string(n));
  set_num_threads(static_cast<int>(n));
  return Napi::Number::New(info.Env(), num_threads());
}

}  // namespace hearth
