// Integer elementwise kernels (see int-elementwise.h): one templated row loop per arity over
// coalesced strided rows (strided.h), instantiated per element type.
#include "int-elementwise.h"

#include <type_traits>

#include "strided.h"

namespace hearth {
namespace {

template <typename T, typename O, typename F>
void rows2(const Geometry& g, const T* a, const T* b, O* out, const F& f) {
  const int64_t as = g.strides[1][g.nd - 1], bs = g.strides[2][g.nd - 1];
  for_each_row(g, [&](const int64_t* off, int64_t n) {
    O* o = out + off[0];
    const T* pa = a + off[1];
    const T* pb = b + off[2];
    if (as == 1 && bs == 1) {
      for (int64_t i = 0; i < n; i++) o[i] = f(pa[i], pb[i]);
    } else {
      for (int64_t i = 0; i < n; i++) o[i] = f(pa[i * as], pb[i * bs]);
    }
  });
}

Geometry geometry(const int64_t* shape, int nd, const int64_t* s1, const int64_t* s2) {
  int64_t os[kMaxDims];
  contiguous_strides(shape, nd, os);
  const int64_t* st[3] = {os, s1, s2};
  return coalesce(shape, nd, st, s2 == nullptr ? 2 : 3);
}

// Wrapping arithmetic through the unsigned type (no signed overflow).
template <typename T>
using U = std::make_unsigned_t<T>;
template <typename T>
T wrap_add(T a, T b) { return static_cast<T>(static_cast<U<T>>(static_cast<U<T>>(a) + static_cast<U<T>>(b))); }
template <typename T>
T wrap_sub(T a, T b) { return static_cast<T>(static_cast<U<T>>(static_cast<U<T>>(a) - static_cast<U<T>>(b))); }
template <typename T>
T wrap_mul(T a, T b) { return static_cast<T>(static_cast<U<T>>(static_cast<U<T>>(a) * static_cast<U<T>>(b))); }
template <typename T>
T trunc_div(T a, T b) {
  if (b == 0) return 0;
  if (std::is_signed_v<T> && b == static_cast<T>(-1)) return wrap_sub(T{0}, a);
  return static_cast<T>(a / b);
}

template <typename T>
bool unary_t(UnaryOp op, const Geometry& g, const void* xv, void* ov) {
  const T* x = static_cast<const T*>(xv);
  T* o = static_cast<T*>(ov);
  switch (op) {
    case UnaryOp::kNeg: map_rows<T, T>(g, x, o, [](T v) { return wrap_sub(T{0}, v); }); return true;
    case UnaryOp::kAbs: map_rows<T, T>(g, x, o, [](T v) { return v < 0 ? wrap_sub(T{0}, v) : v; }); return true;
    case UnaryOp::kSign: map_rows<T, T>(g, x, o, [](T v) { return static_cast<T>(v > 0 ? 1 : v < 0 ? -1 : 0); }); return true;
    case UnaryOp::kRelu: map_rows<T, T>(g, x, o, [](T v) { return v > 0 ? v : T{0}; }); return true;
    default: return false;
  }
}

template <typename T>
bool binary_t(BinaryOp op, const Geometry& g, const void* av, const void* bv, void* ov) {
  const T* a = static_cast<const T*>(av);
  const T* b = static_cast<const T*>(bv);
  T* o = static_cast<T*>(ov);
  switch (op) {
    case BinaryOp::kAdd: rows2(g, a, b, o, wrap_add<T>); return true;
    case BinaryOp::kSub: rows2(g, a, b, o, wrap_sub<T>); return true;
    case BinaryOp::kMul: rows2(g, a, b, o, wrap_mul<T>); return true;
    case BinaryOp::kDiv: rows2(g, a, b, o, trunc_div<T>); return true;
    case BinaryOp::kMaximum: rows2(g, a, b, o, [](T x, T y) { return x > y ? x : y; }); return true;
    case BinaryOp::kMinimum: rows2(g, a, b, o, [](T x, T y) { return x < y ? x : y; }); return true;
    default: return false;
  }
}

template <typename T>
bool compare_t(CompareOp op, const Geometry& g, const void* av, const void* bv, uint8_t* o) {
  const T* a = static_cast<const T*>(av);
  const T* b = static_cast<const T*>(bv);
  using B = uint8_t;
  switch (op) {
    case CompareOp::kEq: rows2(g, a, b, o, [](T x, T y) { return B(x == y); }); return true;
    case CompareOp::kNe: rows2(g, a, b, o, [](T x, T y) { return B(x != y); }); return true;
    case CompareOp::kLt: rows2(g, a, b, o, [](T x, T y) { return B(x < y); }); return true;
    case CompareOp::kLe: rows2(g, a, b, o, [](T x, T y) { return B(x <= y); }); return true;
    case CompareOp::kGt: rows2(g, a, b, o, [](T x, T y) { return B(x > y); }); return true;
    case CompareOp::kGe: rows2(g, a, b, o, [](T x, T y) { return B(x >= y); }); return true;
  }
  return false;
}

template <typename T>
void reduce_t(ReduceOp op, const T* x, const int64_t* x_strides, const int64_t* shape, const bool* reduce, int nd,
              void* out) {
  const ReduceSplit sp(shape, x_strides, reduce, nd);
  const int64_t *kshape = sp.kshape, *kstr = sp.kstr;
  const int nk = sp.nk;
  const Geometry& rg = sp.rg;
  int64_t kept = 1, red = 1;
  for (int d = 0; d < nk; d++) kept *= kshape[d];
  for (int d = 0; d < sp.nr; d++) red *= sp.rshape[d];
  const DimRows rows{kshape, kstr, nk, -1};
  rows.split(kept * red, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; o++) {
      const T* base = x + rows.row_offset(o);
      uint64_t sum = 0;
      T best = red > 0 ? base[0] : T{0};
      for (int64_t r = 0; r < red; r++) {
        int64_t off = 0, rr = r;
        for (int d = rg.nd - 1; d >= 0; d--) {
          off += (rr % rg.shape[d]) * rg.strides[0][d];
          rr /= rg.shape[d];
        }
        const T v = base[off];
        if (op == ReduceOp::kSum) {
          sum += static_cast<uint64_t>(static_cast<int64_t>(v));
        } else if (op == ReduceOp::kMax ? v > best : v < best) {
          best = v;
        }
      }
      if (op == ReduceOp::kSum) {
        static_cast<int64_t*>(out)[o] = static_cast<int64_t>(sum);
      } else {
        static_cast<T*>(out)[o] = best;
      }
    }
  });
}

}  // namespace

bool reduce_int(ReduceOp op, ElemType type, const void* x, const int64_t* x_strides, const int64_t* shape,
                const bool* reduce, int nd, void* out) {
  switch (type) {
    case ElemType::kInt32: reduce_t(op, static_cast<const int32_t*>(x), x_strides, shape, reduce, nd, out); return true;
    case ElemType::kInt64: reduce_t(op, static_cast<const int64_t*>(x), x_strides, shape, reduce, nd, out); return true;
    case ElemType::kInt8: reduce_t(op, static_cast<const int8_t*>(x), x_strides, shape, reduce, nd, out); return true;
    case ElemType::kUInt8:
    case ElemType::kBool: reduce_t(op, static_cast<const uint8_t*>(x), x_strides, shape, reduce, nd, out); return true;
    default: return false;
  }
}

bool unary_int(UnaryOp op, ElemType type, const void* x, const int64_t* x_strides, void* out, const int64_t* shape,
               int nd) {
  const Geometry g = geometry(shape, nd, x_strides, nullptr);
  switch (type) {
    case ElemType::kInt32: return unary_t<int32_t>(op, g, x, out);
    case ElemType::kInt64: return unary_t<int64_t>(op, g, x, out);
    case ElemType::kInt8: return unary_t<int8_t>(op, g, x, out);
    case ElemType::kUInt8: return unary_t<uint8_t>(op, g, x, out);
    default: return false;
  }
}

bool binary_int(BinaryOp op, ElemType type, const void* a, const int64_t* a_strides, const void* b,
                const int64_t* b_strides, void* out, const int64_t* shape, int nd) {
  const Geometry g = geometry(shape, nd, a_strides, b_strides);
  switch (type) {
    case ElemType::kInt32: return binary_t<int32_t>(op, g, a, b, out);
    case ElemType::kInt64: return binary_t<int64_t>(op, g, a, b, out);
    case ElemType::kInt8: return binary_t<int8_t>(op, g, a, b, out);
    case ElemType::kUInt8: return binary_t<uint8_t>(op, g, a, b, out);
    default: return false;
  }
}

bool compare_int(CompareOp op, ElemType type, const void* a, const int64_t* a_strides, const void* b,
                 const int64_t* b_strides, uint8_t* out, const int64_t* shape, int nd) {
  const Geometry g = geometry(shape, nd, a_strides, b_strides);
  switch (type) {
    case ElemType::kInt32: return compare_t<int32_t>(op, g, a, b, out);
    case ElemType::kInt64: return compare_t<int64_t>(op, g, a, b, out);
    case ElemType::kInt8: return compare_t<int8_t>(op, g, a, b, out);
    case ElemType::kUInt8:
    case ElemType::kBool: return compare_t<uint8_t>(op, g, a, b, out);
    default: return false;
  }
}

}  // namespace hearth
