// Batched general matrix multiply:
//   C[b] = alpha * A[b] · B[b] + beta * C[b]   for b in [0, batch)
// A[b] is M×K, B[b] is K×N, C[b] is M×N. Every operand is addressed by element strides
// (batch, row, column), so transposed and strided views need no copy: the packing absorbs them.
// A and B share a dtype (float32, bfloat16 or float16); C and the accumulation are float32.
// beta == 0 means C is write-only (its old contents, even NaN, are ignored).
// Backward: dA = dC · Bᵀ and dB = Aᵀ · dC reuse this same kernel with swapped strides; nothing
// extra is saved.
#pragma once
#include <cstdint>

#include "dtype.h"

namespace hearth {

struct GemmOperand {
  const void* data;  // element (b, i, j) is at data[b*bs + i*rs + j*cs]
  int64_t bs, rs, cs;
};

struct GemmProblem {
  int64_t M, N, K, batch;
  DType dtype;  // of A and B
  GemmOperand a, b;
  float* c;
  int64_t cbs, crs, ccs;
  float alpha, beta;
};

// Runs the problem on the shared thread pool. Never throws; the caller validated the bounds.
// Returns false when the packing buffers (a few MB per thread) could not be allocated; C is
// then partly written and must be discarded.
bool gemm(const GemmProblem& p);

// The micro-kernel family chosen at load time for a dtype: "avx512", "avx512-bf16", "avx2" or
// "generic".
const char* gemm_kernel_name(DType dtype);

// Whether the bfloat16 family chosen multiplies bf16 natively (AMX or vdpbf16ps tiles, packed
// as 16-bit) rather than widening to float32.
bool gemm_has_bf16_tiles();

// Forces a family for comparison in benchmarks and tests ("avx512", "avx512-bf16", "amx-bf16",
// "avx2", "generic"), for the GEMM, matrix-vector and vectorised-math kernels alike; returns
// false (and changes nothing) when the CPU lacks it. An empty name restores the automatic choice.
bool gemm_select_kernel(const char* name);

}  // namespace hearth
