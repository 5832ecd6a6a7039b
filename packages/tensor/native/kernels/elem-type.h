// Every tensor dtype as the kernels see it, and scalar reads/writes with the exact semantics of
// the `js` reference's readNumbers/writeNumbers (src/access.ts): reads give the element as a
// double (int64 rounded to nearest, 16-bit floats decoded); writes round a double to nearest
// even for float32/float16/bfloat16 (one rounding, straight from the double), truncate towards
// zero and wrap modulo 2^bits for the integer dtypes (NaN and ±inf give 0), and give bool 1 for
// anything but ±0. Everything has internal linkage (see dtype.h).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "dtype.h"

namespace hearth {

enum class ElemType : int { kFloat32, kBFloat16, kFloat16, kInt32, kInt64, kUInt8, kInt8, kBool };

namespace {

inline int elem_size(ElemType t) {
  switch (t) {
    case ElemType::kFloat32:
    case ElemType::kInt32:
      return 4;
    case ElemType::kBFloat16:
    case ElemType::kFloat16:
      return 2;
    case ElemType::kInt64:
      return 8;
    default:
      return 1;
  }
}

inline bool is_float_elem(ElemType t) {
  return t == ElemType::kFloat32 || t == ElemType::kBFloat16 || t == ElemType::kFloat16;
}

inline double round_half_even_d(double v) {
  const double f = std::floor(v);
  const double d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return std::fmod(f, 2.0) == 0 ? f : f + 1;
}

// The bits of x rounded once to a binary float of `man` mantissa and `expb` exponent bits
// (float16: 10/5, bfloat16: 7/8), ties to even; the same exact steps as the js encoder.
inline uint16_t half_bits_from_double(double x, int man, int expb) {
  const int bias = (1 << (expb - 1)) - 1;
  const uint32_t sign_bit = 1u << (man + expb);
  const int exp_max = (1 << expb) - 1;
  const uint32_t inf_bits = static_cast<uint32_t>(exp_max) << man;
  if (x != x) return static_cast<uint16_t>(inf_bits | (1u << (man - 1)));
  const uint32_t sign = std::signbit(x) ? sign_bit : 0u;
  const double a = std::fabs(x);
  if (std::isinf(a)) return static_cast<uint16_t>(sign | inf_bits);
  const int min_normal_exp = 1 - bias;
  if (a < std::ldexp(1.0, min_normal_exp)) {
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(round_half_even_d(a / std::ldexp(1.0, min_normal_exp - man))));
  }
  int e = static_cast<int>(std::floor(std::log2(a)));
  if (std::ldexp(1.0, e) > a) {
    e -= 1;
  } else if (std::ldexp(1.0, e + 1) <= a) {
    e += 1;
  }
  double m = round_half_even_d((a / std::ldexp(1.0, e) - 1) * std::ldexp(1.0, man));
  if (m == std::ldexp(1.0, man)) {
    m = 0;
    e += 1;
  }
  if (e + bias >= exp_max) return static_cast<uint16_t>(sign | inf_bits);
  return static_cast<uint16_t>(sign | (static_cast<uint32_t>(e + bias) << man) | static_cast<uint32_t>(m));
}

// trunc(x) modulo 2^64 as a signed integer (0 for NaN and ±inf): what storing x into a
// BigInt64Array through BigInt(Math.trunc(x)) gives, and whose low bits are ToInt32/ToUint8/ToInt8.
inline int64_t wrap_trunc64(double x) {
  if (!std::isfinite(x)) return 0;
  const double t = std::trunc(x);
  if (std::fabs(t) < 9223372036854775808.0) return static_cast<int64_t>(t);
  int k = 0;
  const double m = std::frexp(std::fabs(t), &k);  // |t| = m · 2^k, m in [0.5, 1)
  const uint64_t mi = static_cast<uint64_t>(std::ldexp(m, 53));
  k -= 53;  // |t| = mi · 2^k with k >= 11
  uint64_t r = k >= 64 ? 0 : mi << k;
  if (t < 0) r = 0 - r;
  return static_cast<int64_t>(r);
}

inline double load_double(ElemType t, const void* p, int64_t i) {
  switch (t) {
    case ElemType::kFloat32:
      return static_cast<const float*>(p)[i];
    case ElemType::kBFloat16:
      return bf16_to_f32(static_cast<const uint16_t*>(p)[i]);
    case ElemType::kFloat16:
      return f16_to_f32(static_cast<const uint16_t*>(p)[i]);
    case ElemType::kInt32:
      return static_cast<const int32_t*>(p)[i];
    case ElemType::kInt64:
      return static_cast<double>(static_cast<const int64_t*>(p)[i]);
    case ElemType::kInt8:
      return static_cast<const int8_t*>(p)[i];
    default:
      return static_cast<const uint8_t*>(p)[i];
  }
}

inline void store_double(ElemType t, void* p, int64_t i, double x) {
  switch (t) {
    case ElemType::kFloat32:
      static_cast<float*>(p)[i] = static_cast<float>(x);
      return;
    case ElemType::kBFloat16:
      static_cast<uint16_t*>(p)[i] = half_bits_from_double(x, 7, 8);
      return;
    case ElemType::kFloat16:
      static_cast<uint16_t*>(p)[i] = half_bits_from_double(x, 10, 5);
      return;
    case ElemType::kInt32:
      static_cast<int32_t*>(p)[i] = static_cast<int32_t>(static_cast<uint32_t>(wrap_trunc64(x)));
      return;
    case ElemType::kInt64:
      static_cast<int64_t*>(p)[i] = wrap_trunc64(x);
      return;
    case ElemType::kUInt8:
      static_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(wrap_trunc64(x));
      return;
    case ElemType::kInt8:
      static_cast<int8_t*>(p)[i] = static_cast<int8_t>(static_cast<uint8_t>(wrap_trunc64(x)));
      return;
    case ElemType::kBool:
      static_cast<uint8_t*>(p)[i] = x == 0 ? 0 : 1;
      return;
  }
}

}  // namespace
}  // namespace hearth
