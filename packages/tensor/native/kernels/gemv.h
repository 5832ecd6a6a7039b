// Products with a few rows on one side (decoding: one token per sequence, batch up to
// kGemvMaxRows): the GEMM driver hands over every product whose small side has at most
// kGemvMaxRows rows and whose matrix side has one contiguous dimension. They are bound by
// memory bandwidth, so the kernels stream the matrix once, in its storage order, with no
// packing, for all the rows of x at once.
//   R rows of x (float32, row r at x + r*ldx), n outputs per row, K the reduced length:
//   dot form:  out[r, j]  = sum_k W[j, k] * x[r, k]   (W rows contiguous along k)
//   axpy form: out[r, j] += sum_k x[r, k] * W[k, j]   (W rows contiguous along j)
//   panel form: out[r, j] = sum_k x[r, k] * W[k, j]   (W as the GEMM packed it, float32)
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
  // Optional (null: none): the panel form, for float32 weights kept packed for the GEMM
  // (gemm_packed_panels) and kGemvPanelFrom or more rows of x. One panel of B, `nr` columns wide
  // and kc deep (element (k, j) at b[k*nr + j]), against the rows of x:
  //   out[r*ldo + j] = (accumulate ? out[r*ldo + j] : 0) + sum_k x[r*ldx + k] * b[k*nr + j]
  // for r < rows, j < n (n <= nr), each sum taken in k order after out's value, so summing a
  // product's k slices one after the other rounds as one pass over k would. The panel is read
  // once for all the rows (k-major, one sequential stream), the outputs stay in registers.
  void (*panel)(const float* b, int nr, int kc, const float* x, int64_t ldx, int rows, int n, bool accumulate,
                float* out, int64_t ldo);
  // The panel width `panel` requires (the GEMM family's NR); 0: any.
  int panel_nr;
};

// The lanes of dot_lanes' packed x (kGemvMaxRows), and the fewest rows that take it.
constexpr int kGemvLanes = 8;
constexpr int kGemvLanesFrom = 5;
// The fewest rows of x that take the panel form.
constexpr int kGemvPanelFrom = 5;

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

// The fewest rows from which a float32 product of this family reads B from its GEMM packing
// (the panel form; gemm_pack_b), 0 when none does: a caller keeping weights packed for the GEMM
// hands the packing to products of that many rows too.
int gemv_packed_rows();

// True when gemv() runs this problem.
bool gemv_handles(const GemmProblem& p);
void gemv(const GemmProblem& p);

}  // namespace hearth
