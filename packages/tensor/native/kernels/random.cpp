// The js generator's stream, natively (see random.h).
#include "random.h"

#include <atomic>
#include <cmath>
#include <cstring>

#include "cpu-features.h"
#include "thread-pool.h"

// Products and sums are rounded one at a time, exactly as in JavaScript.
#if defined(__clang__)
#pragma clang fp contract(off)
#else
#pragma GCC optimize("fp-contract=off")
#endif

namespace hearth {
namespace {

constexpr int64_t kParallelElements = 1 << 15;
constexpr double kTwoPi = 2 * 3.141592653589793;  // 2 * Math.PI, exact (a power-of-two scaling)

struct State {
  uint32_t s[4];
};

inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

inline uint32_t next(State& st) {
  uint32_t* s = st.s;
  const uint32_t result = rotl(s[1] * 5u, 7) * 9u;
  const uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

State seeded(uint32_t seed) {
  State st;
  uint32_t x = seed;
  for (int i = 0; i < 4; i++) {  // splitmix32
    x += 0x9e3779b9u;
    uint32_t z = x;
    z = (z ^ (z >> 16)) * 0x85ebca6bu;
    z = (z ^ (z >> 13)) * 0xc2b2ae35u;
    st.s[i] = z ^ (z >> 16);
  }
  if ((st.s[0] | st.s[1] | st.s[2] | st.s[3]) == 0) st.s[0] = 1;
  return st;
}

// Uniform in [0, 1) from 53 bits: (hi·2^26 + lo) / 2^53, exact.
inline double uniform53(State& st) {
  const uint32_t hi = next(st) >> 5;
  const uint32_t lo = next(st) >> 6;
  return (hi * 67108864.0 + lo) / 9007199254740992.0;
}

// Jump-ahead: kJump[k] is the state update applied 2^k times, as 128 columns of 128 bits.
constexpr int kJumpBits = 48;
struct JumpTable {
  uint32_t col[kJumpBits][128][4];
  JumpTable() {
    for (int j = 0; j < 128; j++) {
      State e = {{0, 0, 0, 0}};
      e.s[j >> 5] = 1u << (j & 31);
      next(e);
      for (int w = 0; w < 4; w++) col[0][j][w] = e.s[w];
    }
    for (int k = 1; k < kJumpBits; k++)
      for (int j = 0; j < 128; j++) apply(col[k - 1], col[k - 1][j], col[k][j]);
  }
  static void apply(const uint32_t (*m)[4], const uint32_t* in, uint32_t* out) {
    uint32_t r[4] = {0, 0, 0, 0};
    for (int j = 0; j < 128; j++) {
      if ((in[j >> 5] >> (j & 31)) & 1u)
        for (int w = 0; w < 4; w++) r[w] ^= m[j][w];
    }
    for (int w = 0; w < 4; w++) out[w] = r[w];
  }
};

void advance(State& st, uint64_t steps) {
  static const JumpTable* table = new JumpTable();
  for (int k = 0; k < kJumpBits && steps != 0; k++, steps >>= 1)
    if (steps & 1u) JumpTable::apply(table->col[k], st.s, st.s);
}

// Whether every double in [y − err, y + err] is written as the same element of T.
template <ElemType T>
inline bool settled(double y, double err) {
  if (!(std::fabs(y) + err < 1.7976931348623157e308)) return false;
  const double lo = y - err, hi = y + err;
  switch (T) {
    case ElemType::kFloat32:
      return static_cast<float>(lo) == static_cast<float>(hi);
    case ElemType::kBFloat16:
      return half_bits_from_double(lo, 7, 8) == half_bits_from_double(hi, 7, 8);
    case ElemType::kFloat16:
      return half_bits_from_double(lo, 10, 5) == half_bits_from_double(hi, 10, 5);
    case ElemType::kBool:
      return lo > 0 || hi < 0;
    default:
      return std::trunc(lo) == std::trunc(hi);
  }
}

void box_muller_generic(const double* u, const double* v, int64_t m, double* xc, double* xs) {
  for (int64_t i = 0; i < m; i++) {
    const double r = std::sqrt(-2 * std::log(u[i]));
    const double th = kTwoPi * v[i];
    xc[i] = r * std::cos(th);
    xs[i] = r * std::sin(th);
  }
}

const BoxMullerKernel kGeneric = {"generic", box_muller_generic};

const BoxMullerKernel* select_box_muller() {
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.fma) return box_muller_avx512();
  if (f.avx2 && f.fma) return box_muller_avx2();
#endif
  return &kGeneric;
}

const BoxMullerKernel* g_box_muller = select_box_muller();

// Relative bound on how far this file's r·cos / r·sin may sit from V8's (both libms are within
// about an ulp; 2^-40 leaves a margin of thousands of ulps).
constexpr double kLibmSlack = 0x1p-40;

template <ElemType T>
struct Filler {
  void* out;
  double a, b;

  void uniform(State& st, int64_t i0, int64_t i1) const {
    const double span = b - a;
    for (int64_t i = i0; i < i1; i++) {
      double y = a + span * uniform53(st);
      if (!is_float_elem(T)) y = std::floor(y);
      store_double(T, out, i, y);
    }
  }

  // One normal from x = r·cos or r·sin; (index, u, v) is recorded when it might round apart.
  inline void normal_one(int64_t i, double x, double u, double v, std::vector<double>* fixups) const {
    const double p = b * x;
    const double y = a + p;
    store_double(T, out, i, y);
    if (!settled<T>(y, kLibmSlack * (std::fabs(y) + std::fabs(p)))) {
      fixups->push_back(static_cast<double>(i));
      fixups->push_back(u);
      fixups->push_back(v);
    }
  }

  // Normals [i0, i1) with i0 even, in blocks of pairs whose (u, v) are drawn in order and then
  // transformed together; false (nothing trustworthy written) when a pair drew u = 0 and
  // `redraw` is off, since the redraw shifts the stream: the caller then redoes the fill in order.
  bool normal(State& st, int64_t i0, int64_t i1, bool redraw, std::vector<double>* fixups) const {
    constexpr int64_t kPairs = 64;
    alignas(64) double u[kPairs], v[kPairs], xc[kPairs], xs[kPairs];
    for (int64_t i = i0; i < i1; i += 2 * kPairs) {
      const int64_t pairs = (i1 - i + 1) / 2 < kPairs ? (i1 - i + 1) / 2 : kPairs;
      for (int64_t p = 0; p < pairs; p++) {
        u[p] = uniform53(st);
        while (u[p] == 0) {
          if (!redraw) return false;
          u[p] = uniform53(st);
        }
        v[p] = uniform53(st);
      }
      transform(u, v, pairs, kPairs, xc, xs);
      for (int64_t p = 0; p < pairs; p++) {
        normal_one(i + 2 * p, xc[p], u[p], v[p], fixups);
        if (i + 2 * p + 1 < i1) normal_one(i + 2 * p + 1, xs[p], u[p], v[p], fixups);
      }
    }
    return true;
  }

  // Box–Muller on the first m of `cap` pairs (the rest padded to a multiple of 8 with harmless
  // values for the vector kernels).
  static void transform(double* u, double* v, int64_t m, int64_t cap, double* xc, double* xs) {
    const int64_t padded = (m + 7) / 8 * 8 < cap ? (m + 7) / 8 * 8 : cap;
    for (int64_t p = m; p < padded; p++) {
      u[p] = 0.5;
      v[p] = 0.0;
    }
    g_box_muller->fn(u, v, padded, xc, xs);
  }

  // One chunk [i0, i1) (i0 even) as kLanes equal runs of an even length, each from its own
  // jumped-ahead generator, drawn interleaved so the generators' dependency chains overlap; the
  // tail continues the last run's generator. False when a normal pair drew u = 0.
  static constexpr int kLanes = 4;
  bool chunk(Distribution dist, uint32_t seed, int64_t i0, int64_t i1, std::vector<double>* fixups) const {
    const int64_t per = (i1 - i0) / kLanes / 2 * 2;
    State st[kLanes];
    int64_t start[kLanes];
    for (int l = 0; l < kLanes; l++) {
      start[l] = i0 + l * per;
      st[l] = seeded(seed);
      advance(st[l], static_cast<uint64_t>(2 * start[l]));
    }
    State& last = st[kLanes - 1];
    const int64_t tail = i0 + kLanes * per;
    if (dist == Distribution::kUniform) {
      const double span = b - a;
      for (int64_t k = 0; k < per; k++) {
        double r[kLanes];
        for (int l = 0; l < kLanes; l++) r[l] = uniform53(st[l]);
        for (int l = 0; l < kLanes; l++) {
          const double y = a + span * r[l];
          store_double(T, out, start[l] + k, is_float_elem(T) ? y : std::floor(y));
        }
      }
      uniform(last, tail, i1);
      return true;
    }
    constexpr int64_t kB = 32;  // pairs per run per block
    alignas(64) double u[kLanes * kB], v[kLanes * kB], xc[kLanes * kB], xs[kLanes * kB];
    for (int64_t p0 = 0; p0 < per / 2; p0 += kB) {
      const int64_t m = per / 2 - p0 < kB ? per / 2 - p0 : kB;
      for (int64_t p = 0; p < m; p++) {
        for (int l = 0; l < kLanes; l++) {
          u[l * kB + p] = uniform53(st[l]);
          if (u[l * kB + p] == 0) return false;
          v[l * kB + p] = uniform53(st[l]);
        }
      }
      for (int l = 0; l < kLanes; l++) transform(u + l * kB, v + l * kB, m, kB, xc + l * kB, xs + l * kB);
      for (int l = 0; l < kLanes; l++) {
        for (int64_t p = 0; p < m; p++) {
          const int64_t e = start[l] + 2 * (p0 + p), q = l * kB + p;
          normal_one(e, xc[q], u[q], v[q], fixups);
          normal_one(e + 1, xs[q], u[q], v[q], fixups);
        }
      }
    }
    return normal(last, tail, i1, false, fixups);
  }
};

template <ElemType T>
void fill(void* out, int64_t n, Distribution dist, uint32_t seed, double a, double b, std::vector<double>* fixups) {
  const Filler<T> f{out, a, b};
  if (n < kParallelElements) {
    State st = seeded(seed);
    if (dist == Distribution::kUniform) {
      f.uniform(st, 0, n);
    } else {
      f.normal(st, 0, n, true, fixups);
    }
    return;
  }
  // Chunks of an even number of elements; each element costs two 32-bit draws either way.
  const int threads = num_threads();
  const int tasks = threads * 4;
  const int64_t step = ((n + tasks - 1) / tasks + 1) / 2 * 2;
  const int chunks = static_cast<int>((n + step - 1) / step);
  std::vector<std::vector<double>> parts(static_cast<size_t>(chunks));
  std::atomic<bool> shifted{false};
  parallel_for(chunks, threads, [&](int t) {
    const int64_t i0 = t * step, i1 = i0 + step < n ? i0 + step : n;
    if (!f.chunk(dist, seed, i0, i1, &parts[static_cast<size_t>(t)])) shifted.store(true);
  });
  if (shifted.load()) {
    // u = 0 came up (about once in 2^53 pairs): redo it in order, redrawing as js does.
    State st = seeded(seed);
    f.normal(st, 0, n, true, fixups);
    return;
  }
  for (const auto& p : parts) fixups->insert(fixups->end(), p.begin(), p.end());
}

}  // namespace

const char* random_kernel_name() { return g_box_muller->name; }

bool random_select(const char* name) {
  if (name == nullptr || name[0] == '\0') {
    g_box_muller = select_box_muller();
    return true;
  }
  if (std::strcmp(name, "generic") == 0) {
    g_box_muller = &kGeneric;
    return true;
  }
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (std::strcmp(name, "avx2") == 0 && f.avx2 && f.fma) {
    g_box_muller = box_muller_avx2();
    return true;
  }
  if (std::strcmp(name, "avx512") == 0 && f.avx512f && f.fma) {
    g_box_muller = box_muller_avx512();
    return true;
  }
#endif
  return false;
}

void random_fill(ElemType type, void* out, int64_t n, Distribution dist, uint32_t seed, double a, double b,
                 std::vector<double>* fixups) {
  switch (type) {
    case ElemType::kFloat32: return fill<ElemType::kFloat32>(out, n, dist, seed, a, b, fixups);
    case ElemType::kBFloat16: return fill<ElemType::kBFloat16>(out, n, dist, seed, a, b, fixups);
    case ElemType::kFloat16: return fill<ElemType::kFloat16>(out, n, dist, seed, a, b, fixups);
    case ElemType::kInt32: return fill<ElemType::kInt32>(out, n, dist, seed, a, b, fixups);
    case ElemType::kInt64: return fill<ElemType::kInt64>(out, n, dist, seed, a, b, fixups);
    case ElemType::kUInt8: return fill<ElemType::kUInt8>(out, n, dist, seed, a, b, fixups);
    case ElemType::kInt8: return fill<ElemType::kInt8>(out, n, dist, seed, a, b, fixups);
    case ElemType::kBool: return fill<ElemType::kBool>(out, n, dist, seed, a, b, fixups);
  }
}

}  // namespace hearth
