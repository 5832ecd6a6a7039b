#pragma once
#include <napi.h>

namespace hearth {
// gemm(dtype, M, N, K, batch, a, aOffset, aStrides, b, bOffset, bStrides, c, cOffset, cStrides,
//      alpha, beta): batched C = alpha·A·B + beta·C; see gemm.cpp for the conventions.
Napi::Value Gemm(const Napi::CallbackInfo& info);
// gemmPackedBytes(dtype, K, N) and gemmPackB(dtype, K, N, b, bOffset, bStrides, dst): B packed
// once for many products (gemm's optional bPacked); see gemm.cpp.
Napi::Value GemmPackedBytes(const Napi::CallbackInfo& info);
Napi::Value GemmPackB(const Napi::CallbackInfo& info);
// gemvPackedRows(): the fewest rows from which a float32 product reads B from its gemmPackB
// packing (the few-row panel form) instead of B itself; 0 when no product that few rows does.
Napi::Value GemvPackedRows(const Napi::CallbackInfo& info);
// gemmKernel(dtype): the micro-kernel family in use for that dtype.
Napi::Value GemmKernel(const Napi::CallbackInfo& info);
// selectGemmKernel(name): forces "avx512" | "avx512-bf16" | "avx2" | "generic" ("" = automatic);
// returns false when the CPU lacks it.
Napi::Value SelectGemmKernel(const Napi::CallbackInfo& info);
// numThreads(): threads a kernel may use. setNumThreads(n): resizes the pool (0 = default).
Napi::Value NumThreads(const Napi::CallbackInfo& info);
Napi::Value SetNumThreads(const Napi::CallbackInfo& info);
// poolStats(): the thread pool's job counters since the process started and the calling
// thread's CPU time (kernels/thread-pool.h: PoolStats, thread_cpu_ns), for profiles.
Napi::Value PoolStatsValue(const Napi::CallbackInfo& info);
}  // namespace hearth
