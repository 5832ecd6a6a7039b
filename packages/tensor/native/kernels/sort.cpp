// Stable sorts along a dim (see sort.h).
#include "sort.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "strided.h"

namespace hearth {
namespace {

// Unsigned keys ordered like the values: floats by sign-magnitude flip with -0 as +0 and every
// NaN above +inf; signed integers with the sign bit flipped.
inline uint32_t float_key(float v) {
  if (v != v) return 0xffffffffu;
  if (v == 0.0f) return 0x80000000u;
  const uint32_t u = float_to_bits(v);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

inline uint32_t key32(ElemType t, const void* p, int64_t i) {
  switch (t) {
    case ElemType::kFloat32: return float_key(static_cast<const float*>(p)[i]);
    case ElemType::kBFloat16: return float_key(bf16_to_f32(static_cast<const uint16_t*>(p)[i]));
    case ElemType::kFloat16: return float_key(f16_to_f32(static_cast<const uint16_t*>(p)[i]));
    case ElemType::kInt32: return static_cast<uint32_t>(static_cast<const int32_t*>(p)[i]) ^ 0x80000000u;
    case ElemType::kInt8: return static_cast<uint32_t>(static_cast<const uint8_t*>(p)[i] ^ 0x80u);
    default: return static_cast<const uint8_t*>(p)[i];
  }
}

// Sorts v by its high 32 bits (the key; the low half is the position, already ascending), in
// place and stably: three LSD radix passes of 11, 11 and 10 bits, skipping a pass whose digit
// is the same for every element (common in the top bits).
void radix_sort_keys(std::vector<uint64_t>& v, std::vector<uint64_t>& tmp) {
  const size_t n = v.size();
  tmp.resize(n);
  static constexpr int kShift[3] = {32, 43, 54};
  static constexpr uint64_t kMask[3] = {0x7ff, 0x7ff, 0x3ff};
  uint32_t hist[3][2048] = {};
  for (const uint64_t x : v)
    for (int p = 0; p < 3; p++) hist[p][(x >> kShift[p]) & kMask[p]]++;
  uint64_t* src = v.data();
  uint64_t* dst = tmp.data();
  for (int p = 0; p < 3; p++) {
    uint32_t* h = hist[p];
    if (h[(src[0] >> kShift[p]) & kMask[p]] == n) continue;
    uint32_t sum = 0;
    for (int d = 0; d <= static_cast<int>(kMask[p]); d++) {
      const uint32_t c = h[d];
      h[d] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; i++) dst[h[(src[i] >> kShift[p]) & kMask[p]]++] = src[i];
    std::swap(src, dst);
  }
  if (src != v.data()) std::memcpy(v.data(), src, n * sizeof(uint64_t));
}

}  // namespace

void sort_strided(ElemType type, const void* x, const int64_t* x_strides, const int64_t* shape, int nd, int dim,
                  bool descending, void* values, int64_t* indices) {
  int64_t n_outer = 1, n_inner = 1;
  for (int d = 0; d < dim; d++) n_outer *= shape[d];
  for (int d = dim + 1; d < nd; d++) n_inner *= shape[d];
  const int64_t len = shape[dim], sd = x_strides[dim];
  const int64_t rows = n_outer * n_inner;
  if (rows * len == 0) return;
  const int es = elem_size(type);
  const bool wide = type == ElemType::kInt64;
  const DimRows dr{shape, x_strides, nd, dim};
  auto sort_rows = [&](int64_t r0, int64_t r1) {
    std::vector<uint64_t> packed, scratch;
    std::vector<std::pair<uint64_t, int64_t>> pairs;
    const char* base = static_cast<const char*>(x);
    for (int64_t r = r0; r < r1; r++) {
      const int64_t xoff = dr.row_offset(r);
      const int64_t o = r / n_inner, i = r % n_inner;
      const int64_t out0 = o * len * n_inner + i;  // position j lands at out0 + j * n_inner
      auto emit = [&](int64_t k, int64_t j) {
        std::memcpy(static_cast<char*>(values) + (out0 + k * n_inner) * es, base + (xoff + j * sd) * es,
                    static_cast<size_t>(es));
        indices[out0 + k * n_inner] = j;
      };
      if (wide) {
        pairs.resize(static_cast<size_t>(len));
        const auto* p = static_cast<const int64_t*>(x) + xoff;
        for (int64_t j = 0; j < len; j++) {
          const uint64_t key = static_cast<uint64_t>(p[j * sd]) ^ 0x8000000000000000ull;
          pairs[static_cast<size_t>(j)] = {descending ? ~key : key, j};
        }
        std::sort(pairs.begin(), pairs.end());
        for (int64_t k = 0; k < len; k++) emit(k, pairs[static_cast<size_t>(k)].second);
      } else {
        packed.resize(static_cast<size_t>(len));
        const void* p = base + xoff * es;
        for (int64_t j = 0; j < len; j++) {
          const uint32_t key = key32(type, p, j * sd);
          packed[static_cast<size_t>(j)] = (static_cast<uint64_t>(descending ? ~key : key) << 32) | static_cast<uint64_t>(j);
        }
        if (len < 64) {
          std::sort(packed.begin(), packed.end());
        } else {
          radix_sort_keys(packed, scratch);
        }
        for (int64_t k = 0; k < len; k++) emit(k, static_cast<int64_t>(packed[static_cast<size_t>(k)] & 0xffffffffu));
      }
    }
  };
  dr.split(rows * len, sort_rows);
}

}  // namespace hearth
