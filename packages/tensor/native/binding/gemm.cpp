// JS bindings for the GEMM kernels and the thread pool.
//
// gemm(dtype, M, N, K, batch, a, aOffset, aStrides, b, bOffset, bStrides, c, cOffset, cStrides,
//      alpha, beta)
//   C[b] = alpha * A[b]·B[b] + beta * C[b]. dtype ("float32" | "bfloat16" | "float16") is the
//   dtype of a and b; c is float32. Buffers are ArrayBuffers or typed arrays; offsets and
//   strides ([batch, row, column]) are in elements. c must not overlap a or b. An optional 17th
//   argument, bPacked, is B as gemmPackB packed it (used when still current, else B is packed
//   as usual); the caller keeps it in step with b. An optional 18th, bias (a Float32Array of N
//   values), is added to every row of the product by the threads that write it:
//   C = alpha·A·B + bias + beta·C. An optional 19th, aFloat32 (boolean), says that a holds
//   float32 values (a Float32Array or buffer of them, offsets and strides in floats) for a
//   16-bit dtype: the kernel rounds them to dtype first, as a cast of A would. Optional 20th-22nd,
//   addend, addendOffset, addendStrides ([batch, row, column], a float32 M×N view that must not
//   overlap c): added to the finished product, C = (alpha·A·B + bias + beta·C) + addend, each
//   element rounded as a separate add would round it. An optional 23rd, activation ("gelu",
//   "geluTanh" or "silu"; null for none), is applied to the finished C (after bias and addend),
//   tile by tile by the threads that write it, with the activation op's own kernel.
//
// gemmPackedBytes(dtype, K, N): bytes gemmPackB needs for a K×N B (0: such a B is never packed).
// gemmPackB(dtype, K, N, b, bOffset, bStrides [row, column], dst): packs B into dst, an
//   ArrayBuffer of at least gemmPackedBytes bytes from allocate() (64-byte aligned).
// gemvPackedRows(): from how many rows a float32 product of fewer rows than the GEMM's reads a
//   bPacked packing (0: none does).
#include "gemm-api.h"

#include <cstring>
#include <string>

#include "args.h"
#include "kernels/gemm.h"
#include "kernels/gemv.h"
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
  const bool a_f32 = info.Length() > 18 && info[18].ToBoolean().Value() && dtype != DType::kFloat32;
  const int aes = a_f32 ? 4 : es;
  Operand a = GetOperand(info, 5, "a", aes, a_f32 ? DType::kFloat32 : dtype, batch, M, K);
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
  p.a = GemmOperand{a.base + a.offset * aes, a.strides[0], a.strides[1], a.strides[2]};
  p.a_f32 = a_f32;
  p.b = GemmOperand{b.base + b.offset * es, b.strides[0], b.strides[1], b.strides[2]};
  p.c = reinterpret_cast<float*>(c.base) + c.offset;
  p.cbs = c.strides[0];
  p.crs = c.strides[1];
  p.ccs = c.strides[2];
  p.alpha = static_cast<float>(alpha);
  p.beta = static_cast<float>(beta);
  if (info.Length() > 16 && !info[16].IsUndefined() && !info[16].IsNull()) {
    BufferArg packed = GetBuffer(info, 16, fn, "bPacked");
    const int64_t need = gemm_packed_b_bytes(dtype, K, N);
    HEARTH_CHECK(env, need > 0 && static_cast<int64_t>(packed.bytes) >= need, fn,
                 "argument 'bPacked' must hold " + std::to_string(need) + " bytes from gemmPackB, got " +
                     std::to_string(packed.bytes));
    HEARTH_CHECK(env, reinterpret_cast<uintptr_t>(packed.data) % 64 == 0, fn,
                 "argument 'bPacked' must be 64-byte aligned (a buffer from allocate())");
    p.b_packed = packed.data;
  }
  if (info.Length() > 17 && !info[17].IsUndefined() && !info[17].IsNull()) {
    p.bias = GetFloat32(info, 17, fn, "bias", static_cast<double>(N));
  }
  if (info.Length() > 19 && !info[19].IsUndefined() && !info[19].IsNull()) {
    Operand ad = GetOperand(info, 19, "addend", 4, DType::kFloat32, batch, M, N);
    p.addend = reinterpret_cast<const float*>(ad.base) + ad.offset;
    p.adbs = ad.strides[0];
    p.adrs = ad.strides[1];
    p.adcs = ad.strides[2];
  }
  if (info.Length() > 22 && !info[22].IsUndefined() && !info[22].IsNull()) {
    HEARTH_CHECK_STRING(info, 22, fn, "activation");
    const std::string op = info[22].As<Napi::String>().Utf8Value();
    HEARTH_CHECK(env, op == "gelu" || op == "geluTanh" || op == "silu", fn,
                 "argument 'activation' must be 'gelu', 'geluTanh' or 'silu', got '" + op + "'");
    p.activate = true;
    p.activation = op == "gelu" ? Activation::kGelu : op == "geluTanh" ? Activation::kGeluTanh : Activation::kSilu;
  }
  if (!gemm(p)) throw Napi::Error::New(env, "gemm: out of memory allocating packing buffers");
  return env.Undefined();
}

Napi::Value GemmPackedBytes(const Napi::CallbackInfo& info) {
  static const char* fn = "gemmPackedBytes";
  HEARTH_CHECK_ARGC(info, 3, fn);
  const DType dtype = ParseDType(info, 0, fn);
  const int64_t K = GetIndex(info, 1, fn, "K");
  const int64_t N = GetIndex(info, 2, fn, "N");
  HEARTH_CHECK(info.Env(), K < (int64_t{1} << 31) && N < (int64_t{1} << 31), fn, "K and N must each be below 2^31");
  return Napi::Number::New(info.Env(), static_cast<double>(gemm_packed_b_bytes(dtype, K, N)));
}

Napi::Value GemmPackB(const Napi::CallbackInfo& info) {
  static const char* fn = "gemmPackB";
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 7, fn);
  const DType dtype = ParseDType(info, 0, fn);
  const int64_t K = GetIndex(info, 1, fn, "K");
  const int64_t N = GetIndex(info, 2, fn, "N");
  HEARTH_CHECK(env, K < (int64_t{1} << 31) && N < (int64_t{1} << 31), fn, "K and N must each be below 2^31");
  const int es = dtype_size(dtype);
  BufferArg b = GetBuffer(info, 3, fn, "b");
  HEARTH_CHECK(env, b.element_size == 1 || b.element_size == es, fn,
               "argument 'b' is a typed array of " + std::to_string(b.element_size) + "-byte elements but dtype " +
                   DTypeName(dtype) + " needs " + std::to_string(es));
  HEARTH_CHECK(env, reinterpret_cast<uintptr_t>(b.data) % es == 0, fn, "argument 'b' is not aligned to its element size");
  const int64_t offset = GetIndex(info, 4, fn, "bOffset");
  int64_t strides[2];
  GetIndexArray(info, 5, fn, "bStrides", strides, 2);
  const int64_t sizes[2] = {K, N};
  CheckExtent(env, fn, "b", offset, sizes, strides, 2, static_cast<double>(b.bytes / es));
  BufferArg dst = GetBuffer(info, 6, fn, "dst");
  const int64_t need = gemm_packed_b_bytes(dtype, K, N);
  HEARTH_CHECK(env, need > 0, fn,
               "a " + std::to_string(K) + "x" + std::to_string(N) + " B is never packed (gemmPackedBytes is 0)");
  HEARTH_CHECK(env, static_cast<int64_t>(dst.bytes) >= need, fn,
               "argument 'dst' must hold " + std::to_string(need) + " bytes, got " + std::to_string(dst.bytes));
  HEARTH_CHECK(env, reinterpret_cast<uintptr_t>(dst.data) % 64 == 0, fn,
               "argument 'dst' must be 64-byte aligned (a buffer from allocate())");
  gemm_pack_b(dtype, K, N, GemmOperand{static_cast<char*>(b.data) + offset * es, 0, strides[0], strides[1]}, dst.data);
  return env.Undefined();
}

Napi::Value GemvPackedRows(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), gemv_packed_rows());
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

Napi::Value PoolStatsValue(const Napi::CallbackInfo& info) {
  const PoolStats s = pool_stats();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("jobs", static_cast<double>(s.jobs));
  out.Set("helped", static_cast<double>(s.helped));
  out.Set("tasks", static_cast<double>(s.tasks));
  out.Set("helperTasks", static_cast<double>(s.helper_tasks));
  out.Set("jobMs", static_cast<double>(s.job_ns) / 1e6);
  out.Set("waitMs", static_cast<double>(s.wait_ns) / 1e6);
  out.Set("prefetchedBytes", static_cast<double>(s.prefetched_bytes));
  out.Set("threadCpuMs", static_cast<double>(thread_cpu_ns()) / 1e6);
  return out;
}

}  // namespace hearth
