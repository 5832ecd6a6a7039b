// Matrix-vector driver and its portable kernels. See gemv.h for the two forms. Work is split
// over output columns (and batch) for the thread pool once the matrix is big enough that a
// second core's bandwidth pays for the wake-up.
#include "gemv.h"

#include <cstring>
#include <vector>

#include "cpu-features.h"
#include "dtype.h"
#include "thread-pool.h"

namespace hearth {
namespace {

void dot_generic(DType t, const void* w, int64_t ldw, const float* x, int64_t K, int n, float* out) {
  for (int j = 0; j < n; j++) {
    float acc[8] = {};
    int64_t k = 0;
    for (; k + 8 <= K; k += 8)
      for (int u = 0; u < 8; u++) acc[u] += load_as_f32(w, j * ldw + k + u, t) * x[k + u];
    float sum = 0.0f;
    for (; k < K; k++) sum += load_as_f32(w, j * ldw + k, t) * x[k];
    for (int u = 0; u < 8; u++) sum += acc[u];
    out[j] = sum;
  }
}

void axpy_generic(DType t, const void* w, int64_t ldw, const float* x, int64_t K, int n, float* out) {
  for (int64_t k = 0; k < K; k++) {
    const float xk = x[k];
    for (int j = 0; j < n; j++) out[j] += xk * load_as_f32(w, k * ldw + j, t);
  }
}

const GemvKernels kGeneric = {"generic", dot_generic, axpy_generic};

const GemvKernels* select() {
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.avx512bw && f.avx512vl && f.fma && f.f16c) return gemv_kernels_avx512();
  if (f.avx2 && f.fma && f.f16c) return gemv_kernels_avx2();
#endif
  return &kGeneric;
}

const GemvKernels* g_kernels = select();

// The matrix operand in one of the two forms, for one batch element.
struct Form {
  bool dot;
  const char* w;  // element (out j, k) at w[j*ldw + k] (dot) or w[k*ldw + j] (axpy)
  int64_t ldw;
  const char* x;  // x[k] at x[k*xs]
  int64_t xs;
  float* y;  // y[j] at y[j*ys]
  int64_t ys;
  int64_t n;  // outputs
};

Form form_of(const GemmProblem& p, int64_t b) {
  const int es = dtype_size(p.dtype);
  const char* a = static_cast<const char*>(p.a.data) + b * p.a.bs * es;
  const char* bm = static_cast<const char*>(p.b.data) + b * p.b.bs * es;
  float* c = p.c + b * p.cbs;
  if (p.M == 1) {
    // y[j] = sum_k A[0,k] B[k,j]
    if (p.b.cs == 1) return Form{false, bm, p.b.rs, a, p.a.cs, c, p.ccs, p.N};
    return Form{true, bm, p.b.cs, a, p.a.cs, c, p.ccs, p.N};
  }
  // y[i] = sum_k A[i,k] B[k,0]
  if (p.a.cs == 1) return Form{true, a, p.a.rs, bm, p.b.rs, c, p.crs, p.M};
  return Form{false, a, p.a.cs, bm, p.b.rs, c, p.crs, p.M};
}

constexpr int kChunk = 1024;

}  // namespace

const GemvKernels* gemv_kernels_generic() { return &kGeneric; }

bool gemv_select_kernel(const char* name) {
  if (name == nullptr || name[0] == '\0') {
    g_kernels = select();
    return true;
  }
  if (std::strcmp(name, "generic") == 0) {
    g_kernels = &kGeneric;
    return true;
  }
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (std::strcmp(name, "avx2") == 0 && f.avx2 && f.fma && f.f16c) {
    g_kernels = gemv_kernels_avx2();
    return true;
  }
  if ((std::strncmp(name, "avx512", 6) == 0 || std::strcmp(name, "amx-bf16") == 0) && f.avx512f && f.avx512bw && f.avx512vl && f.fma && f.f16c) {
    g_kernels = gemv_kernels_avx512();
    return true;
  }
#endif
  return false;
}

bool gemv_handles(const GemmProblem& p) {
  if (p.M == 1 && p.N > 1) return p.b.cs == 1 || p.b.rs == 1;
  if (p.N == 1 && p.M > 1) return p.a.cs == 1 || p.a.rs == 1;
  return false;
}

void gemv(const GemmProblem& p) {
  const GemvKernels& ks = *g_kernels;
  const int64_t n = p.M == 1 ? p.N : p.M;
  const double bytes = static_cast<double>(n) * p.K * dtype_size(p.dtype) * p.batch;
  const int threads = bytes < 256.0 * 1024 ? 1 : num_threads();
  // Several chunks per thread so a busy core does not hold the others up.
  int64_t chunk = (n + 4 * threads - 1) / (4 * threads);
  chunk = imin64(kChunk, (chunk + 63) / 64 * 64);
  const int64_t chunks = (n + chunk - 1) / chunk;
  const int64_t ntasks = chunks * p.batch;
  auto body = [&](int64_t task) {
    const int64_t b = task / chunks;
    const int64_t j0 = (task % chunks) * chunk;
    const int len = static_cast<int>(imin64(chunk, n - j0));
    const Form f = form_of(p, b);
    thread_local std::vector<float> xbuf;
    if (static_cast<int64_t>(xbuf.size()) < p.K) xbuf.resize(p.K);
    for (int64_t k = 0; k < p.K; k++) xbuf[k] = load_as_f32(f.x, k * f.xs, p.dtype);
    alignas(64) float out[kChunk];
    const int es = dtype_size(p.dtype);
    if (f.dot) {
      ks.dot(p.dtype, f.w + j0 * f.ldw * es, f.ldw, xbuf.data(), p.K, len, out);
    } else {
      std::memset(out, 0, sizeof(float) * len);
      ks.axpy(p.dtype, f.w + j0 * es, f.ldw, xbuf.data(), p.K, len, out);
    }
    for (int j = 0; j < len; j++) {
      float* y = f.y + (j0 + j) * f.ys;
      *y = p.beta == 0.0f ? p.alpha * out[j] : p.alpha * out[j] + p.beta * *y;
    }
  };
  if (threads == 1 || ntasks > (1 << 30)) {
    for (int64_t t = 0; t < ntasks; t++) body(t);
    return;
  }
  parallel_for(static_cast<int>(ntasks), threads, body);
}

}  // namespace hearth
