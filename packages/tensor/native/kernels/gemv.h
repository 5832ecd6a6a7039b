// Products with a few rows on one side (decoding: one token per sequence, batch up to
// kGemvMaxRows): the GEMM driver hands over every product whose small side has at most
// kGemvMaxRows rows and whose matrix side has one contiguous dimension. They are bound by
// memory bandwidth, so the kernels stream the matrix once, in its storage order, with no
// packing, for all the rows of x at once.
//   R rows of x (float32, row r at x + r*ldx), n outputs per row, K the reduced length:
//   dot form:  out[r, j]  = sum_k W[j, k] * x[r, k]   (W rows contiguous along k)
//   axpy form: out[r, j] += sum_k x[r, k] * W[k, j]   (W rows contiguous along j)
#pragma once
#include <cstdint>

#include "gemm.h"

namespace hearth {

constexpr int kGemvMaxRows = 8;

struct GemvKernels {
  const char* name;
  // out[r*ldo + j] = W[j, 0:K] · x[r, 0:K] for r < rows, j < n; row j of W starts at element j*ldw.
  void (*dot)(DType t, const void* w, int64_t ldw, const float* x, int64_t ldx, int rows, int64_t K, int n,
              float* out, int64_t ldo);
  // out[r*ldo + j] += sum_k x[r, k] * W[k, j] for r < rows, j < n; row k of W starts at element k*ldw.
  void (*axpy)(DType t, const void* w, int64_t ldw, const float* x, int64_t ldx, int rows, int64_t K, int n,
               float* out, int64_t ldo);
  // Optional (null: the family has none): the dot form for float32 weights and kGemvLanesFrom or
  // more rows of x, taken lane-wise: xt[k*kGemvLanes + r] = x[r, k], lanes from `rows` on zero
  // (the driver packs it once per product). The product `dot` writes, out[r*ldo + j] =
  // W[j, 0:K] · x[r, 0:K], each sum taken in k order.
  void (*dot_lanes)(const float* w, int64_t ldw, const float* xt, int rows, int64_t K, int n, float* out,
                    int64_t ldo);
};

// The lanes of dot_lanes' packed x (kGemvMaxRows), and the fewest rows that take it.
constexpr int kGemvLanes = 8;
constexpr int kGemvLanesFrom = 5;

const GemvKernels* gemv_kernels_generic();
#if defined(__x86_64__)
const GemvKernels* gemv_kernels_avx2();
const GemvKernels* gemv_kernels_avx512();
// avx512 with bfloat16 dot-form products on vdpbf16ps (needs AVX512_BF16).
const GemvKernels* gemv_kernels_avx512_bf16();
#endif

// Forces a family by name ("avx512-bf16", "avx512", "avx2", "generic"; the GEMM's "amx-bf16"
// names pick "avx512-bf16"); empty restores the automatic choice. Returns false when the CPU
// lacks it.
bool gemv_select_kernel(const char* name);

// True when gemv() runs this problem.
bool gemv_handles(const GemmProblem& p);
void gemv(const GemmProblem& p);

}  // namespace hearth
