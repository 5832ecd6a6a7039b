// Matrix-vector products (decode with batch 1): the GEMM driver hands over every product with
// M == 1 or N == 1 whose matrix has one contiguous dimension. They are bound by memory
// bandwidth, so the kernels stream the matrix once, in its storage order, with no packing.
//   dot form:  out[j] = sum_k W[j, k] * x[k]   (W rows contiguous along k)
//   axpy form: out[j] = sum_k x[k] * W[k, j]   (W rows contiguous along j)
#pragma once
#include <cstdint>

#include "gemm.h"

namespace hearth {

struct GemvKernels {
  const char* name;
  // out[0:n] = W[0:n, 0:K] · x; row j of W starts at element j*ldw.
  void (*dot)(DType t, const void* w, int64_t ldw, const float* x, int64_t K, int n, float* out);
  // out[0:n] += sum_k x[k] * W[k, 0:n]; row k of W starts at element k*ldw. n <= 1024.
  void (*axpy)(DType t, const void* w, int64_t ldw, const float* x, int64_t K, int n, float* out);
};

const GemvKernels* gemv_kernels_generic();
#if defined(__x86_64__)
const GemvKernels* gemv_kernels_avx2();
const GemvKernels* gemv_kernels_avx512();
#endif

// Forces a family by name ("avx512", "avx2", "generic"); empty restores the automatic choice.
// Returns false when the CPU lacks it.
bool gemv_select_kernel(const char* name);

// True when gemv() runs this problem.
bool gemv_handles(const GemmProblem& p);
void gemv(const GemmProblem& p);

}  // namespace hearth
