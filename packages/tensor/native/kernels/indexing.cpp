#include "indexing.h"

#include <cstring>
#include <type_traits>
#include <vector>

namespace hearth {
namespace {

inline int64_t load_index(const IndexView& v, int64_t off) {
  return v.is64 ? static_cast<const int64_t*>(v.data)[off] : static_cast<const int32_t*>(v.data)[off];
}

// Walks `shape` row-major, calling fn(pos, index_offset, coords).
template <typename F>
void walk(const int64_t* shape, int nd, const int64_t* istrides, F fn) {
  int64_t total = 1;
  for (int d = 0; d < nd; d++) total *= shape[d];
  int64_t coord[16] = {};
  int64_t ioff = 0;
  for (int64_t pos = 0; pos < total; pos++) {
    fn(pos, ioff, coord);
    for (int d = nd - 1; d >= 0; d--) {
      coord[d]++;
      ioff += istrides[d];
      if (coord[d] < shape[d]) break;
      ioff -= istrides[d] * shape[d];
      coord[d] = 0;
    }
  }
}

int64_t first_bad(const IndexView& index, const int64_t* shape, int nd, int64_t size) {
  int64_t bad = -1;
  walk(shape, nd, index.strides, [&](int64_t pos, int64_t ioff, const int64_t*) {
    if (bad >= 0) return;
    const int64_t j = load_index(index, ioff);
    if (j < -size || j >= size) bad = pos;
  });
  return bad;
}

template <typename T>
void gather_t(const T* x, const int64_t* xs, int64_t size, const IndexView& index, T* out, const int64_t* shape,
              int nd, int dim) {
  walk(shape, nd, index.strides, [&](int64_t pos, int64_t ioff, const int64_t* coord) {
    int64_t j = load_index(index, ioff);
    if (j < 0) j += size;
    int64_t off = 0;
    for (int d = 0; d < nd; d++) off += (d == dim ? j : coord[d]) * xs[d];
    out[pos] = x[off];
  });
}

}  // namespace

int64_t index_at(const IndexView& index, const int64_t* shape, int nd, int64_t pos) {
  int64_t off = 0;
  for (int d = nd - 1; d >= 0; d--) {
    off += (pos % shape[d]) * index.strides[d];
    pos /= shape[d];
  }
  return load_index(index, off);
}

int64_t gather_strided(int elem_size, const void* x, const int64_t* x_strides, int64_t size, const IndexView& index,
                       void* out, const int64_t* shape, int nd, int dim) {
  if (nd >= 2 && nd <= 16 && dim != nd - 1 && index.strides[nd - 1] == 0 && x_strides[nd - 1] == 1) {
    // Whole rows (an index broadcast along a unit-stride last dim, as indexSelect's rows for an
    // embedding lookup): one index and one copy per row.
    int64_t rows_shape[16];
    std::memcpy(rows_shape, shape, sizeof(int64_t) * nd);
    rows_shape[nd - 1] = 1;
    const int64_t bad = first_bad(index, rows_shape, nd, size);
    if (bad >= 0) return bad * shape[nd - 1];
    const int64_t run = shape[nd - 1];
    const char* src = static_cast<const char*>(x);
    char* dst = static_cast<char*>(out);
    walk(rows_shape, nd, index.strides, [&](int64_t pos, int64_t ioff, const int64_t* coord) {
      int64_t j = load_index(index, ioff);
      if (j < 0) j += size;
      int64_t off = 0;
      for (int d = 0; d < nd - 1; d++) off += (d == dim ? j : coord[d]) * x_strides[d];
      std::memcpy(dst + pos * run * elem_size, src + off * elem_size, static_cast<size_t>(run * elem_size));
    });
    return -1;
  }
  const int64_t bad = first_bad(index, shape, nd, size);
  if (bad >= 0) return bad;
  switch (elem_size) {
    case 1:
      gather_t(static_cast<const uint8_t*>(x), x_strides, size, index, static_cast<uint8_t*>(out), shape, nd, dim);
      break;
    case 2:
      gather_t(static_cast<const uint16_t*>(x), x_strides, size, index, static_cast<uint16_t*>(out), shape, nd, dim);
      break;
    case 4:
      gather_t(static_cast<const uint32_t*>(x), x_strides, size, index, static_cast<uint32_t*>(out), shape, nd, dim);
      break;
    default:
      gather_t(static_cast<const uint64_t*>(x), x_strides, size, index, static_cast<uint64_t*>(out), shape, nd, dim);
  }
  return -1;
}

namespace {

template <typename T, typename S, typename Add>
void scatter_t(T* out, const int64_t* out_strides, int64_t size, const IndexView& index, const S* src,
               const int64_t* src_strides, const int64_t* shape, int nd, int dim, const Add& add) {
  walk(shape, nd, index.strides, [&](int64_t, int64_t ioff, const int64_t* coord) {
    int64_t j = load_index(index, ioff);
    if (j < 0) j += size;
    int64_t o = 0, s = 0;
    for (int d = 0; d < nd; d++) {
      o += (d == dim ? j : coord[d]) * out_strides[d];
      s += coord[d] * src_strides[d];
    }
    out[o] = add(out[o], src[s]);
  });
}

// Integer sums wrap like two's complement (computed unsigned, so no overflow is undefined).
template <typename T>
void scatter_int(void* out, const int64_t* os, int64_t size, const IndexView& index, const void* src,
                 const int64_t* ss, const int64_t* shape, int nd, int dim) {
  using U = std::make_unsigned_t<T>;
  scatter_t(static_cast<T*>(out), os, size, index, static_cast<const T*>(src), ss, shape, nd, dim,
            [](T a, T b) { return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b))); });
}

}  // namespace

int64_t scatter_add_f32(float* out, const int64_t* out_strides, int64_t size, const IndexView& index,
                        const float* src, const int64_t* src_strides, const int64_t* shape, int nd, int dim) {
  const int64_t bad = first_bad(index, shape, nd, size);
  if (bad >= 0) return bad;
  scatter_t(out, out_strides, size, index, src, src_strides, shape, nd, dim, [](float a, float b) { return a + b; });
  return -1;
}

int64_t scatter_add_typed(ElemType type, void* out, const int64_t* out_strides, int64_t out_numel, int64_t size,
                          const IndexView& index, const void* src, const int64_t* src_strides, const int64_t* shape,
                          int nd, int dim) {
  if (type == ElemType::kFloat32) {
    return scatter_add_f32(static_cast<float*>(out), out_strides, size, index, static_cast<const float*>(src),
                           src_strides, shape, nd, dim);
  }
  const int64_t bad = first_bad(index, shape, nd, size);
  if (bad >= 0) return bad;
  const int64_t* os = out_strides;
  switch (type) {
    case ElemType::kBFloat16:
    case ElemType::kFloat16: {
      const bool bf = type == ElemType::kBFloat16;
      auto* o = static_cast<uint16_t*>(out);
      std::vector<float> acc(static_cast<size_t>(out_numel));
      for (int64_t i = 0; i < out_numel; i++) acc[static_cast<size_t>(i)] = bf ? bf16_to_f32(o[i]) : f16_to_f32(o[i]);
      scatter_t(acc.data(), os, size, index, static_cast<const uint16_t*>(src), src_strides, shape, nd, dim,
                [bf](float a, uint16_t b) { return a + (bf ? bf16_to_f32(b) : f16_to_f32(b)); });
      for (int64_t i = 0; i < out_numel; i++) {
        const float v = acc[static_cast<size_t>(i)];
        o[i] = v != v ? (bf ? 0x7fc0 : 0x7e00) : bf ? f32_to_bf16(v) : f32_to_f16(v);
      }
      break;
    }
    case ElemType::kInt32: scatter_int<int32_t>(out, os, size, index, src, src_strides, shape, nd, dim); break;
    case ElemType::kInt64: scatter_int<int64_t>(out, os, size, index, src, src_strides, shape, nd, dim); break;
    case ElemType::kInt8: scatter_int<int8_t>(out, os, size, index, src, src_strides, shape, nd, dim); break;
    case ElemType::kUInt8: scatter_int<uint8_t>(out, os, size, index, src, src_strides, shape, nd, dim); break;
    default:
      scatter_t(static_cast<uint8_t*>(out), os, size, index, static_cast<const uint8_t*>(src), src_strides, shape, nd,
                dim, [](uint8_t a, uint8_t b) { return static_cast<uint8_t>((a | b) != 0); });
  }
  return -1;
}

}  // namespace hearth
