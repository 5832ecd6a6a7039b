// Running sums (see cumsum.h). The view is split as [outer, len, inner] around `dim`: with
// inner = 1 each row is one sequential scan; otherwise a row of `inner` accumulators walks the
// `len` slices, which the compiler vectorises. Tasks are (outer row, inner block) pairs.
#include "cumsum.h"

#include <vector>

#include "strided.h"

namespace hearth {
namespace {

// x offsets of the `count` row-major positions of (shape, strides): affine when they coalesce.
struct Offsets {
  bool affine = true;
  int64_t stride = 0;
  std::vector<int64_t> table;
  Offsets(const int64_t* shape, const int64_t* strides, int nd) {
    const int64_t* st[1] = {strides};
    const Geometry g = coalesce(shape, nd, st, 1);
    if (g.nd == 1) {
      stride = g.strides[0][0];
      return;
    }
    affine = false;
    int64_t count = 1;
    for (int d = 0; d < nd; d++) count *= shape[d];
    table.resize(static_cast<size_t>(count));
    for (int64_t p = 0; p < count; p++) {
      int64_t off = 0, rest = p;
      for (int d = nd - 1; d >= 0; d--) {
        off += (rest % shape[d]) * strides[d];
        rest /= shape[d];
      }
      table[static_cast<size_t>(p)] = off;
    }
  }
  int64_t operator[](int64_t p) const { return affine ? p * stride : table[static_cast<size_t>(p)]; }
};

template <typename A, typename Load, typename Store>
void scan(const int64_t* shape, const int64_t* strides, int nd, int dim, bool reverse, const Load& load,
          const Store& store) {
  const Offsets outer(shape, strides, dim);
  const Offsets inner(shape + dim + 1, strides + dim + 1, nd - dim - 1);
  int64_t n_outer = 1, n_inner = 1;
  for (int d = 0; d < dim; d++) n_outer *= shape[d];
  for (int d = dim + 1; d < nd; d++) n_inner *= shape[d];
  const int64_t len = shape[dim], sd = strides[dim];
  if (n_outer * len * n_inner == 0) return;
  constexpr int64_t kBlock = 512;
  const int64_t blocks = (n_inner + kBlock - 1) / kBlock;
  const int64_t tasks = n_outer * blocks;
  const int threads = n_outer * len * n_inner < kStridedParallelElements ? 1 : num_threads();
  if (n_inner == 1) {
    // Scans along the last (or only non-unit trailing) dim: one running sum per row.
    auto rows = [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; o++) {
        const int64_t base = outer[o];
        A acc{};
        for (int64_t k = 0; k < len; k++) {
          const int64_t j = reverse ? len - 1 - k : k;
          store(o * len + j, acc += load(base + j * sd));
        }
      }
    };
    const int row_threads = n_outer < 2 ? 1 : threads;
    if (row_threads == 1) return rows(0, n_outer);
    const int64_t chunks = n_outer < row_threads * 4 ? n_outer : row_threads * 4;
    parallel_for(static_cast<int>(chunks), row_threads,
                 [&](int c) { rows(n_outer * c / chunks, n_outer * (c + 1) / chunks); });
    return;
  }
  auto run = [&](int64_t t) {
    const int64_t o = t / blocks, i0 = (t % blocks) * kBlock;
    const int64_t i1 = i0 + kBlock < n_inner ? i0 + kBlock : n_inner;
    const int64_t base = outer[o];
    A acc[kBlock] = {};
    for (int64_t k = 0; k < len; k++) {
      const int64_t j = reverse ? len - 1 - k : k;
      const int64_t xrow = base + j * sd, orow = (o * len + j) * n_inner;
      if (inner.affine) {
        const int64_t s = inner.stride;
        for (int64_t i = i0; i < i1; i++) store(orow + i, acc[i - i0] += load(xrow + i * s));
      } else {
        for (int64_t i = i0; i < i1; i++) store(orow + i, acc[i - i0] += load(xrow + inner[i]));
      }
    }
  };
  if (threads == 1 || tasks == 1) {
    for (int64_t t = 0; t < tasks; t++) run(t);
  } else {
    const int64_t chunks = tasks < threads * 4 ? tasks : threads * 4;
    parallel_for(static_cast<int>(chunks), threads, [&](int c) {
      for (int64_t t = tasks * c / chunks; t < tasks * (c + 1) / chunks; t++) run(t);
    });
  }
}

}  // namespace

void cumsum_strided(ElemType type, const void* x, const int64_t* x_strides, const int64_t* shape, int nd, int dim,
                    bool reverse, void* out) {
  auto* o64 = static_cast<int64_t*>(out);
  switch (type) {
    case ElemType::kFloat32: {
      const auto* p = static_cast<const float*>(x);
      auto* o = static_cast<float*>(out);
      return scan<double>(shape, x_strides, nd, dim, reverse, [&](int64_t i) { return double{p[i]}; },
                          [&](int64_t i, double v) { o[i] = static_cast<float>(v); });
    }
    case ElemType::kBFloat16:
    case ElemType::kFloat16: {
      const auto* p = static_cast<const uint16_t*>(x);
      auto* o = static_cast<uint16_t*>(out);
      const bool bf = type == ElemType::kBFloat16;
      return scan<double>(
          shape, x_strides, nd, dim, reverse,
          [&](int64_t i) { return double{bf ? bf16_to_f32(p[i]) : f16_to_f32(p[i])}; },
          [&](int64_t i, double v) { o[i] = bf ? half_bits_from_double(v, 7, 8) : half_bits_from_double(v, 10, 5); });
    }
    case ElemType::kInt64: {
      const auto* p = static_cast<const int64_t*>(x);
      // Wrapping (unsigned) sums: no overflow trap, the same bits as two's complement.
      return scan<uint64_t>(shape, x_strides, nd, dim, reverse, [&](int64_t i) { return static_cast<uint64_t>(p[i]); },
                            [&](int64_t i, uint64_t v) { o64[i] = static_cast<int64_t>(v); });
    }
    case ElemType::kInt32: {
      const auto* p = static_cast<const int32_t*>(x);
      return scan<int64_t>(shape, x_strides, nd, dim, reverse, [&](int64_t i) { return int64_t{p[i]}; },
                           [&](int64_t i, int64_t v) { o64[i] = v; });
    }
    case ElemType::kInt8: {
      const auto* p = static_cast<const int8_t*>(x);
      return scan<int64_t>(shape, x_strides, nd, dim, reverse, [&](int64_t i) { return int64_t{p[i]}; },
                           [&](int64_t i, int64_t v) { o64[i] = v; });
    }
    default: {
      const auto* p = static_cast<const uint8_t*>(x);
      return scan<int64_t>(shape, x_strides, nd, dim, reverse, [&](int64_t i) { return int64_t{p[i]}; },
                           [&](int64_t i, int64_t v) { o64[i] = v; });
    }
  }
}

}  // namespace hearth
