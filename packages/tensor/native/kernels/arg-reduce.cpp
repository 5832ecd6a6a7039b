// argmax / argmin rows (see arg-reduce.h): one pass per row over elements read as V (float for
// the float dtypes, exact; int64 for the integers), rows split over the pool.
#include "arg-reduce.h"

#include "strided.h"

namespace hearth {
namespace {

template <typename V, bool kMax, typename Load>
void arg_rows(const DimRows& dr, int64_t len, int64_t sd, int64_t* out, const Load& load) {
  dr.split(dr.rows() * len, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const int64_t base = dr.row_offset(r);
      int64_t best = 0;
      V bv = load(base);
      for (int64_t j = 1; j < len && bv == bv; j++) {
        const V v = load(base + j * sd);
        if (v != v || (kMax ? v > bv : v < bv)) {
          bv = v;
          best = j;
        }
      }
      out[r] = best;
    }
  });
}

// A contiguous float32 row (a decoder's 50257 scores per step): the extreme value and whether
// a NaN occurs, over kLanes independent lanes (branch-free selects, which vectorise), then the
// first index holding a NaN, or else the first holding a value equal to the extreme (±0 equal),
// which is what the one-pass loop picks. The loop's compare and branch per element took ~95 us
// for GPT-2's vocabulary on the AVX2 host.
constexpr int kLanes = 16;

template <bool kMax>
int64_t arg_f32_row(const float* p, int64_t len) {
  float m[kLanes];
  int nan[kLanes];
  for (int l = 0; l < kLanes; l++) {
    m[l] = p[l];
    nan[l] = p[l] != p[l];
  }
  int64_t i = kLanes;
  for (; i + kLanes <= len; i += kLanes) {
    for (int l = 0; l < kLanes; l++) {
      const float v = p[i + l];
      m[l] = (kMax ? v > m[l] : v < m[l]) ? v : m[l];
      nan[l] |= v != v;
    }
  }
  float best = m[0];
  int any_nan = nan[0];
  for (int l = 1; l < kLanes; l++) {
    best = (kMax ? m[l] > best : m[l] < best) ? m[l] : best;
    any_nan |= nan[l];
  }
  for (; i < len; i++) {
    best = (kMax ? p[i] > best : p[i] < best) ? p[i] : best;
    any_nan |= p[i] != p[i];
  }
  int64_t j = 0;
  if (any_nan) {
    while (p[j] == p[j]) j++;
    return j;
  }
  // A block at a time (an OR over it vectorises), then the element inside the block.
  for (; j + kLanes <= len; j += kLanes) {
    int hit = 0;
    for (int l = 0; l < kLanes; l++) hit |= p[j + l] == best;
    if (hit) break;
  }
  while (p[j] != best) j++;
  return j;
}

template <bool kMax>
void arg_typed(ElemType type, const void* x, const DimRows& dr, int64_t len, int64_t sd, int64_t* out) {
  switch (type) {
    case ElemType::kFloat32: {
      const auto* p = static_cast<const float*>(x);
      if (sd == 1 && len >= 2 * kLanes) {
        return dr.split(dr.rows() * len, [&](int64_t r0, int64_t r1) {
          for (int64_t r = r0; r < r1; r++) out[r] = arg_f32_row<kMax>(p + dr.row_offset(r), len);
        });
      }
      return arg_rows<float, kMax>(dr, len, sd, out, [p](int64_t i) { return p[i]; });
    }
    case ElemType::kBFloat16: {
      const auto* p = static_cast<const uint16_t*>(x);
      return arg_rows<float, kMax>(dr, len, sd, out, [p](int64_t i) { return bf16_to_f32(p[i]); });
    }
    case ElemType::kFloat16: {
      const auto* p = static_cast<const uint16_t*>(x);
      return arg_rows<float, kMax>(dr, len, sd, out, [p](int64_t i) { return f16_to_f32(p[i]); });
    }
    case ElemType::kInt64: {
      const auto* p = static_cast<const int64_t*>(x);
      return arg_rows<int64_t, kMax>(dr, len, sd, out, [p](int64_t i) { return p[i]; });
    }
    default:
      return arg_rows<int64_t, kMax>(dr, len, sd, out, [type, x](int64_t i) {
        return static_cast<int64_t>(load_double(type, x, i));
      });
  }
}

}  // namespace

void arg_reduce_strided(ElemType type, bool max, const void* x, const int64_t* x_strides, const int64_t* shape, int nd,
                        int dim, int64_t* out) {
  const DimRows dr{shape, x_strides, nd, dim};
  if (max) {
    arg_typed<true>(type, x, dr, shape[dim], x_strides[dim], out);
  } else {
    arg_typed<false>(type, x, dr, shape[dim], x_strides[dim], out);
  }
}

}  // namespace hearth
