// Elementwise and reduction kernels for float32 (see elementwise.h). Dims are coalesced where
// every operand allows it, so contiguous and broadcast-row cases run as flat inner loops the
// compiler vectorises; big tensors are split over the thread pool by outer index ranges.
#include "elementwise.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu-features.h"
#include "strided.h"
#include "thread-pool.h"
#include "vec-math.h"

namespace hearth {
namespace {

constexpr int64_t kParallelElements = kStridedParallelElements;
// A column sum (see reduce_f32) cuts its rows into at most kSumBlocks blocks of at least
// kSumBlockRows rows.
constexpr int64_t kSumBlocks = 64;
constexpr int64_t kSumBlockRows = 64;

inline float sigmoidf(float x) { return 1.0f / (1.0f + std::exp(-x)); }

template <typename F>
void unary_rows(const Geometry& g, const float* x, float* out, F f) {
  const int inner = g.nd - 1;
  const int64_t xs = g.strides[1][inner];
  for_each_row(g, [&](const int64_t* off, int64_t n) {
    float* o = out + off[0];
    const float* in = x + off[1];
    if (xs == 1) {
      for (int64_t i = 0; i < n; i++) o[i] = f(in[i]);
    } else {
      for (int64_t i = 0; i < n; i++) o[i] = f(in[i * xs]);
    }
  });
}

template <typename O, typename F>
void binary_rows(const Geometry& g, const float* a, const float* b, O* out, F f) {
  const int inner = g.nd - 1;
  const int64_t as = g.strides[1][inner], bs = g.strides[2][inner];
  for_each_row(g, [&](const int64_t* off, int64_t n) {
    O* o = out + off[0];
    const float* pa = a + off[1];
    const float* pb = b + off[2];
    if (as == 1 && bs == 1) {
      for (int64_t i = 0; i < n; i++) o[i] = f(pa[i], pb[i]);
    } else if (as == 1 && bs == 0) {
      const float vb = pb[0];
      for (int64_t i = 0; i < n; i++) o[i] = f(pa[i], vb);
    } else if (as == 0 && bs == 1) {
      const float va = pa[0];
      for (int64_t i = 0; i < n; i++) o[i] = f(va, pb[i]);
    } else {
      for (int64_t i = 0; i < n; i++) o[i] = f(pa[i * as], pb[i * bs]);
    }
  });
}

template <typename T>
void copy_rows(const Geometry& g, const T* src, T* dst) {
  const int inner = g.nd - 1;
  const int64_t ds = g.strides[0][inner], ss = g.strides[1][inner];
  for_each_row(g, [&](const int64_t* off, int64_t n) {
    T* o = dst + off[0];
    const T* in = src + off[1];
    if (ds == 1 && ss == 1) {
      std::memcpy(o, in, sizeof(T) * n);
    } else {
      for (int64_t i = 0; i < n; i++) o[i * ds] = in[i * ss];
    }
  });
}

template <typename T>
void where_rows(const Geometry& g, const uint8_t* cond, const T* a, const T* b, T* out) {
  const int inner = g.nd - 1;
  const int64_t cs = g.strides[1][inner], as = g.strides[2][inner], bs = g.strides[3][inner];
  for_each_row(g, [&](const int64_t* off, int64_t n) {
    T* o = out + off[0];
    const uint8_t* c = cond + off[1];
    const T* pa = a + off[2];
    const T* pb = b + off[3];
    for (int64_t i = 0; i < n; i++) o[i] = c[i * cs] ? pa[i * as] : pb[i * bs];
  });
}

const VecMath* select_vec_math() {
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.avx512bw && f.avx512vl && f.fma) return vec_math_avx512();
  if (f.avx2 && f.fma) return vec_math_avx2();
#endif
  return nullptr;
}

const VecMath* g_vec_math = select_vec_math();

// A unary op with a vectorised row kernel for contiguous rows and a scalar one otherwise.
template <typename F>
void unary_rows_vec(const Geometry& g, const float* x, float* out, void (*vec)(const float*, float*, int64_t), F f) {
  const int inner = g.nd - 1;
  if (vec == nullptr || g.strides[1][inner] != 1) return unary_rows(g, x, out, f);
  for_each_row(g, [&](const int64_t* off, int64_t n) { vec(x + off[1], out + off[0], n); });
}

}  // namespace

const VecMath* vec_math() { return g_vec_math; }

bool vec_math_select(const char* name) {
  if (name == nullptr || name[0] == '\0') {
    g_vec_math = select_vec_math();
    return true;
  }
  if (std::strcmp(name, "generic") == 0) {
    g_vec_math = nullptr;
    return true;
  }
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (std::strcmp(name, "avx2") == 0 && f.avx2 && f.fma) {
    g_vec_math = vec_math_avx2();
    return true;
  }
  if (std::strncmp(name, "avx512", 6) == 0 || std::strncmp(name, "amx-bf16", 8) == 0) {
    if (f.avx512f && f.avx512bw && f.avx512vl && f.fma) {
      g_vec_math = vec_math_avx512();
      return true;
    }
  }
#endif
  return false;
}

void where_strided(int elem_size, const uint8_t* cond, const int64_t* cond_strides, const void* a,
                   const int64_t* a_strides, const void* b, const int64_t* b_strides, void* out, const int64_t* shape,
                   int nd) {
  int64_t os[kMaxDims];
  contiguous_strides(shape, nd, os);
  const int64_t* st[4] = {os, cond_strides, a_strides, b_strides};
  const Geometry g = coalesce(shape, nd, st, 4);
  switch (elem_size) {
    case 1:
      return where_rows(g, cond, static_cast<const uint8_t*>(a), static_cast<const uint8_t*>(b),
                        static_cast<uint8_t*>(out));
    case 2:
      return where_rows(g, cond, static_cast<const uint16_t*>(a), static_cast<const uint16_t*>(b),
                        static_cast<uint16_t*>(out));
    case 4:
      return where_rows(g, cond, static_cast<const uint32_t*>(a), static_cast<const uint32_t*>(b),
                        static_cast<uint32_t*>(out));
    default:
      return where_rows(g, cond, static_cast<const uint64_t*>(a), static_cast<const uint64_t*>(b),
                        static_cast<uint64_t*>(out));
  }
}

void copy_strided(int elem_size, const void* src, const int64_t* src_strides, void* dst, const int64_t* dst_strides,
                  const int64_t* shape, int nd) {
  const int64_t* st[2] = {dst_strides, src_strides};
  const Geometry g = coalesce(shape, nd, st, 2);
  switch (elem_size) {
    case 1: return copy_rows(g, static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst));
    case 2: return copy_rows(g, static_cast<const uint16_t*>(src), static_cast<uint16_t*>(dst));
    case 4: return copy_rows(g, static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst));
    default: return copy_rows(g, static_cast<const uint64_t*>(src), static_cast<uint64_t*>(dst));
  }
}

void unary_f32(UnaryOp op, const float* x, const int64_t* x_strides, float* out, const int64_t* shape, int nd) {
  int64_t os[kMaxDims];
  contiguous_strides(shape, nd, os);
  const int64_t* st[2] = {os, x_strides};
  const Geometry g = coalesce(shape, nd, st, 2);
  switch (op) {
    case UnaryOp::kNeg: return unary_rows(g, x, out, [](float v) { return -v; });
    case UnaryOp::kAbs: return unary_rows(g, x, out, [](float v) { return std::fabs(v); });
    case UnaryOp::kSign:
      return unary_rows(g, x, out, [](float v) { return v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : v; });
    case UnaryOp::kExp:
      return unary_rows_vec(g, x, out, g_vec_math ? g_vec_math->exp : nullptr, [](float v) { return std::exp(v); });
    case UnaryOp::kLog: return unary_rows(g, x, out, [](float v) { return std::log(v); });
    case UnaryOp::kLog1p: return unary_rows(g, x, out, [](float v) { return std::log1p(v); });
    case UnaryOp::kSqrt: return unary_rows(g, x, out, [](float v) { return std::sqrt(v); });
    case UnaryOp::kSin: return unary_rows(g, x, out, [](float v) { return std::sin(v); });
    case UnaryOp::kCos: return unary_rows(g, x, out, [](float v) { return std::cos(v); });
    case UnaryOp::kTanh: return unary_rows(g, x, out, [](float v) { return std::tanh(v); });
    case UnaryOp::kSigmoid:
      return unary_rows_vec(g, x, out, g_vec_math ? g_vec_math->sigmoid : nullptr, sigmoidf);
    case UnaryOp::kRelu: return unary_rows(g, x, out, [](float v) { return v > 0.0f || v != v ? v : 0.0f; });
    case UnaryOp::kErf: return unary_rows(g, x, out, [](float v) { return std::erf(v); });
  }
}

void binary_f32(BinaryOp op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides,
                float* out, const int64_t* shape, int nd) {
  int64_t os[kMaxDims];
  contiguous_strides(shape, nd, os);
  const int64_t* st[3] = {os, a_strides, b_strides};
  const Geometry g = coalesce(shape, nd, st, 3);
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  switch (op) {
    case BinaryOp::kAdd: return binary_rows(g, a, b, out, [](float x, float y) { return x + y; });
    case BinaryOp::kSub: return binary_rows(g, a, b, out, [](float x, float y) { return x - y; });
    case BinaryOp::kMul: return binary_rows(g, a, b, out, [](float x, float y) { return x * y; });
    case BinaryOp::kDiv: return binary_rows(g, a, b, out, [](float x, float y) { return x / y; });
    case BinaryOp::kPow:
      return binary_rows(g, a, b, out, [](float x, float y) { return static_cast<float>(std::pow(double{x}, double{y})); });
    case BinaryOp::kMaximum:
      return binary_rows(g, a, b, out, [](float x, float y) { return x != x || y != y ? kNaN : (x > y ? x : y); });
    case BinaryOp::kMinimum:
      return binary_rows(g, a, b, out, [](float x, float y) { return x != x || y != y ? kNaN : (x < y ? x : y); });
  }
}

void compare_f32(CompareOp op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides,
                 uint8_t* out, const int64_t* shape, int nd) {
  int64_t os[kMaxDims];
  contiguous_strides(shape, nd, os);
  const int64_t* st[3] = {os, a_strides, b_strides};
  const Geometry g = coalesce(shape, nd, st, 3);
  using U = uint8_t;
  switch (op) {
    case CompareOp::kEq: return binary_rows(g, a, b, out, [](float x, float y) { return U(x == y); });
    case CompareOp::kNe: return binary_rows(g, a, b, out, [](float x, float y) { return U(x != y); });
    case CompareOp::kLt: return binary_rows(g, a, b, out, [](float x, float y) { return U(x < y); });
    case CompareOp::kLe: return binary_rows(g, a, b, out, [](float x, float y) { return U(x <= y); });
    case CompareOp::kGt: return binary_rows(g, a, b, out, [](float x, float y) { return U(x > y); });
    case CompareOp::kGe: return binary_rows(g, a, b, out, [](float x, float y) { return U(x >= y); });
  }
}

void reduce_f32(ReduceOp op, const float* x, const int64_t* x_strides, const int64_t* shape, const bool* reduce,
                int nd, float* out) {
  // Kept dims (outer, in order) then reduced dims (inner), each group coalesced on its own.
  const ReduceSplit sp(shape, x_strides, reduce, nd);
  const int64_t *kshape = sp.kshape, *kstr = sp.kstr;
  const int nk = sp.nk;
  const Geometry& rg = sp.rg;
  int64_t kept = 1;
  for (int d = 0; d < nk; d++) kept *= kshape[d];
  int64_t red = 1;
  for (int d = 0; d < rg.nd; d++) red *= rg.shape[d];
  const int inner = rg.nd - 1;
  const int64_t n = rg.shape[inner], s = rg.strides[0][inner];
  const int64_t rows = red / (n == 0 ? 1 : n);
  const int64_t* ks[1] = {kstr};
  const Geometry kg = coalesce(kshape, nk, ks, 1);
  if (op == ReduceOp::kSum && kg.nd == 1 && kg.strides[0][0] == 1 && kept >= 16) {
    // Summing leading dims into a contiguous run (a bias gradient: [rows, N] -> [N]): the reduced
    // positions are cut into blocks of consecutive rows, each block summed whole row by whole row
    // into per-column double partials, and the blocks' partials added in block order. A task then
    // streams contiguous memory; cutting the columns instead had every task read a short run of
    // every row (1.5 KB of each 12 KB row of a [512, 3072] gradient), which ran slower on two
    // threads than on one. The blocks do not depend on the thread count, so neither does the sum.
    auto row_offset = [&](int64_t r) {
      int64_t off = 0, rr = r;
      for (int d = rg.nd - 1; d >= 0; d--) {
        off += (rr % rg.shape[d]) * rg.strides[0][d];
        rr /= rg.shape[d];
      }
      return off;
    };
    const int64_t block = red / kSumBlocks >= kSumBlockRows ? (red + kSumBlocks - 1) / kSumBlocks : kSumBlockRows;
    const int64_t nblocks = (red + block - 1) / block;
    std::vector<double> part(static_cast<size_t>(nblocks * kept), 0.0);
    const VecMath* vm = g_vec_math;
    auto sum_block = [&](int64_t b) {
      double* acc = part.data() + b * kept;
      for (int64_t r = b * block; r < red && r < (b + 1) * block; r++) {
        const float* p = x + row_offset(r);
        if (vm != nullptr) {
          vm->accumulate_f64(p, acc, kept);
        } else {
          for (int64_t j = 0; j < kept; j++) acc[j] += p[j];
        }
      }
    };
    const int threads = kept * red < kParallelElements || nblocks < 2 ? 1 : num_threads();
    if (threads == 1) {
      for (int64_t b = 0; b < nblocks; b++) sum_block(b);
    } else {
      parallel_for(static_cast<int>(nblocks), threads, sum_block);
    }
    for (int64_t b = 1; b < nblocks; b++) {
      const double* pb = part.data() + b * kept;
      for (int64_t j = 0; j < kept; j++) part[static_cast<size_t>(j)] += pb[j];
    }
    for (int64_t j = 0; j < kept; j++) out[j] = static_cast<float>(part[static_cast<size_t>(j)]);
    return;
  }
  auto one = [&](int64_t o) {
    int64_t base = 0, rest = o;
    for (int d = nk - 1; d >= 0; d--) {
      base += (rest % kshape[d]) * kstr[d];
      rest /= kshape[d];
    }
    double sum = 0.0;
    float best = op == ReduceOp::kMax ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
    bool nan = false;
    for (int64_t r = 0; r < rows && n > 0; r++) {
      int64_t off = base, rr = r;
      for (int d = inner - 1; d >= 0; d--) {
        off += (rr % rg.shape[d]) * rg.strides[0][d];
        rr /= rg.shape[d];
      }
      const float* p = x + off;
      if (op == ReduceOp::kSum) {
        double acc[4] = {0, 0, 0, 0};
        int64_t i = 0;
        if (s == 1) {
          for (; i + 4 <= n; i += 4)
            for (int u = 0; u < 4; u++) acc[u] += p[i + u];
        }
        for (; i < n; i++) acc[0] += p[i * s];
        sum += (acc[0] + acc[1]) + (acc[2] + acc[3]);
      } else {
        for (int64_t i = 0; i < n; i++) {
          const float v = p[i * s];
          if (v != v) nan = true;
          best = op == ReduceOp::kMax ? (v > best ? v : best) : (v < best ? v : best);
        }
      }
    }
    if (op == ReduceOp::kSum) {
      out[o] = static_cast<float>(sum);
    } else {
      out[o] = nan ? std::numeric_limits<float>::quiet_NaN() : best;
    }
  };
  const int threads = kept * red < kParallelElements || kept < 2 ? 1 : num_threads();
  if (threads == 1) {
    for (int64_t o = 0; o < kept; o++) one(o);
    return;
  }
  const int64_t tasks = kept < threads * 4 ? kept : threads * 4;
  parallel_for(static_cast<int>(tasks), threads, [&](int64_t t) {
    for (int64_t o = kept * t / tasks; o < kept * (t + 1) / tasks; o++) one(o);
  });
}

}  // namespace hearth
