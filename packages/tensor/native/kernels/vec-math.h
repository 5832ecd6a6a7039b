// Vectorised transcendental functions over contiguous float32 rows, chosen once at load time.
// exp: Cody-Waite range reduction and a degree-6 polynomial (Cephes expf), about 1 ulp;
// results below FLT_MIN flush to 0 (no denormals: they cost microcode assists), exp(-inf) = 0,
// exp(+inf) = inf, NaN stays NaN. sigmoid(x) = 1 / (1 + exp(-x)). accumulate_f64: acc[i] +=
// x[i] widened to double (each element's sum rounds exactly as the scalar loop's).
#pragma once
#include <cstdint>

namespace hearth {

struct VecMath {
  const char* name;
  void (*exp)(const float* x, float* y, int64_t n);
  void (*sigmoid)(const float* x, float* y, int64_t n);
  void (*accumulate_f64)(const float* x, double* acc, int64_t n);
};

#if defined(__x86_64__)
const VecMath* vec_math_avx512();
const VecMath* vec_math_avx2();
#endif
// The variant in use, or null where only scalar code applies.
const VecMath* vec_math();
// Forces "avx512", "avx2" or "generic" (scalar); "" restores the automatic choice. False when
// the CPU lacks it.
bool vec_math_select(const char* name);

}  // namespace hearth
