// AMX bfloat16 GEMM kernel (Sapphire Rapids and later): a 32×32 float32 tile of C held in four
// 16×16 accumulator tiles, updated with TDPBF16PS from two 16-row A tiles (32 bf16 of k per row)
// and two B tiles in the VNNI pair layout. The packed layouts are the AVX512-BF16 kernel's
// (../../gemm-arch.h) zero-padded to a multiple of 32 in k, so tiles load straight from them:
// A rows at a stride of KC elements, B pair-rows at a stride of 2·NR elements.
// Linux hands out AMX state only on request: the driver uses this kernel only after
// request_amx() (cpu-features.cpp) has checked CPUID/XCR0 and obtained the permission.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "gemm-arch.h"
#include "target.h"

#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
HEARTH_TARGET_BEGIN("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx2,fma")

#include "amx-tiles.h"

namespace hearth {
namespace {

constexpr int kMR = 32;
constexpr int kNR = 32;
constexpr int kKC = 512;
constexpr int kNC = 1024;

template <bool kTwoRowTiles>
void run_tiles(int kcp, const uint16_t* a, const uint16_t* b, float* acc) {
  _tile_zero(0);
  _tile_zero(1);
  if (kTwoRowTiles) {
    _tile_zero(2);
    _tile_zero(3);
  }
  for (int k = 0; k < kcp; k += 32) {
    const uint16_t* bk = b + (k / 2) * 2 * kNR;
    _tile_loadd(6, bk, 2 * kNR * 2);
    _tile_loadd(7, bk + 32, 2 * kNR * 2);
    _tile_loadd(4, a + k, kKC * 2);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    if (kTwoRowTiles) {
      _tile_loadd(5, a + 16 * kKC + k, kKC * 2);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
  _tile_stored(0, acc, kNR * 4);
  _tile_stored(1, acc + 16, kNR * 4);
  if (kTwoRowTiles) {
    _tile_stored(2, acc + 16 * kNR, kNR * 4);
    _tile_stored(3, acc + 16 * kNR + 16, kNR * 4);
  }
}

void micro(int m, int n, int kc, const void* ap, const void* bp, float* c, int64_t ldc, float alpha, float beta) {
  configure_tiles();
  const int kcp = (kc + 31) & ~31;
  alignas(64) float acc[kMR * kNR];
  if (m > 16) {
    run_tiles<true>(kcp, static_cast<const uint16_t*>(ap), static_cast<const uint16_t*>(bp), acc);
  } else {
    run_tiles<false>(kcp, static_cast<const uint16_t*>(ap), static_cast<const uint16_t*>(bp), acc);
  }
  store_acc32(acc, m, n, c, ldc, alpha, beta);
}

// A micro-panel: up to 32 rows of bf16, row stride KC, zero-padded in k to a multiple of 32.
void pack_a(const GemmMatrixView& a, int64_t i0, int m, int64_t k0, int kc, void* dstv) {
  uint16_t* dst = static_cast<uint16_t*>(dstv);
  if (a.rs == 1 && a.cs != 1) return pack_a_bf16_transposed_avx512(a, i0, m, k0, kc, kKC, dst);
  const uint16_t* src = static_cast<const uint16_t*>(a.data);
  const int kcp = (kc + 31) & ~31;
  for (int i = 0; i < m; i++) {
    uint16_t* out = dst + i * kKC;
    if (a.cs == 1) {
      std::memcpy(out, src + (i0 + i) * a.rs + k0, 2 * static_cast<size_t>(kc));
    } else {
      for (int k = 0; k < kc; k++) out[k] = src[(i0 + i) * a.rs + (k0 + k) * a.cs];
    }
    for (int k = kc; k < kcp; k++) out[k] = 0;
  }
}

// B: 32-wide micro-panels of (k, k+1) pairs, zero-padded in k to a multiple of 32.
void pack_b(const GemmMatrixView& b, int64_t k0, int kc, int64_t j0, int nc, void* dstv) {
  pack_b_bf16_avx512(b, k0, kc, (kc + 31) & ~31, j0, nc, static_cast<uint16_t*>(dstv));
}

const GemmKernels kAmx = {"amx-bf16", kMR, kNR, kKC, kNC, 32, 2, micro, pack_a, pack_b, nullptr, release_tiles};

}  // namespace

const GemmKernels* gemm_kernels_amx() { return &kAmx; }

}  // namespace hearth

HEARTH_TARGET_END()
