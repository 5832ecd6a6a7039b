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
#include "fused-rows.h"

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
  // Optional: B already packed by gemm_pack_b (one matrix, shared by every batch item). Used
  // when it was packed for the family this product runs on, else ignored in favour of b.
  const void* b_packed = nullptr;
  // Optional: a float32 row of N values added to every row of the product, written into C by
  // the task that computes it, just before its first k slice (C = alpha·A·B + bias + beta·C,
  // rounded as if C had been filled with bias + beta·C beforehand).
  const float* bias = nullptr;
  // A holds float32 values (a.data is float*, strides in floats) to be rounded to `dtype` (a
  // 16-bit type) before the product, as a cast of A would round them: the product is the one of
  // the rounded A, bit for bit. Lets a float32 activation meet a 16-bit weight in one call.
  bool a_f32 = false;
  // Optional: a float32 array of C's shape added to the finished product (C = (alpha·A·B + bias
  // + beta·C) + addend, rounded as a separate add after the product would round it), element
  // (b, i, j) at addend[b*adbs + i*adrs + j*adcs]; each task adds it to a C tile right after the
  // tile's last k slice, while the tile is in cache (a residual stream: one pass over C fewer).
  const float* addend = nullptr;
  int64_t adbs = 0, adrs = 0, adcs = 0;
  // Optional: an activation applied to the finished C (after bias and addend), by each task to
  // a C tile right after the tile's last k slice, with the fused row kernels' activation (so bit
  // for bit the separate activation op on the product; one pass over C fewer, an MLP's first
  // layer). `activate` false: none.
  bool activate = false;
  Activation activation = Activation::kGelu;
};

// Runs the problem on the shared thread pool. Never throws; the caller validated the bounds.
// Returns false when the packing buffers (a few MB per thread) could not be allocated; C is
// then partly written and must be discarded.
bool gemm(const GemmProblem& p);

// Pre-packed B (an inference weight multiplied many times, as onnxruntime's MLAS pre-packs its
// constant weights): the whole K×N matrix cut into the micro-panels of the family that products
// of `dtype` run on, k slice by k slice, behind a 64-byte header naming that family, K and N.
// A product handed it (GemmProblem::b_packed) skips packing B, the per-call cost of a short
// product (128 rows against a 768×3072 weight read and rewrite 9.4 MB of it per call). Bytes
// the packed form needs; 0 when this product would not use one (a B narrower than half a
// micro-panel, which runs transposed).
int64_t gemm_packed_b_bytes(DType dtype, int64_t K, int64_t N);
// Packs B (K×N, element (k, j) at b.data[k*b.rs + j*b.cs]; b.bs is ignored) into dst, which
// holds gemm_packed_b_bytes(dtype, K, N) bytes, 64-byte aligned. Runs on the thread pool.
void gemm_pack_b(DType dtype, int64_t K, int64_t N, const GemmOperand& b, void* dst);
// Whether `packed` (from gemm_pack_b) is the packing a K×N product of `dtype` would use now
// (false after the kernel family changed, e.g. through gemm_select_kernel).
bool gemm_packed_b_current(const void* packed, DType dtype, int64_t K, int64_t N);

// Where a packing from gemm_pack_b keeps B, for readers other than the GEMM (the few-row
// products of gemv.cpp read a weight's packing instead of the weight when their family can).
// float32 packings only (unit k steps): k slice s (kc deep, the last one K - s·kc) starts at
// data + s·slice_bytes, and holds panel q (columns [q·nr, q·nr + nr), zeros past N) at
// q·nr·kc_s floats from there, element (k, j) of the panel at k·nr + j. `data` is null when
// `packed` is not the current float32 packing of this K×N (gemm_packed_b_current), or the family
// packs otherwise.
struct GemmPackedPanels {
  const float* data;
  int nr, kc;
  int64_t slice_bytes;
};
GemmPackedPanels gemm_packed_panels(const void* packed, DType dtype, int64_t K, int64_t N);
// The panel width of the float32 family's packing when it is laid out as gemm_packed_panels
// describes (0 when it is not).
int gemm_packed_f32_nr();

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
