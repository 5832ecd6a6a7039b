// JS binding of the random fill (kernels/random.h):
//   randomFill(out, dtype, n, distribution, seed, a, b) -> Float64Array | null
// fills n contiguous elements of `out` ("uniform": a + (b − a)·U, "normal": a + b·N) with the
// js generator's stream for `seed` (a uint32) and returns the (index, u, v) triples the caller
// must finish with JavaScript's Math (null when there are none).
#include <cstring>
#include <string>
#include <vector>

#include "elem-arg.h"
#include "kernels/random.h"
#include "random-api.h"

namespace hearth {

Napi::Value RandomFill(const Napi::CallbackInfo& info) {
  static const char* fn = "randomFill";
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 7, fn);
  const ElemType type = GetElemType(info, 1, fn, "dtype");
  const int64_t n = GetIndex(info, 2, fn, "n");
  void* out = GetTyped(info, 0, fn, "out", type, static_cast<double>(n));
  HEARTH_CHECK_STRING(info, 3, fn, "distribution");
  const std::string d = info[3].As<Napi::String>().Utf8Value();
  HEARTH_CHECK(env, d == "uniform" || d == "normal", fn,
               "argument 'distribution' must be 'uniform' or 'normal', got '" + d + "'");
  const int64_t seed = GetIndex(info, 4, fn, "seed");
  HEARTH_CHECK(env, seed <= 0xffffffffLL, fn, "argument 'seed' must be a 32-bit unsigned integer");
  const double a = GetNumber(info, 5, fn, "a");
  const double b = GetNumber(info, 6, fn, "b");
  std::vector<double> fixups;
  random_fill(type, out, n, d == "uniform" ? Distribution::kUniform : Distribution::kNormal,
              static_cast<uint32_t>(seed), a, b, &fixups);
  if (fixups.empty()) return env.Null();
  Napi::Float64Array result = Napi::Float64Array::New(env, fixups.size());
  std::memcpy(result.Data(), fixups.data(), fixups.size() * sizeof(double));
  return result;
}

}  // namespace hearth

namespace hearth {

Napi::Value RandomKernel(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), random_kernel_name());
}

Napi::Value SelectRandomKernel(const Napi::CallbackInfo& info) {
  static const char* fn = "selectRandomKernel";
  HEARTH_CHECK_ARGC(info, 1, fn);
  HEARTH_CHECK_STRING(info, 0, fn, "name");
  return Napi::Boolean::New(info.Env(), random_select(info[0].As<Napi::String>().Utf8Value().c_str()));
}

}  // namespace hearth
