// The interface between the GEMM driver (gemm.cpp) and the per-architecture micro-kernels.
//
// Packed layouts (all zero-padded, so the micro-kernel never branches on edges inside k):
//   A micro-panel: up to MR rows; row i holds kc consecutive k values starting at a + i*KC
//                  (KC, the kernel's maximum kc, is a compile-time row stride). For the bf16
//                  kernel the k values are bf16 and kc is even.
//   B panel:       nc columns cut into NR-wide micro-panels; micro-panel p starts at
//                  b + p*kcp*NR where kcp is kc rounded up to `kunit`, and holds
//                  element (k, j) at k*NR + j (f32), or for bf16 the pair (k, k+1) of column j at
//                  (k/2)*2*NR + 2*j.
#pragma once
#include <cstdint>

#include "gemm.h"

namespace hearth {

struct GemmMatrixView {
  const void* data;  // element (i, j) at data[i*rs + j*cs]
  int64_t rs, cs;
  DType dtype;
};

struct GemmKernels {
  const char* name;
  int mr, nr, kc, nc, kunit;
  int packed_size;  // bytes of one packed element (4 for f32, 2 for bf16)
  // C[0:m, 0:n] = alpha * Apanel · Bmicro + beta * C; beta == 0 never reads C. ldc is in
  // elements, column stride 1. 1 <= m <= mr, 1 <= n <= nr.
  void (*micro)(int m, int n, int kc, const void* a, const void* b, float* c, int64_t ldc, float alpha, float beta);
  // Packs rows [i0, i0+m) × columns [k0, k0+kc) of A into one A micro-panel.
  void (*pack_a)(const GemmMatrixView& a, int64_t i0, int m, int64_t k0, int kc, void* dst);
  // Packs rows [k0, k0+kc) × columns [j0, j0+nc) of B into NR-wide micro-panels.
  void (*pack_b)(const GemmMatrixView& b, int64_t k0, int kc, int64_t j0, int nc, void* dst);
  // micro, also asking for the cache lines pf[0:npf) to be brought into L2 while it runs
  // (spread over its k loop, at most one per 4 steps of k, or issued before it), and, when bias
  // is not null (beta is then 0), writing C = alpha·A·B + bias[0:n] on every row (rounded as a
  // separate add of the bias would round it); nullptr where the family has none.
  void (*micro_pf)(int m, int n, int kc, const void* a, const void* b, float* c, int64_t ldc, float alpha,
                   float beta, const char* const* pf, int npf, const float* bias) = nullptr;
  // Ends a run of micro calls on this thread (the driver calls it after each task and after
  // timing the kernel): the AMX families release their tiles, which their next micro call
  // configures again; nullptr where there is nothing to release.
  void (*release)() = nullptr;
  // B blocks up to this many bytes have the next block's source lines prefetched into L2 while
  // they are in use (with micro_pf): two of them and the C block must still fit the L2 the
  // family is meant for (768 KB suits a 2 MB L2).
  int64_t prefetch_block_bytes = int64_t{768} << 10;
  // A short task (fewer than 24 A micro-panels, all of a k slice packed at once) runs each B
  // micro-panel against every A panel before the next (the micro-panel held in L1, the A panels
  // streamed from L2) instead of each A panel against the whole B block. Suits a family whose B
  // micro-panel at full kc and one A panel fit L1 together (AVX2: 16 KB + 6 KB of Zen 3's 32 KB).
  bool b_panel_outer = false;
  // micro_pf reading A's rows `lda` elements apart and adding an addend: a float32 A whose
  // columns are contiguous (a row-major activation, a gradient) is read in place, unpacked (kc
  // values a row, not padded; `lda` is kc for a packed panel), and addend (rows ld_addend apart,
  // unit column stride; nullptr for none) goes onto the finished tile as a separate add after it
  // would (C = (alpha·A·B + bias + beta·C) + addend), a residual added in registers. The same
  // arithmetic as micro_pf on a packed copy and a separate add; nullptr where the family has none.
  void (*micro_lda)(int m, int n, int kc, const void* a, int64_t lda, const void* b, float* c, int64_t ldc,
                    float alpha, float beta, const char* const* pf, int npf, const float* bias, const float* addend,
                    int64_t ld_addend) = nullptr;
};

const GemmKernels* gemm_kernels_generic();
#if defined(__x86_64__)
const GemmKernels* gemm_kernels_avx2();
const GemmKernels* gemm_kernels_avx512();
const GemmKernels* gemm_kernels_avx512_bf16();
// Sets the avx512 float32 family's k slice depth from the L2 size; called on a CPU that runs it,
// before its first product.
void gemm_avx512_configure();
const GemmKernels* gemm_kernels_amx();  // only after request_amx() returned true
// float32 products on AMX by bf16x3 splitting (packed_size 6); only after request_amx()
const GemmKernels* gemm_kernels_amx_bf16x3();
// bf16 B panels from a row-major Bᵀ (b.rs == 1), shared by the AVX512-BF16 and AMX families:
// kcp is kc padded to the family's k unit (2 or 32); NR is 32 for both.
void pack_b_bf16_transposed_avx512(const GemmMatrixView& b, int64_t k0, int kc, int kcp, int64_t j0, int nc,
                                   uint16_t* dst);
// bf16 B panels of (k, k+1) pairs for any layout of B (the transposed packer above for a
// row-major Bᵀ), zero-padded in k up to kcp; shared by the AVX512-BF16 and AMX families.
void pack_b_bf16_avx512(const GemmMatrixView& b, int64_t k0, int kc, int kcp, int64_t j0, int nc, uint16_t* dst);
// bf16 A micro-panel rows (stride row_stride, a multiple of 32) from a column-major A
// (a.rs == 1); writes k up to kc rounded up to 32, zeros past kc.
void pack_a_bf16_transposed_avx512(const GemmMatrixView& a, int64_t i0, int m, int64_t k0, int kc, int row_stride,
                                   uint16_t* dst);
#endif

}  // namespace hearth
