// The portable scalar variant of the fused row kernels (fused-rows-impl.h over one-lane
// "vectors") and the choice of variant, made once at load time from the CPU features.
#include "fused-rows.h"

#include <cmath>
#include <cstring>
#include <type_traits>
#include <utility>

#include "cpu-features.h"

namespace hearth {
namespace {

struct VScalar {
  using T = float;
  static constexpr int64_t W = 1;
  static T load(const float* p) { return *p; }
  static T partial(const float* p, int64_t m, float fill) { return m > 0 ? *p : fill; }
  static void store(float* p, T v) { *p = v; }
  static void store_partial(float* p, T v, int64_t m) {
    if (m > 0) *p = v;
  }
  static T set1(float v) { return v; }
  static T add(T a, T b) { return a + b; }
  static T sub(T a, T b) { return a - b; }
  static T mul(T a, T b) { return a * b; }
  static T div(T a, T b) { return a / b; }
  static T fmadd(T a, T b, T c) { return a * b + c; }
  // Like the vector max: the second operand when either is NaN.
  static T max(T a, T b) { return a > b ? a : b; }
  static T abs(T a) { return std::fabs(a); }
  static T copysign(T a, T b) { return std::copysign(a, b); }
  static float hsum(T v) { return v; }
  using D = double;
  static D dzero() { return 0.0; }
  static D dadd(D a, T v) { return a + v; }
  static double dsum(D a) { return a; }
  static float hmax(T v) { return v; }
  static T exp(T x) { return std::exp(x); }
};

}  // namespace
}  // namespace hearth

#include "fused-rows-impl.h"

namespace hearth {
namespace {

constexpr const RowKernels kGeneric = make_row_kernels<VScalar>("generic");

const RowKernels* select_row_kernels() {
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.avx512bw && f.avx512vl && f.fma) return row_kernels_avx512();
  if (f.avx2 && f.fma) return row_kernels_avx2();
#endif
  return &kGeneric;
}

const RowKernels* g_row_kernels = select_row_kernels();

}  // namespace

const RowKernels* row_kernels_generic() { return &kGeneric; }

const RowKernels* row_kernels() { return g_row_kernels; }

bool row_kernels_select(const char* name) {
  if (name == nullptr || name[0] == '\0') {
    g_row_kernels = select_row_kernels();
    return true;
  }
  if (std::strcmp(name, "generic") == 0) {
    g_row_kernels = &kGeneric;
    return true;
  }
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (std::strcmp(name, "avx2") == 0 && f.avx2 && f.fma) {
    g_row_kernels = row_kernels_avx2();
    return true;
  }
  if (std::strncmp(name, "avx512", 6) == 0 || std::strncmp(name, "amx-bf16", 8) == 0) {
    if (f.avx512f && f.avx512bw && f.avx512vl && f.fma) {
      g_row_kernels = row_kernels_avx512();
      return true;
    }
  }
#endif
  return false;
}

}  // namespace hearth
