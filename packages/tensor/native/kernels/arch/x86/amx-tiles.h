// What the AMX GEMM kernels share: the tile configuration (eight 16×64-byte tiles, loaded by
// the first micro-kernel call of a run and released at its end, see release_tiles) and the
// write of a 32×32 float32 accumulator block into C with alpha and beta. Include it after
// <immintrin.h> and after the including file's AMX/AVX-512 HEARTH_TARGET_BEGIN
// (target.h), so nothing here is compiled for the baseline.
#pragma once

#include <cstdint>
#include <cstring>

namespace hearth {

// Whether this thread's tiles hold the configuration below: one flag for both AMX families (an
// inline variable, one object across their translation units), so a release by either makes the
// next micro-kernel call of the other load the configuration again.
inline thread_local bool t_tiles_configured = false;

namespace {

struct alignas(64) TileConfig {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// Every tile 16 rows of 64 bytes: a 16×16 float32 accumulator, 16 rows of 32 bf16 of A, or 16
// (k, k+1) pair rows of 16 columns of B.
inline void configure_tiles() {
  if (t_tiles_configured) return;
  TileConfig cfg;
  std::memset(&cfg, 0, sizeof(cfg));
  cfg.palette = 1;
  for (int t = 0; t < 8; t++) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  _tile_loadconfig(&cfg);
  t_tiles_configured = true;
}

// Returns the tiles to their initial state at the end of a run of micro-kernel calls (the
// driver's GemmKernels::release, after each task): a thread whose tiles stay configured carries
// 8 KB more AMX state through every context switch and can keep its core out of deeper idle
// states, as Intel's guidance on TILERELEASE says. A loadconfig and release pair costs about
// 120 ns (Sapphire Rapids class), against tens of microseconds for a task.
inline void release_tiles() {
  if (!t_tiles_configured) return;
  _tile_release();
  t_tiles_configured = false;
}

inline __mmask16 tile_mask16(int n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1);
}

// C[0:m, 0:n] = alpha · acc + beta · C for a 32×32 accumulator block (row stride 32); beta == 0
// never reads C.
inline void store_acc32(const float* acc, int m, int n, float* c, int64_t ldc, float alpha, float beta) {
  const __mmask16 m0 = tile_mask16(n), m1 = tile_mask16(n - 16);
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  for (int i = 0; i < m; i++) {
    float* row = c + i * ldc;
    __m512 r0 = _mm512_mul_ps(_mm512_load_ps(acc + i * 32), va);
    __m512 r1 = _mm512_mul_ps(_mm512_load_ps(acc + i * 32 + 16), va);
    if (beta != 0.0f) {
      r0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m0, row), vb, r0);
      r1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m1, row + 16), vb, r1);
    }
    _mm512_mask_storeu_ps(row, m0, r0);
    _mm512_mask_storeu_ps(row + 16, m1, r1);
  }
}

}  // namespace
}  // namespace hearth
