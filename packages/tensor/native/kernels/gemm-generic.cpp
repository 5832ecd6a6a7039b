// Portable GEMM micro-kernel (MR=4, NR=16), scalar code the compiler may vectorise for the
// baseline instruction set. It is the fallback on CPUs without AVX2+FMA and the oracle that the
// SIMD kernels are compared against. Layouts: gemm-arch.h.
#include "gemm-arch.h"
#include "gemm-pack.h"

namespace hearth {
namespace {

constexpr int kMR = 4;
constexpr int kNR = 16;
constexpr int kKC = 256;
constexpr int kNC = 512;

void micro_generic(int m, int n, int kc, const void* ap, const void* bp, float* c, int64_t ldc, float alpha,
                   float beta) {
  const float* a = static_cast<const float*>(ap);
  const float* b = static_cast<const float*>(bp);
  float acc[kMR][kNR] = {};
  for (int k = 0; k < kc; k++) {
    const float* brow = b + k * kNR;
    for (int i = 0; i < kMR; i++) {
      const float ai = i < m ? a[i * kKC + k] : 0.0f;
      for (int j = 0; j < kNR; j++) acc[i][j] += ai * brow[j];
    }
  }
  store_tile_generic(m, n, &acc[0][0], kNR, c, ldc, alpha, beta);
}

void pack_a(const GemmMatrixView& a, int64_t i0, int m, int64_t k0, int kc, void* dst) {
  pack_a_f32_generic(a, i0, m, k0, kc, static_cast<float*>(dst), kKC);
}

void pack_b(const GemmMatrixView& b, int64_t k0, int kc, int64_t j0, int nc, void* dst) {
  pack_b_f32_generic(b, k0, kc, j0, nc, static_cast<float*>(dst), kNR);
}

const GemmKernels kGeneric = {"generic", kMR, kNR, kKC, kNC, 1, 4, micro_generic, pack_a, pack_b};

}  // namespace

const GemmKernels* gemm_kernels_generic() { return &kGeneric; }

}  // namespace hearth
