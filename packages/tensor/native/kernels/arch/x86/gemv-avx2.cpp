// AVX2+FMA few-row kernels (forms in ../../gemv.h), with scalar tails. float16 rows are
// widened with F16C and bfloat16 rows by a shift as they are loaded.
#include <immintrin.h>

#include <cstdint>

#include "dtype.h"
#include "gemv.h"
#include "target.h"

HEARTH_TARGET_BEGIN("avx2,fma,f16c")

namespace hearth {
namespace {

template <DType T>
inline __m256 load8(const void* base, int64_t index) {
  if constexpr (T == DType::kFloat32) {
    return _mm256_loadu_ps(static_cast<const float*>(base) + index);
  } else {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(base) + index));
    if constexpr (T == DType::kBFloat16) {
      return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    } else {
      return _mm256_cvtph_ps(h);
    }
  }
}

template <DType T>
inline float load1(const void* base, int64_t index) {
  return load_as_f32(base, index, T);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// Each row of W is read from memory once and then stays in L1 while every row of x uses it.
template <DType T>
void dot_t(const void* w, int64_t ldw, const float* x, int64_t ldx, int rows, int64_t K, int n, float* out,
           int64_t ldo) {
  for (int j = 0; j < n; j++) {
    const int64_t row = j * ldw;
    for (int r = 0; r < rows; r++) {
      const float* xr = x + r * ldx;
      __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
      int64_t k = 0;
      for (; k + 16 <= K; k += 16) {
        s0 = _mm256_fmadd_ps(load8<T>(w, row + k), _mm256_loadu_ps(xr + k), s0);
        s1 = _mm256_fmadd_ps(load8<T>(w, row + k + 8), _mm256_loadu_ps(xr + k + 8), s1);
      }
      float sum = hsum(_mm256_add_ps(s0, s1));
      for (; k < K; k++) sum += load1<T>(w, row + k) * xr[k];
      out[r * ldo + j] = sum;
    }
  }
}

template <DType T>
void axpy_t(const void* w, int64_t ldw, const float* x, int64_t ldx, int rows, int64_t K, int n, float* out,
            int64_t ldo) {
  for (int64_t k = 0; k < K; k++) {
    const int64_t row = k * ldw;
    for (int r = 0; r < rows; r++) {
      const float xk = x[r * ldx + k];
      const __m256 xv = _mm256_set1_ps(xk);
      float* o = out + r * ldo;
      int j = 0;
      for (; j + 8 <= n; j += 8) _mm256_storeu_ps(o + j, _mm256_fmadd_ps(xv, load8<T>(w, row + j), _mm256_loadu_ps(o + j)));
      for (; j < n; j++) o[j] += xk * load1<T>(w, row + j);
    }
  }
}

void dot(DType t, const void* w, int64_t ldw, const float* x, int64_t ldx, int rows, int64_t K, int n, float* out,
         int64_t ldo) {
  if (t == DType::kFloat32) return dot_t<DType::kFloat32>(w, ldw, x, ldx, rows, K, n, out, ldo);
  if (t == DType::kBFloat16) return dot_t<DType::kBFloat16>(w, ldw, x, ldx, rows, K, n, out, ldo);
  return dot_t<DType::kFloat16>(w, ldw, x, ldx, rows, K, n, out, ldo);
}

void axpy(DType t, const void* w, int64_t ldw, const float* x, int64_t ldx, int rows, int64_t K, int n, float* out,
          int64_t ldo) {
  if (t == DType::kFloat32) return axpy_t<DType::kFloat32>(w, ldw, x, ldx, rows, K, n, out, ldo);
  if (t == DType::kBFloat16) return axpy_t<DType::kBFloat16>(w, ldw, x, ldx, rows, K, n, out, ldo);
  return axpy_t<DType::kFloat16>(w, ldw, x, ldx, rows, K, n, out, ldo);
}

const GemvKernels kAvx2 = {"avx2", dot, axpy};

}  // namespace

const GemvKernels* gemv_kernels_avx2() { return &kAvx2; }

}  // namespace hearth

HEARTH_TARGET_END()
