// Casts between every pair of dtypes (see cast.h).
#include "cast.h"

#include <cmath>
#include <cstring>

#include "strided.h"

namespace hearth {
namespace {

// Rows of x (elements S) converted by f into the contiguous out (elements D).
template <typename S, typename D, typename F>
void cast_rows(const Geometry& g, const void* x, void* out, const F& f) {
  map_rows<S, D>(g, static_cast<const S*>(x), static_cast<D*>(out), f);
}

// float -> int32 like ToInt32: truncate, wrap modulo 2^32, NaN/±inf give 0.
inline int32_t to_int32(float v) {
  return std::fabs(v) < 2147483648.0f ? static_cast<int32_t>(v) : static_cast<int32_t>(static_cast<uint32_t>(wrap_trunc64(v)));
}
inline int64_t to_int64(float v) {
  return std::fabs(v) < 9223372036854775808.0f ? static_cast<int64_t>(v) : wrap_trunc64(v);
}

// The element-size-generic path: through the double the js kernel would see.
void cast_via_double(const Geometry& g, ElemType from, const void* x, ElemType to, void* out) {
  const int64_t xs = g.strides[1][g.nd - 1];
  const int ss = elem_size(from), ds = elem_size(to);
  for_each_row(g, [&](const int64_t* off, int64_t n) {
    const char* in = static_cast<const char*>(x) + off[1] * ss;
    char* o = static_cast<char*>(out) + off[0] * ds;
    for (int64_t i = 0; i < n; i++) store_double(to, o, i, load_double(from, in, i * xs));
  });
}

// Source type S read as float (exact for every S used here), written as `to`.
template <typename S, typename Read>
bool cast_from_float(const Geometry& g, const void* x, ElemType to, void* out, const Read& rd) {
  switch (to) {
    case ElemType::kFloat32: cast_rows<S, float>(g, x, out, [&](S v) { return rd(v); }); return true;
    case ElemType::kInt32: cast_rows<S, int32_t>(g, x, out, [&](S v) { return to_int32(rd(v)); }); return true;
    case ElemType::kInt64: cast_rows<S, int64_t>(g, x, out, [&](S v) { return to_int64(rd(v)); }); return true;
    case ElemType::kUInt8:
      cast_rows<S, uint8_t>(g, x, out, [&](S v) { return static_cast<uint8_t>(to_int32(rd(v))); });
      return true;
    case ElemType::kInt8:
      cast_rows<S, int8_t>(g, x, out, [&](S v) { return static_cast<int8_t>(to_int32(rd(v))); });
      return true;
    case ElemType::kBool:
      cast_rows<S, uint8_t>(g, x, out, [&](S v) { return static_cast<uint8_t>(!(rd(v) == 0.0f)); });
      return true;
    default: return false;
  }
}

// Integer (or bool) source S, exact as a double, written as `to`.
template <typename S>
bool cast_from_int(const Geometry& g, const void* x, ElemType to, void* out) {
  switch (to) {
    case ElemType::kFloat32: cast_rows<S, float>(g, x, out, [](S v) { return static_cast<float>(static_cast<double>(v)); }); return true;
    case ElemType::kInt32: cast_rows<S, int32_t>(g, x, out, [](S v) { return static_cast<int32_t>(v); }); return true;
    case ElemType::kInt64: cast_rows<S, int64_t>(g, x, out, [](S v) { return static_cast<int64_t>(v); }); return true;
    case ElemType::kUInt8: cast_rows<S, uint8_t>(g, x, out, [](S v) { return static_cast<uint8_t>(v); }); return true;
    case ElemType::kInt8: cast_rows<S, int8_t>(g, x, out, [](S v) { return static_cast<int8_t>(static_cast<uint8_t>(v)); }); return true;
    case ElemType::kBool: cast_rows<S, uint8_t>(g, x, out, [](S v) { return static_cast<uint8_t>(v != 0); }); return true;
    default: return false;
  }
}

bool cast_fast(const Geometry& g, ElemType from, const void* x, ElemType to, void* out) {
  switch (from) {
    case ElemType::kFloat32: return cast_from_float<float>(g, x, to, out, [](float v) { return v; });
    case ElemType::kBFloat16: return cast_from_float<uint16_t>(g, x, to, out, [](uint16_t v) { return bf16_to_f32(v); });
    case ElemType::kFloat16: return cast_from_float<uint16_t>(g, x, to, out, [](uint16_t v) { return f16_to_f32(v); });
    case ElemType::kInt32: return cast_from_int<int32_t>(g, x, to, out);
    case ElemType::kInt64: return cast_from_int<int64_t>(g, x, to, out);
    case ElemType::kInt8: return cast_from_int<int8_t>(g, x, to, out);
    default: return cast_from_int<uint8_t>(g, x, to, out);
  }
}

}  // namespace

void cast_strided(ElemType from, const void* x, const int64_t* x_strides, ElemType to, void* out,
                  const int64_t* shape, int nd) {
  int64_t os[kMaxDims];
  contiguous_strides(shape, nd, os);
  const int64_t* st[2] = {os, x_strides};
  const Geometry g = coalesce(shape, nd, st, 2);
  if (from == to) {
    const int es = elem_size(from);
    for_each_row(g, [&](const int64_t* off, int64_t n) {
      const int64_t xs = g.strides[1][g.nd - 1];
      const char* in = static_cast<const char*>(x) + off[1] * es;
      char* o = static_cast<char*>(out) + off[0] * es;
      if (xs == 1) {
        std::memcpy(o, in, static_cast<size_t>(n * es));
      } else {
        for (int64_t i = 0; i < n; i++) std::memcpy(o + i * es, in + i * xs * es, static_cast<size_t>(es));
      }
    });
    return;
  }
  // int64 -> float32 rounds to a double first (as Number(bigint) does), then to float32.
  if (!cast_fast(g, from, x, to, out)) cast_via_double(g, from, x, to, out);
}

}  // namespace hearth
